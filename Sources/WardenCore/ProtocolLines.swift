import WardenJSON

/// Every JSON-RPC line warden composes itself, built in one place: results it answers for the
/// server (denials, amended results, `input_required`), requests and notifications of its own, and
/// the continuation of an approved call. Each is one line with its `\n`; ids are written as the
/// peer wrote them, so a number id comes back exactly (`1.0` stays `1.0`).
public enum ProtocolLines {
  /// `{"jsonrpc":"2.0","id":ID,"result":RESULT}`.
  public static func result(id: RequestID, _ result: JSONValue) -> [UInt8] {
    Array("{\"jsonrpc\":\"2.0\",\"id\":\(id.jsonText),\"result\":".utf8) + result.serialized()
      + Array("}\n".utf8)
  }

  /// A request of warden's own (to the client).
  public static func request(id: RequestID, method: String, params: JSONValue) -> [UInt8] {
    JSONValue.object([
      ("jsonrpc", .string("2.0")), ("id", id.jsonValue), ("method", .string(method)), ("params", params),
    ]).serialized() + [0x0A]
  }

  /// A notification of warden's own.
  public static func notification(method: String, params: JSONValue? = nil) -> [UInt8] {
    var members: [(String, JSONValue)] = [("jsonrpc", .string("2.0")), ("method", .string(method))]
    if let params { members.append(("params", params)) }
    return JSONValue.object(members).serialized() + [0x0A]
  }

  /// `notifications/cancelled` for a request warden sent.
  public static func cancelled(requestID: RequestID, reason: String) -> [UInt8] {
    notification(
      method: "notifications/cancelled",
      params: .object([("requestId", requestID.jsonValue), ("reason", .string(reason))]))
  }

  /// `notifications/tools/list_changed`.
  public static let toolsListChanged = notification(method: "notifications/tools/list_changed")

  /// A `tools/call` request whose params are the given members, each already `"key":value` bytes
  /// (copied from the client's line, so the arguments stay exactly the bytes the human approved).
  public static func toolsCall(id: RequestID, paramsMembers: [[UInt8]]) -> [UInt8] {
    var line = Array("{\"jsonrpc\":\"2.0\",\"id\":\(id.jsonText),\"method\":\"tools/call\",\"params\":{".utf8)
    for (index, member) in paramsMembers.enumerated() {
      if index > 0 { line.append(UInt8(ascii: ",")) }
      line += member
    }
    return line + Array("}}\n".utf8)
  }

  /// The tool result that answers a call warden did not forward: `isError`, a message a model and a
  /// human can act on, and the structured decision under `_meta["dev.warden/decision"]`. In the
  /// per-request era (2026-07-28) every result states its `resultType`.
  public static func denial(
    id: RequestID, call: ToolCall, decision: Authorization, liveGrants: [Grant], perRequestEra: Bool
  ) -> [UInt8] {
    let message = DelegationText.denial(for: call, authorization: decision, liveGrants: liveGrants)
    var details: [(String, JSONValue)] = [
      ("verdict", .string(decision.verdict == .confirm ? "deny" : decision.verdict.rawValue)),
      ("reason", .string(decision.reason.rawValue)),
      ("explanation", .string(decision.explanation)),
      ("server", .string(call.server)),
      ("agent", .string(call.agent)),
      ("tool", .string(call.tool)),
    ]
    if decision.verdict == .confirm { details.append(("needsConfirmation", .bool(true))) }
    if let scopes = decision.scopes {
      details.append(("action", .string(scopes.action)))
      details.append(("resources", .array(scopes.resources.map { .string($0.text) })))
    }
    if !decision.uncovered.isEmpty {
      details.append(("uncovered", .array(decision.uncovered.map { .string($0.text) })))
    }
    if let forbid = decision.forbid { details.append(("forbid", .string(forbid.id))) }
    var members: [(String, JSONValue)] = [
      ("content", .array([.object([("type", .string("text")), ("text", .string(message))])])),
      ("isError", .bool(true)),
      ("_meta", .object([("dev.warden/decision", .object(details))])),
    ]
    if perRequestEra { members.append(("resultType", .string("complete"))) }
    return result(id: id, .object(members))
  }
}

extension RequestID {
  /// The id as a JSON value, for messages built as values.
  public var jsonValue: JSONValue {
    switch self {
    case .string(let text): return .string(text)
    case .integer(let value): return .integer(value)
    case .number(let literal): return (try? JSONValue.parse(literal)) ?? .string(literal)
    }
  }
}
