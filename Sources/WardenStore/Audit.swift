import GRDB
import GRDBSQLite
import Synchronization
import WardenCore
import WardenJSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension GrantStore {
  /// `<home>/audit.head`: the chain's head after each append, one `SEQ HASH` line, appended only.
  public var auditHeadPath: String { (home == "/" ? "" : home) + "/audit.head" }

  /// Appends records to the chain, in order, in one transaction: each gets the next `seq` and the
  /// hash of the record before it (read inside the transaction, so several processes appending to
  /// the same store still make one chain). Then the new head is appended to the head file. Returns
  /// the records' places. Throws when they could not be written: then none was.
  ///
  /// Each record is an object with at least `at` (ms), `kind`, `agent`, `server` and `call`.
  @discardableResult
  public func appendAudit(_ records: [JSONValue]) throws(StoreError) -> [Int64] {
    guard !records.isEmpty else { return [] }
    let appender = try auditAppender.withLock { current throws(StoreError) -> AuditAppender in
      if let current { return current }
      let opened = try AuditAppender(databasePath: databasePath, headPath: auditHeadPath)
      current = opened
      return opened
    }
    let head = try appender.append(records)
    let first = head.seq - Int64(records.count) + 1
    return Array(first...head.seq)
  }

  /// The secret that keys the argument digests in the records (so a short redacted value cannot be
  /// found by hashing guesses).
  public func auditDigestKey() throws(StoreError) -> [UInt8] {
    let text: String? = try guarded("cannot read the audit key from \(databasePath)") {
      try pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM audit_key WHERE id = 1") }
    }
    guard let text, text.utf8.count == 64 else { throw StoreError(.unreadable, "the audit key is missing") }
    var bytes: [UInt8] = []
    var high: UInt8?
    for byte in text.utf8 {
      let value: UInt8 = byte <= 0x39 ? byte - 0x30 : byte - 0x61 + 10
      if let first = high {
        bytes.append(first << 4 | value)
        high = nil
      } else {
        high = value
      }
    }
    return bytes
  }

  /// Records, oldest first: those at or after `since` (ms), of `agent` and `server` when given.
  public func auditRecords(since: Int64? = nil, agent: String? = nil, server: String? = nil)
    throws(StoreError)
    -> [AuditChain.Row]
  {
    var clauses: [String] = []
    var arguments: StatementArguments = []
    if let since {
      clauses.append("at >= ?")
      arguments += [since]
    }
    if let agent {
      clauses.append("agent = ?")
      arguments += [agent]
    }
    if let server {
      clauses.append("server = ?")
      arguments += [server]
    }
    let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let sql = "SELECT seq, hash, record FROM audit\(filter) ORDER BY seq"
    return try guarded("cannot read the audit trail from \(databasePath)") {
      try pool.read { db in
        try Row.fetchAll(db, sql: sql, arguments: arguments).map {
          AuditChain.Row(seq: $0["seq"], hash: $0["hash"], record: $0["record"])
        }
      }
    }
  }

  /// The whole chain, and the head file's anchors, for `AuditChain.verify`.
  public func auditChainForVerification() throws(StoreError) -> (
    [AuditChain.Row], Result<[AuditChain.Anchor], AuditHeadProblem>
  ) {
    let rows = try auditRecords()
    var bytes: [UInt8] = []
    let descriptor = Glibc.open(auditHeadPath, O_RDONLY | O_CLOEXEC)
    if descriptor >= 0 {
      defer { _ = close(descriptor) }
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { break }
        bytes += buffer[0..<count]
      }
    }
    return (rows, AuditChain.anchors(fromHeadFile: String(decoding: bytes, as: UTF8.self)))
  }
}

/// The audit trail's writer: a connection of its own to the store through SQLite's C API, with its
/// statements prepared once, and the head file, kept open. It runs on every call (an allowed call's
/// record is written before the call goes on), and GRDB's queue and statement cache cost more than
/// the transaction itself here.
///
/// Durability: the connection commits with `synchronous = NORMAL` (WAL): a commit is in the WAL file
/// (the operating system's cache) when it returns, so a crash of warden loses nothing committed; a
/// power loss or an operating-system crash can lose the last commits, never corrupt the chain. Grants,
/// forbids and revocations keep the store's full synchronous commits on their own connection.
final class AuditAppender: Sendable {
  private struct Connection: ~Copyable {
    let handle: OpaquePointer
    let statements: [OpaquePointer]

    deinit {
      for statement in statements { sqlite3_finalize(statement) }
      sqlite3_close_v2(handle)
    }
  }

  private static let sql = [
    "BEGIN IMMEDIATE", "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "COMMIT", "ROLLBACK",
  ]
  private let connection: Mutex<Connection>
  private let headDescriptor: Int32
  private let path: String

  init(databasePath: String, headPath: String) throws(StoreError) {
    path = databasePath
    var handle: OpaquePointer?
    var code = sqlite3_open_v2(databasePath, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
    guard let handle else { throw StoreError(.io, "cannot open \(databasePath): out of memory") }
    guard code == SQLITE_OK else {
      sqlite3_close_v2(handle)
      throw StoreError(.cannotOpen, "cannot open \(databasePath) for the audit trail")
    }
    sqlite3_busy_timeout(handle, Int32(GrantStore.busyTimeout * 1000))
    code = sqlite3_exec(handle, "PRAGMA synchronous = NORMAL", nil, nil, nil)
    var statements: [OpaquePointer] = []
    for text in Self.sql where code == SQLITE_OK {
      var statement: OpaquePointer?
      code = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
      if let statement { statements.append(statement) }
    }
    guard code == SQLITE_OK, statements.count == Self.sql.count else {
      let message = sqlite3_errmsg(handle).map { String(cString: $0) } ?? "error \(code)"
      for statement in statements { sqlite3_finalize(statement) }
      sqlite3_close_v2(handle)
      throw StoreError(.unreadable, "cannot prepare the audit trail in \(databasePath): \(message)")
    }
    connection = Mutex(Connection(handle: handle, statements: statements))
    headDescriptor = Glibc.open(headPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
  }

  deinit {
    if headDescriptor >= 0 { _ = close(headDescriptor) }
  }

  /// Appends `records` in one transaction; returns the new head.
  func append(_ records: [JSONValue]) throws(StoreError) -> (seq: Int64, hash: String) {
    let head = try connection.withLock {
      (connection: inout Connection) throws(StoreError) -> (Int64, String) in
      let handle = connection.handle
      let statements = connection.statements
      func fail(_ code: Int32, _ what: String) -> StoreError {
        let message = sqlite3_errmsg(handle).map { String(cString: $0) } ?? "error \(code)"
        let kind: StoreError.Code = code == SQLITE_BUSY || code == SQLITE_LOCKED ? .locked : .io
        return StoreError(kind, "cannot \(what) the audit trail in \(path): \(message)")
      }
      func run(_ statement: OpaquePointer) -> Int32 {
        defer { sqlite3_reset(statement) }
        return sqlite3_step(statement)
      }
      var code = run(statements[0])
      guard code == SQLITE_DONE else { throw fail(code, "start writing") }
      var committed = false
      defer { if !committed { _ = run(statements[4]) } }
      let last = statements[1]
      var seq: Int64 = 0
      var prev = AuditChain.genesis
      code = sqlite3_step(last)
      if code == SQLITE_ROW {
        seq = sqlite3_column_int64(last, 0)
        prev = sqlite3_column_text(last, 1).map { String(cString: $0) } ?? prev
      }
      sqlite3_reset(last)
      guard code == SQLITE_ROW || code == SQLITE_DONE else { throw fail(code, "read") }
      let insert = statements[2]
      let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
      for fields in records {
        seq += 1
        let (text, hash) = AuditChain.link(fields, seq: seq, prev: prev)
        sqlite3_bind_int64(insert, 1, seq)
        sqlite3_bind_text(insert, 2, hash, -1, transient)
        sqlite3_bind_text(insert, 3, text, -1, transient)
        sqlite3_bind_int64(insert, 4, fields["at"]?.integerValue ?? 0)
        sqlite3_bind_text(insert, 5, fields["kind"]?.stringValue ?? "", -1, transient)
        sqlite3_bind_text(insert, 6, fields["agent"]?.stringValue ?? "", -1, transient)
        sqlite3_bind_text(insert, 7, fields["server"]?.stringValue ?? "", -1, transient)
        sqlite3_bind_text(insert, 8, fields["call"]?.stringValue ?? "", -1, transient)
        code = run(insert)
        sqlite3_clear_bindings(insert)
        guard code == SQLITE_DONE else { throw fail(code, "append to") }
        prev = hash
      }
      code = run(statements[3])
      guard code == SQLITE_DONE else { throw fail(code, "commit") }
      committed = true
      return (seq, prev)
    }
    appendHead(seq: head.0, hash: head.1)
    return head
  }

  /// Best effort: a head file that cannot be written weakens what `verify` can prove about the newest
  /// records, but the records are in the store.
  private func appendHead(seq: Int64, hash: String) {
    guard headDescriptor >= 0 else { return }
    let line = Array("\(seq) \(hash)\n".utf8)
    _ = line.withUnsafeBytes { write(headDescriptor, $0.baseAddress, $0.count) }
  }
}
