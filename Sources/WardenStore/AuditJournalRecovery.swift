import GRDB
import WardenJSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension GrantStore {
  /// What folding left-behind journals into the chain did.
  public struct JournalRecovery: Sendable, Equatable {
    /// Journals of sessions that ended without finishing them.
    public var sessions: [String] = []
    /// Records taken from them into the chain.
    public var records = 0
    /// Journals that could not be folded in, and why; they stay for the next try.
    public var problems: [String] = []

    public init(sessions: [String] = [], records: Int = 0, problems: [String] = []) {
      self.sessions = sessions
      self.records = records
      self.problems = problems
    }
  }

  /// Folds the journals of sessions that ended without finishing them (warden killed, or the store
  /// unwritable at its end) into the chain: the records past what the store noted as committed, then
  /// a `session-ended` record saying so. A journal whose session still runs (its lock is held) is
  /// left alone. Idempotent: a recovery that crashes midway is finished by the next one.
  @discardableResult
  public func recoverAuditJournals(now: Int64) -> JournalRecovery {
    AuditJournalRecoverer(
      home: home,
      committed: { (session: String) throws(StoreError) -> Int64 in
        try guarded("cannot read the audit journals of \(self.databasePath)") {
          try self.pool.read { db in
            try Int64.fetchOne(
              db, sql: "SELECT committed FROM audit_journal WHERE session = ?", arguments: [session])
          }
        } ?? 0
      },
      append: { (records, journal) throws(StoreError) in _ = try self.appendAudit(records, journal: journal)
      },
      finish: { (session: String) throws(StoreError) in try self.finishAuditJournal(session: session) }
    ).recover(now: now)
  }
}

/// Recovery of left-behind audit journals, for any store: the journals are files in this machine's
/// home, the `committed` numbers and the chain are the store's.
package struct AuditJournalRecoverer {
  let home: String
  /// How far the store noted the session's journal as committed (0 when it noted nothing).
  let committed: (String) throws(StoreError) -> Int64
  let append: ([AuditRecord], (session: String, through: Int64)) throws(StoreError) -> Void
  let finish: (String) throws(StoreError) -> Void

  package init(
    home: String, committed: @escaping (String) throws(StoreError) -> Int64,
    append: @escaping ([AuditRecord], (session: String, through: Int64)) throws(StoreError) -> Void,
    finish: @escaping (String) throws(StoreError) -> Void
  ) {
    self.home = home
    self.committed = committed
    self.append = append
    self.finish = finish
  }

  package func recover(now: Int64) -> GrantStore.JournalRecovery {
    var recovery = GrantStore.JournalRecovery()
    let directory = AuditJournal.directory(home: home)
    guard let stream = opendir(directory) else { return recovery }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name.hasSuffix(".log") { names.append(name) }
    }
    closedir(stream)
    for name in names.sorted() {
      let session = String(name.dropLast(4))
      do {
        if let taken = try recoverJournal(directory + "/" + name, session: session, now: now), taken > 0 {
          recovery.sessions.append(session)
          recovery.records += taken
        }
      } catch {
        recovery.problems.append("the audit journal of session \(session): \(error)")
      }
    }
    return recovery
  }

  /// Recovers one journal; nil when its session still runs.
  private func recoverJournal(_ path: String, session: String, now: Int64) throws(StoreError) -> Int? {
    let descriptor = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
    guard descriptor >= 0 else {
      if errno == ENOENT { return nil }  // finished meanwhile
      throw AuditJournal.systemError("cannot open \(path)")
    }
    defer { _ = close(descriptor) }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      if errno == EWOULDBLOCK { return nil }
      throw AuditJournal.systemError("cannot lock \(path)")
    }
    // The session may have finished (and removed the file) between our open and our lock.
    var opened = stat()
    var named = stat()
    guard fstat(descriptor, &opened) == 0, lstat(path, &named) == 0, opened.st_ino == named.st_ino else {
      return nil
    }
    let bytes = try Self.readAll(descriptor, path)
    let committed = try committed(session)
    var records: [AuditRecord] = []
    var last = committed
    for line in AuditJournal.lines(bytes) where line.number > committed {
      guard let value = try? JSONValue.parse(line.fields), let record = AuditRecord(json: value) else {
        break
      }
      records.append(record)
      last = line.number
    }
    if !records.isEmpty {
      var note = CanonicalObject()
      note.set("v", Int64(1))
      note.set("kind", "session-ended")
      note.set("at", now)
      note.set("session", session)
      note.set("agent", "")
      note.set("server", "")
      note.set("call", "")
      note.set("recovered", Int64(records.count))
      note.set(
        "explanation",
        "warden's session \(session) ended without writing its last \(records.count) record(s) to the chain"
          + " (killed or crashed); they were recovered from its journal")
      records.append(
        AuditRecord(fields: note, at: now, kind: "session-ended", agent: "", server: "", call: ""))
      try append(records, (session, last))
    }
    _ = unlink(path)
    try finish(session)
    return records.isEmpty ? 0 : records.count - 1
  }

  private static func readAll(_ descriptor: Int32, _ path: String) throws(StoreError) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { throw AuditJournal.systemError("cannot read \(path)") }
      if count == 0 { return bytes }
      bytes += buffer[0..<count]
    }
  }
}
