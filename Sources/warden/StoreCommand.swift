import ArgumentParser
import WardenPostgres
import WardenStore

extension Warden {
  struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "store",
      abstract:
        "Manage the delegation store: the SQLite file in $WARDEN_HOME, or a team's PostgreSQL database.",
      discussion: """
        Warden keeps grants, forbids, holds, breaker trips, tool pins and the audit trail in one store. \
        By default it is the SQLite file $WARDEN_HOME/warden.db, which migrates itself when opened. A team \
        shares one PostgreSQL database instead: `store: postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full` \
        in $WARDEN_HOME/config.yaml (or WARDEN_STORE in the environment; config.yaml wins). The password \
        comes from the file WARDEN_STORE_PASSWORD_FILE names (mode 0600), else PGPASSWORD; never from the URL.

        A PostgreSQL store's schema changes only through `warden store migrate`, run by a role that owns \
        the schema; every other command refuses a schema older or newer than its own.

        Examples:
          warden store migrate 'postgres://warden_owner@db.internal:5432/warden?sslmode=verify-full'
          WARDEN_STORE_PASSWORD_FILE=~/.config/warden/owner.pass warden store migrate
          warden store copy --from sqlite://$HOME/.local/state/warden
        """,
      subcommands: [Migrate.self, Copy.self])
  }
}

extension Warden.Store {
  struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "migrate",
      abstract: "Bring a PostgreSQL store's schema up to this warden's version.",
      discussion: """
        Applies, in one transaction, the schema migrations this warden has and the database lacks \
        (versioned, forward only, recorded in the table warden_migrations), and says which. Safe to run \
        again: a current schema is left as it is. A schema from a newer warden is refused: upgrade warden. \
        Run it with a role that may create tables in the schema (the owner); the roles of `warden run` \
        and of approvers need no such right.

        Without URL, the store is the one the other commands use: `store:` in $WARDEN_HOME/config.yaml, \
        else WARDEN_STORE. The SQLite store needs no migrate: it migrates itself when opened.

        Exit status: 0 when the schema is current (applied now or already); 1 when it could not be \
        (unreachable, credentials refused, a newer schema, not a warden store; nothing applied); 64 usage; \
        78 an invalid config.yaml or store URL.

        Examples:
          warden store migrate 'postgres://warden_owner@db.internal:5432/warden?sslmode=verify-full'
          warden store migrate 'postgres://postgres@127.0.0.1:5432/warden?sslmode=disable&schema=team_a'
        """)

    @Argument(help: "The store, postgres://USER@HOST:PORT/DATABASE?sslmode=MODE (no password in it).")
    var url: String?

    func run() throws {
      try reportingFailures {
        let selection: StoreSelection
        if let url {
          do { selection = try StoreSelection.parse(url, source: "the URL") } catch {
            throw CommandFailure("warden: \(error)", status: 64)
          }
        } else {
          selection = try CommandEnvironment.storeSelection()
        }
        guard case .postgres(let store) = selection else {
          _ = try CommandEnvironment.openStore()
          printLine("the SQLite store migrates itself when opened; it is up to date")
          return
        }
        let applied: [Int]
        do {
          let password = try PostgresPassword.resolve(environment: CommandEnvironment.variables)
          applied = try PostgresStore.migrate(url: store, password: password)
        } catch {
          throw CommandFailure("warden: cannot migrate \(store): \(error)")
        }
        if applied.isEmpty {
          printLine("\(store) is up to date (schema version \(PostgresStore.migrationVersions.max() ?? 0))")
        } else {
          printLine(
            "\(store): applied migration(s) \(applied.map(String.init).joined(separator: ", ")); schema version \(PostgresStore.migrationVersions.max() ?? 0)"
          )
        }
      }
    }
  }
}

extension Warden.Store {
  struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "copy",
      abstract: "Copy a SQLite store into an empty PostgreSQL store: moving up to a team's database.",
      discussion: """
        Copies every grant and forbid (revoked and expired ones too), every hold with its decision, the \
        tool pins, the tripped breakers and the whole audit trail, in one transaction, into a PostgreSQL \
        store that is migrated (`warden store migrate`) and holds nothing yet: a copy never merges. The \
        audit records keep their places, text and hashes, and the audit key comes along, so the trail \
        verifies on PostgreSQL as it did on SQLite: the copy is checked against the SQLite store's head \
        file inside the transaction, and refused (nothing written) if it does not verify. The head file's \
        lines are added to this home's anchor of the PostgreSQL store. Rate-limit counts start afresh.

        The SQLite store stays where it is (opening it brings its schema up to date, and journals of \
        killed sessions are folded into its trail first). Afterwards, point every warden at the new \
        store (`store:` in config.yaml).

        Exit status: 0 copied and verified; 1 nothing copied (the SQLite trail does not verify, the \
        PostgreSQL store is not empty or not migrated, unreachable, credentials refused); 64 usage; 78 an \
        invalid config.yaml or store URL.

        Examples:
          warden store copy --from sqlite://$HOME/.local/state/warden
          warden store copy --from sqlite:///srv/old-home/warden.db --to 'postgres://warden@db:5432/warden?sslmode=verify-full'
        """)

    @Option(name: .long, help: "The SQLite store: sqlite://HOME (a warden home) or sqlite://PATH/warden.db.")
    var from: String

    @Option(name: .long, help: "The PostgreSQL store; default: the one the other commands use.")
    var to: String?

    func run() throws {
      try reportingFailures {
        guard from.hasPrefix("sqlite://"), from.count > "sqlite://".count else {
          throw CommandFailure(
            "warden: --from must be sqlite://PATH (a warden home or its warden.db)", status: 64)
        }
        var home = String(from.dropFirst("sqlite://".count))
        if home.hasSuffix("/warden.db") { home = String(home.dropLast("/warden.db".count)) }
        guard home.hasPrefix("/") else {
          throw CommandFailure("warden: --from must name an absolute path: sqlite:///PATH", status: 64)
        }
        let target: PostgresURL
        do {
          let selection = try to.map { text throws(StoreError) in
            try StoreSelection.parse(text, source: "--to")
          }
          switch try selection ?? CommandEnvironment.storeSelection() {
          case .postgres(let url): target = url
          case .sqlite:
            throw CommandFailure(
              "warden: no PostgreSQL store to copy to: give --to postgres://... or set store: in config.yaml",
              status: 64)
          }
        } catch let error as StoreError {
          throw CommandFailure("warden: \(error)", status: 64)
        }
        let source: GrantStore
        do { source = try GrantStore.open(home: home) } catch {
          throw CommandFailure("warden: cannot open the SQLite store in \(home): \(error)")
        }
        let report: StoreCopy.Report
        do {
          let password = try PostgresPassword.resolve(environment: CommandEnvironment.variables)
          let store = try PostgresStore.open(
            url: target, password: password, home: try CommandEnvironment.home())
          report = try StoreCopy.copy(from: source, to: store)
        } catch let error as StoreError {
          throw CommandFailure("warden: nothing was copied: \(error)")
        }
        printLine(
          "copied \(report.grants) grant(s) and forbid(s), \(report.holds) hold(s), \(report.toolPins) tool pin(s),"
            + " \(report.breakerTrips) tripped breaker(s) and \(report.auditRecords) audit record(s) to \(target);"
            + " the trail verifies (\(report.anchors) head(s) checked)")
      }
    }
  }
}
