import WardenStore

/// A look at a PostgreSQL store that changes nothing, for `warden doctor`: can it be reached with
/// these credentials, and which of this warden's migrations does it have.
public enum PostgresInspection: Sendable, Equatable {
  /// Every migration this warden knows, and no other.
  case current(version: Int)
  /// No warden schema yet: `warden store migrate` makes it.
  case empty
  case outdated(missing: [Int])
  case newer(unknown: [Int])
  /// Tables that are not warden's.
  case foreign(tables: [String])
  /// Cannot be reached, refuses the credentials, or cannot be read: the reason (never the password).
  case unavailable(String)

  public static func inspect(url: PostgresURL, password: String?) -> PostgresInspection {
    do throws(StoreError) {
      let session = try PostgresSession(url: url, password: password)
      defer { session.close() }
      let state = try session.withConnection("cannot read the schema of \(url)") {
        (statements: Statements) throws(StoreError) -> PostgresMigrator.State in
        try PostgresMigrator.state(statements)
      }
      switch state {
      case .current: return .current(version: PostgresMigrator.known.max() ?? 0)
      case .empty: return .empty
      case .outdated(let missing): return .outdated(missing: missing)
      case .newer(let unknown): return .newer(unknown: unknown)
      case .foreign(let tables): return .foreign(tables: tables)
      }
    } catch {
      return .unavailable(error.description)
    }
  }
}
