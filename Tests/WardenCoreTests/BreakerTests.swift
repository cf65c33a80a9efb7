import Testing
import WardenCore

@Suite("Circuit breakers")
struct BreakerTests {
  static let call = Authorization(verdict: .allow, reason: .allowed, explanation: "covered")

  @Test func moreCallsThanTheLimitWithinThePeriodTripIt() {
    var counter = BreakerCounter(rule: BreakerRule(calls: RateLimit(count: 3, periodMilliseconds: 1000)))
    #expect((0..<3).map { counter.count(agent: "a", denied: false, at: Int64($0) * 100) } == [nil, nil, nil])
    #expect(counter.count(agent: "a", denied: false, at: 300) != nil)
    // Another agent has its own count.
    #expect(counter.count(agent: "b", denied: false, at: 300) == nil)
  }

  @Test func aResetAgentCountsAfresh() {
    var counter = BreakerCounter(rule: BreakerRule(calls: RateLimit(count: 2, periodMilliseconds: 60_000)))
    for at in 0..<2 { #expect(counter.count(agent: "a", denied: false, at: Int64(at)) == nil) }
    #expect(counter.count(agent: "b", denied: false, at: 2) == nil)
    #expect(counter.count(agent: "a", denied: false, at: 3) != nil)
    counter.forget(agent: "a")
    #expect(counter.count(agent: "a", denied: false, at: 4) == nil)
    #expect(counter.count(agent: "a", denied: false, at: 5) == nil)
    #expect(counter.count(agent: "a", denied: false, at: 6) != nil)
    // Only that agent's count.
    #expect(counter.count(agent: "b", denied: false, at: 7) == nil)
    #expect(counter.count(agent: "b", denied: false, at: 8) != nil)
  }

  @Test func callsOutsideThePeriodNoLongerCount() {
    var counter = BreakerCounter(rule: BreakerRule(calls: RateLimit(count: 2, periodMilliseconds: 1000)))
    #expect(counter.count(agent: "a", denied: false, at: 0) == nil)
    #expect(counter.count(agent: "a", denied: false, at: 500) == nil)
    #expect(counter.count(agent: "a", denied: false, at: 1000) == nil)  // the call at 0 left the period
    #expect(counter.count(agent: "a", denied: false, at: 1001) != nil)
  }

  @Test func onlyDenialsCountTowardsTheDenialLimit() {
    var counter = BreakerCounter(rule: BreakerRule(denials: RateLimit(count: 1, periodMilliseconds: 60_000)))
    for at in 0..<10 { #expect(counter.count(agent: "a", denied: false, at: Int64(at)) == nil) }
    #expect(counter.count(agent: "a", denied: true, at: 20) == nil)
    #expect(counter.count(agent: "a", denied: true, at: 30)?.contains("denied") == true)
  }

  @Test func agentsNarrowWhatItWatches() {
    var counter = BreakerCounter(
      rule: BreakerRule(calls: RateLimit(count: 1, periodMilliseconds: 1000), agents: ["ci-*"]))
    for at in 0..<5 { #expect(counter.count(agent: "human", denied: false, at: Int64(at)) == nil) }
    #expect(counter.count(agent: "ci-1", denied: false, at: 0) == nil)
    #expect(counter.count(agent: "ci-1", denied: false, at: 1) != nil)
  }

  @Test func aTripDeniesOrHoldsWhatWasAllowedAndLeavesDenialsAlone() {
    let deny = BreakerTrip(agent: "a", at: 0, reason: "r", then: .deny)
    let hold = BreakerTrip(agent: "a", at: 0, reason: "r", then: .hold)
    #expect(deny.apply(to: Self.call).verdict == .deny)
    #expect(deny.apply(to: Self.call).reason == .breakerTripped)
    #expect(hold.apply(to: Self.call).verdict == .confirm)
    let forbidden = Authorization(verdict: .deny, reason: .forbidden, explanation: "no")
    #expect(hold.apply(to: forbidden) == forbidden)
    #expect(!deny.apply(to: Self.call).explanation.contains("warden reset"))
  }

  @Test func aSuggestionIsTwiceThePeakAndNeverTiny() {
    let burst = (0..<30).map {
      BreakerSuggestion.Observation(agent: "a", at: Int64($0) * 100, denied: $0 < 4)
    }
    let rule = BreakerSuggestion.suggest(burst)
    #expect(rule.calls == RateLimit(count: 60, periodMilliseconds: 10_000))
    #expect(rule.denials == RateLimit(count: 8, periodMilliseconds: 60_000))
    #expect(BreakerSuggestion.yaml(rule) == "breaker: {calls: 60/10s, denials: 8/1m, then: deny}")
    #expect(BreakerSuggestion.suggest([]).calls?.count == 20)
  }
}
