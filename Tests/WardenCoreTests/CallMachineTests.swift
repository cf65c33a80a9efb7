import Testing
import WardenCore
import WardenJSON

/// Every path a tool call can take through one session, as events in and actions out: no pipes,
/// threads or store. The executor's I/O is played by the test, which feeds back what it would find.
@Suite("The call machine")
struct CallMachineTests {
  static let confirm = Authorization(verdict: .confirm, reason: .destructive, explanation: "destructive")
  static let allow = Authorization(verdict: .allow, reason: .allowed, explanation: "covered")
  static let forbid = Authorization(verdict: .deny, reason: .forbidden, explanation: "forbidden")
  static let call = ToolCall(server: "mail", agent: "agent", tool: "delete", arguments: .object([]))

  static func line(_ id: Int64) -> [UInt8] {
    Array(
      #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"delete","arguments":{}}}"#.utf8)
  }

  static func hold(_ id: String, request: Int64, deadline: Int64 = 1000, code: String? = "123456") -> Hold {
    Hold(
      id: id, server: "mail", agent: "agent", tool: "delete", arguments: "{}", digest: "digest-\(request)",
      action: "mail.delete", resources: [], reason: "destructive", explanation: "destructive", grantID: nil,
      purpose: nil, holderPID: 1, createdAt: request, deadline: deadline, approvalCode: code)
  }

  static func decided(_ hold: Hold, _ state: Hold.State, channel: String) -> Hold {
    var decided = hold
    decided.state = state
    decided.channel = channel
    decided.decidedBy = "ann"
    return decided
  }

  /// A machine whose session has a handshake-era client (that can show a form, if `elicits`).
  static func machine(
    rules: CallMachine.Rules = CallMachine.Rules(holdsAvailable: true), elicits: Bool = false,
    perRequest: Bool = false
  ) -> CallMachine {
    var machine = CallMachine(session: RelaySession(nonce: "n"), rules: rules)
    machine.session.noteElicitationSupport(elicits)
    machine.session.noteClient(
      name: "client", protocolVersion: perRequest ? "2026-07-28" : "2025-06-18", perRequest: perRequest)
    return machine
  }

  /// The client sends a `tools/call` with id `request`, decided `decision`.
  static func send(
    _ machine: inout CallMachine, request: Int64, decision: Authorization, perRequest: Bool = false,
    declares: Bool = false
  ) -> [CallMachine.Action] {
    machine.handle(
      arrival(&machine, request: request, decision: decision, perRequest: perRequest, declares: declares))
  }

  /// The event of a `tools/call` with id `request`, decided `decision`, once the session admitted it.
  static func arrival(
    _ machine: inout CallMachine, request: Int64, decision: Authorization, perRequest: Bool = false,
    declares: Bool = false
  ) -> CallMachine.Event {
    let envelope = Envelope(kind: .request, id: .integer(request), method: "tools/call")
    _ = machine.session.admitFromClient(envelope)
    return .call(
      CallMachine.DecidedCall(
        requestID: .integer(request), line: line(request), params: Array(#"{"name":"delete"}"#.utf8),
        call: call, decision: decision, perRequestEra: perRequest, declaresElicitation: declares))
  }

  /// Sends a call that needs a human and records its hold; returns what followed the recording.
  static func held(_ machine: inout CallMachine, request: Int64, hold: Hold) -> [CallMachine.Action] {
    let recording = send(&machine, request: request, decision: confirm)
    #expect(recording.contains { if case .record = $0 { return true } else { return false } })
    return machine.handle(.holdRecorded(.integer(request), hold))
  }

  /// The actions without the log lines and audit records.
  static func effects(_ actions: [CallMachine.Action]) -> [CallMachine.Action] {
    actions.filter {
      switch $0 {
      case .log, .audit: return false
      default: return true
      }
    }
  }

  /// Whether `actions` are one intent record for `request` (the call goes on once it is written).
  static func isIntent(_ actions: [CallMachine.Action], for request: Int64) -> Bool {
    guard effects(actions).count == 1, case .recordIntent(let id, let note) = effects(actions)[0] else {
      return false
    }
    return id == .integer(request) && note.kind == .decision && note.verdict == "allow"
  }

  static func refusal(in actions: [CallMachine.Action]) -> Authorization? {
    for action in actions { if case .refuse(_, _, let decision, _) = action { return decision } }
    return nil
  }

  // MARK: - Calls that are not held

  @Test func anAllowedCallPassesThroughUntouchedOnceItsIntentIsRecorded() {
    var machine = Self.machine()
    #expect(Self.isIntent(Self.send(&machine, request: 1, decision: Self.allow), for: 1))
    #expect(machine.handle(.intentRecorded(.integer(1), at: 5)) == [.passThrough])
    #expect(machine.session.clientRequests.count == 1)
    // Its outcome is recorded when the server answers.
    let outcome = machine.handle(.answered(.integer(1), .result(bytes: 42), at: 9))
    guard case .audit(let note) = outcome.first else {
      Issue.record("expected an outcome record, got \(outcome)")
      return
    }
    #expect(note.outcome == "result" && note.resultBytes == 42 && note.durationMilliseconds == 4)
  }

  /// Intent before effect: a call whose record cannot be written is not forwarded.
  @Test func anAllowedCallWhoseRecordCannotBeWrittenIsDenied() {
    var machine = Self.machine()
    _ = Self.send(&machine, request: 1, decision: Self.allow)
    let actions = machine.handle(.intentNotRecorded(.integer(1), problem: "disk full"))
    #expect(Self.refusal(in: actions)?.reason == .storeUnavailable)
    #expect(!actions.contains(.passThrough))
  }

  @Test func aDeniedCallIsAnsweredAndNoLongerInFlight() {
    var machine = Self.machine()
    let actions = Self.effects(Self.send(&machine, request: 1, decision: Self.forbid))
    #expect(actions == [.refuse(.integer(1), Self.call, Self.forbid, perRequestEra: false)])
    #expect(machine.session.clientRequests.count == 0)
  }

  @Test func withoutAStoreACallNeedingAHumanIsDenied() {
    var machine = Self.machine(rules: .noHolds)
    #expect(Self.refusal(in: Self.send(&machine, request: 1, decision: Self.confirm)) == Self.confirm)
  }

  @Test func aHoldThatCannotBeRecordedDeniesTheCall() {
    var machine = Self.machine()
    _ = Self.send(&machine, request: 1, decision: Self.confirm)
    let actions = machine.handle(.holdNotRecorded(.integer(1), problem: "database is locked"))
    #expect(Self.refusal(in: actions)?.reason == .storeUnavailable)
    #expect(machine.book.isEmpty)
  }

  // MARK: - Holding and asking

  @Test func aHeldCallIsAskedAboutInAClientThatCanShowAForm() throws {
    var machine = Self.machine(elicits: true)
    let actions = Self.effects(Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1)))
    guard case .ask(let question, let hold) = try #require(actions.first) else {
      Issue.record("expected a question, got \(actions)")
      return
    }
    #expect(hold.id == "h_1")
    #expect(machine.book.entry(holdID: "h_1")?.question == question)
    // Still in flight: the answer will come from the server once approved, or from warden.
    #expect(machine.session.clientRequests.count == 1)
  }

  @Test func aClientThatCannotShowAFormIsNotAsked() {
    var machine = Self.machine(elicits: false)
    #expect(Self.effects(Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))).isEmpty)
    #expect(machine.book.entry(holdID: "h_1") != nil)
  }

  @Test func thePerRequestEraAsksInTheResultAndAnswersTheRequest() {
    var machine = Self.machine(perRequest: true)
    let recording = Self.send(&machine, request: 1, decision: Self.confirm, perRequest: true, declares: true)
    #expect(Self.effects(recording).count == 1)
    let hold = Self.hold("h_1", request: 1)
    let actions = Self.effects(machine.handle(.holdRecorded(.integer(1), hold)))
    #expect(actions == [.askInResult(.integer(1), hold, params: Array(#"{"name":"delete"}"#.utf8))])
    #expect(machine.session.clientRequests.count == 0)
    #expect(machine.book.isEmpty)
  }

  // MARK: - Decisions

  /// A terminal approves: the store is read on the next tick, the call is decided again, and the
  /// exact line the client sent goes on; the question in the client is withdrawn.
  @Test func aTerminalApprovalForwardsTheExactLineOnce() throws {
    var machine = Self.machine(elicits: true)
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    #expect(Self.effects(machine.handle(.tick(now: 10))) == [.readDecisions(["h_1"])])
    let approved = Self.decided(hold, .approved, channel: "cli")
    let recheck = machine.handle(
      .decided(holdID: "h_1", outcome: approved, attempted: nil, afterCancel: false))
    #expect(
      recheck == [
        .recheck(
          holdID: "h_1", outcome: approved, params: Array(#"{"name":"delete"}"#.utf8), agent: "agent",
          afterCancel: false)
      ])
    let actions = Self.effects(
      machine.handle(
        .rechecked(
          holdID: "h_1", outcome: approved, call: Self.call, decision: Self.confirm, afterCancel: false)))
    #expect(actions.count == 2)
    if case .withdraw = actions[0] {} else { Issue.record("the question was not withdrawn: \(actions)") }
    if case .recordIntent = actions[1] {} else { Issue.record("no intent record: \(actions)") }
    #expect(machine.handle(.intentRecorded(.integer(1), at: 1)) == [.forward(Self.line(1) + [0x0A])])
    #expect(machine.book.isEmpty)
    // The same approval seen again (another channel, another poll) does nothing.
    #expect(
      machine.handle(
        .rechecked(
          holdID: "h_1", outcome: approved, call: Self.call, decision: Self.confirm, afterCancel: false)
      ).isEmpty)
    #expect(
      machine.handle(.decided(holdID: "h_1", outcome: approved, attempted: nil, afterCancel: false)).isEmpty)
  }

  /// Finding 7: the kill switch issued while the human thought denies the approved call.
  @Test func aRevocationWhileHeldDeniesTheApprovedCall() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    let approved = Self.decided(hold, .approved, channel: "cli")
    let revoked = Authorization(verdict: .deny, reason: .notDelegated, explanation: "no grant covers it")
    let actions = machine.handle(
      .rechecked(holdID: "h_1", outcome: approved, call: Self.call, decision: revoked, afterCancel: false))
    #expect(Self.effects(actions) == [.refuse(.integer(1), Self.call, revoked, perRequestEra: false)])
  }

  @Test func anApprovalThroughAnExcludedChannelIsARejection() {
    var machine = Self.machine(
      rules: CallMachine.Rules(holdsAvailable: true, acceptTerminalDecisions: false))
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    let actions = machine.handle(
      .decided(
        holdID: "h_1", outcome: Self.decided(hold, .approved, channel: "cli"), attempted: nil,
        afterCancel: false))
    #expect(Self.refusal(in: actions)?.reason == .rejected)
    #expect(!actions.contains { if case .forward = $0 { return true } else { return false } })
  }

  /// Finding 8: an approval the store refused (past the deadline) or could not record never forwards.
  @Test func anApprovalTheStoreRefusedExpiresTheHold() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    let again = machine.handle(
      .decided(holdID: "h_1", outcome: hold, attempted: .approved, afterCancel: false))
    guard case .decide(let record) = again.first, again.count == 1 else {
      Issue.record("expected the hold to be expired, got \(again)")
      return
    }
    #expect(record.state == .expired)
    // Refused again (the store still says pending): it ends expired all the same.
    let end = machine.handle(.decided(holdID: "h_1", outcome: hold, attempted: .expired, afterCancel: false))
    #expect(Self.refusal(in: end)?.reason == .confirmationTimedOut)
  }

  @Test func anApprovalTheStoreCouldNotRecordDoesNotCount() {
    var machine = Self.machine()
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    let actions = machine.handle(
      .notRecorded(holdID: "h_1", attempted: .approved, problem: "disk I/O error", afterCancel: false))
    #expect(Self.refusal(in: actions)?.reason == .storeUnavailable)
  }

  @Test func aRejectionIsAnsweredWithWhoAndHow() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    var rejected = Self.decided(hold, .rejected, channel: "terminal")
    rejected.note = "not today"
    let actions = machine.handle(
      .decided(holdID: "h_1", outcome: rejected, attempted: nil, afterCancel: false))
    let refusal = Self.refusal(in: actions)
    #expect(refusal?.reason == .rejected)
    #expect(refusal?.explanation == "ann rejected it (hold h_1, via terminal): not today")
  }

  @Test func theDeadlineExpiresAHoldNobodyDecided() {
    var machine = Self.machine()
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1, deadline: 50))
    let actions = machine.handle(.tick(now: 50))
    guard case .decide(let record) = actions.first else {
      Issue.record("expected an expiry, got \(actions)")
      return
    }
    #expect(record.state == .expired && record.channel == "timeout")
    #expect(!actions.contains(.readDecisions(["h_1"])))
  }

  @Test func anUnreadableStoreDeniesEverythingHeld() {
    var machine = Self.machine()
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    _ = Self.held(&machine, request: 2, hold: Self.hold("h_2", request: 2))
    let actions = Self.effects(machine.handle(.storeUnreadable(problem: "no such table")))
    #expect(actions.count == 2)
    #expect(
      actions.allSatisfy {
        if case .refuse(_, _, let d, _) = $0 { d.reason == .storeUnavailable } else { false }
      })
    #expect(machine.book.isEmpty)
  }

  // MARK: - The client's form

  @Test func theRightCodeInTheFormApproves() throws {
    var machine = Self.machine(elicits: true)
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    let question = try #require(machine.book.entry(holdID: "h_1")?.question)
    let answer = #"{"action":"accept","content":{"decision":"approve","code":"123456"}}"#
    let actions = machine.handle(.questionAnswered(question, answer: .result(Array(answer.utf8))))
    guard case .decide(let record) = actions.last else {
      Issue.record("expected a decision, got \(actions)")
      return
    }
    #expect(record.state == .approved && record.channel == "elicitation")
    #expect(record.attestation == .elicitationCode)
    #expect(record.by == "the user of client")
    // The question is closed: the hold's end will not withdraw it.
    #expect(machine.book.entry(holdID: "h_1")?.question == nil)
  }

  /// Finding 11: a client answering every form with "approve" gets nothing through, and after three
  /// wrong codes it is no longer asked.
  @Test func anAutomaticApproveRejectsAndThreeOfThemStopTheAsking() throws {
    var machine = Self.machine(elicits: true)
    var warnings = 0
    for request in 1...Int64(HoldBook.wrongCodesTolerated) {
      _ = Self.held(&machine, request: request, hold: Self.hold("h_\(request)", request: request))
      let question = try #require(machine.book.entry(holdID: "h_\(request)")?.question)
      let answer = #"{"action":"accept","content":{"decision":"approve"}}"#
      let actions = machine.handle(.questionAnswered(question, answer: .result(Array(answer.utf8))))
      warnings += actions.filter { if case .log(.warning, _) = $0 { true } else { false } }.count
      guard case .decide(let record) = actions.last else {
        Issue.record("expected a decision, got \(actions)")
        return
      }
      #expect(record.state == .rejected)
    }
    #expect(warnings == 1)
    #expect(!machine.clientMayBeAsked)
    let next = Self.effects(Self.held(&machine, request: 9, hold: Self.hold("h_9", request: 9)))
    #expect(next.isEmpty)
  }

  @Test func anErrorForAnAnswerRejects() throws {
    var machine = Self.machine(elicits: true)
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    let question = try #require(machine.book.entry(holdID: "h_1")?.question)
    guard case .decide(let record) = machine.handle(.questionAnswered(question, answer: .error)).last else {
      Issue.record("expected a decision")
      return
    }
    #expect(record.state == .rejected)
    // An answer to a question nobody asked changes nothing.
    #expect(machine.handle(.questionAnswered(.string("nobody"), answer: .error)).isEmpty)
  }

  // MARK: - Cancellation

  @Test func aCancelledHoldEndsSilentlyAndItsCancellationStopsHere() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    let actions = machine.handle(.cancelled(.integer(1)))
    guard case .decide(let record) = actions.first else {
      Issue.record("expected the hold to be cancelled, got \(actions)")
      return
    }
    #expect(record.state == .cancelled && record.afterCancel)
    let end = machine.handle(
      .decided(
        holdID: "h_1", outcome: Self.decided(hold, .cancelled, channel: "client"), attempted: .cancelled,
        afterCancel: true))
    #expect(Self.effects(end).isEmpty)
    #expect(machine.session.clientRequests.count == 0)
  }

  /// An approval recorded before the cancellation wins: the call goes on, and the cancellation
  /// follows it to the server, in that order.
  @Test func aCancellationThatLostToAnApprovalFollowsTheCall() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    _ = machine.handle(.cancelled(.integer(1)))
    let approved = Self.decided(hold, .approved, channel: "cli")
    let recheck = machine.handle(
      .decided(holdID: "h_1", outcome: approved, attempted: .cancelled, afterCancel: true))
    #expect(recheck.count == 1)
    _ = machine.handle(
      .rechecked(holdID: "h_1", outcome: approved, call: Self.call, decision: Self.confirm, afterCancel: true)
    )
    let actions = machine.handle(.intentRecorded(.integer(1), at: 1))
    #expect(actions == [.forward(Self.line(1) + [0x0A]), .passThrough])
  }

  /// The poll forwarded the approved call first; the cancellation's own report comes later.
  @Test func aCancellationRacingThePollStillFollowsTheForwardedCall() {
    var machine = Self.machine()
    let hold = Self.hold("h_1", request: 1)
    _ = Self.held(&machine, request: 1, hold: hold)
    _ = machine.handle(.cancelled(.integer(1)))
    let approved = Self.decided(hold, .approved, channel: "cli")
    _ = machine.handle(
      .rechecked(
        holdID: "h_1", outcome: approved, call: Self.call, decision: Self.confirm, afterCancel: false))
    #expect(
      machine.handle(.decided(holdID: "h_1", outcome: approved, attempted: .cancelled, afterCancel: true))
        == [.passThrough])
  }

  @Test func theCancellationOfARequestNotHeldPassesThrough() {
    var machine = Self.machine()
    #expect(machine.handle(.cancelled(.integer(5))) == [.passThrough])
  }

  // MARK: - The end

  /// Finding 10: every held request is answered when warden stops (reason `shutdown`).
  @Test func atShutdownEveryHeldRequestIsAnswered() {
    var machine = Self.machine(elicits: true)
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    _ = Self.held(&machine, request: 2, hold: Self.hold("h_2", request: 2))
    // A third is being recorded when warden stops.
    _ = Self.send(&machine, request: 3, decision: Self.confirm)
    let actions = Self.effects(machine.handle(.end(note: "SIGTERM", answer: true)))
    let refused = actions.compactMap { action -> RequestID? in
      if case .refuse(let id, _, let decision, _) = action, decision.reason == .shutdown { return id }
      return nil
    }
    #expect(refused == [.integer(1), .integer(2)])
    #expect(actions.filter { if case .withdraw = $0 { true } else { false } }.count == 2)
    #expect(machine.book.isEmpty)
    // It ends as soon as it is recorded; a call after the end is not held at all.
    let late = machine.handle(.holdRecorded(.integer(3), Self.hold("h_3", request: 3)))
    #expect(Self.refusal(in: late)?.reason == .shutdown)
    #expect(Self.refusal(in: Self.send(&machine, request: 4, decision: Self.confirm)) == Self.confirm)
  }

  @Test func aClientThatLeftGetsNothingAndItsHoldsAreCancelled() {
    var machine = Self.machine()
    _ = Self.held(&machine, request: 1, hold: Self.hold("h_1", request: 1))
    let actions = machine.handle(.end(note: "the client went away", answer: false))
    #expect(
      actions == [
        .decide(
          CallMachine.DecisionRecord(
            holdID: "h_1", state: .cancelled, by: "warden", channel: "client", note: "the client went away"))
      ])
  }

  // MARK: - Report mode

  /// Report-only rollout: what would be denied as not delegated or undeclared, or held, goes on and
  /// is recorded as such; a forbid and whatever fails closed are still denied.
  @Test func reportModeForwardsWhatEnforcementWouldDenyOrHoldAndStillDeniesAForbid() {
    var rules = CallMachine.Rules(holdsAvailable: true)
    rules.reportOnly = true
    var machine = Self.machine(rules: rules)
    let cases: [(Authorization, String?)] = [
      (Authorization(verdict: .deny, reason: .notDelegated, explanation: "no grant"), "would-deny"),
      (Authorization(verdict: .deny, reason: .undeclared, explanation: "undeclared"), "would-deny"),
      (Self.confirm, "would-hold"),
      (Self.forbid, nil),
      (Authorization(verdict: .deny, reason: .badArguments, explanation: "unreadable"), nil),
      (Authorization(verdict: .deny, reason: .storeUnavailable, explanation: "store"), nil),
      (Authorization(verdict: .deny, reason: .protectedPath, explanation: "home"), nil),
    ]
    for (index, (decision, would)) in cases.enumerated() {
      let request = Int64(index + 1)
      let actions = Self.send(&machine, request: request, decision: decision)
      if let would {
        guard case .recordIntent(_, let note) = Self.effects(actions).first else {
          Issue.record("\(decision.reason) was not let through: \(actions)")
          continue
        }
        #expect(note.verdict == would)
        #expect(machine.handle(.intentRecorded(.integer(request), at: 1)) == [.passThrough])
      } else {
        #expect(Self.refusal(in: actions) == decision, "\(decision.reason)")
      }
    }
  }
}
