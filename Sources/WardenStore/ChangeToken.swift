import GRDB
import Synchronization

/// Reads the change token on a connection of its own that never writes.
///
/// `PRAGMA data_version` on a connection changes whenever any *other* connection (of this process or
/// another) commits, and costs only a look at the WAL index in shared memory. It also changes on
/// commits that do not touch grants (rate-limit uses), so the token is `generation.value`, which
/// triggers bump on every change to `grants`; it is re-read only when `data_version` moved. A commit
/// between the two reads moves `data_version` again, so the next call re-reads: nothing is missed.
final class ChangeTokenReader: Sendable {
  private let connection: DatabaseQueue
  private let cache = Mutex<(dataVersion: Int64, generation: Int64)?>(nil)

  init(path: String, configuration: Configuration) throws {
    connection = try DatabaseQueue(path: path, configuration: configuration)
  }

  func read() throws -> Int64 {
    try connection.inDatabase { db in
      let dataVersion = try Self.fetchInteger(db, "PRAGMA data_version")
      if let cached = cache.withLock({ $0 }), cached.dataVersion == dataVersion { return cached.generation }
      let generation = try Self.fetchInteger(db, "SELECT value FROM generation WHERE id = 1")
      cache.withLock { $0 = (dataVersion, generation) }
      return generation
    }
  }

  private static func fetchInteger(_ db: Database, _ sql: String) throws -> Int64 {
    guard let value = try Int64.fetchOne(db.cachedStatement(sql: sql)) else {
      throw StoreError(.unreadable, "the database has no change generation")
    }
    return value
  }
}
