import WardenJSON

/// The per-request era (2026-07-28): warden asked about a held call in an `input_required` result,
/// and the client retries the call with warden's `requestState` and the human's answer. The claim is
/// checked against this exact call, used once, recorded (unless a terminal decided first), and the
/// call goes on only if the delegation, decided again, still allows it.
extension CallMachine {
  mutating func retried(_ retry: Retry) -> [Action] {
    let callID = newCallID()
    func refusal(_ reason: Authorization.Reason, _ explanation: String) -> [Action] {
      let denial = Authorization(verdict: .deny, reason: reason, explanation: explanation)
      return [
        .audit(
          .decision(denial, verdict: "deny", callID: callID, call: retry.call, arguments: retry.arguments))
      ]
        + refuse(retry.requestID, retry.call, denial, perRequestEra: true)
    }
    let claim: Claim
    switch retry.claim {
    case .failure(.unreadableParams):
      return refusal(.badArguments, "warden could not read the retried call's params unambiguously")
    case .failure(.notIssuedHere):
      return refusal(
        .badArguments, "its requestState is not one this warden issued (forged or from another session)")
    case .success(let found):
      claim = found
    }
    guard claim.digest == retry.digest, claim.paramsDigest == retry.paramsDigest else {
      return refusal(
        .badArguments, "the call was changed after the human was asked about it (hold \(claim.holdID))")
    }
    let hold: Hold
    switch book.useConfirmation(holdID: claim.holdID) {
    case .reused:
      return refusal(.badArguments, "the confirmation of hold \(claim.holdID) was already used")
    case .late:
      return refusal(
        .confirmationTimedOut,
        "it needed a human's confirmation and nobody decided in time (hold \(claim.holdID))")
    case .first(let found):
      hold = found
    }
    let expired = retry.now >= claim.expiresAt
    let answer = ApprovalAnswer.read(retry.answer, code: hold.approvalCode)
    resuming[claim.holdID] = (retry, claim, callID)
    return noteWrongCode(if: !expired && answer.wrongCode) + [
      .decide(
        DecisionRecord(
          holdID: claim.holdID, state: expired ? .expired : (answer.approve ? .approved : .rejected),
          by: clientUser,
          channel: "elicitation", note: answer.note, attestation: expired ? .warden : answer.attestation))
    ]
  }

  /// The store's decision on a retried call's hold (the first one recorded: a terminal's, or the
  /// client's answer).
  mutating func retryDecided(_ holdID: String, _ outcome: Hold) -> [Action] {
    guard let (retry, claim, callID) = resuming[holdID] else { return [] }
    func refusal(_ reason: Authorization.Reason, _ explanation: String) -> [Action] {
      resuming.removeValue(forKey: holdID)
      let denial = Authorization(verdict: .deny, reason: reason, explanation: explanation)
      var note = AuditNote.decision(
        denial, verdict: "deny", callID: callID, call: retry.call, arguments: retry.arguments)
      note.holdID = holdID
      note.decidedBy = outcome.decidedBy
      note.channel = outcome.channel
      return [.audit(note)] + refuse(retry.requestID, retry.call, denial, perRequestEra: true)
    }
    switch outcome.state {
    case .approved where !channelMayApprove(outcome.channel):
      return refusal(
        .rejected,
        "it was approved via \(outcome.channel ?? "?"), a channel confirm.channels does not allow (hold \(claim.holdID))"
      )
    case .approved:
      return [
        .log(
          .notice,
          "\(claim.holdID) approved by \(outcome.decidedBy ?? clientUser) via \(outcome.channel ?? "?")"),
        .recheck(
          holdID: holdID, outcome: outcome, params: retry.params, agent: retry.call.agent, afterCancel: false),
      ]
    case .pending, .expired:
      return refusal(
        .confirmationTimedOut,
        "it needed a human's confirmation and nobody decided in time (hold \(claim.holdID))")
    case .rejected, .cancelled:
      return refusal(
        .rejected,
        "\(outcome.decidedBy ?? "a human") rejected it (hold \(claim.holdID), via \(outcome.channel ?? "?"))"
          + (outcome.note.map { $0.isEmpty ? "" : ": \($0)" } ?? ""))
    }
  }

  /// Approved: the delegation may have changed while the human thought. A confirmation is let
  /// through (it was just given), a denial is not.
  mutating func retryRechecked(_ holdID: String, _ outcome: Hold, _ call: ToolCall, _ decision: Authorization)
    -> [Action]
  {
    guard let (retry, claim, callID) = resuming.removeValue(forKey: holdID) else { return [] }
    if decision.verdict == .deny {
      var note = AuditNote.decision(
        decision, verdict: "deny", callID: callID, call: call, arguments: retry.arguments)
      note.holdID = holdID
      return [.audit(note)] + refuse(retry.requestID, call, decision, perRequestEra: true)
    }
    // Intent before effect, as for every call that goes on.
    intents[retry.requestID] = .forward(
      line: HoldQuestion.continuation(
        requestID: retry.requestID, params: retry.params, serverState: claim.serverState,
        serverResponses: claim.serverResponses),
      followedByCancellation: false, callID: callID, call: retry.call, perRequestEra: true)
    var note = approvalNote(callID, retry.call, holdID, outcome)
    note.arguments = retry.arguments
    return [.recordIntent(retry.requestID, note)]
  }
}
