import WardenCore
import WardenJSON

/// Amends the few server results the delegation shows in: `tools/list` (each tool marked, or hidden,
/// by how it stands) and `initialize` / `server/discover` (a summary of the delegation in
/// `instructions`, and `tools.listChanged`, since warden announces grant changes).
///
/// Only these results are re-encoded. One that cannot be read unambiguously is never passed on
/// unchanged: the server's own text could then pose as warden's marks, so the client gets an error.
struct ResultAmender {
  let engine: PolicyEngine

  static let metaKey = "dev.warden/delegation"

  enum Outcome: Equatable {
    /// Nothing to amend (an error response): forward it as it is.
    case unchanged
    case replaced([UInt8])
    /// The result cannot be read unambiguously, or is not the shape its method has.
    case unreadable(String)
  }

  func amend(method: String, line: UnsafeRawBufferPointer, envelope: Envelope, agent: String) -> Outcome {
    guard !envelope.isError else { return .unchanged }
    guard let id = envelope.id, let payload = envelope.payload else { return .unreadable("no result") }
    let result: JSONValue
    do {
      result = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: line[payload]))
    } catch {
      return .unreadable("\(error)")
    }
    guard result.kind == .object else { return .unreadable("the result is not an object") }
    switch method {
    case "tools/list":
      guard let amended = amendToolList(result, agent: agent) else {
        return .unreadable("its tools are not a list")
      }
      return .replaced(ProtocolLines.result(id: id, amended))
    case "initialize", "server/discover":
      return .replaced(ProtocolLines.result(id: id, amendHandshake(result, agent: agent)))
    default:
      return .unchanged
    }
  }

  /// The server's own text with anything that looks like warden's marks defused: `[warden:` becomes
  /// `[server text, not warden:`, so only warden's own notes read as warden's.
  static func defused(_ text: String) -> String {
    // Checked on the bytes first: the replacement itself is slow, and almost no text needs it.
    var copy = text
    let suspicious = copy.withUTF8 { ClientSide.contains(UnsafeRawBufferPointer($0), "[warden:") }
    return suspicious ? text.replacing("[warden:", with: "[server text, not warden:") : text
  }

  private func amendToolList(_ result: JSONValue, agent: String) -> JSONValue? {
    guard let tools = result["tools"], tools.kind == .array else { return nil }
    // First every tool's name and hints, then their standings in one pass over the delegation.
    var entries: [(tool: JSONValue, name: String, hints: ToolAnnotations)?] = []
    entries.reserveCapacity(tools.count)
    for index in 0..<tools.count {
      guard let tool = tools[index] else { continue }
      guard tool.kind == .object, let name = tool["name"]?.stringValue else {
        entries.append(nil)
        continue
      }
      let hints = ToolAnnotations(listed: tool)
      entries.append((tool, name, hints))
    }
    let named = entries.compactMap { $0 }
    // Each tool against its pin: a tool that changed or appeared is not delegated, whatever the
    // grants say, until a human accepts it.
    let drifted = engine.observeTools(
      named.compactMap { entry in ToolPinning.definition(of: entry.tool).map { (entry.name, $0) } })
    var standings = engine.standings(ofTools: named.map { ($0.name, $0.hints) }, agent: agent).makeIterator()
    var annotations: [String: ToolAnnotations] = [:]
    var kept: [JSONValue] = []
    kept.reserveCapacity(entries.count)
    let ownTool = engine.configuration.delegationTool
    for (index, entry) in entries.enumerated() {
      guard let entry else {
        if let tool = tools[index] { kept.append(tool) }
        continue
      }
      if ownTool, entry.name == DelegationTool.name {
        // Warden answers this name itself: the server's tool of the same name is never reachable.
        _ = standings.next()
        continue
      }
      annotations[entry.name] = entry.hints
      guard let (listed, action) = standings.next() else { break }
      let drift = drifted[entry.name]
      let standing = drift == nil ? listed : .notDelegated
      if standing == .notDelegated && engine.configuration.hideUndelegated { continue }
      let note: String
      switch standing {
      case .delegated: note = "[warden: delegated]"
      case .needsConfirmation: note = "[warden: needs a human's confirmation for each call]"
      case .notDelegated:
        note =
          drift == nil
          ? "[warden: not delegated; calls will be denied]"
          : "[warden: this tool changed since a human accepted it; calls will be denied until they review it]"
      }
      let tool = entry.tool
      let description = tool["description"]?.stringValue.map { Self.defused($0) + "\n\n" + note } ?? note
      var meta: [(String, JSONValue)] = [("status", .string(standing.rawValue))]
      if let action { meta.append(("action", .string(action))) }
      let existingMeta = tool["_meta"].flatMap { $0.kind == .object ? $0 : nil } ?? JSONValue.object([])
      kept.append(
        tool.setting("description", to: .string(description))
          .setting("_meta", to: existingMeta.setting(Self.metaKey, to: .object(meta))))
    }
    engine.noteAnnotations(annotations)
    if ownTool { kept.append(DelegationTool.listEntry) }
    return result.setting("tools", to: .array(kept))
  }

  private func amendHandshake(_ result: JSONValue, agent: String) -> JSONValue {
    let summary = DelegationText.summary(
      server: engine.configuration.serverName, agent: agent, liveGrants: engine.liveGrants)
    let instructions =
      result["instructions"]?.stringValue.map { Self.defused($0) + "\n\n" + summary } ?? summary
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

extension ToolAnnotations {
  /// The hints of a tool as a `tools/list` result shows it (absent when it does not say).
  init(listed tool: JSONValue) {
    self.init(
      readOnly: tool["annotations"]?["readOnlyHint"]?.boolValue,
      destructive: tool["annotations"]?["destructiveHint"]?.boolValue)
  }
}
