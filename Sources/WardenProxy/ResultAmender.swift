import WardenCore
import WardenJSON

/// Amends the few server results the delegation shows in: `tools/list` (each tool marked, or hidden,
/// by how it stands) and `initialize` / `server/discover` (a summary of the delegation in
/// `instructions`, and `tools.listChanged`, since warden announces grant changes).
///
/// Only these results are re-encoded; when one cannot be read unambiguously it passes unchanged
/// (the marks are advice to the agent; enforcement happens on every call).
struct ResultAmender {
  let engine: PolicyEngine

  static let metaKey = "dev.warden/delegation"

  /// A replacement line for the response, or nil to forward the original.
  func amend(method: String, line: UnsafeRawBufferPointer, envelope: Envelope, agent: String) -> [UInt8]? {
    guard !envelope.isError, let id = envelope.id, let payload = envelope.payload,
      let result = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: line[payload])),
      result.kind == .object
    else { return nil }
    let amended: JSONValue?
    switch method {
    case "tools/list": amended = amendToolList(result, agent: agent)
    case "initialize", "server/discover": amended = amendHandshake(result, agent: agent)
    default: amended = nil
    }
    guard let amended else { return nil }
    return ProtocolLines.result(id: id, amended)
  }

  private func amendToolList(_ result: JSONValue, agent: String) -> JSONValue? {
    guard let tools = result["tools"], tools.kind == .array else { return nil }
    var annotations: [String: ToolAnnotations] = [:]
    var kept: [JSONValue] = []
    for index in 0..<tools.count {
      guard let tool = tools[index], tool.kind == .object, let name = tool["name"]?.stringValue else {
        if let tool = tools[index] { kept.append(tool) }
        continue
      }
      let hints = ToolAnnotations(
        readOnly: tool["annotations"]?["readOnlyHint"]?.boolValue,
        destructive: tool["annotations"]?["destructiveHint"]?.boolValue)
      annotations[name] = hints
      let (standing, action) = engine.standing(ofTool: name, agent: agent, annotations: hints)
      if standing == .notDelegated && engine.configuration.hideUndelegated { continue }
      let note: String
      switch standing {
      case .delegated: note = "[warden: delegated]"
      case .needsConfirmation: note = "[warden: needs a human's confirmation for each call]"
      case .notDelegated: note = "[warden: not delegated; calls will be denied]"
      }
      let description = tool["description"]?.stringValue.map { $0 + "\n\n" + note } ?? note
      var meta: [(String, JSONValue)] = [("status", .string(standing.rawValue))]
      if let action { meta.append(("action", .string(action))) }
      let existingMeta = tool["_meta"].flatMap { $0.kind == .object ? $0 : nil } ?? JSONValue.object([])
      kept.append(
        tool.setting("description", to: .string(description))
          .setting("_meta", to: existingMeta.setting(Self.metaKey, to: .object(meta))))
    }
    engine.noteAnnotations(annotations)
    return result.setting("tools", to: .array(kept))
  }

  private func amendHandshake(_ result: JSONValue, agent: String) -> JSONValue {
    let summary = DelegationText.summary(
      server: engine.configuration.serverName, agent: agent, liveGrants: engine.liveGrants)
    let instructions = result["instructions"]?.stringValue.map { $0 + "\n\n" + summary } ?? summary
    var amended = result.setting("instructions", to: .string(instructions))
    if let capabilities = result["capabilities"], capabilities.kind == .object,
      let tools = capabilities["tools"],
      tools.kind == .object
    {
      amended = amended.setting(
        "capabilities", to: capabilities.setting("tools", to: tools.setting("listChanged", to: .bool(true))))
    }
    return amended
  }
}
