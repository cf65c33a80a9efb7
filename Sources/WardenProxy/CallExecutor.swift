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

/// Carries out what the call machine (`CallMachine`) decides, and reports what its own I/O found as
/// the machine's next events: it records holds and decisions in the store, decides a call again at
/// the moment of approval, writes to the server and the client, and polls the store for decisions
/// made in a terminal. Every event is taken under the session's lock; every action is carried out
/// outside it, so a slow store never stops the other direction.
final class CallExecutor: Sendable {
  let session: SharedSession
  /// Nil without a store: then nothing is held (the machine's rules say so).
  let store: (any DelegationStore)?
  let server: LockedWriter
  let client: LockedWriter
  let gate: ToolCallGate
  let logger: Logger
  let timeoutMilliseconds: Int64
  /// The audit trail; nil without a store (then every call is denied anyway).
  let audit: AuditTrail?
  /// Keyed once for the session.
  private let auditDigester: ArgumentDigester?
  /// Signs confirmation tokens; lives only in this process.
  private let tokenKeyBytes: [UInt8] = {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }()
  var tokenKey: SymmetricKey { SymmetricKey(data: tokenKeyBytes) }
  static let pollInterval: UInt32 = 100_000  // microseconds: decisions are seen within a tenth of a second

  init(
    session: SharedSession, store: (any DelegationStore)?, server: LockedWriter, client: LockedWriter,
    gate: ToolCallGate,
    logger: Logger, audit: AuditTrail? = nil
  ) {
    self.audit = audit
    // Keyed with the store's audit secret.
    auditDigester = audit.flatMap { try? $0.store.auditDigestKey() }.map {
      ArgumentDigester(key: $0, server: gate.engine.configuration.serverName)
    }
    self.session = session
    self.store = store
    self.server = server
    self.client = client
    self.gate = gate
    self.logger = logger
    timeoutMilliseconds = session.withMachine { $0.rules.timeoutMilliseconds }
  }

  /// The rules a session of this configuration runs under.
  static func rules(for configuration: PolicyConfiguration) -> CallMachine.Rules {
    guard case .success = configuration.store else { return .noHolds }
    var rules = CallMachine.Rules(
      holdsAvailable: true, askInClient: configuration.askInClient,
      acceptTerminalDecisions: configuration.acceptTerminalDecisions,
      clientAnswersNeedCode: configuration.clientAnswersNeedCode,
      timeoutMilliseconds: Int64(configuration.confirmTimeout * 1000))
    rules.reportOnly = configuration.reportOnly
    return rules
  }

  /// Feeds `event` to the machine and carries out what follows, including the events the executor's
  /// own I/O produces. Returns true when the line that brought the event goes on unchanged.
  ///
  /// `mayBlock`: the caller is a pump, which may wait for its peers (that is the backpressure on the
  /// side that sends too much); the poll for decisions and the shutdown must never wait on a peer
  /// that stopped reading, so their writes are handed over without waiting.
  @discardableResult
  func handle(_ event: CallMachine.Event, mayBlock: Bool = true) -> Bool {
    var events = [event]
    var passThrough = false
    while !events.isEmpty {
      let next = events.removeFirst()
      let actions = session.withMachine { $0.handle(next) }
      for action in actions {
        if action == .passThrough {
          passThrough = true
        } else {
          events += perform(action, mayBlock: mayBlock)
        }
      }
    }
    return passThrough
  }

  /// Writes a line to the server or the client, waiting for the peer only when the caller may.
  private func write(_ line: [UInt8], to writer: LockedWriter, mayBlock: Bool) -> Bool {
    mayBlock ? writer.write(line) : writer.send(line)
  }

  /// Polls for decisions made elsewhere, and for deadlines, until the process ends; a store that
  /// announces holds' changes (PostgreSQL) wakes it at once, the poll being the safety net.
  func run() {
    let wake = DispatchSemaphore(value: 0)
    store?.onHoldsChanged { wake.signal() }
    while true {
      _ = wake.wait(timeout: .now() + .microseconds(Int(Self.pollInterval)))
      handle(.tick(now: PolicyEngine.now()), mayBlock: false)
    }
  }

  /// Carries out one action; returns the events its I/O produced.
  private func perform(_ action: CallMachine.Action, mayBlock: Bool) -> [CallMachine.Event] {
    switch action {
    case .passThrough:
      return []
    case .forward(let line):
      if !write(line, to: server, mayBlock: mayBlock) {
        logger.warning("the server's stdin is closed; a call could not be forwarded")
      }
      return []
    case .refuse(let id, let call, let decision, let perRequestEra):
      _ = write(
        gate.refusal(id: id, call: call, decision: decision, perRequestEra: perRequestEra), to: client,
        mayBlock: mayBlock)
      return []
    case .reply(let line):
      _ = write(line, to: client, mayBlock: mayBlock)
      return []
    case .record(let request):
      return [record(request)]
    case .ask(let question, let hold):
      _ = write(
        ProtocolLines.request(
          id: question, method: "elicitation/create", params: HoldQuestion.params(for: hold)),
        to: client, mayBlock: mayBlock)
      return []
    case .askInResult(let id, let hold, let params):
      _ = write(inputRequired(requestID: id, hold: hold, params: params), to: client, mayBlock: mayBlock)
      return []
    case .withdraw(let question, let holdID):
      _ = write(
        ProtocolLines.cancelled(requestID: question, reason: "decided elsewhere (hold \(holdID))"),
        to: client,
        mayBlock: mayBlock)
      return []
    case .decide(let record):
      return decide(record)
    case .recheck(let holdID, let outcome, let params, let agent, let afterCancel):
      let (call, decision) = judge(params: params, agent: agent)
      return [
        .rechecked(holdID: holdID, outcome: outcome, call: call, decision: decision, afterCancel: afterCancel)
      ]
    case .readDecisions(let holdIDs):
      return readDecisions(holdIDs)
    case .audit(let note):
      audit?.enqueue(auditEntry(note))
      return []
    case .recordIntent(let requestID, let note):
      guard let audit else { return [.intentRecorded(requestID, at: PolicyEngine.now())] }
      let entry = auditEntry(note)
      do {
        try audit.writeNow(entry)
      } catch {
        return [.intentNotRecorded(requestID, problem: "\(error)")]
      }
      return [.intentRecorded(requestID, at: entry.at)]
    case .log(let level, let message):
      switch level {
      case .debug: logger.debug("\(message)")
      case .info: logger.info("\(message)")
      case .notice: logger.notice("\(message)")
      case .warning: logger.warning("\(message)")
      case .error: logger.error("\(message)")
      }
      return []
    }
  }

  /// A note as a record: the time, whether the tool is destructive, and each grant's chain.
  func auditEntry(_ note: AuditNote) -> AuditTrail.Entry {
    let engine = gate.engine
    // A decision knows its call's destructiveness; an outcome says whether the tool can be.
    let destructive =
      note.destructive
      ?? engine.policy.rule(forTool: note.call.tool).map { rule in
        rule.variants.contains { $0.destructive || !$0.destructiveKinds.isEmpty }
      } ?? (note.reason == "destructive")
    let grants = note.grants.map { id -> AuditTrail.GrantLink in
      let grant = engine.grant(id: id)
      var chain: [String] = []
      var parent = grant?.parentID
      while let current = parent, chain.count < 32 {
        chain.append(current)
        parent = engine.grant(id: current)?.parentID
      }
      return AuditTrail.GrantLink(id: id, purpose: grant?.purpose, issuedBy: grant?.issuedBy, chain: chain)
    }
    return AuditTrail.Entry(note: note, at: PolicyEngine.now(), destructive: destructive, grants: grants)
  }

  /// A call's arguments for its audit records.
  func auditArguments(tool: String, params: UnsafeRawBufferPointer?) -> AuditArguments? {
    let bytes = ToolCallReading.argumentBytes(params)
    let redact = gate.engine.redactedArguments(forTool: tool)
    return auditDigester.map {
      AuditTrail.arguments(tool: tool, bytes: bytes, redact: redact, digester: $0)
    }
  }

  /// Decides a call against the delegation as it is now.
  func judge(params: [UInt8]?, agent: String) -> (ToolCall, Authorization) {
    let outcome =
      params.map { bytes in bytes.withUnsafeBytes { gate.judge(params: $0, agent: agent, counting: false) } }
      ?? gate.judge(params: nil, agent: agent, counting: false)
    return outcome.callAndDecision
  }

  private func decide(_ record: CallMachine.DecisionRecord) -> [CallMachine.Event] {
    guard let store else { return [] }
    let outcome: Hold
    do {
      outcome = try store.decide(
        holdID: record.holdID, state: record.state, by: record.by, channel: record.channel, note: record.note,
        at: PolicyEngine.now(), attestation: record.attestation)
    } catch {
      guard record.reportBack else { return [] }
      return [
        .notRecorded(
          holdID: record.holdID, attempted: record.state, problem: "\(error)", afterCancel: record.afterCancel
        )
      ]
    }
    guard record.reportBack else { return [] }
    return [
      .decided(
        holdID: record.holdID, outcome: outcome, attempted: record.state, afterCancel: record.afterCancel)
    ]
  }

  /// Decisions made in a terminal. The store must still be the one the holds were recorded in (not
  /// deleted, not replaced); one that cannot be read cannot carry an approval.
  private func readDecisions(_ holdIDs: [String]) -> [CallMachine.Event] {
    guard let store else { return [] }
    do {
      _ = try store.changeToken()
      let states = try store.holdStates(ids: holdIDs)
      var events: [CallMachine.Event] = []
      for id in holdIDs {
        guard let state = states[id], state != .pending else { continue }
        guard let decided = try store.hold(id: id) else { continue }
        events.append(.decided(holdID: id, outcome: decided, attempted: nil, afterCancel: false))
      }
      return events
    } catch {
      return [.storeUnreadable(problem: "\(error)")]
    }
  }
}
