import GRDB
import Synchronization
import WardenCore

/// The delegation store: every grant and forbid a human issued, in `<home>/warden.db`.
///
/// Schema (see `Schema.v1` for the columns and their CHECK constraints): a `grants` table holding
/// grants and forbids alike (string arrays as JSON text, times as milliseconds since the epoch),
/// never deleted, immutable except for a one-time revocation; a one-row `generation` table that
/// triggers bump on every change to `grants`; a `grant_uses` table of calls made under rate-limited
/// grants. GRDB's `DatabaseMigrator` records applied migrations in `grdb_migrations`; a database with a
/// migration this build does not know is refused.
///
/// Concurrency: many processes (every `warden run`, the CLI) open the same file at once. The database
/// is in WAL mode, so readers never block the writer nor each other; writes are IMMEDIATE transactions
/// that wait up to 5 s for another process's write (busy timeout) before failing with `.locked`. Opening
/// (WAL switch, migrations) is serialized across processes with an advisory lock on the home directory.
/// Within a process the store is `Sendable`: GRDB's pool serializes writes and runs reads in parallel.
/// `changeToken()` reads on a dedicated connection, so it sees every commit of every connection.
///
/// Fail closed: every failure is a `StoreError`; nothing here turns an error into an empty list.
public final class GrantStore: Sendable {
  /// Warden's home directory, as given to `open`.
  public let home: String
  /// `<home>/warden.db`.
  public let databasePath: String
  let pool: DatabasePool
  private let token: ChangeTokenReader
  /// The audit trail's own connection and head file, opened on the first append.
  let auditAppender = Mutex<AuditAppender?>(nil)

  /// How long a write waits for another process's write before failing with `.locked`.
  static let busyTimeout = 5.0

  private init(home: String, databasePath: String, pool: DatabasePool, token: ChangeTokenReader) {
    self.home = home
    self.databasePath = databasePath
    self.pool = pool
    self.token = token
  }

  /// `$WARDEN_HOME`, else `$XDG_STATE_HOME/warden`, else `$HOME/.local/state/warden`; always absolute.
  /// Throws `.invalid` when `WARDEN_HOME` is relative or none of them is set.
  public static func defaultHome(environment: [String: String]) throws(StoreError) -> String {
    try StoreHome.resolve(environment: environment)
  }

  /// Sets `home` to mode 0700 when other users can read or enter it but not write it, it is this
  /// user's, and it holds only warden's own files (`manifests/`, `config.yaml`, the store and audit
  /// files), as `mkdir -p $WARDEN_HOME/manifests` leaves it. Returns a line saying what it did, for
  /// the user; nil when there was nothing to do or nothing it may do (then `open` says why it refuses
  /// the home). Throws `.invalid`, with the `chmod` to run, when the home is reachable but holds
  /// something else or other users could write it. Never follows a symbolic link.
  public static func repairHomePermissions(_ home: String) throws(StoreError) -> String? {
    try StoreHome.repairPermissions(StoreHome.trimmed(home))
  }

  /// Makes `home` if needed (mode 0700) and refuses one that is not this user's or that others can
  /// reach, as `open` does: for stores that keep only the audit anchor and journals in it.
  package static func prepareHome(_ home: String) throws(StoreError) -> String {
    let home = StoreHome.trimmed(home)
    try StoreHome.prepare(home)
    return home
  }

  /// Opens the store in `home` (an absolute path), creating on first use the directory (mode 0700) and
  /// `warden.db` (mode 0600), and bringing the schema up to date.
  ///
  /// Throws `.invalid` if `home` is not a directory, is not this user's, or is open to other users
  /// (the message says to `chmod 700` it); `.unreadable` if the file is corrupt, not a warden database
  /// or from a newer warden; `.cannotOpen` on permission problems; `.locked` if another process holds
  /// the database past the busy timeout.
  public static func open(home: String) throws(StoreError) -> GrantStore {
    let home = StoreHome.trimmed(home)
    try StoreHome.prepare(home)
    let path = (home == "/" ? "" : home) + "/warden.db"
    return try StoreHome.withSetupLock(home, timeout: busyTimeout) { () throws(StoreError) -> GrantStore in
      try StoreHome.createDatabaseFile(path)
      let configuration = makeConfiguration()
      let pool = try guarded("cannot open \(path)") {
        try DatabasePool(path: path, configuration: configuration)
      }
      try migrate(pool, path: path)
      let token = try ChangeTokenReader(path: path, busyTimeout: busyTimeout)
      let store = GrantStore(home: home, databasePath: path, pool: pool, token: token)
      _ = try store.changeToken()
      return store
    }
  }

  private static func makeConfiguration() -> Configuration {
    var configuration = Configuration()
    configuration.label = "warden"
    configuration.busyMode = .timeout(busyTimeout)
    configuration.foreignKeysEnabled = true
    configuration.maximumReaderCount = 4
    return configuration
  }

  /// Refuses a database from a newer warden or one that is some other program's, then applies the
  /// migrations this build knows and checks they are all there.
  private static func migrate(_ pool: DatabasePool, path: String) throws(StoreError) {
    let migrator = Schema.migrator
    try guarded("cannot read \(path)") {
      try pool.read { db in
        if try migrator.hasBeenSuperseded(db) {
          let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
          throw StoreError(
            .unreadable,
            "\(path) was written by a newer warden (unknown migrations: \(unknown.joined(separator: ", ")));"
              + " upgrade warden")
        }
        if try migrator.appliedIdentifiers(db).isEmpty {
          let tables = try String.fetchAll(
            db,
            sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
              + " AND name <> 'grdb_migrations'")
          if !tables.isEmpty {
            throw StoreError(
              .unreadable,
              "\(path) is not a warden database (it has tables \(tables.joined(separator: ", ")))")
          }
        }
      }
    }
    try guarded("cannot migrate \(path)") {
      try migrator.migrate(pool)
      guard try pool.read(migrator.hasCompletedMigrations) else {
        throw StoreError(.unreadable, "\(path) is missing schema migrations after migrating")
      }
    }
  }

  /// Adds a grant or forbid. Throws `.invalid` if its id is taken or it breaks the schema's invariants
  /// (an allow without expiry, no actions, an empty id...), `.notFound` if `parentID` names no grant.
  public func insert(_ grant: Grant) throws(StoreError) {
    try guarded("cannot insert grant \(grant.id) into \(databasePath)") {
      try pool.write { db in
        if let parentID = grant.parentID, try !exists(db, parentID) {
          throw StoreError(.notFound, "parent grant \(parentID) of \(grant.id) does not exist")
        }
        if try exists(db, grant.id) {
          throw StoreError(.invalid, "a grant with id \(grant.id) already exists")
        }
        try db.cachedStatement(sql: GrantRow.insertSQL).execute(arguments: GrantRow.arguments(grant))
      }
    }
  }

  /// The grant or forbid with this id, revoked and expired ones included; nil if there is none.
  public func grant(id: String) throws(StoreError) -> Grant? {
    try guarded("cannot read grant \(id) from \(databasePath)") {
      try pool.read { db in
        let statement = try db.cachedStatement(sql: "SELECT \(GrantRow.columns) FROM grants WHERE id = ?")
        return try GrantRow.fetchAll(statement, [id]).first
      }
    }
  }

  /// Every grant and forbid ever issued (revoked and expired included), ordered by `issuedAt` then
  /// `id`: the authorizer needs parents and reasons.
  public func allGrants() throws(StoreError) -> [Grant] {
    try guarded("cannot read grants from \(databasePath)") {
      try pool.read { db in
        let statement = try db.cachedStatement(
          sql: "SELECT \(GrantRow.columns) FROM grants ORDER BY issued_at, id")
        return try GrantRow.fetchAll(statement)
      }
    }
  }

  /// The grants and forbids live at `now` (not revoked; no expiry, or an expiry after `now`), ordered
  /// by `issuedAt` then `id`. Whether their parents are live is the authorizer's business.
  public func liveGrants(now: Int64) throws(StoreError) -> [Grant] {
    try guarded("cannot read grants from \(databasePath)") {
      try pool.read { db in
        let statement = try db.cachedStatement(
          sql: "SELECT \(GrantRow.columns) FROM grants WHERE revoked_at IS NULL"
            + " AND (expires_at IS NULL OR expires_at > ?) ORDER BY issued_at, id")
        return try GrantRow.fetchAll(statement, [now])
      }
    }
  }

  /// The live grants and forbids that can apply to `server`: those issued for exactly that name, and
  /// those whose server is a pattern (`*`). What a running warden keeps in memory, so that grants for
  /// other servers cost it nothing. Same order as `liveGrants(now:)`.
  public func liveGrants(now: Int64, server: String) throws(StoreError) -> [Grant] {
    try guarded("cannot read grants from \(databasePath)") {
      try pool.read { db in
        let statement = try db.cachedStatement(
          sql: "SELECT \(GrantRow.columns) FROM grants WHERE revoked_at IS NULL"
            + " AND (expires_at IS NULL OR expires_at > ?) AND (server = ? OR instr(server, '*') > 0)"
            + " ORDER BY issued_at, id")
        return try GrantRow.fetchAll(statement, [now, server])
      }
    }
  }

  /// A number that changes whenever any process commits a change to grants (an insert or a
  /// revocation). Cheap enough to read before every tool call: one `PRAGMA data_version` on a
  /// dedicated connection (about 1.5 us), plus one single-row read when some commit happened. Never
  /// decreases; equal tokens mean no change to grants in between.
  public func changeToken() throws(StoreError) -> Int64 {
    try token.read()
  }

  func exists(_ db: Database, _ id: String) throws -> Bool {
    try Bool.fetchOne(
      db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM grants WHERE id = ?)"), arguments: [id])
      ?? false
  }
}
