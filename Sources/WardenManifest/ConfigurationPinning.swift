import Yams

/// Pins `servers.NAME.agent` in the text of `config.yaml`, editing lines so the human's comments and
/// layout stay: a `servers:` block is added at the end, a server added at the top of it, an `agent:`
/// line added to a server's block. Every edit is checked by reading the result: when the file's shape
/// is one the editor cannot change safely (flow style, anchors, a key written twice...), it says so
/// and gives the lines to add by hand instead.
public enum ConfigurationPinning {
  public enum Outcome: Sendable, Equatable {
    /// The new text of the file.
    case edited(String)
    /// Already pinned so.
    case unchanged
    /// The server is pinned to another agent; left as it is.
    case conflict(pinned: String)
    /// The file cannot be edited safely: these are the lines to add under `servers:`.
    case cannotEdit(String)
  }

  /// `text` (nil: no file) with `servers.SERVER.agent` set to `agent`.
  public static func pin(agent: String, server: String, in text: String?) -> Outcome {
    let original = text ?? ""
    let key = yamlKey(server)
    let manual = "  \(key):\n    agent: \(agent)\n"
    let before: WardenConfiguration
    do { before = try WardenConfiguration.parse(original, file: "config.yaml") } catch {
      return .cannotEdit(manual)
    }
    if let pinned = before.servers[server]?.agent {
      return pinned == agent ? .unchanged : .conflict(pinned: pinned)
    }
    guard let edited = edit(original, key: key, server: server, agent: agent) else {
      return .cannotEdit(manual)
    }
    var expected = before
    expected.servers[server, default: WardenConfiguration.ServerSettings()].agent = agent
    guard let after = try? WardenConfiguration.parse(edited, file: "config.yaml"), after == expected else {
      return .cannotEdit(manual)
    }
    return .edited(edited)
  }

  static func edit(_ text: String, key: String, server: String, agent: String) -> String? {
    guard let node = try? Yams.compose(yaml: text) else {
      // Nothing but comments and blank lines (or nothing at all).
      return terminated(text) + "servers:\n  \(key):\n    agent: \(agent)\n"
    }
    guard let top = node.mapping, top.style != .flow else { return nil }
    guard let serversValue = top.first(where: { $0.key.string == "servers" })?.value else {
      return terminated(text) + "servers:\n  \(key):\n    agent: \(agent)\n"
    }
    guard let servers = serversValue.mapping, servers.style != .flow, let first = servers.first else {
      return nil
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if let (_, settings) = servers.first(where: { $0.key.string == server }) {
      guard let mapping = settings.mapping, mapping.style != .flow, let child = mapping.first else {
        return nil
      }
      let line = child.key.mark?.line ?? 0
      let column = child.key.mark?.column ?? 0
      guard line >= 1, line <= lines.count, column >= 1 else { return nil }
      lines.insert(String(repeating: " ", count: column - 1) + "agent: \(agent)", at: line - 1)
    } else {
      let line = first.key.mark?.line ?? 0
      let column = first.key.mark?.column ?? 0
      guard line >= 1, line <= lines.count, column >= 1 else { return nil }
      let indent = String(repeating: " ", count: column - 1)
      lines.insert(contentsOf: ["\(indent)\(key):", "\(indent)  agent: \(agent)"], at: line - 1)
    }
    return lines.joined(separator: "\n")
  }

  static func terminated(_ text: String) -> String {
    text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
  }

  /// A server name as a YAML key: plain when that reads back as the same string, else double-quoted.
  static func yamlKey(_ name: String) -> String {
    let plain =
      !name.isEmpty
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
          || $0 == "-"
          || $0 == "."
      } && !name.hasPrefix("-") && !name.hasPrefix(".")
    // `true`, `null`, `1e3` and the like read as something other than text.
    if plain, (try? Yams.load(yaml: name)) as? String == name {
      return name
    }
    var out = "\""
    for scalar in name.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case let control
      where control.value < 0x20 || control.value == 0x7F || (0x80..<0xA0).contains(control.value):
        out +=
          "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count)
          + String(control.value, radix: 16)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
