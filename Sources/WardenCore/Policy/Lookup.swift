import WardenJSON

/// A value a manifest looks up from the server itself before deciding (`lookup:` of a tool), for
/// tools that address resources by an id that says nothing about them: `delete_volume(volume_id)`
/// looks up `get_volume(volume_id)` and reads its `environment`, so a forbid on
/// `env:production/**` applies to a volume named only by its id.
///
/// Warden calls the lookup tool itself, with request ids of its own, and reads the answer from
/// `structuredContent` (an object) or the first text content (a JSON object). No answer, an error,
/// or an answer without the value a template reads denies the call.
public struct Lookup: Sendable, Equatable {
  /// The name templates read it by: `{lookup.NAME.FIELD}`.
  public var name: String
  /// The server's tool warden calls; the manifest declares it, not destructive.
  public var tool: String
  /// Its arguments, each a template over the call's arguments and the launch context; a template
  /// that is one placeholder alone (`{volume_id}`) passes the argument's JSON value as it is.
  public var arguments: [(name: String, template: ResourceTemplate)]

  public init(name: String, tool: String, arguments: [(name: String, template: ResourceTemplate)]) {
    self.name = name
    self.tool = tool
    self.arguments = arguments
  }

  public static func == (left: Lookup, right: Lookup) -> Bool {
    left.name == right.name && left.tool == right.tool
      && left.arguments.map(\.name) == right.arguments.map(\.name)
      && left.arguments.map(\.template) == right.arguments.map(\.template)
  }

  /// The arguments of the lookup call for `input`.
  public func callArguments(for input: TemplateInput) throws(ScopeError) -> JSON {
    var members: [JSON.Member] = []
    for (name, template) in arguments {
      if let argument = template.soleArgument {
        guard let value = input.arguments[argument], value != .null else {
          throw ScopeError("missing argument '\(argument)' (lookup '\(self.name)')")
        }
        members.append(JSON.Member(name, value))
        continue
      }
      let values = try template.resources(for: input, base: nil)
      guard values.count == 1 else {
        throw ScopeError("the lookup '\(self.name)' argument '\(name)' gives \(values.count) values, not one")
      }
      members.append(JSON.Member(name, .string(values[0].text)))
    }
    return .object(members)
  }

  /// What a lookup call's JSON-RPC response says: the answer object, or why there is none.
  public static func answer(fromResponse response: JSONValue) -> Result<JSON, ScopeError> {
    if let error = response["error"] {
      let message = error["message"]?.stringValue ?? "an error"
      return .failure(ScopeError("the server answered with an error: \(message)"))
    }
    guard let result = response["result"], result.kind == .object else {
      return .failure(ScopeError("the server's answer has no result"))
    }
    if let type = result["resultType"]?.stringValue, type != "complete" {
      return .failure(ScopeError("the server's answer is '\(type)', not a complete result"))
    }
    if result["isError"]?.boolValue == true {
      return .failure(ScopeError("the lookup tool failed"))
    }
    if let structured = result["structuredContent"], structured.kind == .object {
      return .success(structured.json)
    }
    if let content = result["content"], content.kind == .array, let first = content[0],
      first["type"]?.stringValue == "text", let text = first["text"]?.stringValue,
      let parsed = try? JSONValue.parse(text), parsed.kind == .object
    {
      return .success(parsed.json)
    }
    return .failure(ScopeError("the server's answer holds no JSON object (structuredContent or JSON text)"))
  }
}

/// One lookup a call needs, ready to be sent: the key it is cached by is the tool and the exact
/// canonical arguments.
public struct LookupRequest: Sendable, Equatable {
  public var name: String
  public var tool: String
  public var arguments: JSON

  public init(name: String, tool: String, arguments: JSON) {
    self.name = name
    self.tool = tool
    self.arguments = arguments
  }

  public var cacheKey: String { tool + "\u{0}" + arguments.canonicalText }
}

extension Manifest {
  /// The lookups a call of `call.tool` needs before it can be decided (none for most tools). Throws
  /// when their arguments cannot be computed (the call is then refused like one whose arguments do
  /// not fit).
  public func lookupRequests(for call: ToolCall, context: [String: String]) throws(ScopeError)
    -> [LookupRequest]
  {
    guard let index = tools.index(forKey: call.tool), tools[index].key.hasSameBytes(as: call.tool),
      !tools[index].value.lookups.isEmpty, case .object = call.arguments
    else {
      return []
    }
    let rule = tools[index].value
    let input = TemplateInput(arguments: call.arguments, context: context)
    return try rule.lookups.map { lookup throws(ScopeError) in
      LookupRequest(name: lookup.name, tool: lookup.tool, arguments: try lookup.callArguments(for: input))
    }
  }
}
