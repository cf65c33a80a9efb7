import Crypto
import WardenCore
import WardenJSON

/// Asking the human about a held call in the per-request era (2026-07-28): servers do not send
/// requests over stdio there, so warden answers the call at once with an `input_required` result
/// holding its question and a signed `requestState`; the client shows the form and retries the call
/// with the answer in `inputResponses`. The hold stays in the store meanwhile, so a terminal can
/// decide it too; the first decision wins (`CallMachine+Retry`). This is the signing and reading
/// of the token, which needs this process's key.
extension CallExecutor {
  /// The `input_required` response that asks about `hold`. A call that carried the server's own
  /// request state (its continuation) keeps it in warden's token.
  func inputRequired(requestID: RequestID, hold: Hold, params: [UInt8]?) -> [UInt8] {
    let parsed = params.flatMap { try? JSONValue.parse($0) }
    let token = ConfirmationToken(
      holdID: hold.id, digest: hold.digest, paramsDigest: Self.paramsDigest(parsed), expiresAt: hold.deadline,
      serverState: parsed?["requestState"]?.stringValue, serverResponses: parsed?["inputResponses"]?.text())
    let result = JSONValue.object([
      ("resultType", .string("input_required")),
      (
        "inputRequests",
        .object([
          (
            ConfirmationToken.inputKey,
            .object([("method", .string("elicitation/create")), ("params", HoldQuestion.params(for: hold))])
          )
        ])
      ),
      ("requestState", .string(token.encoded(key: tokenKey))),
    ])
    return ProtocolLines.result(id: requestID, result)
  }

  /// SHA-256 of the canonical JSON of `params` without `requestState` and `inputResponses` (which
  /// carry the question and its answer): what else travels with the call, bound by the approval.
  static func paramsDigest(_ params: JSONValue?) -> String {
    guard let params, params.kind == .object else { return "" }
    let rest = params.removing("requestState").removing("inputResponses")
    return Hex.encode(SHA256.hash(data: Array(rest.canonicalText().utf8)))
  }

  /// A retried call carrying a `requestState` that starts like warden's, as the machine's event:
  /// the token's claim if its signature holds, the digest of the call as retried, and the answer.
  func retry(requestID: RequestID, params: UnsafeRawBufferPointer, tokenText: String, agent: String)
    -> CallMachine.Event
  {
    let parsed = try? JSONValue.parse(params)
    let tool = parsed?["name"]?.stringValue ?? ""
    let call = ToolCall(
      server: gate.engine.configuration.serverName, agent: agent, tool: tool, arguments: .object([]))
    let claim: Result<CallMachine.Claim, CallMachine.ClaimProblem>
    if parsed == nil {
      claim = .failure(.unreadableParams)
    } else if let decoded = ConfirmationToken.decode(tokenText, key: tokenKey),
      case .success(let token) = decoded
    {
      claim = .success(
        CallMachine.Claim(
          holdID: token.holdID, digest: token.digest, paramsDigest: token.paramsDigest,
          expiresAt: token.expiresAt,
          serverState: token.serverState,
          serverResponses: token.serverResponses))
    } else {
      claim = .failure(.notIssuedHere)
    }
    return .retried(
      CallMachine.Retry(
        requestID: requestID, params: Array(params), call: call, claim: claim,
        digest: Self.digest(
          server: call.server, tool: tool, arguments: ToolCallReading.argumentBytes(params)),
        paramsDigest: Self.paramsDigest(parsed),
        answer: parsed?["inputResponses"]?[ConfirmationToken.inputKey].map { $0.serialized() },
        now: PolicyEngine.now(), arguments: auditArguments(tool: tool, params: params)))
  }
}
