import WardenJSON

/// Which pending holds a bulk `warden approve` / `reject` decides: those matching every filter given,
/// each compared with the hold's field as bytes (no patterns: a filter selects, the human reads the
/// list before anything is decided).
public struct HoldFilter: Sendable, Equatable {
  public var server: String?
  public var tool: String?
  public var agent: String?

  public init(server: String? = nil, tool: String? = nil, agent: String? = nil) {
    self.server = server
    self.tool = tool
    self.agent = agent
  }

  /// No filter given.
  public var isEmpty: Bool { server == nil && tool == nil && agent == nil }

  public func matches(_ hold: Hold) -> Bool {
    (server.map { hold.server.hasSameBytes(as: $0) } ?? true)
      && (tool.map { hold.tool.hasSameBytes(as: $0) } ?? true)
      && (agent.map { hold.agent.hasSameBytes(as: $0) } ?? true)
  }

  /// The filters as typed, for messages (`--server mailbox --tool delete_message`).
  public var options: String {
    [("--server", server), ("--tool", tool), ("--agent", agent)].compactMap { option, value in
      value.map { "\(option) \(HumanText.escaped($0))" }
    }.joined(separator: " ")
  }
}

/// One hold of a bulk decision, as the store left it.
public struct HoldDecisionResult: Sendable, Equatable {
  public var id: String
  /// The hold afterwards; nil when there is no hold with this id.
  public var hold: Hold?
  /// Whether this decision was the one recorded (false: decided before by someone else, past its
  /// deadline, or unknown).
  public var taken: Bool

  public init(id: String, hold: Hold?, taken: Bool) {
    self.id = id
    self.hold = hold
    self.taken = taken
  }
}

/// What became of one hold a human asked to decide: the words scripts read (`--json`) and people see.
public enum HoldDecisionOutcome: Sendable, Equatable {
  /// This decision was recorded: `approved` or `rejected`.
  case decided(Hold.State)
  /// Someone (or something: a deadline, a cancellation) decided it first.
  case alreadyDecided(Hold.State, by: String?, channel: String?)
  /// Still pending but past its deadline: warden denies it, nobody can approve it.
  case pastDeadline
  /// No hold has this id.
  case unknown

  /// The outcome of asking for `asked` on the hold `hold` (nil: unknown) when `taken` says whether
  /// the store recorded this decision.
  public static func of(_ hold: Hold?, asked: Hold.State, taken: Bool) -> HoldDecisionOutcome {
    guard let hold else { return .unknown }
    if taken, hold.state == asked { return .decided(asked) }
    if hold.state == .pending { return .pastDeadline }
    return .alreadyDecided(hold.state, by: hold.decidedBy, channel: hold.channel)
  }

  /// Whether the hold was decided as asked.
  public var succeeded: Bool {
    if case .decided = self { return true }
    return false
  }

  /// `approved`, `rejected`, `already-decided`, `past-deadline` or `unknown`.
  public var name: String {
    switch self {
    case .decided(let state): return state.rawValue
    case .alreadyDecided: return "already-decided"
    case .pastDeadline: return "past-deadline"
    case .unknown: return "unknown"
    }
  }

  /// One line for a person, about the hold `id` (escaped: names come from the store).
  public func describe(id: String, hold: Hold?) -> String {
    let show = HumanText.escaped
    switch self {
    case .decided(.approved):
      return "\(id) approved: warden forwards \(show(hold?.tool ?? "?")) to \(show(hold?.server ?? "?"))"
    case .decided:
      return "\(id) rejected: the agent is told"
    case .alreadyDecided(let state, let by, let channel):
      return "\(id) was already \(state.rawValue) by \(show(by ?? "?")) via \(show(channel ?? "?"))"
    case .pastDeadline:
      return "\(id) is past its deadline; it is denied"
    case .unknown:
      return "no hold with id \(show(id))"
    }
  }
}
