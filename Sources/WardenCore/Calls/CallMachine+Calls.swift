import WardenJSON

/// A call arrives, is held or not, and the session's time and end.
extension CallMachine {
  /// A decided call: forwarded, refused, or held (recorded first; the executor reports back).
  mutating func decided(_ call: DecidedCall) -> [Action] {
    let context = CallRoute.Context(
      perRequestEra: call.perRequestEra, holdsAvailable: rules.holdsAvailable && ended == nil,
      clientMayBeAsked: clientMayBeAsked, requestDeclaresElicitation: call.declaresElicitation)
    let callID = newCallID()
    if rules.reportOnly, let would = Self.wouldVerdict(call.decision) {
      intents[call.requestID] = .passThrough(
        callID: callID, call: call.call, perRequestEra: call.perRequestEra)
      return [
        .log(
          .warning,
          "report mode: \(call.call.tool) for \(call.call.agent) goes on, but enforcement would \(would == "would-hold" ? "hold" : "deny") it: \(call.decision.explanation)"
        ),
        .recordIntent(
          call.requestID,
          .decision(call.decision, verdict: would, callID: callID, call: call.call, arguments: call.arguments)
        ),
      ]
    }
    switch CallRoute.of(call.decision, in: context) {
    case .forward:
      // Intent before effect: the line goes on once its record is in the store.
      intents[call.requestID] = .passThrough(
        callID: callID, call: call.call, perRequestEra: call.perRequestEra)
      return [
        .log(.info, "allowed \(call.call.tool) for \(call.call.agent): \(call.decision.explanation)"),
        .recordIntent(
          call.requestID,
          .decision(
            call.decision, verdict: "allow", callID: callID, call: call.call, arguments: call.arguments)),
      ]
    case .deny(let decision):
      return [
        .audit(
          .decision(decision, verdict: "deny", callID: callID, call: call.call, arguments: call.arguments))
      ]
        + refuse(call.requestID, call.call, decision, perRequestEra: call.perRequestEra)
    case .hold(let decision):
      return startRecording(call, decision, inResult: false, callID: callID)
    case .holdAndAskInResult(let decision):
      return startRecording(call, decision, inResult: true, callID: callID)
    }
  }

  /// What report mode records for a decision it lets through; nil for one it enforces all the same:
  /// an allowed call, a forbid, and everything that fails closed.
  static func wouldVerdict(_ decision: Authorization) -> String? {
    switch (decision.verdict, decision.reason) {
    case (.deny, .notDelegated), (.deny, .undeclared): return "would-deny"
    // A breaker a human configured is enforced in report mode too.
    case (.confirm, .breakerTripped): return nil
    case (.confirm, _): return "would-hold"
    default: return nil
    }
  }

  /// A call to hold: first the executor records the hold, then it is asked about.
  private mutating func startRecording(
    _ call: DecidedCall, _ decision: Authorization, inResult: Bool, callID: String
  ) -> [Action] {
    recording[call.requestID] = (call, decision, inResult, callID)
    // Not forwarded: whatever the server writes with this id, it stays open until warden decides.
    session.withhold(call.requestID)
    return [
      .record(
        HoldRequest(
          requestID: call.requestID, call: call.call, decision: decision, params: call.params,
          withApprovalCode: rules.askInClient && rules.clientAnswersNeedCode))
    ]
  }

  mutating func holdRecorded(_ requestID: RequestID, _ hold: Hold) -> [Action] {
    guard let (call, decision, inResult, callID) = recording.removeValue(forKey: requestID) else { return [] }
    var held = AuditNote.decision(
      decision, verdict: "hold", callID: callID, call: call.call, arguments: call.arguments)
    held.holdID = hold.id
    if let ended {
      // The session ended while the hold was being written: it ends with it.
      var denial = decision
      denial.verdict = .deny
      denial.reason = .shutdown
      denial.explanation = "warden stopped while the call waited for a human (hold \(hold.id)): \(ended)"
      return [
        .decide(
          DecisionRecord(
            holdID: hold.id, state: .cancelled, by: "warden", channel: "shutdown", note: ended,
            reportBack: false)),
        .audit(held),
      ] + refuse(requestID, call.call, denial, perRequestEra: call.perRequestEra)
    }
    if inResult {
      session.answeredByWarden(requestID)
      book.awaitRetry(hold)
      return [
        .log(
          .notice,
          "holding \(call.call.tool) for \(call.call.agent) as \(hold.id); asked in the client (input_required) and from any terminal"
        ),
        .askInResult(requestID, hold, params: call.params),
        .audit(held),
      ]
    }
    book.hold(
      HoldBook.Entry(
        hold: hold, requestID: requestID, line: call.line, params: call.params, call: call.call,
        decision: decision, perRequestEra: call.perRequestEra, callID: callID))
    var actions: [Action] = [
      .audit(held),
      .log(
        .notice,
        "holding \(call.call.tool) for \(call.call.agent) as \(hold.id) until a human decides (warden confirm, or warden approve \(hold.id))"
      ),
    ]
    // The handshake era lets warden send the client a request of its own: ask in its form too.
    if clientMayBeAsked, session.clientCanElicit, case .handshake = session.era {
      let question = session.openOwnRequest(method: "elicitation/create")
      book.asked(holdID: hold.id, question: question)
      actions.append(.log(.info, "asking the client's user about \(hold.id) (elicitation \(question))"))
      actions.append(.ask(question: question, hold))
    }
    return actions
  }

  mutating func holdNotRecorded(_ requestID: RequestID, problem: String) -> [Action] {
    guard let (call, decision, _, callID) = recording.removeValue(forKey: requestID) else { return [] }
    let denial = CallRoute.holdNotRecorded(decision)
    return [
      .log(.error, "could not record a hold for \(call.call.tool): \(problem)"),
      .audit(.decision(denial, verdict: "deny", callID: callID, call: call.call, arguments: call.arguments)),
    ] + refuse(requestID, call.call, denial, perRequestEra: call.perRequestEra)
  }

  /// The client cancelled a request. A held one ends (its cancellation must not reach the server,
  /// which never saw it) unless an approval was recorded first: then the call goes on, and the
  /// cancellation follows it.
  mutating func cancelled(_ requestID: RequestID) -> [Action] {
    guard let entry = book.entry(forRequest: requestID) else { return [.passThrough] }
    return [
      .decide(
        DecisionRecord(
          holdID: entry.hold.id, state: .cancelled, by: "client", channel: "client",
          note: "the client cancelled the request", afterCancel: true))
    ]
  }

  /// Deadlines: a held call nobody decided in time expires; a question in a result the client
  /// never came back with expires. Then the store is read for decisions made elsewhere.
  mutating func tick(_ now: Int64) -> [Action] {
    var actions: [Action] = []
    for entry in book.held where entry.hold.deadline <= now {
      actions.append(
        .decide(
          DecisionRecord(
            holdID: entry.hold.id, state: .expired, by: "warden", channel: "timeout",
            note: "no decision in time")))
    }
    for holdID in book.overdueRetries(now: now) {
      actions.append(
        .decide(
          DecisionRecord(
            holdID: holdID, state: .expired, by: "warden", channel: "timeout", note: "no answer in time",
            reportBack: false)))
    }
    let open = book.held.filter { $0.hold.deadline > now }.map(\.hold.id)
    if !open.isEmpty { actions.append(.readDecisions(open)) }
    return actions
  }

  /// A store that cannot be read cannot carry an approval: everything held is denied.
  mutating func storeUnreadable(_ problem: String) -> [Action] {
    let held = book.held
    guard !held.isEmpty else { return [] }
    var actions: [Action] = [.log(.error, "cannot read holds (\(problem)); denying the calls held")]
    for entry in held {
      actions += deliver(
        entry.hold.id, .rejected, by: "warden", channel: "store", note: "the store became unreadable",
        afterCancel: false)
    }
    return actions
  }

  /// The session ends: no call stays held. A client still listening gets a denial for each (reason
  /// `shutdown`); one that left gets nothing, and the holds are cancelled.
  mutating func end(note: String, answer: Bool) -> [Action] {
    ended = ended ?? note
    var actions: [Action] = []
    for listed in book.held {
      guard answer else {
        // The decision is reported back: an approval recorded first still counts.
        actions.append(
          .decide(
            DecisionRecord(
              holdID: listed.hold.id, state: .cancelled, by: "warden", channel: "client", note: note)))
        continue
      }
      guard let entry = book.take(holdID: listed.hold.id) else { continue }
      actions.append(
        .decide(
          DecisionRecord(
            holdID: entry.hold.id, state: .cancelled, by: "warden", channel: "shutdown", note: note,
            reportBack: false)))
      actions += withdrawal(of: entry)
      var decision = entry.decision
      decision.verdict = .deny
      decision.reason = .shutdown
      decision.explanation =
        "warden stopped while the call waited for a human (hold \(entry.hold.id)): \(note)"
      actions.append(.log(.notice, "\(entry.hold.id) ended: \(note); \(entry.call.tool) denied"))
      actions.append(
        .audit(endingNote(entry, decision, outcome: "shutdown", by: "warden", channel: "shutdown")))
      actions += refuse(entry.requestID, entry.call, decision, perRequestEra: entry.perRequestEra)
    }
    return actions
  }

  /// Answers the client's request with a denial; the request is no longer in flight. The command
  /// that would allow the call goes to the human's log, never to the agent.
  mutating func refuse(
    _ requestID: RequestID, _ call: ToolCall, _ decision: Authorization, perRequestEra: Bool
  ) -> [Action] {
    session.answeredByWarden(requestID)
    let command = DelegationText.suggestedGrant(for: call, authorization: decision).map {
      "; to allow it: \($0)"
    }
    // A warning, seen at the default level: a denial is what the human should hear about.
    return [
      .log(
        .warning,
        "denied \(call.tool.isEmpty ? "a tool call" : call.tool) for \(call.agent): \(decision.explanation)\(command ?? "")"
      ),
      .refuse(requestID, call, decision, perRequestEra: perRequestEra),
    ]
  }

  /// Withdraws the question still open in the client about a hold that ended, so the client can
  /// close its form; a late answer is then consumed and ignored.
  func withdrawal(of entry: HoldBook.Entry) -> [Action] {
    guard let question = entry.question else { return [] }
    return [
      .log(.info, "withdrawing the question about \(entry.hold.id) (elicitation \(question))"),
      .withdraw(question: question, holdID: entry.hold.id),
    ]
  }
}
