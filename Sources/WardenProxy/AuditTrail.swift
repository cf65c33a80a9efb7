import Crypto
import Dispatch
import Logging
import Synchronization
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes the call machine's audit notes to the store's chain. A call's intent is written at once,
/// on the caller's thread (the call goes on only once it is in the store); every other record is
/// queued and written by a thread of its own, in batches (one transaction, one commit, for all that
/// came meanwhile), so deciding never waits on the disk for a record that need not come first.
final class AuditTrail: Sendable {
  /// One record, with everything the edge adds, ready to be turned into JSON on the writing thread.
  struct Entry: Sendable {
    var note: AuditNote
    var at: Int64
    var destructive: Bool
    var grants: [GrantLink]
  }

  /// A grant behind a decision, and the chain of grants it was narrowed from, up to the root.
  struct GrantLink: Sendable {
    var id: String
    var purpose: String?
    var issuedBy: String?
    var chain: [String]
  }

  let store: GrantStore
  let session: String
  private let logger: Logger
  private let queue = Mutex<[Entry]>([])
  private let wake = DispatchSemaphore(value: 0)
  /// Records the writer took and has not written yet.
  private let writing = Mutex(0)

  init(store: GrantStore, session: String, logger: Logger) {
    self.store = store
    self.session = session
    self.logger = logger
  }

  /// Writes `entry` now, with whatever is queued before it (in one transaction: one commit a call
  /// when calls come one after another); throws when it could not be written. Queued records that
  /// fail with it go back to the queue.
  func writeNow(_ entry: Entry) throws(StoreError) {
    let queued = queue.withLock { queue -> [Entry] in
      let taken = queue
      queue.removeAll()
      return taken
    }
    do {
      try store.appendAudit((queued + [entry]).map(record))
    } catch {
      if !queued.isEmpty { queue.withLock { $0.insert(contentsOf: queued, at: 0) } }
      throw error
    }
  }

  /// Queues `entry` for the writer thread.
  func enqueue(_ entry: Entry) {
    queue.withLock { $0.append(entry) }
    wake.signal()
  }

  /// The writer thread: writes whatever is queued, in one transaction a batch. It waits a moment
  /// after being woken, so that the next call's intent usually takes the queue along instead.
  func run() {
    while true {
      wake.wait()
      usleep(5000)
      writeQueued()
    }
  }

  /// Writes every queued record now (at exit).
  func drain() {
    writeQueued()
    while writing.withLock({ $0 }) > 0 { usleep(1000) }
  }

  private func writeQueued() {
    let batch = queue.withLock { queue -> [Entry] in
      let taken = queue
      queue.removeAll()
      return taken
    }
    guard !batch.isEmpty else { return }
    writing.withLock { $0 += batch.count }
    defer { writing.withLock { $0 -= batch.count } }
    do {
      try store.appendAudit(batch.map(record))
    } catch {
      logger.error("could not write \(batch.count) audit record(s): \(error)")
    }
  }

  /// The record's fields (the chain adds `seq` and `prev`).
  func record(_ entry: Entry) -> JSONValue {
    let note = entry.note
    var fields: [(String, JSONValue)] = [
      ("v", .integer(1)), ("kind", .string(note.kind.rawValue)), ("at", .integer(entry.at)),
      ("session", .string(session)), ("call", .string(note.callID)), ("agent", .string(note.call.agent)),
      ("server", .string(note.call.server)), ("tool", .string(note.call.tool)),
      ("verdict", .string(note.verdict)),
      ("reason", .string(note.reason)), ("explanation", .string(note.explanation)),
      ("resources", .array(note.resources.map { .string($0) })), ("destructive", .bool(entry.destructive)),
    ]
    if let action = note.action { fields.append(("action", .string(action))) }
    if !entry.grants.isEmpty {
      fields.append(
        (
          "grants",
          .array(
            entry.grants.map { grant in
              var members: [(String, JSONValue)] = [
                ("id", .string(grant.id)), ("chain", .array(grant.chain.map { .string($0) })),
              ]
              if let purpose = grant.purpose { members.append(("purpose", .string(purpose))) }
              if let issuedBy = grant.issuedBy { members.append(("issued_by", .string(issuedBy))) }
              return .object(members)
            })
        ))
    }
    if let arguments = note.arguments {
      fields.append(("digest", .string(arguments.digest)))
      fields.append(("arguments", .string(arguments.shown)))
    }
    if let holdID = note.holdID {
      var hold: [(String, JSONValue)] = [("id", .string(holdID))]
      if let by = note.decidedBy { hold.append(("decided_by", .string(by))) }
      if let channel = note.channel { hold.append(("channel", .string(channel))) }
      if let attestation = note.attestation { hold.append(("attestation", .string(attestation))) }
      fields.append(("hold", .object(hold)))
    }
    if let outcome = note.outcome { fields.append(("outcome", .string(outcome))) }
    if let duration = note.durationMilliseconds { fields.append(("duration_ms", .integer(duration))) }
    if let bytes = note.resultBytes { fields.append(("result_bytes", .integer(Int64(bytes)))) }
    return .object(fields)
  }

  /// The longest arguments text a record keeps; longer ones are cut, with their length.
  static let argumentsShown = 4096

  /// A call's arguments for its records: the HMAC-SHA256, keyed with the store's audit secret, of
  /// the hold digest's input (server, NUL, tool, NUL, the exact argument bytes), and the bytes with
  /// `redact:` values masked, cut when long.
  static func arguments(server: String, tool: String, bytes: [UInt8], redact: [String], key: SymmetricKey)
    -> AuditArguments
  {
    // Fed piece by piece: a large argument is not copied to be hashed.
    var mac = HMAC<SHA256>(key: key)
    mac.update(data: Array(server.utf8) + [0] + Array(tool.utf8) + [0])
    mac.update(data: bytes)
    let digest = Hex.encode(Array(mac.finalize()))
    // Without redaction only the bytes kept are decoded: a large argument is not copied whole.
    let kept = redact.isEmpty ? Array(bytes.prefix(argumentsShown + 1)) : bytes
    var shown = ArgumentRedaction.shown(kept, redact: redact)
    if shown.utf8.count > argumentsShown {
      shown =
        String(decoding: Array(shown.utf8.prefix(argumentsShown)), as: UTF8.self) + "… [\(bytes.count) bytes]"
    }
    return AuditArguments(digest: digest, shown: shown)
  }
}
