import GRDB
import GRDBSQLite
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Reads the change token on an SQLite connection of its own that never writes, through the C API:
/// it runs before every tool call, and GRDB's dispatch queue and statement cache doubled its cost
/// (2.9 us against 1.4 us measured; the rest is SQLite taking a WAL read lock).
///
/// `PRAGMA data_version` on a connection changes whenever any *other* connection (of this process or
/// another) commits. It also changes on commits that do not touch grants (rate-limit uses), so the
/// token is `generation.value`, which triggers bump on every change to `grants`; it is re-read only
/// when `data_version` moved. A commit between the two reads moves `data_version` again, so the next
/// call re-reads: no change is ever missed, and the token never goes back.
final class ChangeTokenReader: Sendable {
  private struct Connection: ~Copyable {
    let handle: OpaquePointer
    let dataVersion: OpaquePointer
    let generation: OpaquePointer
    var cached: (dataVersion: Int64, generation: Int64)?

    deinit {
      sqlite3_finalize(dataVersion)
      sqlite3_finalize(generation)
      sqlite3_close_v2(handle)
    }
  }

  static let dataVersionSQL = "PRAGMA data_version"
  static let generationSQL = "SELECT value FROM generation WHERE id = 1"

  private let connection: Mutex<Connection>
  private let path: String
  /// The database file this reader and the store opened: a store deleted or replaced under a
  /// running warden must not keep being enforced from the old, unlinked file.
  private let identity: (device: UInt64, inode: UInt64)?

  init(path: String, busyTimeout: Double) throws(StoreError) {
    self.path = path
    identity = Self.identity(of: path)
    var handle: OpaquePointer?
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
    var code = sqlite3_open_v2(path, &handle, flags, nil)
    guard let handle else { throw StoreError(.io, "cannot open \(path): out of memory") }
    guard code == SQLITE_OK else {
      let error = Self.error(handle, code, sql: nil, "cannot open \(path)")
      sqlite3_close_v2(handle)
      throw error
    }
    sqlite3_busy_timeout(handle, Int32(busyTimeout * 1000))
    var dataVersion: OpaquePointer?
    var generation: OpaquePointer?
    code = sqlite3_prepare_v3(
      handle, Self.dataVersionSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &dataVersion, nil)
    if code == SQLITE_OK {
      code = sqlite3_prepare_v3(
        handle, Self.generationSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &generation, nil)
    }
    guard code == SQLITE_OK, let dataVersion, let generation else {
      let error = Self.error(handle, code, sql: Self.generationSQL, "cannot read the change token of \(path)")
      sqlite3_finalize(dataVersion)
      sqlite3_finalize(generation)
      sqlite3_close_v2(handle)
      throw error
    }
    connection = Mutex(Connection(handle: handle, dataVersion: dataVersion, generation: generation))
  }

  func read() throws(StoreError) -> Int64 {
    try checkStillTheStore()
    return try connection.withLock { (connection: inout Connection) throws(StoreError) -> Int64 in
      let dataVersion = try integer(connection.handle, connection.dataVersion, Self.dataVersionSQL)
      if let cached = connection.cached, cached.dataVersion == dataVersion { return cached.generation }
      let generation = try integer(connection.handle, connection.generation, Self.generationSQL)
      connection.cached = (dataVersion, generation)
      return generation
    }
  }

  /// Fails when the file at the store's path is no longer the one opened (deleted, replaced) or can
  /// no longer be written (made read-only): the human's tools (`warden revoke`, `deny`, `approve`)
  /// would then act on another store, or not at all, while this warden went on enforcing the old one.
  private func checkStillTheStore() throws(StoreError) {
    guard let identity else { return }
    // One stat per call: it runs before every decision.
    var info = stat()
    guard stat(path, &info) == 0, (UInt64(info.st_dev), UInt64(info.st_ino)) == identity else {
      throw StoreError(
        .unreadable,
        "\(path) was deleted or replaced while warden ran; restart warden to use the store now there")
    }
    guard Self.writable(info) else {
      throw StoreError(.unreadable, "\(path) can no longer be written, so no decision could be recorded")
    }
  }

  /// Whether this process may write a file with `info`, read from its mode bits (root may always).
  private static func writable(_ info: stat) -> Bool {
    let user = geteuid()
    if user == 0 { return true }
    if info.st_uid == user { return info.st_mode & S_IWUSR != 0 }
    if info.st_gid == getegid() { return info.st_mode & S_IWGRP != 0 }
    return info.st_mode & S_IWOTH != 0
  }

  private static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (UInt64(info.st_dev), UInt64(info.st_ino))
  }

  /// Steps `statement` for its single integer; any other outcome is an error.
  private func integer(_ handle: OpaquePointer, _ statement: OpaquePointer, _ sql: String) throws(StoreError)
    -> Int64
  {
    defer { sqlite3_reset(statement) }
    let code = sqlite3_step(statement)
    guard code == SQLITE_ROW else {
      if code == SQLITE_DONE {
        throw StoreError(.unreadable, "\(path) has no change generation", underlying: sql)
      }
      throw Self.error(handle, code, sql: sql, "cannot read the change token of \(path)")
    }
    guard sqlite3_column_type(statement, 0) == SQLITE_INTEGER else {
      throw StoreError(.unreadable, "\(path) has a change generation that is not an integer", underlying: sql)
    }
    return sqlite3_column_int64(statement, 0)
  }

  private static func error(_ handle: OpaquePointer, _ code: Int32, sql: String?, _ action: String)
    -> StoreError
  {
    let message = sqlite3_errmsg(handle).map { String(cString: $0) }
    let extended = sqlite3_extended_errcode(handle)
    let error = DatabaseError(
      resultCode: ResultCode(rawValue: extended & 0xFF == code & 0xFF ? extended : code), message: message,
      sql: sql)
    return StoreError.wrapping(error, action)
  }
}
