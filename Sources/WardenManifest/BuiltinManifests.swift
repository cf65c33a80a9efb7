import WardenCore

/// The manifests installed with warden: the curated files of `manifests/`, embedded so that the binary
/// needs nothing beside it. Each literal is byte for byte its file (`BuiltinManifestsTests` fails when
/// they differ): after editing a file in `manifests/`, paste its text into the literal here.
public enum BuiltinManifests {
  /// The file name and text of each built-in manifest, in file name order.
  public static let files: [(name: String, text: String)] = [
    ("fetch.yaml", fetch),
    ("filesystem.yaml", filesystem),
    ("git.yaml", git),
    ("mailbox.yaml", mailbox),
    ("postgres.yaml", postgres),
    ("shell.yaml", shell),
    ("sqlite.yaml", sqlite),
    ("time.yaml", time),
  ]

  /// The parsed manifests with their file names; a file that does not parse is left out (and fails
  /// the tests).
  static let all: [(file: String, manifest: Manifest)] = files.compactMap { file in
    (try? ManifestLoader.parse(file.text, file: file.name)).map { (file.name, $0) }
  }

  private static var manifests: [Manifest] { all.map(\.manifest) }

  /// The server names of the built-in manifests, sorted: each file is named after its `server`
  /// (`BuiltinManifestsTests` holds them to it), so no manifest is parsed for this. Every command's
  /// `--help` text lists them, and parsing all of them cost a large part of each start of warden.
  public static var builtinNames: [String] {
    files.map { String($0.name.dropLast(".yaml".count)) }.sorted()
  }

  /// The built-in manifest whose `server` or one of whose `aliases` is `name`.
  public static func builtin(named name: String) -> Manifest? {
    manifests.first { $0.server == name || $0.aliases.contains(name) }
  }

  /// The text of the built-in manifest `builtin(named: name)` returns.
  public static func text(named name: String) -> String? {
    guard let server = builtin(named: name)?.server else { return nil }
    return files.first { $0.name == server + ".yaml" }?.text
  }

  static let fetch = #"""
    # Warden manifest for mcp-server-fetch, the reference web fetch server (`uvx mcp-server-fetch`).
    #
    # Its one tool fetches a URL. The resource is the URL's host, lowercased: `host:example.com` for
    # `https://Example.com/page`. Grant hosts with `--on 'host:docs.python.org'` or
    # `--on 'host:*.example.com'`. A URL whose host two parsers could read differently (backslashes,
    # percent-encoding, spaces) is denied. The server follows redirects: a grant covers the host
    # asked for, not the hosts it may be redirected to.
    #
    # Actions:
    #   web.fetch  fetch: get a page (and the site's robots.txt) from the internet
    server: fetch
    aliases: [mcp-server-fetch, mcp_server_fetch]
    undeclared: deny
    tools:
      fetch:
        action: web.fetch
        resource: "host:{url|host}"

    """#

  static let filesystem = #"""
    # Warden manifest for filesystem-mcp, a filesystem MCP server (`uvx filesystem-mcp DIR...`, PyPI
    # 1.0.2) that reads and writes text files inside the directories it is started with.
    #
    # Every path is a resource, absolute and normalized, as written and as the file system resolves it
    # (symbolic links followed): `file:/srv/docs/a.txt`. Grant a tree with `--on 'file:/srv/docs/**'`;
    # a forbid on a tree covers its root. The server resolves a relative path against its own working
    # directory, which warden does not know, so a relative path is denied; so is a `~` path.
    #
    # Actions:
    #   fs.list    list_allowed_directories: the directories the server was started with (no resource)
    #              list_directory: the names and sizes in a directory
    #   fs.read    read_file: a text file
    #   fs.append  write_file with `append: true`: text added at the end of a file
    #   fs.write   write_file otherwise: the file replaced by the text (created when missing);
    #              destructive, so always confirmed by a human
    server: filesystem
    aliases: [filesystem-mcp]
    undeclared: deny
    tools:
      list_allowed_directories:
        action: fs.list
      list_directory:
        action: fs.list
        resource: "file:{path|path}"
      read_file:
        action: fs.read
        resource: "file:{path|path}"
      write_file:
        rules:
          - when: {equals: {append: true}}
            action: fs.append
        action: fs.write
        resource: "file:{path|path}"
        destructive: true

    """#

  static let git = #"""
    # Warden manifest for mcp-server-git, the reference Git MCP server (`uvx mcp-server-git`).
    #
    # Every tool names the repository it works on in `repo_path`; the resource is that path, made
    # absolute and normalized: `repo:/srv/app`. Grant one repository with `--on 'repo:/srv/app'`, or
    # a tree of them with `--on 'repo:/home/me/src/**'`.
    #
    # Actions:
    #   git.read      git_status, git_diff_unstaged, git_diff_staged, git_diff, git_log, git_show,
    #                 git_branch: read the repository, change nothing
    #   git.write     git_add: stage files; the resources are the repository and each file
    #   git.commit    git_commit: record the staged changes as a new commit
    #   git.branch    git_create_branch: create a branch, leaving the working tree alone
    #   git.checkout  git_checkout: switch the working tree to another branch
    #   git.reset     git_reset: unstage everything; destructive, so always confirmed by a human
    #
    # git_add also yields `file:/abs/path` for each entry of `files`; a relative file name is resolved
    # against `repo_path`, as the server does (`path:repo_path`), so `../x` cannot leave a granted tree.
    server: git
    aliases: [mcp-server-git, mcp_server_git]
    undeclared: deny
    tools:
      git_status:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_diff_unstaged:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_diff_staged:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_diff:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_log:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_show:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_branch:
        action: git.read
        resource: "repo:{repo_path|path}"
      git_add:
        action: git.write
        resource: ["repo:{repo_path|path}", "file:{files[]|path:repo_path}"]
      git_commit:
        action: git.commit
        resource: "repo:{repo_path|path}"
      git_create_branch:
        action: git.branch
        resource: "repo:{repo_path|path}"
      git_checkout:
        action: git.checkout
        resource: "repo:{repo_path|path}"
      git_reset:
        action: git.reset
        resource: "repo:{repo_path|path}"
        destructive: true

    """#

  static let mailbox = #"""
    # Warden manifest for warden-example-mailbox, the example MCP server in examples/mailbox.
    #
    # A message is a resource by its id (`message:<id>`), a folder by its name (`folder:<name>`),
    # and outgoing mail by the recipient's domain (`domain:example.com`).
    #
    # Actions:
    #   mail.list     list_messages: ids, senders and subjects of a folder (no resource: the folder
    #                 is optional)
    #   mail.read     read_message: one message in full
    #   mail.move     move_message: to another folder, created if missing
    #   mail.archive  archive_message: to the archive folder
    #   mail.delete   delete_message: remove a message for good; destructive, so always confirmed
    #   mail.send     send_message: the message leaves the mailbox; its body stays out of the audit
    server: mailbox
    aliases: [warden-example-mailbox]
    undeclared: deny
    tools:
      list_messages:
        action: mail.list
      read_message:
        action: mail.read
        resource: "message:{id}"
      move_message:
        action: mail.move
        resource: ["message:{id}", "folder:{folder}"]
      archive_message:
        action: mail.archive
        resource: "message:{id}"
      delete_message:
        action: mail.delete
        resource: "message:{id}"
        destructive: true
      send_message:
        action: mail.send
        resource: "domain:{to|domain}"
        redact: [body]

    """#

  static let postgres = #"""
    # Warden manifest for postgres-mcp, the PostgreSQL server of Crystal DBA (`postgres-mcp
    # --access-mode=restricted|unrestricted DATABASE_URL`; both modes list the same tools).
    #
    # One manifest serves every instance: run each under a name of its own and say which database it
    # is with the launch context, pinned in $WARDEN_HOME/config.yaml so that an agent editing its MCP
    # configuration cannot relabel production as dev:
    #   servers:
    #     pg-prod:
    #       context: {db: production}
    #   warden run --server pg-prod -- postgres-mcp --access-mode=restricted postgresql://...
    # Without `db` every call is denied, naming the key. Warden does not check which database the URL
    # the server connects to is.
    #
    # execute_sql and explain_query take SQL: PostgreSQL's own parser (libpg_query) splits it into
    # operations, one per statement and table, and each must be allowed on its own. The action is
    # `postgres.KIND` (read, insert, update, delete, create, drop, alter, copy, grant, set, lock,
    # transaction, analyze, reindex, vacuum, write); the resources are `db:NAME` and, for an operation
    # on a table, `table:NAME/TABLE` as the SQL names it: `contacts`, `public.contacts` and `"Contacts"`
    # (`Contacts`) are three names, so grant and forbid with globs (`table:production/*`). TRUNCATE is
    # a delete; functions outside PostgreSQL's common built-ins are `postgres.write`; DO blocks, COPY
    # to or from a program or a file, `pg_read_file`, `dblink` and SQL that does not parse are denied.
    # explain_query is decided as its SQL would be when run: with `analyze: true` the server runs it.
    # Deletes, drops, alters, grants and writes are destructive: a human confirms each, even when
    # granted. The catalog tools name what they read: a schema's listing is `table:NAME/SCHEMA.*`, an
    # object `table:NAME/SCHEMA.OBJECT`.
    #
    # Actions:
    #   postgres.KIND        execute_sql, explain_query: each operation of the SQL (explain_query's
    #                        hypothetical indexes also name their tables)
    #   postgres.read        list_schemas, list_objects, get_object_details: the catalog
    #   postgres.stats       analyze_db_health, get_top_queries: the server's statistics, including
    #                        the text of other sessions' queries (pg_stat_statements)
    #   postgres.advise      analyze_workload_indexes: index advice from the recorded workload
    #   postgres.advise-sql  analyze_query_indexes: index advice for the SQL in `queries`, a list warden
    #                        cannot classify (the server explains each, and checks only its first
    #                        statement): destructive, so a human reads the queries each time
    #   postgres.advise-llm  either advisor with `method: llm`: the queries and schema go to OpenAI's
    #                        API; destructive
    #
    # Grant a dev task writes on the dev database only, and forbid production's deletes and drops:
    #   warden grant --server pg-dev --allow 'postgres.read,postgres.insert,postgres.update' \
    #     --on 'db:dev' --on 'table:dev/*'
    #   warden deny --server pg-prod --action 'postgres.delete,postgres.drop' --on 'table:production/*'
    server: postgres
    aliases: [postgres-mcp]
    undeclared: deny
    tools:
      execute_sql:
        sql: postgres
        action: "postgres.{sql|sql-kind}"
        resource: ["db:{ctx.db}", "table:{ctx.db}/{sql|sql-table}"]
        destructive: [delete, drop, alter, grant, write]
      explain_query:
        sql: postgres
        rules:
          - when: {present: [hypothetical_indexes]}
            action: "postgres.{sql|sql-kind}"
            resource:
              - "db:{ctx.db}"
              - "table:{ctx.db}/{sql|sql-table}"
              - "table:{ctx.db}/{hypothetical_indexes[].table}"
            destructive: [delete, drop, alter, grant, write]
        action: "postgres.{sql|sql-kind}"
        resource: ["db:{ctx.db}", "table:{ctx.db}/{sql|sql-table}"]
        destructive: [delete, drop, alter, grant, write]
      list_schemas:
        action: postgres.read
        resource: ["db:{ctx.db}", "table:{ctx.db}/information_schema.schemata"]
      list_objects:
        action: postgres.read
        resource: ["db:{ctx.db}", "table:{ctx.db}/{schema_name}.*"]
      get_object_details:
        action: postgres.read
        resource: ["db:{ctx.db}", "table:{ctx.db}/{schema_name}.{object_name}"]
      analyze_db_health:
        action: postgres.stats
        resource: "db:{ctx.db}"
      get_top_queries:
        action: postgres.stats
        resource: ["db:{ctx.db}", "table:{ctx.db}/pg_stat_statements"]
      analyze_workload_indexes:
        rules:
          - when: {absent: [method]}
            action: postgres.advise
          - when: {equals: {method: dta}}
            action: postgres.advise
        action: postgres.advise-llm
        resource: "db:{ctx.db}"
        destructive: true
      analyze_query_indexes:
        rules:
          - when: {equals: {method: llm}}
            action: postgres.advise-llm
            destructive: true
        action: postgres.advise-sql
        resource: "db:{ctx.db}"
        destructive: true

    """#

  static let shell = #"""
    # Warden manifest for mcp-shell-server, a shell MCP server (`uvx mcp-shell-server`, PyPI 1.1.14).
    #
    # Its one tool, shell_execute, runs `command`, an argv array, in `directory`. Inside the array the
    # server treats a lone `|` as a pipe to another program and `>`, `>>`, `<` as redirections to files
    # of `directory`, and refuses `;`, `&&`, `||` and backquotes; it runs each program without a shell.
    # Its own ALLOW_COMMANDS variable names the programs it runs at all; this manifest decides which
    # calls need a human.
    #
    # Every call is destructive: `shell.run`, held for a human's confirmation, who sees the whole
    # command. The resources are the directory, absolute and normalized (`dir:/srv/app`), and each
    # word of the command (`word:ls`, `word:-la`): grant with `--on 'dir:/srv/app/**' --on 'word:**'`.
    # A call without `directory` is denied: the server would run it in its own working directory, which
    # warden does not know; a relative directory is denied for the same reason. Reviewed resources
    # (`warden grant --reviewed`) name words, not their order: review only commands whose words cannot
    # be rearranged into another one.
    #
    # Read-only programs are for the human to list, never the agent: copy this file to
    # $WARDEN_HOME/manifests/shell.yaml (`warden manifest show shell`) and add a rule before the tool's
    # own action, as in the example below. A manifest there is chosen by the server's name, and warden
    # denies every tool a path inside its home, so the agent cannot edit the list (a shell command that
    # names such a path is held, the human sees it). The launch context is no place for the list:
    # `--context` comes from the agent's MCP configuration unless config.yaml pins it, and a list the
    # human forgot to pin would be the agent's.
    #
    #   shell_execute:
    #     rules:
    #       - when:
    #           in: {"command[0]": [ls, cat, head, tail, wc, grep, pwd]}
    #           contains_none: {"command[]": [";", "&", "|", "<", ">", "`", "$", "\n", "\r"]}
    #         action: shell.read
    #         resource: ["dir:{directory|path}", "program:{command[0]}"]
    #       - when:                       # one exact command: `git log --oneline` and nothing more
    #           equals: {"command[0]": git, "command[1]": log, "command[2]": --oneline}
    #           absent: ["command[3]"]
    #         action: shell.read
    #         resource: ["dir:{directory|path}", "program:git"]
    #     action: shell.run
    #     ...
    #
    # The first word is compared as bytes with the list: `/bin/rm`, `./ls`, ` ls`, `env ls` are other
    # programs and stay held. No word may hold an operator, so nothing is piped, chained or
    # redirected. List only programs that write nothing whatever their arguments: not find (-delete,
    # -exec), sed (-i), sort (-o), tee, uniq, tree (-o), awk, git, tar, xargs, env, a shell or an
    # interpreter; name exact commands for those. A read-only program reads whatever the server's user
    # can read, inside `directory` or not.
    #
    # Actions:
    #   shell.run   shell_execute: run a command; destructive, so always confirmed by a human
    #   shell.read  shell_execute of a program the human listed as read-only (user manifest only)
    server: shell
    aliases: [mcp-shell-server]
    undeclared: deny
    tools:
      shell_execute:
        action: shell.run
        resource: ["dir:{directory|path}", "word:{command[]}"]
        destructive: true

    """#

  static let sqlite = #"""
    # Warden manifest for mcp-server-sqlite, the SQLite reference server (`uvx mcp-server-sqlite
    # --db-path FILE`).
    #
    # One manifest serves every instance: run each under a name of its own and say which database it
    # is with the launch context, pinned in $WARDEN_HOME/config.yaml so that an agent editing its MCP
    # configuration cannot relabel production as dev:
    #   servers:
    #     db-prod:
    #       context: {db: production, db_path: /srv/prod.db}
    #   warden run --server db-prod -- mcp-server-sqlite --db-path /srv/prod.db
    # `db` names the database in resources; `db_path` is the file the server opens, read by warden
    # (read-only) for its schema, so that the triggers and views of the real database are seen: an
    # INSERT that fires a trigger deleting rows is also a delete. A call that needs a key the context
    # lacks is denied, naming the key. Warden does not check that the server's `--db-path` is `db_path`.
    #
    # read_query, write_query and create_table take SQL: SQLite's own parser splits it into
    # operations, one per statement and table, and each must be allowed on its own. The action is
    # `sqlite.KIND` (read, insert, update, delete, create, drop, alter, attach, detach, pragma,
    # transaction, analyze, reindex, vacuum, write); the resources are `db:NAME` and, for an operation
    # on a table, `table:NAME/TABLE` (lowercase; `temp.t` or `aux.t` outside the main schema).
    # `INSERT OR REPLACE` and `REPLACE` are also deletes; `VACUUM INTO` and functions outside SQLite's
    # built-ins are `sqlite.write`; SQL that does not parse, and `load_extension`, are denied.
    # Deletes, drops, alters and writes are destructive: a human confirms each, even when granted.
    #
    # Actions:
    #   sqlite.KIND   read_query, write_query, create_table: each operation of the SQL
    #   sqlite.read   list_tables: the table names (`table:NAME/sqlite_master`, as `SELECT name FROM
    #                 sqlite_master` would be); describe_table: the columns of `table_name`
    #   sqlite.memo   append_insight: add a line to the server's in-memory memo (`memo://insights`)
    #
    # Grant a dev task writes on the dev database only, and forbid production's deletes and drops:
    #   warden grant --server db-dev --allow 'sqlite.read,sqlite.insert,sqlite.update' \
    #     --on 'db:dev' --on 'table:dev/*'
    #   warden deny --server db-prod --action 'sqlite.delete,sqlite.drop' --on 'table:production/*'
    server: sqlite
    aliases: [mcp-server-sqlite]
    undeclared: deny
    tools:
      read_query:
        sql: {dialect: sqlite, schema: "{ctx.db_path}"}
        action: "sqlite.{query|sql-kind}"
        resource: ["db:{ctx.db}", "table:{ctx.db}/{query|sql-table}"]
        destructive: [delete, drop, alter, write]
      write_query:
        sql: {dialect: sqlite, schema: "{ctx.db_path}"}
        action: "sqlite.{query|sql-kind}"
        resource: ["db:{ctx.db}", "table:{ctx.db}/{query|sql-table}"]
        destructive: [delete, drop, alter, write]
      create_table:
        sql: {dialect: sqlite, schema: "{ctx.db_path}"}
        action: "sqlite.{query|sql-kind}"
        resource: ["db:{ctx.db}", "table:{ctx.db}/{query|sql-table}"]
        destructive: [delete, drop, alter, write]
      list_tables:
        action: sqlite.read
        resource: ["db:{ctx.db}", "table:{ctx.db}/sqlite_master"]
      describe_table:
        action: sqlite.read
        resource: ["db:{ctx.db}", "table:{ctx.db}/{table_name|lower}"]
      append_insight:
        action: sqlite.memo
        resource: "memo:{ctx.db}"

    """#

  static let time = #"""
    # Warden manifest for mcp-server-time, the reference time server (`uvx mcp-server-time`).
    #
    # Both tools only read the clock and the time-zone database: they touch nothing and reach
    # nothing, so they have an action and no resource.
    #
    # Actions:
    #   time.read  get_current_time: the time in a zone
    #              convert_time: a time from one zone to another
    server: time
    aliases: [mcp-server-time, mcp_server_time]
    undeclared: deny
    tools:
      get_current_time:
        action: time.read
      convert_time:
        action: time.read

    """#
}
