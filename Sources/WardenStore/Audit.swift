import GRDB
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
    let head: (Int64, String) = try guarded("cannot append to the audit trail in \(databasePath)") {
      try pool.write { db in
        let last = try Row.fetchOne(
          db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        var seq: Int64 = last?["seq"] ?? 0
        var prev: String = last?["hash"] ?? AuditChain.genesis
        let insert = try db.cachedStatement(
          sql:
            "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for fields in records {
          seq += 1
          let (text, hash) = AuditChain.link(fields, seq: seq, prev: prev)
          try insert.execute(arguments: [
            seq, hash, text, fields["at"]?.integerValue ?? 0, fields["kind"]?.stringValue ?? "",
            fields["agent"]?.stringValue ?? "", fields["server"]?.stringValue ?? "",
            fields["call"]?.stringValue ?? "",
          ])
          prev = hash
        }
        return (seq, prev)
      }
    }
    appendHead(seq: head.0, hash: head.1)
    let first = head.0 - Int64(records.count) + 1
    return Array(first...head.0)
  }

  /// Best effort: a head file that cannot be written weakens what `verify` can prove about the newest
  /// records, but the records are in the store.
  private func appendHead(seq: Int64, hash: String) {
    let descriptor = Glibc.open(auditHeadPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return }
    defer { _ = close(descriptor) }
    let line = Array("\(seq) \(hash)\n".utf8)
    _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
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
