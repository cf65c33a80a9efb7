import Crypto
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

/// Keeps tool calls that need a human's confirmation until one decides, while everything else
/// flows. Each hold is recorded in the store, where any terminal can decide it (`warden confirm`,
/// `approve`, `reject`); this keeper polls for decisions and acts on the first one: an approval
/// forwards the call exactly as the client sent it, once; a rejection, the deadline passing, or an
/// unreadable store denies it; the client cancelling it, or leaving, cancels it.
final class HoldKeeper: Sendable {
  typealias Held = HoldBook.Entry

  let store: GrantStore
  let server: LockedWriter
  let client: LockedWriter
  let session: SharedSession
  private let gate: ToolCallGate
  let logger: Logger
  private let timeoutMilliseconds: Int64
  /// Every call held, the questions asked about them, the confirmations used.
  let book = Mutex(HoldBook())
  /// Signs confirmation tokens; lives only in this process.
  private let tokenKeyBytes: [UInt8] = {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }()
  var tokenKey: SymmetricKey { SymmetricKey(data: tokenKeyBytes) }
  static let pollInterval: UInt32 = 100_000  // microseconds: decisions are seen within a tenth of a second

  /// Which channels may decide (`confirm.channels`).
  let askInClient: Bool
  let acceptTerminalDecisions: Bool
  /// Whether the client's form must carry the approval code to approve.
  let clientAnswersNeedCode: Bool

  init(
    store: GrantStore, server: LockedWriter, client: LockedWriter, session: SharedSession, gate: ToolCallGate,
    logger: Logger, timeoutSeconds: Double, askInClient: Bool = true, acceptTerminalDecisions: Bool = true,
    clientAnswersNeedCode: Bool = true
  ) {
    self.clientAnswersNeedCode = clientAnswersNeedCode
    self.askInClient = askInClient
    self.acceptTerminalDecisions = acceptTerminalDecisions
    self.store = store
    self.server = server
    self.client = client
    self.session = session
    self.gate = gate
    self.logger = logger
    timeoutMilliseconds = Int64(timeoutSeconds * 1000)
  }

  /// Records a hold in the store; nil when it cannot be recorded (the caller then denies the call).
  /// The hold shows the exact bytes of the arguments (less `redact:`ed values) and its digest binds
  /// the approval to exactly those bytes.
  func record(params: UnsafeRawBufferPointer?, call: ToolCall, decision: Authorization) -> Hold? {
    let arguments = ToolCallReading.argumentBytes(params)
    let now = PolicyEngine.now()
    let hold = Hold(
      id: "h_" + Self.randomText(16), server: call.server, agent: call.agent, tool: call.tool,
      arguments: ArgumentRedaction.shown(
        arguments, redact: gate.engine.redactedArguments(forTool: call.tool)),
      digest: Self.digest(server: call.server, tool: call.tool, arguments: arguments),
      action: decision.scopes?.action ?? "", resources: decision.scopes?.resources.map(\.text) ?? [],
      reason: decision.reason.rawValue, explanation: decision.explanation, grantID: decision.grants.first?.id,
      purpose: decision.grants.first?.purpose, holderPID: getpid(), createdAt: now,
      deadline: now + timeoutMilliseconds,
      approvalCode: askInClient && clientAnswersNeedCode ? Self.approvalCode() : nil)
    do {
      try store.createHold(hold)
    } catch {
      logger.error("could not record a hold for \(call.tool): \(error)")
      return nil
    }
    DesktopNotice.announce(hold)
    return hold
  }

  /// Holds a call until a decision; false when it cannot be recorded (the caller then denies it).
  func hold(
    requestID: RequestID, line: UnsafeRawBufferPointer, params: UnsafeRawBufferPointer?, call: ToolCall,
    decision: Authorization, perRequestEra: Bool
  ) -> Bool {
    guard let hold = record(params: params, call: call, decision: decision) else { return false }
    book.withLock {
      $0.hold(
        Held(
          hold: hold, requestID: requestID, line: Array(line), params: params.map(Array.init), call: call,
          decision: decision, perRequestEra: perRequestEra))
    }
    logger.notice(
      "holding \(call.tool) for \(call.agent) as \(hold.id) until a human decides (warden confirm, or warden approve \(hold.id))"
    )
    askInTheClient(hold)
    return true
  }

  /// The client cancelled a request: if it is held, the hold ends and the server never sees it.
  /// Returns true when the cancellation ended a hold (and so must not reach the server); false when
  /// the request was not held, or an approval came first and the call went on to the server.
  func cancel(requestID: RequestID) -> Bool {
    guard let entry = book.withLock({ $0.entry(forRequest: requestID) }) else {
      return false
    }
    return finish(
      entry, as: .cancelled, by: "client", channel: "client", note: "the client cancelled the request")
      == .cancelled
  }

  /// The client is gone: no hold stays pending (and nobody is left to answer).
  func cancelAll(note: String) {
    for entry in book.withLock({ $0.held }) {
      finish(entry, as: .cancelled, by: "warden", channel: "client", note: note)
    }
  }

  /// Warden is stopping while the client is still there: every held call is cancelled in the store
  /// and its request answered with a denial (reason `shutdown`), so no request is left unanswered.
  func answerAllAtShutdown(note: String) {
    for listed in book.withLock({ $0.held }) {
      guard let entry = book.withLock({ $0.take(holdID: listed.hold.id) }) else { continue }
      _ = try? store.decide(
        holdID: entry.hold.id, state: .cancelled, by: "warden", channel: "shutdown", note: note,
        at: PolicyEngine.now())
      withdrawQuestion(of: entry)
      var decision = entry.decision
      decision.verdict = .deny
      decision.reason = .shutdown
      decision.explanation =
        "warden stopped while the call waited for a human (hold \(entry.hold.id)): \(note)"
      logger.notice("\(entry.hold.id) ended: \(note); \(entry.call.tool) denied")
      session.withLock { $0.answeredByWarden(entry.requestID) }
      client.write(
        gate.refusal(
          id: entry.requestID, call: entry.call, decision: decision, perRequestEra: entry.perRequestEra))
    }
  }

  /// Polls for decisions until the process ends.
  func run() {
    while true {
      usleep(Self.pollInterval)
      expireUnanswered(now: PolicyEngine.now())
      let entries = book.withLock { $0.held }
      guard !entries.isEmpty else { continue }
      let states: [String: Hold.State]
      do {
        // The store must still be the one the holds were recorded in (not deleted, not replaced).
        _ = try store.changeToken()
        states = try store.holdStates(ids: entries.map(\.hold.id))
      } catch {
        // A store that cannot be read cannot carry an approval: deny what is held.
        logger.error("cannot read holds (\(error)); denying the calls held")
        for entry in entries {
          deliver(
            entry, state: .rejected, decidedBy: "warden", channel: "store",
            note: "the store became unreadable")
        }
        continue
      }
      let now = PolicyEngine.now()
      for entry in entries {
        let state = states[entry.hold.id] ?? .pending
        if state == .pending {
          if now >= entry.hold.deadline {
            finish(entry, as: .expired, by: "warden", channel: "timeout", note: "no decision in time")
          }
          continue
        }
        let decided = try? store.hold(id: entry.hold.id)
        deliver(
          entry, state: state, decidedBy: decided?.decidedBy, channel: decided?.channel, note: decided?.note)
      }
    }
  }

  /// Records this keeper's own decision (first decision wins), then acts on whatever won. Only a
  /// decision the store recorded counts: an approval it refused (past the deadline) or could not
  /// record (locked, read-only, gone) never forwards.
  @discardableResult
  func finish(
    _ entry: Held, as state: Hold.State, by: String, channel: String, note: String,
    attestation: Attestation = .warden
  ) -> Hold.State {
    let now = PolicyEngine.now()
    let outcome: Hold
    do {
      outcome = try store.decide(
        holdID: entry.hold.id, state: state, by: by, channel: channel, note: note, at: now,
        attestation: attestation)
    } catch {
      logger.error("could not record the decision on \(entry.hold.id) (\(error)); it does not count")
      let fallback: Hold.State = state == .approved ? .rejected : state
      deliver(
        entry, state: fallback, decidedBy: "warden", channel: "store",
        note: "the decision could not be recorded in the store")
      return fallback
    }
    guard outcome.state != .pending else {
      // The store refused the decision: the deadline passed first. The hold expires.
      let expired = try? store.decide(
        holdID: entry.hold.id, state: .expired, by: "warden", channel: "timeout", note: "no decision in time",
        at: now)
      deliver(
        entry, state: .expired, decidedBy: expired?.decidedBy ?? "warden", channel: "timeout",
        note: "no decision in time")
      return .expired
    }
    deliver(
      entry, state: outcome.state, decidedBy: outcome.decidedBy, channel: outcome.channel, note: outcome.note)
    return outcome.state
  }

  /// Acts once on the decision of a hold.
  private func deliver(_ entry: Held, state: Hold.State, decidedBy: String?, channel: String?, note: String?)
  {
    guard let taken = book.withLock({ $0.take(holdID: entry.hold.id) }) else { return }
    // A question still open in the client is moot now.
    withdrawQuestion(of: taken)
    let who = "\(decidedBy ?? "someone") via \(channel ?? "?")"
    var state = state
    var note = note
    if state == .approved, !channelMayApprove(channel) {
      // Fail closed: an approval through a channel the configuration excludes does not count.
      logger.warning(
        "\(entry.hold.id) was approved via \(channel ?? "?"), which confirm.channels excludes; denying")
      state = .rejected
      note = "approved via \(channel ?? "?"), a channel confirm.channels does not allow"
    }
    if state == .approved, let denial = decideAgain(entry) {
      // The delegation changed while the human thought (a revocation, a forbid, the kill switch):
      // the approval of a call the delegation no longer allows does not forward it.
      logger.notice(
        "\(entry.hold.id) approved by \(who), but the delegation no longer allows it: \(denial.explanation)")
      session.withLock { $0.answeredByWarden(entry.requestID) }
      client.write(
        gate.refusal(
          id: entry.requestID, call: entry.call, decision: denial, perRequestEra: entry.perRequestEra))
      return
    }
    switch state {
    case .approved:
      logger.notice("\(entry.hold.id) approved by \(who); forwarding \(entry.call.tool)")
      var line = entry.line
      line.append(0x0A)
      if !server.write(line) {
        logger.warning("the server's stdin is closed; \(entry.hold.id) could not be forwarded")
      }
    case .cancelled:
      logger.notice("\(entry.hold.id) cancelled (\(note ?? "")); the server never saw \(entry.call.tool)")
      session.withLock { $0.answeredByWarden(entry.requestID) }
    // JSON-RPC: a cancelled request gets no answer; a client that left gets none either.
    case .rejected, .expired, .pending:
      let timedOut = state == .expired || state == .pending
      logger.notice(
        "\(entry.hold.id) \(timedOut ? "expired" : "rejected by \(who)"); \(entry.call.tool) denied")
      var decision = entry.decision
      decision.verdict = .deny
      if timedOut {
        decision.reason = .confirmationTimedOut
        decision.explanation =
          "it needed a human's confirmation and nobody decided within \(timeoutMilliseconds / 1000) seconds (hold \(entry.hold.id))"
      } else if channel == "store" {
        // Nobody said no: the store failed, and a decision that cannot be read or recorded is no
        // decision.
        decision.reason = .storeUnavailable
        decision.explanation =
          "warden's delegation store failed while the call waited for a human (hold \(entry.hold.id))"
          + (note.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
      } else {
        decision.reason = .rejected
        decision.explanation =
          "\(decidedBy ?? "a human") rejected it (hold \(entry.hold.id), via \(channel ?? "?"))"
          + (note.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
      }
      session.withLock { $0.answeredByWarden(entry.requestID) }
      client.write(
        gate.refusal(
          id: entry.requestID, call: entry.call, decision: decision, perRequestEra: entry.perRequestEra))
    }
  }

  /// Whether an approval that came through `channel` counts under `confirm.channels`.
  func channelMayApprove(_ channel: String?) -> Bool {
    switch channel {
    case "elicitation": return askInClient
    case "cli", "terminal": return acceptTerminalDecisions
    default: return false
    }
  }

  /// The decision on a held call at the moment of its approval; nil when it may go on. A human's
  /// approval answers "confirm" (which is also what `--ungranted confirm` makes of a call no grant
  /// covers, in the policy); a forbid, an unreadable store or anything else denies.
  func decideAgain(_ entry: Held) -> Authorization? {
    let outcome =
      entry.params.map { bytes in
        bytes.withUnsafeBytes { gate.judge(params: $0, agent: entry.call.agent) }
      } ?? gate.judge(params: nil, agent: entry.call.agent)
    guard case .refuse(_, let decision) = outcome else { return nil }
    return decision.verdict == .confirm ? nil : decision
  }

  /// What an approval binds to (and, later, the audit trail records): SHA-256 over the server's
  /// name, a NUL, the tool's name, a NUL, and the exact bytes of the call's `arguments` value as
  /// forwarded (nothing when the call has none), in lowercase hex.
  static func digest(server: String, tool: String, arguments: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(data: Array(server.utf8) + [0] + Array(tool.utf8) + [0] + arguments)
    return hasher.finalize().map {
      String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
    }
    .joined()
  }

  /// Six random digits: typed by a person reading them off a notification or a terminal; one try.
  static func approvalCode() -> String {
    var generator = SystemRandomNumberGenerator()
    return String((0..<6).map { _ in Character(String(generator.next() % 10)) })
  }

  static func randomText(_ count: Int) -> String {
    let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
  }
}
