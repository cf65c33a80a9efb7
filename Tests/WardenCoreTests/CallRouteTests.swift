import Testing
import WardenCore

/// Every path a decided call can take, without pipes, threads or a store.
@Suite("The route of a decided call")
struct CallRouteTests {
  static let confirm = Authorization(verdict: .confirm, reason: .destructive, explanation: "destructive")
  static let allow = Authorization(verdict: .allow, reason: .allowed, explanation: "covered")
  static let deny = Authorization(verdict: .deny, reason: .forbidden, explanation: "forbidden")

  static func context(
    perRequest: Bool = false, holds: Bool = true, mayAsk: Bool = true, declares: Bool = true
  ) -> CallRoute.Context {
    CallRoute.Context(
      perRequestEra: perRequest, holdsAvailable: holds, clientMayBeAsked: mayAsk,
      requestDeclaresElicitation: declares)
  }

  @Test func allowedCallsGoOnAndDeniedOnesAreAnswered() {
    #expect(CallRoute.of(Self.allow, in: Self.context()) == .forward)
    #expect(CallRoute.of(Self.deny, in: Self.context()) == .deny(Self.deny))
  }

  @Test func aCallNeedingAHumanIsHeld() {
    #expect(CallRoute.of(Self.confirm, in: Self.context()) == .hold(Self.confirm))
  }

  @Test func thePerRequestEraAsksInTheResultWhenTheClientCanShowAForm() {
    #expect(
      CallRoute.of(Self.confirm, in: Self.context(perRequest: true)) == .holdAndAskInResult(Self.confirm))
    // Without the capability, or with the client shut off: held for a terminal.
    #expect(
      CallRoute.of(Self.confirm, in: Self.context(perRequest: true, declares: false)) == .hold(Self.confirm))
    #expect(
      CallRoute.of(Self.confirm, in: Self.context(perRequest: true, mayAsk: false)) == .hold(Self.confirm))
  }

  @Test func withoutAStoreNobodyCanBeAskedSoItIsDenied() {
    #expect(CallRoute.of(Self.confirm, in: Self.context(holds: false)) == .deny(Self.confirm))
  }

  @Test func aHoldThatCannotBeRecordedIsAStoreFailure() {
    let denial = CallRoute.holdNotRecorded(Self.confirm)
    #expect(denial.verdict == .deny && denial.reason == .storeUnavailable)
  }
}
