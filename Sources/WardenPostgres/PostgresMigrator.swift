import PostgresNIO
import WardenStore

/// Applies and checks the schema's migrations (`PostgresSchema`).
enum PostgresMigrator {
  /// What a database has of this build's migrations.
  enum State: Equatable {
    /// Every migration this build knows, and no other.
    case current
    /// No warden schema at all (no `warden_migrations`, no other table).
    case empty
    /// Some of this build's migrations are missing.
    case outdated(missing: [Int])
    /// Migrations this build does not know: a newer warden migrated it.
    case newer(unknown: [Int])
    /// Tables that are not warden's, and no `warden_migrations`.
    case foreign(tables: [String])
  }

  static var known: [Int] { PostgresSchema.migrations.map(\.version) }

  static func state(_ statements: Statements) throws(StoreError) -> State {
    let tables = try statements.rows(
      "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        + " ORDER BY table_name"
    ) { (cells: Cells) throws(StoreError) -> String in try cells.text(0) }
    guard tables.contains("warden_migrations") else {
      return tables.isEmpty ? .empty : .foreign(tables: tables)
    }
    let applied = try statements.rows("SELECT version::bigint FROM warden_migrations ORDER BY version") {
      (cells: Cells) throws(StoreError) -> Int in Int(try cells.integer(0))
    }
    let unknown = applied.filter { !known.contains($0) }
    if !unknown.isEmpty { return .newer(unknown: unknown) }
    let missing = known.filter { !applied.contains($0) }
    return missing.isEmpty ? .current : .outdated(missing: missing)
  }

  /// Refuses a database whose schema is not exactly this build's, with what to do about it.
  static func check(_ statements: Statements, url: PostgresURL) throws(StoreError) {
    let state = try state(statements)
    switch state {
    case .current: return
    case .empty:
      throw StoreError(
        .unreadable, "\(url) has no warden schema yet; run `warden store migrate` (with a role that owns it)")
    case .outdated(let missing):
      throw StoreError(
        .unreadable,
        "\(url) lacks schema migration(s) \(missing.map(String.init).joined(separator: ", ")) of this warden;"
          + " run `warden store migrate`")
    case .newer, .foreign:
      throw refusal(of: state, url: url)
    }
  }

  /// Why a schema no warden of this build may use or migrate is refused: a newer warden's, or
  /// another program's.
  static func refusal(of state: State, url: PostgresURL) -> StoreError {
    switch state {
    case .newer(let unknown):
      StoreError(
        .unreadable,
        "\(url) was migrated by a newer warden (unknown migration(s) \(unknown.map(String.init).joined(separator: ", ")));"
          + " upgrade warden")
    case .foreign(let tables):
      StoreError(
        .unreadable, "\(url) is not a warden store (it has tables \(tables.joined(separator: ", ")))")
    case .current, .empty, .outdated:
      StoreError(.unreadable, "\(url) has an unexpected schema state")
    }
  }

  /// Applies the missing migrations in one transaction, serialized with any other migrate; returns
  /// the versions applied (none when it was current).
  static func migrate(_ session: PostgresSession) throws(StoreError) -> [Int] {
    let url = session.url
    return try session.transaction("cannot migrate \(url)") {
      (statements: Statements) throws(StoreError) -> [Int] in
      // Created only when missing: an owner given a schema made for it need not be able to create
      // schemas in the database.
      if let schema = url.schema,
        try statements.rows("SELECT 1 FROM pg_namespace WHERE nspname = $1", binds(.text(schema)), { _ in 1 })
          .isEmpty
      {
        try statements.execute("CREATE SCHEMA \(schema)")
      }
      try statements.lock("migrate")
      let state = try state(statements)
      switch state {
      case .current: return []
      case .newer, .foreign: throw refusal(of: state, url: url)
      case .empty, .outdated:
        break
      }
      try statements.execute(
        """
        CREATE TABLE IF NOT EXISTS warden_migrations (
          version INTEGER NOT NULL PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """)
      let applied = try statements.rows("SELECT version::bigint FROM warden_migrations") {
        (cells: Cells) throws(StoreError) -> Int in Int(try cells.integer(0))
      }
      var done: [Int] = []
      for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
        for statement in migration.statements { try statements.execute(statement) }
        if migration.version == 1 {
          var binds = PostgresBindings()
          binds.append(randomSecret())
          try statements.execute("INSERT INTO audit_key (id, secret) VALUES (1, $1)", binds)
        }
        var binds = PostgresBindings()
        binds.append(migration.version)
        binds.append(migration.name)
        try statements.execute("INSERT INTO warden_migrations (version, name) VALUES ($1, $2)", binds)
        done.append(migration.version)
      }
      return done
    }
  }

  /// 32 random bytes as lowercase hex: the key of the audit records' argument digests.
  static func randomSecret() -> String {
    var generator = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for _ in 0..<32 {
      let byte = UInt8.random(in: 0...255, using: &generator)
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 15)])
    }
    return String(decoding: text, as: UTF8.self)
  }
}
