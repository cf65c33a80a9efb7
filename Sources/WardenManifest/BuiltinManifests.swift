import WardenCore

/// The manifests installed with warden: the curated files of `manifests/`, embedded so that the binary
/// needs nothing beside it. Each literal is byte for byte its file (`BuiltinManifestsTests` fails when
/// they differ): after editing a file in `manifests/`, paste its text into the literal here.
public enum BuiltinManifests {
  /// The file name and text of each built-in manifest, in file name order.
  public static let files: [(name: String, text: String)] = [
    ("fetch.yaml", fetch),
    ("git.yaml", git),
    ("mailbox.yaml", mailbox),
    ("time.yaml", time),
  ]

  /// The parsed manifests with their file names; a file that does not parse is left out (and fails
  /// the tests).
  static let all: [(file: String, manifest: Manifest)] = files.compactMap { file in
    (try? ManifestLoader.parse(file.text, file: file.name)).map { (file.name, $0) }
  }

  private static var manifests: [Manifest] { all.map(\.manifest) }

  /// The server names of the built-in manifests, sorted.
  public static var builtinNames: [String] {
    manifests.map(\.server).sorted()
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
