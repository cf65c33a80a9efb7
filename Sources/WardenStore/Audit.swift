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
  /// `journal`: the records come from this session's journal, through this number; the transaction
  /// notes it (see `AuditJournal`).
  @discardableResult
  public func appendAudit(_ records: [AuditRecord], journal: (session: String, through: Int64)? = nil)
    throws(StoreError) -> [Int64]
  {
    guard !records.isEmpty || journal != nil else { return [] }
    let head = try auditWriter().append(records, journal: journal)
    guard !records.isEmpty else { return [] }
    let first = head.seq - Int64(records.count) + 1
    return Array(first...head.seq)
  }

  /// The session's journal is done with: every record of it is in the chain.
  public func finishAuditJournal(session: String) throws(StoreError) {
    try auditWriter().forget(session: session)
  }

  func auditWriter() throws(StoreError) -> AuditAppender {
    try auditAppender.withLock { current throws(StoreError) -> AuditAppender in
      if let current { return current }
      let opened = try AuditAppender(databasePath: databasePath, headPath: auditHeadPath)
      current = opened
      return opened
    }
  }

  /// The secret that keys the argument digests in the records (so a short redacted value cannot be
  /// found by hashing guesses).
  public func auditDigestKey() throws(StoreError) -> [UInt8] {
    let text: String? = try guarded("cannot read the audit key from \(databasePath)") {
      try pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM audit_key WHERE id = 1") }
    }
    guard let text, text.utf8.count == 64, let bytes = Hex.decode(text) else {
      throw StoreError(.unreadable, "the audit key is missing")
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

  private enum Statement: Int, CaseIterable {
    case begin, last, insert, commit, rollback, noteJournal, forgetJournal

    var sql: String {
      switch self {
      case .begin: "BEGIN IMMEDIATE"
      case .last: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
      case .insert:
        "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
      case .commit: "COMMIT"
      case .rollback: "ROLLBACK"
      case .noteJournal:
        "INSERT INTO audit_journal (session, committed) VALUES (?1, ?2) ON CONFLICT (session) DO UPDATE SET committed = excluded.committed"
      case .forgetJournal: "DELETE FROM audit_journal WHERE session = ?1"
      }
    }
  }

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
    // Appends touch only the newest pages: a small page cache does (SQLite's default is 2 MB).
    code = sqlite3_exec(handle, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -256", nil, nil, nil)
    var statements: [OpaquePointer] = []
    for which in Statement.allCases where code == SQLITE_OK {
      var statement: OpaquePointer?
      code = sqlite3_prepare_v3(handle, which.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
      if let statement { statements.append(statement) }
    }
    guard code == SQLITE_OK, statements.count == Statement.allCases.count else {
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

  /// Appends `records` in one transaction, noting how far `journal` is; returns the new head.
  func append(_ records: [AuditRecord], journal: (session: String, through: Int64)?) throws(StoreError) -> (
    seq: Int64, hash: String
  ) {
    let head = try transaction { (statements, run, fail) throws(StoreError) -> (Int64, String) in
      let last = statements[Statement.last.rawValue]
      var seq: Int64 = 0
      var prev = AuditChain.genesis
      var code = sqlite3_step(last)
      if code == SQLITE_ROW {
        seq = sqlite3_column_int64(last, 0)
        prev = sqlite3_column_text(last, 1).map { String(cString: $0) } ?? prev
      }
      sqlite3_reset(last)
      guard code == SQLITE_ROW || code == SQLITE_DONE else { throw fail(code, "read") }
      let insert = statements[Statement.insert.rawValue]
      for record in records {
        seq += 1
        let (text, hash) = record.linked(seq: seq, prev: prev)
        sqlite3_bind_int64(insert, 1, seq)
        Self.bind(insert, 2, hash)
        text.withUnsafeBufferPointer { bytes in
          _ = sqlite3_bind_text(
            insert, 3, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
            Int32(bytes.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
        sqlite3_bind_int64(insert, 4, record.at)
        Self.bind(insert, 5, record.kind)
        Self.bind(insert, 6, record.agent)
        Self.bind(insert, 7, record.server)
        Self.bind(insert, 8, record.call)
        code = run(insert)
        sqlite3_clear_bindings(insert)
        guard code == SQLITE_DONE else { throw fail(code, "append to") }
        prev = hash
      }
      if let journal {
        let note = statements[Statement.noteJournal.rawValue]
        Self.bind(note, 1, journal.session)
        sqlite3_bind_int64(note, 2, journal.through)
        code = run(note)
        sqlite3_clear_bindings(note)
        guard code == SQLITE_DONE else { throw fail(code, "note the journal in") }
      }
      return (seq, prev)
    }
    if !records.isEmpty { appendHead(seq: head.0, hash: head.1) }
    return head
  }

  /// Forgets a finished session's journal.
  func forget(session: String) throws(StoreError) {
    try transaction { (statements, run, fail) throws(StoreError) in
      let forget = statements[Statement.forgetJournal.rawValue]
      Self.bind(forget, 1, session)
      let code = run(forget)
      sqlite3_clear_bindings(forget)
      guard code == SQLITE_DONE else { throw fail(code, "forget a journal in") }
    }
  }

  private static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
    sqlite3_bind_text(statement, index, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
  }

  /// Runs `body` in one immediate transaction on the appender's connection, committing when it
  /// returns and rolling back when it throws.
  private func transaction<Result: Sendable>(
    _ body: (
      _ statements: [OpaquePointer], _ run: (OpaquePointer) -> Int32, _ fail: (Int32, String) -> StoreError
    ) throws(StoreError) -> Result
  ) throws(StoreError) -> Result {
    try connection.withLock { (connection: inout Connection) throws(StoreError) -> Result in
      let handle = connection.handle
      let statements = connection.statements
      let path = self.path
      func fail(_ code: Int32, _ what: String) -> StoreError {
        let message = sqlite3_errmsg(handle).map { String(cString: $0) } ?? "error \(code)"
        let kind: StoreError.Code = code == SQLITE_BUSY || code == SQLITE_LOCKED ? .locked : .io
        return StoreError(kind, "cannot \(what) the audit trail in \(path): \(message)")
      }
      func run(_ statement: OpaquePointer) -> Int32 {
        defer { sqlite3_reset(statement) }
        return sqlite3_step(statement)
      }
      var code = run(statements[Statement.begin.rawValue])
      guard code == SQLITE_DONE else { throw fail(code, "start writing") }
      var committed = false
      defer { if !committed { _ = run(statements[Statement.rollback.rawValue]) } }
      let result = try body(statements, run, fail)
      code = run(statements[Statement.commit.rawValue])
      guard code == SQLITE_DONE else { throw fail(code, "commit") }
      committed = true
      return result
    }
  }

  /// Best effort: a head file that cannot be written weakens what `verify` can prove about the newest
  /// records, but the records are in the store.
  private func appendHead(seq: Int64, hash: String) {
    guard headDescriptor >= 0 else { return }
    let line = Array("\(seq) \(hash)\n".utf8)
    _ = line.withUnsafeBytes { write(headDescriptor, $0.baseAddress, $0.count) }
  }
}
