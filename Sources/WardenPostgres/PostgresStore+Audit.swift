import Crypto
import Synchronization
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension PostgresStore {
  /// This machine's anchor of the chain: `<home>/audit-<STORE>.head`, where STORE is a digest of the
  /// server, database and schema, so the anchors of the SQLite store in the same home (`audit.head`)
  /// or of another database never mix with this one's. Each machine's wardens append the heads of
  /// their own appends to their own file: `verify` on a machine checks the chain against the anchors
  /// that machine saw (a subset of the chain, which every machine must still find there).
  public var auditHeadPath: String {
    let name = "\(url.host):\(url.port)/\(url.database)/\(url.schema ?? "")"
    let digest = SHA256.hash(data: Array(name.utf8)).prefix(8).map { byte in
      String(byte >> 4, radix: 16) + String(byte & 15, radix: 16)
    }.joined()
    return (home == "/" ? "" : home) + "/audit-\(digest).head"
  }

  /// Appends records to the chain in one transaction, under an advisory lock that every appender of
  /// every machine takes: the last record is read inside it, so concurrent appenders still make one
  /// chain. Then the new head is appended to this machine's head file.
  @discardableResult
  public func appendAudit(_ records: [AuditRecord], journal: (session: String, through: Int64)?)
    throws(StoreError) -> [Int64]
  {
    guard !records.isEmpty || journal != nil else { return [] }
    let head = try session.transaction("cannot append to the audit trail in \(url)") {
      (statements: Statements) throws(StoreError) -> (seq: Int64, hash: String) in
      try statements.lock("audit")
      let last = try statements.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") {
        (cells: Cells) throws(StoreError) in (try cells.integer(0), try cells.text(1))
      }.first
      var seq = last?.0 ?? 0
      var prev = last?.1 ?? AuditChain.genesis
      var seqs: [String] = []
      var hashes: [String] = []
      var texts: [String] = []
      var ats: [String] = []
      var kinds: [String] = []
      var agents: [String] = []
      var servers: [String] = []
      var calls: [String] = []
      for record in records {
        seq += 1
        let (text, hash) = record.linked(seq: seq, prev: prev)
        seqs.append(String(seq))
        hashes.append(hash)
        texts.append(String(decoding: text, as: UTF8.self))
        ats.append(String(record.at))
        kinds.append(record.kind)
        agents.append(record.agent)
        servers.append(record.server)
        calls.append(record.call)
        prev = hash
      }
      if !records.isEmpty {
        try statements.execute(
          "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id)"
            + " SELECT s::bigint, h, r, a::bigint, k, g, v, c FROM unnest($1::text[], $2::text[], $3::text[],"
            + " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t(s, h, r, a, k, g, v, c)",
          binds(
            .texts(seqs), .texts(hashes), .texts(texts), .texts(ats), .texts(kinds), .texts(agents),
            .texts(servers), .texts(calls)))
      }
      if let journal {
        try statements.execute(
          "INSERT INTO audit_journal (session, committed) VALUES ($1, $2)"
            + " ON CONFLICT (session) DO UPDATE SET committed = excluded.committed",
          binds(.text(journal.session), .integer(journal.through)))
      }
      return (seq, prev)
    }
    guard !records.isEmpty else { return [] }
    appendHead(seq: head.seq, hash: head.hash)
    let first = head.seq - Int64(records.count) + 1
    return Array(first...head.seq)
  }

  public func finishAuditJournal(session id: String) throws(StoreError) {
    try session.withConnection("cannot forget a journal in \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.execute("DELETE FROM audit_journal WHERE session = $1", binds(.text(id)))
    }
  }

  public func recoverAuditJournals(now: Int64) -> GrantStore.JournalRecovery {
    AuditJournalRecoverer(
      home: home,
      committed: { (id: String) throws(StoreError) -> Int64 in
        try self.session.withConnection("cannot read the audit journals of \(self.url)") {
          (statements: Statements) throws(StoreError) -> Int64 in
          try statements.rows("SELECT committed FROM audit_journal WHERE session = $1", binds(.text(id))) {
            (cells: Cells) throws(StoreError) in try cells.integer(0)
          }.first ?? 0
        }
      },
      append: { (records, journal) throws(StoreError) in _ = try self.appendAudit(records, journal: journal)
      },
      finish: { (id: String) throws(StoreError) in try self.finishAuditJournal(session: id) }
    ).recover(now: now)
  }

  public func auditDigestKey() throws(StoreError) -> [UInt8] {
    let text = try session.withConnection("cannot read the audit key from \(url)") {
      (statements: Statements) throws(StoreError) -> String? in
      try statements.rows("SELECT secret FROM audit_key WHERE id = 1") { (cells: Cells) throws(StoreError) in
        try cells.text(0)
      }.first
    }
    guard let text, text.utf8.count == 64, let bytes = Hex.decode(text) else {
      throw StoreError(.unreadable, "the audit key is missing")
    }
    return bytes
  }

  public func auditRecords(since: Int64?, agent: String?, server: String?) throws(StoreError) -> [AuditChain
    .Row]
  {
    try session.withConnection("cannot read the audit trail from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT seq, hash, record FROM audit WHERE ($1::bigint IS NULL OR at >= $1)"
          + " AND ($2::text IS NULL OR agent = $2) AND ($3::text IS NULL OR server = $3) ORDER BY seq",
        binds(.integer(since), .text(agent), .text(server))
      ) { (cells: Cells) throws(StoreError) in
        AuditChain.Row(seq: try cells.integer(0), hash: try cells.text(1), record: try cells.text(2))
      }
    }
  }

  /// The whole chain, and this machine's anchors of it.
  public func auditChainForVerification() throws(StoreError) -> (
    [AuditChain.Row], Result<[AuditChain.Anchor], AuditHeadProblem>
  ) {
    let rows = try auditRecords(since: nil, agent: nil, server: nil)
    var bytes: [UInt8] = []
    let descriptor = openFile(auditHeadPath, O_RDONLY | O_CLOEXEC)
    if descriptor >= 0 {
      defer { _ = closeDescriptor(descriptor) }
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { break }
        bytes += buffer[0..<count]
      }
    }
    return (rows, AuditChain.anchors(fromHeadFile: String(decoding: bytes, as: UTF8.self)))
  }

  /// Appends `record`, a prune record, then deletes the records `plan` names in one transaction,
  /// after checking they are still the chain's oldest and the last is the one the plan saw.
  public func pruneAudit(_ plan: AuditPrune.Plan, record: JSONValue) throws(AuditPruneError) -> Int64 {
    let seq: Int64
    do throws(StoreError) {
      guard let fields = AuditRecord(json: record),
        let appended = try appendAudit([fields], journal: nil).first
      else { throw StoreError(.io, "the prune record was not appended to \(url)") }
      seq = appended
    } catch {
      throw AuditPruneError(pruneRecord: nil, cause: error)
    }
    do throws(StoreError) {
      try session.transaction("cannot delete pruned records from \(url)") {
        (statements: Statements) throws(StoreError) in
        try statements.lock("audit")
        let oldest =
          try statements.rows("SELECT min(seq) FROM audit") { (cells: Cells) throws(StoreError) in
            try cells.optionalInteger(0)
          }.first ?? nil
        if let oldest, oldest < plan.from {
          throw StoreError(
            .invalid,
            "record \(oldest) is older than record \(plan.from), where the prune starts: the trail changed since it was verified"
          )
        }
        let last = try statements.rows("SELECT hash FROM audit WHERE seq = $1", binds(.integer(plan.through)))
        {
          (cells: Cells) throws(StoreError) in try cells.text(0)
        }.first
        if let last, last != plan.hash {
          throw StoreError(
            .invalid,
            "record \(plan.through) changed since the trail was verified: its hash is no longer the one the prune record names"
          )
        }
        try statements.execute(
          "DELETE FROM audit WHERE seq >= $1 AND seq <= $2",
          binds(.integer(plan.from), .integer(plan.through)))
      }
    } catch {
      throw AuditPruneError(pruneRecord: seq, cause: error)
    }
    return seq
  }

  /// Best effort, as for the SQLite store: the records are in the database either way.
  private func appendHead(seq: Int64, hash: String) {
    let path = auditHeadPath
    headWriter.withLock { descriptor in
      if descriptor < 0 { descriptor = openFile(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) }
      guard descriptor >= 0 else { return }
      let line = Array("\(seq) \(hash)\n".utf8)
      _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
  }
}

/// `close(2)`, named apart from the store's own methods.
func closeDescriptor(_ descriptor: Int32) -> Int32 {
  close(descriptor)
}

/// `open(2)`, named apart from `PostgresStore.open`.
func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
  open(path, flags, mode)
}
