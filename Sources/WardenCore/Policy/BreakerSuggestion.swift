/// A circuit breaker fitted to observed traffic, for `warden status` to suggest: twice the busiest
/// agent's peak calls within 10 seconds and denied calls within a minute, never below 20 calls and
/// 5 denials, so ordinary work does not trip it and a runaway loop does.
public enum BreakerSuggestion {
  public struct Observation: Sendable {
    public var agent: String
    public var at: Int64
    public var denied: Bool

    public init(agent: String, at: Int64, denied: Bool) {
      self.agent = agent
      self.at = at
      self.denied = denied
    }
  }

  public static func suggest(_ observations: [Observation]) -> BreakerRule {
    var byAgent: [String: [Observation]] = [:]
    for observation in observations { byAgent[observation.agent, default: []].append(observation) }
    var calls = 0
    var denials = 0
    for (_, seen) in byAgent {
      let ordered = seen.sorted { $0.at < $1.at }
      calls = max(calls, peak(ordered.map(\.at), within: 10_000))
      denials = max(denials, peak(ordered.filter(\.denied).map(\.at), within: 60_000))
    }
    return BreakerRule(
      calls: RateLimit(count: max(20, 2 * calls), periodMilliseconds: 10_000),
      denials: RateLimit(count: max(5, 2 * denials), periodMilliseconds: 60_000))
  }

  /// The most times (sorted) within any window of `period`.
  static func peak(_ times: [Int64], within period: Int64) -> Int {
    var best = 0
    var start = 0
    for end in times.indices {
      while times[end] - times[start] >= period { start += 1 }
      best = max(best, end - start + 1)
    }
    return best
  }

  /// The line for `config.yaml`.
  public static func yaml(_ rule: BreakerRule) -> String {
    var parts: [String] = []
    if let calls = rule.calls {
      parts.append("calls: \(calls.count)/\(Durations.describe(calls.periodMilliseconds))")
    }
    if let denials = rule.denials {
      parts.append("denials: \(denials.count)/\(Durations.describe(denials.periodMilliseconds))")
    }
    parts.append("then: \(rule.then.rawValue)")
    return "breaker: {\(parts.joined(separator: ", "))}"
  }
}
