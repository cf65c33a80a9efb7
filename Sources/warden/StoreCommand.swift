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
        """,
      subcommands: [Migrate.self])
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
