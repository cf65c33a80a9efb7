import WardenJSON

/// The audit trail's side of the machine: a call goes on only once its record is written (intent
/// before effect), and every ending of a call is a record too.
extension CallMachine {
  /// The record of a call about to go on is in the store: let it go.
  mutating func intentRecorded(_ requestID: RequestID, at: Int64) -> [Action] {
    guard let intent = intents.removeValue(forKey: requestID) else { return [] }
    switch intent {
    case .passThrough(let callID, let call, _):
      forwardedCalls[requestID] = (callID, at, call)
      return [.passThrough]
    case .forward(let line, let followedByCancellation, let callID, let call, _):
      forwardedCalls[requestID] = (callID, at, call)
      session.release(requestID)
      return [.forward(line)] + (followedByCancellation ? [.passThrough] : [])
    }
  }

  /// The record could not be written: a call nobody could account for afterwards is not forwarded.
  mutating func intentNotRecorded(_ requestID: RequestID, problem: String) -> [Action] {
    guard let intent = intents.removeValue(forKey: requestID) else { return [] }
    let (callID, call, perRequestEra): (String, ToolCall, Bool)
    switch intent {
    case .passThrough(let id, let which, let era): (callID, call, perRequestEra) = (id, which, era)
    case .forward(_, _, let id, let which, let era): (callID, call, perRequestEra) = (id, which, era)
    }
    let denial = CallPolicy.storeUnavailable("the audit record of the call could not be written: \(problem)")
    return [
      .audit(
        AuditNote(
          kind: .outcome, callID: callID, call: call, verdict: "deny", reason: denial.reason.rawValue,
          explanation: denial.explanation, outcome: "not-recorded"))
    ] + refuse(requestID, call, denial, perRequestEra: perRequestEra)
  }

  /// The server answered a forwarded call.
  mutating func answered(_ requestID: RequestID, _ outcome: CallOutcome, at: Int64) -> [Action] {
    guard let (callID, started, call) = forwardedCalls.removeValue(forKey: requestID) else { return [] }
    return [.audit(outcomeNote(callID: callID, call: call, outcome, duration: at - started))]
  }

  /// The server is gone: every forwarded call still in flight ended with it.
  mutating func serverGone(at: Int64) -> [Action] {
    let inFlight = forwardedCalls.sorted { $0.value.at < $1.value.at }
    forwardedCalls.removeAll()
    return inFlight.map { entry in
      .audit(
        outcomeNote(
          callID: entry.value.callID, call: entry.value.call, .serverGone, duration: at - entry.value.at))
    }
  }

  private func outcomeNote(callID: String, call: ToolCall, _ outcome: CallOutcome, duration: Int64)
    -> AuditNote
  {
    AuditNote(
      kind: .outcome, callID: callID, call: call, verdict: "allow", reason: "allowed",
      explanation: "the server answered", outcome: outcome.name, durationMilliseconds: max(0, duration),
      resultBytes: outcome.bytes)
  }

  /// The record of a held call that ended without going to the server.
  func endingNote(
    _ entry: HoldBook.Entry, _ decision: Authorization, outcome: String, by: String?, channel: String?
  )
    -> AuditNote
  {
    AuditNote(
      kind: .outcome, callID: entry.callID, call: entry.call, verdict: "deny",
      reason: decision.reason.rawValue,
      explanation: decision.explanation, action: decision.scopes?.action,
      resources: decision.scopes?.resources.map(\.text) ?? [], grants: decision.grants.map(\.id),
      holdID: entry.hold.id, decidedBy: by, channel: channel, outcome: outcome)
  }
}
