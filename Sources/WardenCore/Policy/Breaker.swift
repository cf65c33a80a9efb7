/// A circuit breaker on an agent's behaviour, from `breaker:` in `$WARDEN_HOME/config.yaml`:
///
/// ```yaml
/// breaker: {calls: 100/10s, denials: 5/1m, then: deny, agents: [claude-code]}
/// ```
///
/// More than `calls` tool calls, or more than `denials` denied ones, by one agent within the period
/// trips it: the trip is kept in the store, so every warden on that store sees it, and from then on
/// that agent's calls are denied (`then: deny`, the default) or held for a human (`then: hold`)
/// until a human runs `warden reset AGENT`. `agents` narrows it to those agents (patterns as in
/// grants); without it, it watches every agent.
public struct BreakerRule: Sendable, Equatable {
  public enum Then: String, Sendable, Equatable, CaseIterable {
    case deny
    case hold
  }

  public var calls: RateLimit?
  public var denials: RateLimit?
  public var then: Then
  public var agents: [String]?

  public init(calls: RateLimit? = nil, denials: RateLimit? = nil, then: Then = .deny, agents: [String]? = nil)
  {
    self.calls = calls
    self.denials = denials
    self.then = then
    self.agents = agents
  }

  public func watches(_ agent: String) -> Bool {
    guard let agents else { return true }
    return agents.contains { Glob.name($0).matches(agent) }
  }
}

/// A tripped breaker, as the store keeps it.
public struct BreakerTrip: Sendable, Equatable {
  public var agent: String
  /// Milliseconds since the epoch.
  public var at: Int64
  /// What tripped it, for a human.
  public var reason: String
  public var then: BreakerRule.Then

  public init(agent: String, at: Int64, reason: String, then: BreakerRule.Then) {
    self.agent = agent
    self.at = at
    self.reason = reason
    self.then = then
  }

  /// The decision on a call of a tripped agent: what was denied stays denied; anything else is
  /// denied, or held for a human, as the breaker says.
  public func apply(to decision: Authorization) -> Authorization {
    guard decision.verdict != .deny else { return decision }
    var tripped = decision
    tripped.reason = .breakerTripped
    // No command here: the agent reads this, and may have a shell.
    let why = "the circuit breaker of agent '\(agent)' tripped (\(reason)); only a human can reset it"
    switch then {
    case .deny:
      tripped.verdict = .deny
      tripped.explanation = why
    case .hold:
      tripped.verdict = .confirm
      tripped.explanation = why + "; until then each call waits for a human"
    }
    return tripped
  }
}

/// Counts one warden's calls and denials per agent over the breaker's periods. Pure: the clock comes
/// in with each call. Memory is bounded by the limits: at most `count` times are kept per agent and
/// kind.
public struct BreakerCounter: Sendable {
  public let rule: BreakerRule
  private var calls: [String: [Int64]] = [:]
  private var denials: [String: [Int64]] = [:]

  public init(rule: BreakerRule) {
    self.rule = rule
  }

  /// Counts a call by `agent` at `now` (denied or not); returns what trips the breaker, if this
  /// call does.
  public mutating func count(agent: String, denied: Bool, at now: Int64) -> String? {
    guard rule.watches(agent) else { return nil }
    if let limit = rule.calls, Self.exceeds(limit, &calls[agent, default: []], now) {
      return "more than \(limit.count) calls within \(Durations.describe(limit.periodMilliseconds))"
    }
    if denied, let limit = rule.denials, Self.exceeds(limit, &denials[agent, default: []], now) {
      return "more than \(limit.count) denied calls within \(Durations.describe(limit.periodMilliseconds))"
    }
    return nil
  }

  /// Forgets what `agent` did: a human reset its breaker, so its count starts afresh (otherwise the
  /// calls that tripped it would trip it again on the next call).
  public mutating func forget(agent: String) {
    calls[agent] = nil
    denials[agent] = nil
  }

  /// Adds `now` to `times` (oldest first) and tells whether more than `limit.count` fall within the
  /// period ending at `now`.
  private static func exceeds(_ limit: RateLimit, _ times: inout [Int64], _ now: Int64) -> Bool {
    let since = now - limit.periodMilliseconds
    var stale = 0
    while stale < times.count, times[stale] <= since { stale += 1 }
    if stale > 0 { times.removeFirst(stale) }
    times.append(now)
    guard times.count > limit.count else { return false }
    times.removeFirst(times.count - limit.count)
    return true
  }
}
