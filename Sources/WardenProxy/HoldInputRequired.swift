import Logging
import Synchronization
import WardenCore
import WardenJSON
import WardenStore

/// Asking the human about a held call in the per-request era (2026-07-28): servers do not send
/// requests over stdio there, so warden answers the call at once with an `input_required` result
/// holding its question and a signed `requestState`; the client shows the form and retries the call
/// with the answer in `inputResponses`. The hold stays in the store meanwhile, so a terminal can
/// decide it too; the first decision wins.
extension HoldKeeper {
  /// Holds the call and returns the `input_required` response line; nil if it cannot be recorded.
  func holdAndAsk(
    requestID: RequestID, params: UnsafeRawBufferPointer?, call: ToolCall, decision: Authorization
  ) -> [UInt8]? {
    guard let hold = record(params: params, call: call, decision: decision) else { return nil }
    // A call that carried the server's own request state (its continuation) keeps it in ours.
    let parsed = params.flatMap { try? JSONValue.parse($0) }
    let token = ConfirmationToken(
      holdID: hold.id, digest: hold.digest, expiresAt: hold.deadline,
      serverState: parsed?["requestState"]?.stringValue, serverResponses: parsed?["inputResponses"]?.text())
    book.withLock { $0.awaitRetry(holdID: hold.id, deadline: hold.deadline) }
    logger.notice(
      "holding \(call.tool) for \(call.agent) as \(hold.id); asked in the client (input_required) and from any terminal"
    )
    let result = JSONValue.object([
      ("resultType", .string("input_required")),
      (
        "inputRequests",
        .object([
          (
            ConfirmationToken.inputKey,
            .object([
              ("method", .string("elicitation/create")), ("params", Self.elicitationParams(for: hold)),
            ])
          )
        ])
      ),
      ("requestState", .string(token.encoded(key: tokenKey))),
    ])
    return ProtocolLines.result(id: requestID, result)
  }

  enum Resumption {
    /// Forward this line (the call without warden's question and answer) to the server.
    case forward([UInt8])
    case refuse(ToolCall, Authorization)
  }

  /// A retried call carrying warden's `requestState`: checks the token against this exact call,
  /// takes the human's answer (unless a terminal decided first), and lets the call through once.
  func resume(
    requestID: RequestID, params: UnsafeRawBufferPointer, tokenText: String, gate: ToolCallGate, agent: String
  ) -> Resumption {
    let parsed = try? JSONValue.parse(params)
    let tool = parsed?["name"]?.stringValue ?? ""
    let call = ToolCall(
      server: gate.engine.configuration.serverName, agent: agent, tool: tool, arguments: .object([]))
    func refuse(_ reason: Authorization.Reason, _ explanation: String) -> Resumption {
      .refuse(call, Authorization(verdict: .deny, reason: reason, explanation: explanation))
    }
    guard let parsed else {
      return refuse(.badArguments, "warden could not read the retried call's params unambiguously")
    }
    guard let decoded = ConfirmationToken.decode(tokenText, key: tokenKey), case .success(let token) = decoded
    else {
      return refuse(
        .badArguments, "its requestState is not one this warden issued (forged or from another session)")
    }
    let digest = Self.digest(
      server: call.server, tool: tool, arguments: ToolCallReading.argumentBytes(params))
    guard token.digest == digest else {
      return refuse(
        .badArguments, "the call was changed after the human was asked about it (hold \(token.holdID))")
    }
    guard book.withLock({ $0.useConfirmation(holdID: token.holdID) }) else {
      return refuse(.badArguments, "the confirmation of hold \(token.holdID) was already used")
    }
    guard let held = try? store.hold(id: token.holdID) else {
      return refuse(.storeUnavailable, "warden could not read hold \(token.holdID) from its store")
    }
    let reading = Self.reading(
      parsed["inputResponses"]?[ConfirmationToken.inputKey], code: held.approvalCode)
    if reading.wrongCode { noteWrongCode() }
    let who = "the user of " + (session.withLock { $0.clientName } ?? "the client")
    let now = PolicyEngine.now()
    let outcome = try? store.decide(
      holdID: token.holdID,
      state: now >= token.expiresAt ? .expired : (reading.approve ? .approved : .rejected),
      by: who, channel: "elicitation", note: reading.note, at: now,
      attestation: now >= token.expiresAt ? .warden : reading.attestation)
    guard let outcome else {
      return refuse(.storeUnavailable, "warden could not record the decision on the hold")
    }
    switch outcome.state {
    case .approved where !channelMayApprove(outcome.channel):
      return refuse(
        .rejected,
        "it was approved via \(outcome.channel ?? "?"), a channel confirm.channels does not allow (hold \(token.holdID))"
      )
    case .approved:
      logger.notice("\(token.holdID) approved by \(outcome.decidedBy ?? who) via \(outcome.channel ?? "?")")
    case .pending, .expired:
      return refuse(
        .confirmationTimedOut,
        "it needed a human's confirmation and nobody decided in time (hold \(token.holdID))")
    case .rejected, .cancelled:
      return refuse(
        .rejected,
        "\(outcome.decidedBy ?? "a human") rejected it (hold \(token.holdID), via \(outcome.channel ?? "?"))"
          + (outcome.note.map { $0.isEmpty ? "" : ": \($0)" } ?? ""))
    }
    // Approved. The delegation may have changed while the human thought: decide again, and let a
    // confirmation through (it was just given), but not a denial.
    switch gate.judge(params: params, agent: agent) {
    case .refuse(let again, let decision) where decision.verdict == .deny:
      return .refuse(again, decision)
    default:
      break
    }
    return .forward(
      Self.continuation(
        requestID: requestID, params: params, serverState: token.serverState,
        serverResponses: token.serverResponses))
  }

  /// The call as the server gets it after an approval: the retried params with warden's own
  /// `requestState` and `inputResponses` taken out (and the server's own put back), every other
  /// member, `arguments` above all, copied as the exact bytes the human approved.
  static func continuation(
    requestID: RequestID, params: UnsafeRawBufferPointer, serverState: String?, serverResponses: String?
  ) -> [UInt8] {
    var members: [[UInt8]] = []
    if case .success(let found) = ObjectMembers.split(params) {
      for member in found
      where !member.key.hasSameBytes(as: "requestState") && !member.key.hasSameBytes(as: "inputResponses") {
        members.append(
          JSONValue.string(member.key).serialized() + [UInt8(ascii: ":")] + Array(params[member.value]))
      }
    }
    if let serverState {
      members.append(Array("\"requestState\":".utf8) + JSONValue.string(serverState).serialized())
    }
    if let serverResponses, let value = try? JSONValue.parse(serverResponses) {
      members.append(Array("\"inputResponses\":".utf8) + value.serialized())
    }
    return ProtocolLines.toolsCall(id: requestID, paramsMembers: members)
  }

  /// Expires holds whose client never came back with an answer.
  func expireUnanswered(now: Int64) {
    let overdue = book.withLock { $0.overdueRetries(now: now) }
    for id in overdue {
      _ = try? store.decide(
        holdID: id, state: .expired, by: "warden", channel: "timeout", note: "no answer in time", at: now)
    }
  }
}
