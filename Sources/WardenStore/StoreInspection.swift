import GRDB
import GRDBSQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A look at a store that changes nothing, for `warden doctor`: which of this warden's migrations
/// it has. `GrantStore.open` would create, lock and migrate; this opens the file read-only through
/// SQLite's C API and only reads `grdb_migrations`.
public enum StoreInspection {
  public enum Outcome: Sendable, Equatable {
    /// Every migration this warden knows, and no other.
    case current(migrations: Int)
    /// Some of this warden's migrations are missing: an older warden wrote it.
    case outdated(missing: [String])
    /// It has migrations this warden does not know.
    case newer(unknown: [String])
    /// Not a warden database, corrupt, or unreadable.
    case unreadable(String)
  }

  /// Inspects `<home>/warden.db`, which must exist. With no write-ahead log beside it the file is
  /// opened `immutable` (SQLite then creates no -shm or -wal file and takes no lock); with one, a
  /// warden is running or crashed, and the log must be read too, so it is opened `mode=ro`, which
  /// reads through the existing shared-memory index.
  public static func inspect(databasePath path: String) -> Outcome {
    var info = stat()
    let hasLog = stat(path + "-wal", &info) == 0 && info.st_size > 0
    let uri = "file:" + percentEncoded(path) + (hasLog ? "?mode=ro" : "?immutable=1")
    var handle: OpaquePointer?
    let code = sqlite3_open_v2(
      uri, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
    defer { sqlite3_close_v2(handle) }
    guard code == SQLITE_OK, let handle else { return .unreadable(message(handle, code)) }
    sqlite3_busy_timeout(handle, 2000)
    let tables: [String]
    do {
      tables = try strings(
        handle,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    } catch { return .unreadable(error.reason) }
    let known = Schema.migrator.migrations
    guard tables.contains("grdb_migrations") else {
      return tables.isEmpty
        ? .outdated(missing: known)
        : .unreadable("not a warden database (tables \(tables.joined(separator: ", ")))")
    }
    let applied: [String]
    do { applied = try strings(handle, "SELECT identifier FROM grdb_migrations") } catch {
      return .unreadable(error.reason)
    }
    let unknown = Set(applied).subtracting(known).sorted()
    if !unknown.isEmpty { return .newer(unknown: unknown) }
    let missing = known.filter { !applied.contains($0) }
    return missing.isEmpty ? .current(migrations: known.count) : .outdated(missing: missing)
  }

  private struct Failure: Error {
    var reason: String
  }

  private static func strings(_ handle: OpaquePointer, _ sql: String) throws(Failure) -> [String] {
    var statement: OpaquePointer?
    var code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    guard code == SQLITE_OK, let statement else { throw Failure(reason: message(handle, code)) }
    var values: [String] = []
    while true {
      code = sqlite3_step(statement)
      if code == SQLITE_DONE { break }
      guard code == SQLITE_ROW else { throw Failure(reason: message(handle, code)) }
      if let text = sqlite3_column_text(statement, 0) { values.append(String(cString: text)) }
    }
    return values
  }

  private static func message(_ handle: OpaquePointer?, _ code: Int32) -> String {
    if let handle, let text = sqlite3_errmsg(handle) { return String(cString: text) }
    return String(cString: sqlite3_errstr(code))
  }

  /// A path as a URI's path: every byte but unreserved ones and `/` percent-encoded.
  static func percentEncoded(_ path: String) -> String {
    var out = ""
    for byte in path.utf8 {
      let character = Character(Unicode.Scalar(byte))
      if byte < 0x80, character.isLetter || character.isNumber || "/-._~".contains(character) {
        out.append(character)
      } else {
        out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
      }
    }
    return out
  }
}
