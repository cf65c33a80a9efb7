import WardenJSON

/// Every `tools/call` of one `warden run`, from the line that brings it to the line that ends it, as
/// one state machine: it takes events (a call decided, a hold recorded, a decision read from the
/// store, an answer in the client's form, a retry, a deadline, the end of the session) and returns
/// the actions that follow (forward, answer, record, ask, withdraw, decide, check again, log). It
/// does no I/O: the executor at the edge carries the actions out, and reports what its own I/O found
/// (a hold recorded or not, a decision the store kept, the delegation as it is now) as the next
/// events. So every path a call can take is a sequence of events tested without pipes, threads or a
/// store, and "act on a hold once" holds by construction: a hold leaves the book when it ends.
public struct CallMachine: Sendable {
  /// What the session allows, fixed when it starts.
  public struct Rules: Sendable, Equatable {
    /// A store is there to record holds in.
    public var holdsAvailable: Bool
    /// The client's form may be asked (`confirm.channels` has `elicitation`).
    public var askInClient: Bool
    /// Decisions from `warden confirm`, `approve` and `reject` count (`confirm.channels` has
    /// `terminal`).
    public var acceptTerminalDecisions: Bool
    /// An approval in the client's form needs the approval code shown on a human-facing channel.
    public var clientAnswersNeedCode: Bool
    /// How long a held call waits for a decision.
    public var timeoutMilliseconds: Int64
    /// Report-only rollout: what enforcement would deny as not delegated or undeclared, or would
    /// hold, goes on and is recorded as `would-deny` / `would-hold`.
    public var reportOnly = false

    public init(
      holdsAvailable: Bool, askInClient: Bool = true, acceptTerminalDecisions: Bool = true,
      clientAnswersNeedCode: Bool = true, timeoutMilliseconds: Int64 = 120_000
    ) {
      self.holdsAvailable = holdsAvailable
      self.askInClient = askInClient
      self.acceptTerminalDecisions = acceptTerminalDecisions
      self.clientAnswersNeedCode = clientAnswersNeedCode
      self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// No store, or no policy: nothing can be held.
    public static let noHolds = Rules(holdsAvailable: false)
  }

  /// A `tools/call` the client sent, read and decided against the delegation as it is now.
  public struct DecidedCall: Sendable, Equatable {
    public var requestID: RequestID
    /// The request line as the client sent it, without its terminator: what an approval forwards.
    /// Needed only for a call that may be held (the edge need not copy the others').
    public var line: [UInt8]
    /// Its `params`, as sent (nil when absent), judged again at approval; as `line`.
    public var params: [UInt8]?
    public var call: ToolCall
    public var decision: Authorization
    public var perRequestEra: Bool
    /// Per-request era: the request's `_meta` says its client can show an elicitation form.
    public var declaresElicitation: Bool
    /// When it was decided (ms since the epoch).
    public var at: Int64
    /// Its arguments for the audit trail.
    public var arguments: AuditArguments?

    public init(
      requestID: RequestID, line: [UInt8], params: [UInt8]?, call: ToolCall, decision: Authorization,
      perRequestEra: Bool, declaresElicitation: Bool = false, at: Int64 = 0, arguments: AuditArguments? = nil
    ) {
      self.at = at
      self.arguments = arguments
      self.requestID = requestID
      self.line = line
      self.params = params
      self.call = call
      self.decision = decision
      self.perRequestEra = perRequestEra
      self.declaresElicitation = declaresElicitation
    }
  }

  /// A call retried with warden's own `requestState` (per-request era), as the edge read it.
  public struct Retry: Sendable, Equatable {
    public var requestID: RequestID
    /// The retried params, exactly as sent.
    public var params: [UInt8]
    /// The call as far as it matters for a refusal (its tool; no arguments).
    public var call: ToolCall
    /// The claim the `requestState` carries, if its signature held.
    public var claim: Result<Claim, ClaimProblem>
    /// The digest of the call as retried (the definition the holds use).
    public var digest: String
    /// The digest of every other member of the retried params (see `Claim.paramsDigest`).
    public var paramsDigest: String
    /// The JSON text of the answer to warden's question in `inputResponses`, if any.
    public var answer: [UInt8]?
    /// Its arguments for the audit trail.
    public var arguments: AuditArguments?
    public var now: Int64

    public init(
      requestID: RequestID, params: [UInt8], call: ToolCall, claim: Result<Claim, ClaimProblem>,
      digest: String, paramsDigest: String, answer: [UInt8]?, now: Int64, arguments: AuditArguments? = nil
    ) {
      self.arguments = arguments
      self.paramsDigest = paramsDigest
      self.requestID = requestID
      self.params = params
      self.call = call
      self.claim = claim
      self.digest = digest
      self.answer = answer
      self.now = now
    }
  }

  /// What a signed `requestState` says: which hold, which exact call, until when, and the
  /// server's own state it carried.
  public struct Claim: Sendable, Equatable {
    public var holdID: String
    public var digest: String
    /// SHA-256 of the canonical JSON of the call's params without `requestState` and
    /// `inputResponses`: an approval also binds whatever else travels with the call (`_meta`,
    /// `task`, anything), not only its arguments.
    public var paramsDigest: String
    public var expiresAt: Int64
    public var serverState: String?
    public var serverResponses: String?

    public init(
      holdID: String, digest: String, paramsDigest: String, expiresAt: Int64, serverState: String?,
      serverResponses: String?
    ) {
      self.paramsDigest = paramsDigest
      self.holdID = holdID
      self.digest = digest
      self.expiresAt = expiresAt
      self.serverState = serverState
      self.serverResponses = serverResponses
    }
  }

  public enum ClaimProblem: Error, Sendable, Equatable {
    /// The params could not be read unambiguously.
    case unreadableParams
    /// Not a `requestState` this warden issued: forged, altered, or from another session.
    case notIssuedHere
  }

  public enum Event: Sendable, Equatable {
    /// The client sent a `tools/call`, decided as `DecidedCall.decision`.
    /// Boxed: a decided call is large, and events are copied on their way through the machine.
    indirect case call(DecidedCall)
    /// The client called warden's own tool (`warden_delegation`); `response` is warden's answer.
    case wardenTool(RequestID, ToolCall, response: [UInt8])
    /// The hold asked for by `record` is in the store.
    case holdRecorded(RequestID, Hold)
    /// The hold asked for by `record` could not be stored.
    case holdNotRecorded(RequestID, problem: String)
    /// The client sent `notifications/cancelled` for this request.
    case cancelled(RequestID)
    /// The client answered warden's `elicitation/create` (an answer, or nil for an error response).
    case questionAnswered(RequestID, answer: ApprovalAnswerInput)
    /// The client retried a call with warden's `requestState`.
    case retried(Retry)
    /// The store holds this decision on the hold (the first one recorded). `attempted` is what a
    /// `decide` action tried to record, nil for a decision read from the store (a terminal's).
    case decided(holdID: String, outcome: Hold, attempted: Hold.State?, afterCancel: Bool)
    /// A `decide` action could not be recorded: it does not count.
    case notRecorded(holdID: String, attempted: Hold.State, problem: String, afterCancel: Bool)
    /// The delegation as it is at the moment of approval (a `recheck`'s answer).
    case rechecked(holdID: String, outcome: Hold, call: ToolCall, decision: Authorization, afterCancel: Bool)
    /// The store cannot be read: nothing held can be approved.
    case storeUnreadable(problem: String)
    /// Time passes: deadlines are checked and the store is read for decisions.
    case tick(now: Int64)
    /// The record of a call about to be forwarded is in the store (a `recordIntent`'s answer).
    case intentRecorded(RequestID, at: Int64)
    /// The record of a call about to be forwarded could not be written: the call is not forwarded.
    case intentNotRecorded(RequestID, problem: String)
    /// The server answered a forwarded `tools/call`.
    case answered(RequestID, CallOutcome, at: Int64)
    /// The server is gone: the forwarded calls still in flight ended with it.
    case serverGone(at: Int64)
    /// The session ends. `answer`: the client still listens, so each held request gets a denial.
    case end(note: String, answer: Bool)
  }

  /// How the client answered warden's question.
  public enum ApprovalAnswerInput: Sendable, Equatable {
    /// The JSON text of the result (nil when there is none).
    case result([UInt8]?)
    case error
  }

  /// A decision for the executor to record in the store.
  public struct DecisionRecord: Sendable, Equatable {
    public var holdID: String
    public var state: Hold.State
    public var by: String
    public var channel: String
    public var note: String
    public var attestation: Attestation
    /// Report the outcome back (`decided` / `notRecorded`); false for a record only.
    public var reportBack: Bool
    /// The decision answers the client's cancellation of the held request.
    public var afterCancel: Bool

    public init(
      holdID: String, state: Hold.State, by: String, channel: String, note: String,
      attestation: Attestation = .warden, reportBack: Bool = true, afterCancel: Bool = false
    ) {
      self.holdID = holdID
      self.state = state
      self.by = by
      self.channel = channel
      self.note = note
      self.attestation = attestation
      self.reportBack = reportBack
      self.afterCancel = afterCancel
    }
  }

  /// A hold for the executor to record (it draws the id and the approval code, and stamps the time).
  public struct HoldRequest: Sendable, Equatable {
    public var requestID: RequestID
    public var call: ToolCall
    public var decision: Authorization
    public var params: [UInt8]?
    /// The client's form will need the approval code.
    public var withApprovalCode: Bool
  }

  public enum LogLevel: Sendable, Equatable {
    case debug, info, notice, warning, error
  }

  public enum Action: Sendable, Equatable {
    /// The line that brought the event goes on to the server unchanged.
    case passThrough
    /// Write this line (with its terminator) to the server.
    case forward([UInt8])
    /// Answer the client's request with this denial; the server never sees the call.
    case refuse(RequestID, ToolCall, Authorization, perRequestEra: Bool)
    /// Write this response (with its terminator) to the client: warden answers the request itself.
    case reply([UInt8])
    /// Record a hold; report `holdRecorded` or `holdNotRecorded`.
    case record(HoldRequest)
    /// Ask the client's user with warden's own `elicitation/create` request `question`.
    case ask(question: RequestID, Hold)
    /// Answer the request at once with an `input_required` result asking about the hold.
    case askInResult(RequestID, Hold, params: [UInt8]?)
    /// Withdraw warden's open question (`notifications/cancelled`).
    case withdraw(question: RequestID, holdID: String)
    /// Record a decision in the store (first decision wins).
    case decide(DecisionRecord)
    /// Decide the call again against the delegation as it is now; report `rechecked`.
    case recheck(holdID: String, outcome: Hold, params: [UInt8]?, agent: String, afterCancel: Bool)
    /// Read the store's decisions on these holds; report `decided` for each decided one, or
    /// `storeUnreadable`.
    case readDecisions([String])
    /// Append this record to the audit trail (without waiting for it).
    case audit(AuditNote)
    /// Append this record before the call is forwarded; report `intentRecorded` or
    /// `intentNotRecorded`. Intent before effect: a crash after the forward leaves the record.
    case recordIntent(RequestID, AuditNote)
    case log(LogLevel, String)
  }

  /// The envelope-level state: requests in flight each way, the client, the era.
  public var session: RelaySession
  public let rules: Rules
  /// Every call held, the questions asked about them, the confirmations used.
  public internal(set) var book = HoldBook()
  /// Calls whose hold is being recorded, and whether to ask in the result.
  var recording: [RequestID: (call: DecidedCall, decision: Authorization, inResult: Bool, callID: String)] =
    [:]
  /// Per-request era: retries whose decision is being recorded or checked, by hold.
  var resuming: [String: (retry: Retry, claim: Claim, callID: String)] = [:]
  /// Holds whose approval forwarded the call: a cancellation that raced the approval follows it.
  var forwardedHolds: Set<String> = []
  /// Why the session ended, once it has: nothing more is held.
  var ended: String?
  /// This session's name in the audit trail; call ids are made from it.
  public let sessionID: String
  var callCounter = 0
  /// Calls whose record is being written before they go on.
  var intents: [RequestID: PendingIntent] = [:]
  /// Forwarded calls awaiting the server's answer: their call id, when they went, what they were.
  var forwardedCalls: [RequestID: (callID: String, at: Int64, call: ToolCall)] = [:]

  /// What goes on once a call's intent is recorded.
  enum PendingIntent: Sendable {
    /// The line the client sent passes on.
    case passThrough(callID: String, call: ToolCall, perRequestEra: Bool)
    /// This line goes to the server (an approved held call, or a retry's continuation), followed by
    /// the client's cancellation when one raced the approval.
    case forward(
      line: [UInt8], followedByCancellation: Bool, callID: String, call: ToolCall, perRequestEra: Bool)
  }

  public init(session: RelaySession, rules: Rules, sessionID: String = "s") {
    self.session = session
    self.rules = rules
    self.sessionID = sessionID
  }

  /// A new call id: `<session>-<n>`.
  mutating func newCallID() -> String {
    callCounter += 1
    return "\(sessionID)-\(callCounter)"
  }

  /// Whether the client's form may be used to ask about a new hold: `elicitation` is a channel,
  /// and the client has not given too many wrong codes this session.
  public var clientMayBeAsked: Bool { rules.askInClient && book.clientMayBeAsked }

  /// Whether an approval that came through `channel` counts under `confirm.channels`.
  public func channelMayApprove(_ channel: String?) -> Bool {
    switch channel {
    case "elicitation": return rules.askInClient
    case "cli", "terminal": return rules.acceptTerminalDecisions
    default: return false
    }
  }

  /// Takes one event; returns what follows, in order.
  public mutating func handle(_ event: Event) -> [Action] {
    switch event {
    case .call(let call): return decided(call)
    case .wardenTool(let requestID, let call, let response):
      session.answeredByWarden(requestID)
      let note = AuditNote(
        kind: .decision, callID: newCallID(), call: call, verdict: "allow", reason: "warden-tool",
        explanation: "warden answered its own tool \(call.tool) with the delegation in force")
      return [.audit(note), .reply(response)]
    case .holdRecorded(let requestID, let hold): return holdRecorded(requestID, hold)
    case .holdNotRecorded(let requestID, let problem): return holdNotRecorded(requestID, problem: problem)
    case .cancelled(let requestID): return cancelled(requestID)
    case .questionAnswered(let question, let answer): return questionAnswered(question, answer)
    case .retried(let retry): return retried(retry)
    case .decided(let holdID, let outcome, let attempted, let afterCancel):
      return decisionRecorded(holdID, outcome, attempted: attempted, afterCancel: afterCancel)
    case .notRecorded(let holdID, let attempted, let problem, let afterCancel):
      return decisionNotRecorded(holdID, attempted: attempted, problem: problem, afterCancel: afterCancel)
    case .rechecked(let holdID, let outcome, let call, let decision, let afterCancel):
      return rechecked(holdID, outcome, call, decision, afterCancel: afterCancel)
    case .storeUnreadable(let problem): return storeUnreadable(problem)
    case .tick(let now): return tick(now)
    case .intentRecorded(let requestID, let at): return intentRecorded(requestID, at: at)
    case .intentNotRecorded(let requestID, let problem): return intentNotRecorded(requestID, problem: problem)
    case .answered(let requestID, let outcome, let at): return answered(requestID, outcome, at: at)
    case .serverGone(let at): return serverGone(at: at)
    case .end(let note, let answer): return end(note: note, answer: answer)
    }
  }
}
