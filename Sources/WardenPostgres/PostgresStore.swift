import Crypto
import Synchronization
import WardenCore
import WardenStore

/// The delegation store on PostgreSQL, for a team: every warden of every machine, and every
/// human's `warden` command, on one database. The same semantics as the SQLite store (`GrantStore`),
/// which the shared store tests check on both.
///
/// Concurrency: a few connections per process (`PostgresSession`); writes that SQLite serialized by
/// its single writer are serialized here by transaction-scoped advisory locks in the database, so
/// they hold across processes and machines: grant writes (an insert against a concurrent
/// revocation of its parent), tool pins, and audit appends (one chain, many writers).
///
/// Opening never changes the schema (that is `warden store migrate`'s, with an owner role): it
/// checks the database has exactly this build's migrations and refuses it otherwise.
///
/// Fail closed: every failure is a `StoreError`, and no message carries the password.
public final class PostgresStore: Sendable {
  public let home: String
  public let url: PostgresURL
  let session: PostgresSession
  let token: PostgresChangeToken
  /// This machine's anchor of the chain (see `auditHeadPath`).
  let headWriter: Mutex<Int32>

  private init(home: String, url: PostgresURL, session: PostgresSession) {
    self.home = home
    self.url = url
    self.session = session
    token = PostgresChangeToken(session: session)
    headWriter = Mutex(-1)
  }

  deinit {
    headWriter.withLock { descriptor in
      if descriptor >= 0 { _ = closeDescriptor(descriptor) }
    }
    session.close()
  }

  /// Connects to the store at `url` with `password`, and checks its schema is this build's (and
  /// checks it again on every new connection). `home` is this machine's warden home (the chain's
  /// anchor and the audit journals live there).
  ///
  /// `waitForDatabase` (`warden run`): a database that cannot be used yet (unreachable, refusing the
  /// credentials, a schema to migrate) does not stop the opening; every operation then fails
  /// (closed) until it can, and the store is used as soon as it can, without a restart.
  public static func open(url: PostgresURL, password: String?, home: String, waitForDatabase: Bool = false)
    throws(StoreError) -> PostgresStore
  {
    let home = try GrantStore.prepareHome(home)
    let session = try PostgresSession(url: url, password: password) {
      (statements: Statements) throws(StoreError) in
      try PostgresMigrator.check(statements, url: url)
    }
    do throws(StoreError) {
      try session.withConnection("cannot read the schema of \(url)") { (_: Statements) throws(StoreError) in }
    } catch {
      if !waitForDatabase {
        session.close()
        throw error
      }
    }
    return PostgresStore(home: home, url: url, session: session)
  }

  /// Applies the schema migrations this build has and the database lacks; returns the versions
  /// applied. Needs a role that may create tables in the schema.
  public static func migrate(url: PostgresURL, password: String?) throws(StoreError) -> [Int] {
    let session = try PostgresSession(url: url, password: password)
    defer { session.close() }
    return try PostgresMigrator.migrate(session)
  }

  /// Every migration this build knows, by version.
  public static var migrationVersions: [Int] { PostgresMigrator.known }

  public var location: String { url.description }

  /// Adds a grant or forbid. Throws `.invalid` if its id is taken or it breaks the schema's
  /// invariants, `.notFound` if `parentID` names no grant.
  public func insert(_ grant: Grant) throws(StoreError) {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot insert grant \(grant.id) into \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.lock("grants")
      if let parentID = grant.parentID, try !exists(statements, parentID) {
        throw StoreError(.notFound, "parent grant \(parentID) of \(grant.id) does not exist")
      }
      if try exists(statements, grant.id) {
        throw StoreError(.invalid, "a grant with id \(grant.id) already exists")
      }
      try statements.execute(PostgresGrantRow.insertSQL, PostgresGrantRow.binds(grant))
    }
  }

  public func grant(id: String) throws(StoreError) -> Grant? {
    try session.withConnection("cannot read grant \(id) from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresGrantRow.columns) FROM grants WHERE id = $1", binds(.text(id)),
        PostgresGrantRow.decode
      ).first
    }
  }

  public func allGrants() throws(StoreError) -> [Grant] {
    try session.withConnection("cannot read grants from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresGrantRow.columns) FROM grants ORDER BY issued_at, id COLLATE \"C\"", binds(),
        PostgresGrantRow.decode)
    }
  }

  public func liveGrants(now: Int64) throws(StoreError) -> [Grant] {
    try session.withConnection("cannot read grants from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresGrantRow.columns) FROM grants WHERE revoked_at IS NULL"
          + " AND (expires_at IS NULL OR expires_at > $1) ORDER BY issued_at, id COLLATE \"C\"",
        binds(.integer(now)), PostgresGrantRow.decode)
    }
  }

  public func liveGrants(now: Int64, server: String) throws(StoreError) -> [Grant] {
    try session.withConnection("cannot read grants from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresGrantRow.columns) FROM grants WHERE revoked_at IS NULL"
          + " AND (expires_at IS NULL OR expires_at > $1) AND (server = $2 OR strpos(server, '*') > 0)"
          + " ORDER BY issued_at, id COLLATE \"C\"",
        binds(.integer(now), .text(server)), PostgresGrantRow.decode)
    }
  }

  /// `generation.value`, which triggers move on every change to grants, breaker trips and tool
  /// pins, in any process on any machine. Served from memory while this store listens for the
  /// triggers' notifications, re-read at least every second, and read from the database on every
  /// call while it cannot listen (see `PostgresChangeToken`).
  public func changeToken() throws(StoreError) -> Int64 {
    try token.read { () throws(StoreError) -> Int64 in try readChangeToken() }
  }

  /// `generation.value` as the database has it now.
  func readChangeToken() throws(StoreError) -> Int64 {
    let values = try session.withConnection("cannot read the change token of \(url)") {
      (statements: Statements) throws(StoreError) -> [Int64] in
      try statements.rows("SELECT value FROM generation WHERE id = 1") { (cells: Cells) throws(StoreError) in
        try cells.integer(0)
      }
    }
    guard let value = values.first else { throw StoreError(.unreadable, "\(url) has no change generation") }
    return value
  }

  /// Wakes `handler` on every hold created or decided by any process on the store (`warden_holds`),
  /// so a warden waiting on a hold sees a decision made on another machine at once.
  public func onHoldsChanged(_ handler: @escaping @Sendable () -> Void) { token.onHoldsChanged(handler) }

  /// Whether the change token is being served from notifications (for tests).
  public var listensForChanges: Bool { token.isListening }

  /// Drops the connection that listens for changes, as a network failure would (for tests).
  public func dropChangeListener() { token.dropListener() }

  func exists(_ statements: Statements, _ id: String) throws(StoreError) -> Bool {
    try !statements.query("SELECT 1 FROM grants WHERE id = $1", binds(.text(id))).rows.isEmpty
  }
}

extension PostgresStore: DelegationStore {}
