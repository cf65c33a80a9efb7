import WardenJSON

/// Decisions on held calls, whichever channel brings them: the client's form, a terminal (read from
/// the store), a deadline, a cancellation, a store failure. The first one recorded wins; an approval
/// forwards only once the delegation, decided again, still allows the call.
extension CallMachine {
  /// The client answered warden's question about a held call.
  mutating func questionAnswered(_ question: RequestID, _ input: ApprovalAnswerInput) -> [Action] {
    guard let entry = book.questionAnswered(question) else { return [] }
    let answer: ApprovalAnswer
    switch input {
    case .error: answer = .clientCouldNotAsk
    case .result(let text): answer = ApprovalAnswer.read(text, code: entry.hold.approvalCode)
    }
    return noteWrongCode(if: answer.wrongCode) + [
      .decide(
        DecisionRecord(
          holdID: entry.hold.id, state: answer.approve ? .approved : .rejected, by: clientUser,
          channel: "elicitation", note: answer.note, attestation: answer.attestation))
    ]
  }

  /// Who answered in the client's form, as the hold records it.
  var clientUser: String { "the user of " + (session.clientName ?? "the client") }

  /// Counts a wrong or missing approval code; past the tolerance, the client is no longer asked.
  mutating func noteWrongCode(if wrong: Bool) -> [Action] {
    guard wrong else { return [] }
    let wasAsked = book.clientMayBeAsked
    book.noteWrongCode()
    guard wasAsked, !book.clientMayBeAsked else { return [] }
    return [
      .log(
        .warning,
        "the client gave \(HoldBook.wrongCodesTolerated) wrong approval codes: held calls are no longer asked about in the client this session, only in a terminal"
      )
    ]
  }

  /// The store holds a decision on a hold: act on it, once.
  mutating func decisionRecorded(_ holdID: String, _ outcome: Hold, attempted: Hold.State?, afterCancel: Bool)
    -> [Action]
  {
    if resuming[holdID] != nil { return retryDecided(holdID, outcome) }
    guard book.entry(holdID: holdID) != nil else { return staleOutcome(holdID, afterCancel: afterCancel) }
    switch outcome.state {
    case .pending:
      // The store refused the decision: the deadline passed first. The hold expires.
      guard attempted != .expired, attempted != nil else {
        return deliver(
          holdID, .expired, by: "warden", channel: "timeout", note: "no decision in time",
          afterCancel: afterCancel)
      }
      return [
        .decide(
          DecisionRecord(
            holdID: holdID, state: .expired, by: "warden", channel: "timeout", note: "no decision in time",
            afterCancel: afterCancel))
      ]
    case .approved where !channelMayApprove(outcome.channel):
      // Fail closed: an approval through a channel the configuration excludes does not count.
      let channel = outcome.channel ?? "?"
      return [
        .log(.warning, "\(holdID) was approved via \(channel), which confirm.channels excludes; denying")
      ]
        + deliver(
          holdID, .rejected, by: outcome.decidedBy, channel: channel,
          note: "approved via \(channel), a channel confirm.channels does not allow", afterCancel: afterCancel
        )
    case .approved:
      guard let entry = book.entry(holdID: holdID) else { return [] }
      return [
        .recheck(
          holdID: holdID, outcome: outcome, params: entry.params, agent: entry.call.agent,
          afterCancel: afterCancel)
      ]
    case .rejected, .expired, .cancelled:
      return deliver(
        holdID, outcome.state, by: outcome.decidedBy, channel: outcome.channel, note: outcome.note,
        afterCancel: afterCancel)
    }
  }

  /// A decision could not be recorded, so it does not count: an approval becomes a denial.
  mutating func decisionNotRecorded(
    _ holdID: String, attempted: Hold.State, problem: String, afterCancel: Bool
  )
    -> [Action]
  {
    let log = Action.log(.error, "could not record the decision on \(holdID) (\(problem)); it does not count")
    if let (retry, claim, _) = resuming.removeValue(forKey: holdID) {
      return [log]
        + refuse(
          retry.requestID, retry.call,
          Authorization(
            verdict: .deny, reason: .storeUnavailable,
            explanation: "warden could not record the decision on the hold (hold \(claim.holdID))"),
          perRequestEra: true)
    }
    guard book.entry(holdID: holdID) != nil else { return staleOutcome(holdID, afterCancel: afterCancel) }
    return [log]
      + deliver(
        holdID, attempted == .approved ? .rejected : attempted, by: "warden", channel: "store",
        note: "the decision could not be recorded in the store", afterCancel: afterCancel)
  }

  /// The delegation at the moment of approval: a revocation, a forbid or the kill switch issued
  /// while the human thought denies the call; otherwise the exact line the client sent goes on.
  mutating func rechecked(
    _ holdID: String, _ outcome: Hold, _ call: ToolCall, _ decision: Authorization, afterCancel: Bool
  ) -> [Action] {
    if resuming[holdID] != nil { return retryRechecked(holdID, outcome, call, decision) }
    guard let entry = book.take(holdID: holdID) else { return staleOutcome(holdID, afterCancel: afterCancel) }
    let who = "\(outcome.decidedBy ?? "someone") via \(outcome.channel ?? "?")"
    var actions = withdrawal(of: entry)
    if decision.verdict == .deny {
      actions.append(
        .log(
          .notice,
          "\(holdID) approved by \(who), but the delegation no longer allows it: \(decision.explanation)"))
      actions.append(
        .audit(
          endingNote(entry, decision, outcome: "denied", by: outcome.decidedBy, channel: outcome.channel)))
      return actions + refuse(entry.requestID, entry.call, decision, perRequestEra: entry.perRequestEra)
    }
    forwardedHolds.insert(holdID)
    actions.append(.log(.notice, "\(holdID) approved by \(who); forwarding \(entry.call.tool)"))
    // Intent before effect: the approved line goes on once its record is in the store.
    intents[entry.requestID] = .forward(
      line: entry.line + [0x0A], followedByCancellation: afterCancel, callID: entry.callID, call: entry.call,
      perRequestEra: entry.perRequestEra)
    actions.append(.recordIntent(entry.requestID, approvalNote(entry.callID, entry.call, holdID, outcome)))
    return actions
  }

  /// An outcome for a hold that already ended (another channel acted first). A cancellation that
  /// raced an approval which forwarded the call follows the call to the server; otherwise the
  /// server never saw the call, and the cancellation stops here.
  func staleOutcome(_ holdID: String, afterCancel: Bool) -> [Action] {
    afterCancel && forwardedHolds.contains(holdID) ? [.passThrough] : []
  }

  /// Ends a hold without forwarding it: cancelled (no answer: JSON-RPC does not answer a cancelled
  /// request, and a client that left hears nothing), or denied with the reason.
  mutating func deliver(
    _ holdID: String, _ state: Hold.State, by decidedBy: String?, channel: String?, note: String?,
    afterCancel: Bool
  ) -> [Action] {
    guard let entry = book.take(holdID: holdID) else { return staleOutcome(holdID, afterCancel: afterCancel) }
    var actions = withdrawal(of: entry)
    let who = "\(decidedBy ?? "someone") via \(channel ?? "?")"
    let noteText = note.map { $0.isEmpty ? "" : ": \($0)" } ?? ""
    var decision = entry.decision
    decision.verdict = .deny
    switch state {
    case .cancelled:
      session.answeredByWarden(entry.requestID)
      actions.append(
        .log(.notice, "\(holdID) cancelled (\(note ?? "")); the server never saw \(entry.call.tool)"))
      actions.append(
        .audit(endingNote(entry, decision, outcome: "cancelled", by: decidedBy, channel: channel)))
      return actions
    case .expired, .pending:
      decision.reason = .confirmationTimedOut
      decision.explanation =
        "it needed a human's confirmation and nobody decided within \(rules.timeoutMilliseconds / 1000) seconds (hold \(holdID))"
      actions.append(.log(.notice, "\(holdID) expired; \(entry.call.tool) denied"))
    case .rejected where channel == "store":
      // Nobody said no: the store failed, and a decision that cannot be read or recorded is none.
      decision.reason = .storeUnavailable
      decision.explanation =
        "warden's delegation store failed while the call waited for a human (hold \(holdID))\(noteText)"
      actions.append(.log(.notice, "\(holdID) ended: the store failed; \(entry.call.tool) denied"))
    case .rejected, .approved:
      decision.reason = .rejected
      decision.explanation =
        "\(decidedBy ?? "a human") rejected it (hold \(holdID), via \(channel ?? "?"))\(noteText)"
      actions.append(.log(.notice, "\(holdID) rejected by \(who); \(entry.call.tool) denied"))
    }
    let ending = decision.reason == .confirmationTimedOut ? "timed-out" : "denied"
    actions.append(.audit(endingNote(entry, decision, outcome: ending, by: decidedBy, channel: channel)))
    return actions + refuse(entry.requestID, entry.call, decision, perRequestEra: entry.perRequestEra)
  }

  /// The decision record of an approved held call, about to go on.
  func approvalNote(_ callID: String, _ call: ToolCall, _ holdID: String, _ outcome: Hold) -> AuditNote {
    AuditNote(
      kind: .decision, callID: callID, call: call, verdict: "allow", reason: "approved",
      explanation: "approved by \(outcome.decidedBy ?? "someone") via \(outcome.channel ?? "?")",
      action: outcome.action, resources: outcome.resources, grants: outcome.grantID.map { [$0] } ?? [],
      holdID: holdID, decidedBy: outcome.decidedBy, channel: outcome.channel, attestation: outcome.attestation
    )
  }
}
