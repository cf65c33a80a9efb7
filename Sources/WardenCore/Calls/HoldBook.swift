import WardenJSON

/// The calls one `warden run` is holding for a human, in one value: what each waits for, the
/// question asked about it in the client, and the confirmations already used. Replaces four maps
/// kept in step by hand; every change is one method, and "act on a hold once" is `take`.
public struct HoldBook: Sendable {
  /// A call held until a decision (the handshake era, or any call waiting for a terminal).
  public struct Entry: Sendable {
    public let hold: Hold
    public let requestID: RequestID
    /// The request line as the client sent it, without its terminator: what an approval forwards.
    public let line: [UInt8]
    /// Its `params`, judged again at the moment of approval.
    public let params: [UInt8]?
    public let call: ToolCall
    public let decision: Authorization
    public let perRequestEra: Bool
    /// Its id in the audit trail.
    public let callID: String
    /// Warden's `elicitation/create` asking about it, while that question is open.
    public fileprivate(set) var question: RequestID?

    public init(
      hold: Hold, requestID: RequestID, line: [UInt8], params: [UInt8]?, call: ToolCall,
      decision: Authorization, perRequestEra: Bool, callID: String = ""
    ) {
      self.callID = callID
      self.hold = hold
      self.requestID = requestID
      self.line = line
      self.params = params
      self.call = call
      self.decision = decision
      self.perRequestEra = perRequestEra
    }
  }

  private var waiting: [String: Entry] = [:]
  /// Per-request era: holds asked about through `input_required`, until the retry or the deadline.
  private var awaitingRetry: [String: Hold] = [:]
  /// Holds whose confirmation token was used: a token works once.
  private var usedConfirmations: Set<String> = []
  /// Approvals in the client's form that came with a wrong approval code, this session.
  public private(set) var wrongCodes = 0
  /// Wrong codes after which the client is no longer asked: each hold has a fresh code and one
  /// try, so a client could otherwise guess by making calls until one code matched.
  public static let wrongCodesTolerated = 3

  public init() {}

  /// Starts holding `entry`.
  public mutating func hold(_ entry: Entry) {
    waiting[entry.hold.id] = entry
  }

  /// Notes the question asked about a held call.
  public mutating func asked(holdID: String, question: RequestID) {
    waiting[holdID]?.question = question
  }

  /// Every held call, oldest first.
  public var held: [Entry] {
    waiting.values.sorted { ($0.hold.createdAt, $0.hold.id) < ($1.hold.createdAt, $1.hold.id) }
  }

  public var isEmpty: Bool { waiting.isEmpty }

  /// The held call `holdID`, while it is held.
  public func entry(holdID: String) -> Entry? {
    waiting[holdID]
  }

  /// The held call that answers the client's request `requestID`.
  public func entry(forRequest requestID: RequestID) -> Entry? {
    waiting.values.first { $0.requestID == requestID }
  }

  /// Ends a hold: returns it the first time only, so a decision is acted on once whichever channel
  /// brings it. Its open question, if any, is the caller's to withdraw.
  public mutating func take(holdID: String) -> Entry? {
    waiting.removeValue(forKey: holdID)
  }

  /// The client answered warden's question `question`: the hold it asked about (still held; the
  /// question is closed, so it will not be withdrawn). Nil for an answer to no open question.
  public mutating func questionAnswered(_ question: RequestID) -> Entry? {
    guard let holdID = waiting.first(where: { $0.value.question == question })?.key else { return nil }
    waiting[holdID]?.question = nil
    return waiting[holdID]
  }

  /// Per-request era: the client was asked through `input_required`; it has until the hold's
  /// deadline to retry.
  public mutating func awaitRetry(_ hold: Hold) {
    awaitingRetry[hold.id] = hold
  }

  /// What using the confirmation of a hold asked about through `input_required` found.
  public enum ConfirmationUse: Sendable, Equatable {
    /// The first use, in time: the hold, with its approval code.
    case first(Hold)
    /// The first use, after the hold stopped being awaited (its deadline passed).
    case late
    /// Already used: a confirmation works once.
    case reused
  }

  /// Uses the confirmation of `holdID`: it works the first time only.
  public mutating func useConfirmation(holdID: String) -> ConfirmationUse {
    let awaited = awaitingRetry.removeValue(forKey: holdID)
    guard usedConfirmations.insert(holdID).inserted else { return .reused }
    return awaited.map(ConfirmationUse.first) ?? .late
  }

  /// Notes an approval with a wrong or missing code.
  public mutating func noteWrongCode() {
    wrongCodes += 1
  }

  /// Whether the client's form may still be used to ask (not after too many wrong codes).
  public var clientMayBeAsked: Bool { wrongCodes < Self.wrongCodesTolerated }

  /// Holds whose client never came back by their deadline; they stop being awaited.
  public mutating func overdueRetries(now: Int64) -> [String] {
    let overdue = awaitingRetry.filter { $0.value.deadline <= now }.map(\.key).sorted()
    for id in overdue { awaitingRetry.removeValue(forKey: id) }
    return overdue
  }
}
