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

/// Writes the call machine's audit notes to the store's chain. A call's intent goes to the session's
/// journal at once, on the caller's thread (the call goes on only once it is there); every other
/// note (denials, outcomes) is queued as it is, and the writer thread builds its record, journals
/// it, and moves journaled records into the chain in batches (one transaction, one commit, for all
/// that came meanwhile), so neither a call nor its answer waits on a database commit or on a record
/// that need not come first. See `AuditJournal` for what this keeps through a crash.
final class AuditTrail: Sendable {
  /// One record, with everything the edge adds.
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

  private struct State {
    /// Queued notes whose records the writing thread builds: nothing needs them before it runs,
    /// so building them is kept off the path of the call and its answer.
    var deferred: [Entry] = []
    /// Queued, not yet in the journal.
    var unjournaled: [AuditRecord] = []
    /// In the journal, not yet in the chain.
    var journaled: [AuditRecord] = []
    /// The journal number of the last journaled record.
    var through: Int64 = 0
    /// Why the last attempt to write the chain failed; calls are denied until one succeeds.
    var failing: String?
    var writerWoken = false

    var behind: Int { deferred.count + unjournaled.count + journaled.count }
  }

  let store: any DelegationStore
  let session: String
  private let journal: Result<AuditJournal, StoreError>
  private let logger: Logger
  private let state = Mutex(State())
  private let wake = DispatchSemaphore(value: 0)
  /// One batch at a time, so the chain keeps the journal's order.
  private let writing = Mutex(())

  init(store: any DelegationStore, session: String, logger: Logger) {
    self.store = store
    self.session = session
    self.logger = logger
    do throws(StoreError) {
      journal = .success(try AuditJournal(home: store.home, session: session))
    } catch {
      journal = .failure(error)
    }
    // Journals that sessions killed before us left behind.
    let recovery = store.recoverAuditJournals(now: PolicyEngine.now())
    if recovery.records > 0 {
      logger.warning(
        "recovered \(recovery.records) audit record(s) left behind by \(recovery.sessions.count) session(s) that were killed or crashed"
      )
    }
    for problem in recovery.problems { logger.warning("\(problem)") }
  }

  /// Journals `entry`'s record now, with whatever is queued before it (one `write`); throws when it
  /// could not be written, or when the chain has not been taking records (then the call must not go
  /// on: it could not be accounted for).
  func writeNow(_ entry: Entry) throws(StoreError) {
    let journal = try journal.get()
    let record = record(entry)
    // The chain failed before (a lock, a full disk): try it again now rather than refuse this call
    // on the strength of an old failure; the store may well be back.
    if state.withLock({ $0.failing != nil }) { writeChain() }
    let wakeWriter = try state.withLock { (state: inout State) throws(StoreError) -> Bool in
      if let failing = state.failing {
        throw StoreError(.locked, "the audit trail cannot be written: \(failing)")
      }
      let batch = state.unjournaled + [record]
      state.through = try journal.append(batch)
      state.unjournaled.removeAll()
      state.journaled += batch
      return wokeWriter(&state)
    }
    if wakeWriter { wake.signal() }
    waitWhileFarBehind()
  }

  /// Records the chain has yet to take beyond which a call waits for the writing thread (under a
  /// flood of calls it could otherwise fall behind, and the queue grow, without bound).
  static let farBehind = 5_000
  static let caughtUp = 1_000

  /// Backpressure: holds the caller while the chain is far behind the journal, until it has caught
  /// up (or cannot be written, which the next call reports).
  private func waitWhileFarBehind() {
    guard state.withLock({ $0.behind > Self.farBehind }) else { return }
    wake.signal()
    while state.withLock({ $0.behind > Self.caughtUp && $0.failing == nil }) { usleep(1000) }
  }

  /// Queues `entry` for the journal and the chain; its record is built by the writing thread.
  func enqueue(_ entry: Entry) { queue { $0.deferred.append(entry) } }

  private func enqueue(record: AuditRecord) { queue { $0.unjournaled.append(record) } }

  /// Adds to the queue, and wakes the writing thread if it sleeps.
  private func queue(_ add: (inout State) -> Void) {
    let wakeWriter = state.withLock { state in
      add(&state)
      return wokeWriter(&state)
    }
    if wakeWriter { wake.signal() }
  }

  /// Queues the record of a breaker this warden tripped.
  func recordTrip(_ trip: BreakerTrip) {
    var fields = CanonicalObject()
    fields.set("agent", trip.agent)
    fields.set("at", trip.at)
    fields.set("call", "")
    fields.set(
      "explanation",
      "the circuit breaker of agent '\(trip.agent)' tripped: \(trip.reason); its calls are \(trip.then == .hold ? "held" : "denied") until a human resets it"
    )
    fields.set("kind", "breaker-tripped")
    fields.set("reason", trip.reason)
    fields.set("server", "")
    fields.set("session", session)
    fields.set("then", trip.then.rawValue)
    fields.set("v", Int64(1))
    enqueue(
      record: AuditRecord(
        fields: fields, at: trip.at, kind: "breaker-tripped", agent: trip.agent, server: "", call: ""))
  }

  /// Queues the records of tools whose pin state changed: `tool-drift` for a tool that changed or
  /// appeared, `tool-pinned` for one seen as accepted again.
  func recordDrift(
    _ changes: [(tool: String, state: ToolPin.State)], server: String, command: String, at: Int64
  ) {
    for (tool, state) in changes {
      let kind = state == .pinned ? "tool-pinned" : "tool-drift"
      var fields = CanonicalObject()
      fields.set("agent", "")
      fields.set("at", at)
      fields.set("call", "")
      fields.set("change", state.rawValue)
      fields.set("command", command)
      fields.set(
        "explanation",
        state == .pinned
          ? "tool '\(tool)' is as accepted again"
          : "tool '\(tool)' \(state == .added ? "appeared after the tools were pinned" : "changed since it was accepted"); its calls are denied until a human accepts it"
      )
      fields.set("kind", kind)
      fields.set("server", server)
      fields.set("session", session)
      fields.set("tool", tool)
      fields.set("v", Int64(1))
      enqueue(
        record: AuditRecord(fields: fields, at: at, kind: kind, agent: "", server: server, call: ""))
    }
  }

  private func wokeWriter(_ state: inout State) -> Bool {
    guard !state.writerWoken else { return false }
    state.writerWoken = true
    return true
  }

  /// How long the writer thread lets records gather before it writes them, in microseconds.
  ///
  /// Why 20 ms: a batch costs the same CPU however it is cut, and when the writer shares a CPU with
  /// the calls (one core, or everything pinned to one), some call waits for it while it runs. Large,
  /// rare batches make that one call in several hundred, so neither the typical call nor the 99th
  /// percentile pays for the chain; every transaction also costs a commit, so fewer are cheaper.
  /// Measured pinned to one CPU (`bench/`): 5 ms batches yielding every 8 records gave +380 to +690
  /// us at p99, 20 ms batches written in one go +90 to +220 us, with less CPU per call. On a machine
  /// with a core to spare the writer runs beside the calls and the interval is only the chain's lag
  /// behind the journal (which already holds every intent before its call goes on).
  static let batchInterval: UInt32 = 20_000

  /// The writer thread: moves what is journaled into the chain, one transaction a batch. It waits
  /// `batchInterval` after being woken, so a batch holds every record of that time.
  func run() {
    while true {
      if state.withLock({ $0.failing != nil && $0.behind > 0 }) {
        // A failed batch is retried on its own, so a store that comes back takes the records and
        // the next call goes on, even when no other record arrives to wake the writer.
        _ = wake.wait(timeout: .now() + .milliseconds(Self.retryMilliseconds))
      } else {
        wake.wait()
      }
      usleep(Self.batchInterval)
      state.withLock { $0.writerWoken = false }
      writeChain()
    }
  }

  /// How soon the writer tries a failed batch again when nothing else wakes it.
  static let retryMilliseconds = 250

  /// Writes every queued record now, and removes the journal when all is in the chain (at exit).
  func drain() {
    writeChain()
    guard case .success(let journal) = journal else { return }
    let done = state.withLock { $0.behind == 0 }
    guard done else {
      logger.error(
        "the audit journal \(journal.path) keeps records the store did not take; the next warden run, warden audit or warden status folds them in"
      )
      return
    }
    journal.remove()
    do {
      try store.finishAuditJournal(session: session)
    } catch {
      logger.warning("could not close the audit journal of this session in the store: \(error)")
    }
  }

  private func writeChain() {
    writing.withLock { _ in
      let deferred = state.withLock { state in
        let taken = state.deferred
        state.deferred.removeAll()
        return taken
      }
      // Built in one go, not yielding to running calls: see `batchInterval`.
      let built = deferred.map(record)
      let (batch, through) = state.withLock { state -> ([AuditRecord], Int64) in
        state.unjournaled += built
        if !state.unjournaled.isEmpty, case .success(let journal) = journal {
          // Best effort: if the journal cannot take them, the chain still may.
          if let through = try? journal.append(state.unjournaled) {
            state.through = through
            state.journaled += state.unjournaled
            state.unjournaled.removeAll()
          }
        }
        let taken = state.journaled + state.unjournaled
        state.journaled.removeAll()
        state.unjournaled.removeAll()
        return (taken, state.through)
      }
      guard !batch.isEmpty else { return }
      let journaled: (session: String, through: Int64)? =
        (try? journal.get()) != nil && through > 0 ? (session, through) : nil
      do {
        try store.appendAudit(batch, journal: journaled)
        state.withLock { $0.failing = nil }
        if case .success(let journal) = journal { journal.committed(through: through) }
      } catch {
        state.withLock { state in
          state.journaled = batch + state.journaled
          state.failing = "\(error)"
        }
        logger.error("could not write \(batch.count) audit record(s) to the store: \(error)")
      }
    }
  }

  /// The record (the chain adds `seq` and `prev`).
  func record(_ entry: Entry) -> AuditRecord {
    let note = entry.note
    // Keys in order (see `CanonicalObject`): each is written once, in place.
    var fields = CanonicalObject()
    if let action = note.action { fields.set("action", action) }
    fields.set("agent", note.call.agent)
    if let arguments = note.arguments { fields.set("arguments", arguments.shown) }
    fields.set("at", entry.at)
    fields.set("call", note.callID)
    fields.set("destructive", entry.destructive)
    if let arguments = note.arguments { fields.set("digest", arguments.digest) }
    if let duration = note.durationMilliseconds { fields.set("duration_ms", duration) }
    fields.set("explanation", note.explanation)
    if !entry.grants.isEmpty {
      fields.set(
        "grants",
        entry.grants.map { grant in
          var link = CanonicalObject()
          link.set("chain", grant.chain)
          link.set("id", grant.id)
          if let issuedBy = grant.issuedBy { link.set("issued_by", issuedBy) }
          if let purpose = grant.purpose { link.set("purpose", purpose) }
          return link
        })
    }
    if let holdID = note.holdID {
      var hold = CanonicalObject()
      if let attestation = note.attestation { hold.set("attestation", attestation) }
      if let channel = note.channel { hold.set("channel", channel) }
      if let by = note.decidedBy { hold.set("decided_by", by) }
      hold.set("id", holdID)
      fields.set("hold", hold)
    }
    fields.set("kind", note.kind.rawValue)
    if let outcome = note.outcome { fields.set("outcome", outcome) }
    fields.set("reason", note.reason)
    fields.set("resources", note.resources)
    if let bytes = note.resultBytes { fields.set("result_bytes", Int64(bytes)) }
    fields.set("server", note.call.server)
    fields.set("session", session)
    fields.set("tool", note.call.tool)
    fields.set("v", Int64(1))
    fields.set("verdict", note.verdict)
    return AuditRecord(
      fields: fields, at: entry.at, kind: note.kind.rawValue, agent: note.call.agent,
      server: note.call.server,
      call: note.callID)
  }

  /// The longest arguments text a record keeps; longer ones are cut, with their length.
  static let argumentsShown = 4096

  /// A call's arguments for its records: their keyed digest (see `ArgumentDigester`), and the bytes
  /// with `redact:` values masked, cut when long.
  static func arguments(
    tool: String, bytes: [UInt8], redact: [String], digester: ArgumentDigester
  ) -> AuditArguments {
    let digest = digester.digest(tool: tool, arguments: bytes)
    // Without redaction only the bytes kept are decoded: a large argument is not copied whole.
    var shown =
      redact.isEmpty
      ? String(decoding: bytes.prefix(argumentsShown + 1), as: UTF8.self)
      : ArgumentRedaction.shown(bytes, redact: redact)
    if shown.utf8.count > argumentsShown {
      shown =
        String(decoding: Array(shown.utf8.prefix(argumentsShown)), as: UTF8.self) + "… [\(bytes.count) bytes]"
    }
    return AuditArguments(digest: digest, shown: shown)
  }
}
