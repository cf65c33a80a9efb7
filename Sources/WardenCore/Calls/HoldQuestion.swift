import WardenJSON

/// What the human is asked about a held call in the agent's own UI: the `elicitation/create` params
/// (handshake era) or the same question inside an `input_required` result (per-request era).
public enum HoldQuestion {
  /// The `elicitation/create` params that ask about `hold`: the question, a required choice and,
  /// unless the client's answers are trusted, the approval code.
  public static func params(for hold: Hold) -> JSONValue {
    let decision = JSONValue.object([
      ("type", .string("string")), ("title", .string("Your decision")),
      ("enum", .array([.string("approve"), .string("deny")])),
      ("enumNames", .array([.string("Approve this call"), .string("Deny it")])),
    ])
    var properties: [(String, JSONValue)] = [("decision", decision)]
    if hold.approvalCode != nil {
      properties.append(
        (
          "code",
          .object([
            ("type", .string("string")), ("title", .string("Approval code")),
            (
              "description",
              .string(
                "To approve, the 6-digit code from the desktop notification or from `warden holds` in your terminal. One try; not needed to deny."
              )
            ),
            ("maxLength", .integer(16)),
          ])
        ))
    }
    return .object([
      ("message", .string(message(for: hold))),
      (
        "requestedSchema",
        .object([
          ("type", .string("object")),
          ("properties", .object(properties)),
          ("required", .array([.string("decision")])),
        ])
      ),
    ])
  }

  /// What the human is asked: everything needed to decide, escaped, long values cut.
  public static func message(for hold: Hold) -> String {
    let show = HumanText.escaped
    var lines = [
      "Warden is holding a tool call that needs your confirmation.", "",
      "Server: \(show(hold.server))", "Agent: \(show(hold.agent))", "Tool: \(show(hold.tool))",
    ]
    if hold.approvalCode != nil {
      lines.append(
        "To approve, choose approve and enter the approval code shown in the desktop notification or by `warden holds` in your terminal."
      )
    }
    let arguments = hold.arguments.isEmpty ? "(none)" : hold.arguments
    lines.append(
      "Arguments (exactly as the server gets them): "
        + HumanText.shortened(
          arguments, limit: 1200,
          rest: "digest \(hold.digest.prefix(16)); read it all with: warden holds --full"))
    lines.append(
      "It means: \(show(hold.action))\(hold.resources.isEmpty ? "" : " on " + hold.resources.map(show).joined(separator: ", "))"
    )
    lines.append("Held because: \(show(hold.explanation))")
    if let grant = hold.grantID { lines.append("Delegation: \(grant), \"\(show(hold.purpose ?? ""))\"") }
    lines.append("")
    lines.append(
      "Approve it only if you want it done now. (Hold \(hold.id); you can also decide with: warden confirm)")
    return lines.joined(separator: "\n")
  }

  /// The call as the server gets it after an approval in the per-request era: the retried params
  /// with warden's own `requestState` and `inputResponses` taken out (and the server's own put
  /// back), every other member, `arguments` above all, copied as the exact bytes the human approved.
  public static func continuation(
    requestID: RequestID, params: [UInt8], serverState: String?, serverResponses: String?
  ) -> [UInt8] {
    var members: [[UInt8]] = []
    params.withUnsafeBytes { params in
      if case .success(let found) = ObjectMembers.split(params) {
        for member in found
        where !member.key.hasSameBytes(as: "requestState") && !member.key.hasSameBytes(as: "inputResponses") {
          members.append(
            JSONValue.string(member.key).serialized() + [UInt8(ascii: ":")] + Array(params[member.value]))
        }
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
}
