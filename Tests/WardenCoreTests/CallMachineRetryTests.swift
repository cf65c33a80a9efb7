import Testing
import WardenCore
import WardenJSON

/// The per-request era: a held call asked about in an `input_required` result comes back as a retry
/// carrying warden's claim and the human's answer.
@Suite("The call machine: retries with warden's requestState")
struct CallMachineRetryTests {
  typealias Support = CallMachineTests
  static let params = Array(
    #"{"name":"delete","arguments":{},"requestState":"warden1.x","inputResponses":{"dev.warden/confirm":{}}}"#
      .utf8)

  /// A machine that asked about hold `h_1` (request 1) in a result.
  static func asked(deadline: Int64 = 1000, code: String? = "123456") -> (CallMachine, Hold) {
    var machine = Support.machine(perRequest: true)
    _ = Support.send(&machine, request: 1, decision: Support.confirm, perRequest: true, declares: true)
    let hold = Support.hold("h_1", request: 1, deadline: deadline, code: code)
    _ = machine.handle(.holdRecorded(.integer(1), hold))
    return (machine, hold)
  }

  static func retry(
    request: Int64 = 2, claim: Result<CallMachine.Claim, CallMachine.ClaimProblem>? = nil,
    digest: String = "digest-1", paramsDigest: String = "params-1",
    answer: String? = #"{"action":"accept","content":{"decision":"approve","code":"123456"}}"#,
    now: Int64 = 10
  ) -> CallMachine.Event {
    .retried(
      CallMachine.Retry(
        requestID: .integer(request), params: params, call: Support.call,
        claim: claim
          ?? .success(
            CallMachine.Claim(
              holdID: "h_1", digest: "digest-1", paramsDigest: "params-1", expiresAt: 1000,
              serverState: "server-state",
              serverResponses: nil)),
        digest: digest, paramsDigest: paramsDigest, answer: answer.map { Array($0.utf8) }, now: now))
  }

  static func decision(_ actions: [CallMachine.Action]) -> CallMachine.DecisionRecord? {
    for action in actions { if case .decide(let record) = action { return record } }
    return nil
  }

  @Test func anApprovedRetryGoesOnWithTheServersOwnStateBack() throws {
    var (machine, hold) = Self.asked()
    let record = try #require(Self.decision(machine.handle(Self.retry())))
    #expect(record.state == .approved && record.attestation == .elicitationCode)
    let approved = Support.decided(hold, .approved, channel: "elicitation")
    let recheck = Support.effects(
      machine.handle(.decided(holdID: "h_1", outcome: approved, attempted: .approved, afterCancel: false)))
    #expect(recheck.count == 1)
    _ = machine.handle(
      .rechecked(
        holdID: "h_1", outcome: approved, call: Support.call, decision: Support.confirm, afterCancel: false))
    let actions = machine.handle(.intentRecorded(.integer(2), at: 1))
    guard case .forward(let line) = actions.first else {
      Issue.record("expected the call to go on, got \(actions)")
      return
    }
    let text = String(decoding: line, as: UTF8.self)
    #expect(text.contains(#""requestState":"server-state""#))
    #expect(!text.contains("warden1."))
    #expect(!text.contains("dev.warden/confirm"))
  }

  @Test func aForgedOrUnreadableClaimIsRefused() {
    var (machine, _) = Self.asked()
    #expect(
      Support.refusal(in: machine.handle(Self.retry(claim: .failure(.notIssuedHere))))?.reason
        == .badArguments)
    #expect(
      Support.refusal(in: machine.handle(Self.retry(request: 3, claim: .failure(.unreadableParams))))?.reason
        == .badArguments)
  }

  @Test func aChangedCallIsRefused() {
    var (machine, _) = Self.asked()
    let refusal = Support.refusal(in: machine.handle(Self.retry(digest: "digest-of-another-call")))
    #expect(refusal?.explanation.contains("changed after the human was asked") == true)
  }

  /// Issue 14, finding 8: what else travels with the call (`_meta`, `task`) is bound too.
  @Test func aRetryWithOtherParamsMembersIsRefused() {
    var (machine, _) = Self.asked()
    let refusal = Support.refusal(in: machine.handle(Self.retry(paramsDigest: "params-with-a-task")))
    #expect(refusal?.explanation.contains("changed after the human was asked") == true)
  }

  @Test func aConfirmationWorksOnce() {
    var (machine, _) = Self.asked()
    #expect(Self.decision(machine.handle(Self.retry())) != nil)
    let again = machine.handle(Self.retry(request: 3))
    #expect(Support.refusal(in: again)?.explanation.contains("already used") == true)
  }

  @Test func aRetryAfterTheDeadlineExpiresTheHold() throws {
    var (machine, hold) = Self.asked(deadline: 1000)
    let record = try #require(Self.decision(machine.handle(Self.retry(now: 1000))))
    #expect(record.state == .expired && record.attestation == .warden)
    let expired = Support.decided(hold, .expired, channel: "timeout")
    let actions = machine.handle(
      .decided(holdID: "h_1", outcome: expired, attempted: .expired, afterCancel: false))
    #expect(Support.refusal(in: actions)?.reason == .confirmationTimedOut)
  }

  @Test func aTerminalsRejectionWinsOverTheClientsApproval() throws {
    var (machine, hold) = Self.asked()
    _ = machine.handle(Self.retry())
    var rejected = Support.decided(hold, .rejected, channel: "terminal")
    rejected.note = "no"
    let actions = machine.handle(
      .decided(holdID: "h_1", outcome: rejected, attempted: .approved, afterCancel: false))
    #expect(Support.refusal(in: actions)?.explanation == "ann rejected it (hold h_1, via terminal): no")
  }

  @Test func aRevocationWhileTheHumanThoughtDeniesTheRetry() {
    var (machine, hold) = Self.asked()
    _ = machine.handle(Self.retry())
    let approved = Support.decided(hold, .approved, channel: "elicitation")
    _ = machine.handle(.decided(holdID: "h_1", outcome: approved, attempted: .approved, afterCancel: false))
    let revoked = Authorization(verdict: .deny, reason: .notDelegated, explanation: "revoked")
    let actions = Support.effects(
      machine.handle(
        .rechecked(
          holdID: "h_1", outcome: approved, call: Support.call, decision: revoked, afterCancel: false)))
    #expect(actions == [.refuse(.integer(2), Support.call, revoked, perRequestEra: true)])
  }

  @Test func aDecisionThatCouldNotBeRecordedRefusesTheRetry() {
    var (machine, _) = Self.asked()
    _ = machine.handle(Self.retry())
    let actions = machine.handle(
      .notRecorded(holdID: "h_1", attempted: .approved, problem: "locked", afterCancel: false))
    #expect(Support.refusal(in: actions)?.reason == .storeUnavailable)
  }

  @Test func anAutomaticApproveWithoutTheCodeIsARejection() throws {
    var (machine, _) = Self.asked()
    let record = try #require(
      Self.decision(
        machine.handle(Self.retry(answer: #"{"action":"accept","content":{"decision":"approve"}}"#))))
    #expect(record.state == .rejected)
    #expect(machine.book.wrongCodes == 1)
  }

  @Test func aRetryNoLongerAwaitedIsLate() {
    var (machine, _) = Self.asked(deadline: 50)
    _ = machine.handle(.tick(now: 60))
    let refusal = Support.refusal(in: machine.handle(Self.retry(now: 60)))
    #expect(refusal?.reason == .confirmationTimedOut)
  }
}
