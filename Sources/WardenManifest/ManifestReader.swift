import WardenCore
import Yams

/// Walks a composed YAML tree into a `Manifest`, collecting every problem on the way instead of stopping
/// at the first.
struct ManifestReader {
  static let topLevelKeys = ["server", "aliases", "undeclared", "base", "tools", "warden_env"]
  static let toolKeys = [
    "action", "resource", "destructive", "redact", "base", "literal_paths", "rules", "sql", "lookup",
  ]
  static let lookupKeys = ["tool", "arguments"]
  static let ruleKeys = ["when", "action", "resource", "destructive"]
  static let conditionKeys = ["present", "absent", "equals", "in"]
  static let sqlKeys = ["dialect", "schema"]

  let file: String
  let lines: [Substring]
  private(set) var errors: [ManifestError] = []

  init(file: String, text: String) {
    self.file = file
    lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  /// The errors in the order of their position in the file.
  var sortedErrors: [ManifestError] {
    errors.enumerated().sorted {
      ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
    }.map(\.element)
  }

  mutating func report(_ message: String, line: Int, column: Int) {
    errors.append(ManifestError(file: file, line: line, column: column, message: message))
  }

  mutating func report(_ message: String, at mark: Mark?) {
    report(message, line: mark?.line ?? 0, column: mark?.column ?? 0)
  }

  mutating func report(_ message: String, at node: Node) {
    report(message, at: node.mark)
  }

  /// The manifest, or nil when a required part is missing; check `errors` either way.
  mutating func manifest(from root: Node) -> Manifest? {
    guard case .mapping(let mapping) = root else {
      report("a manifest must be a mapping with 'server' and 'tools', not \(Self.describe(root))", at: root)
      return nil
    }
    var server: String?
    var aliases: [String] = []
    var undeclared = UndeclaredPolicy.deny
    var base: String?
    var tools: [String: ToolRule]?
    var wardenEnvironment: [String] = []
    let entries = entries(of: mapping, known: Self.topLevelKeys, place: "")
    for entry in entries {
      switch entry.key {
      case "server": server = serverName(entry)
      case "aliases": aliases = aliasNames(entry, server: server)
      case "undeclared": undeclared = undeclaredPolicy(entry) ?? .deny
      case "base": base = absolutePath(entry)
      case "tools": tools = toolRules(entry)
      case "warden_env": wardenEnvironment = wardenVariables(entry)
      default: break
      }
    }
    let present = Set(entries.map(\.key))
    if !present.contains("server") {
      report("missing key 'server': the name grants are written against", at: root)
    }
    if !present.contains("tools") {
      report("missing key 'tools' (write 'tools: {}' for a server whose every tool is undeclared)", at: root)
    }
    guard let server, let tools else { return nil }
    return Manifest(
      server: server, aliases: aliases, undeclared: undeclared, base: base, tools: tools,
      wardenEnvironment: wardenEnvironment)
  }

  /// The names a manifest claims (`server`, then `aliases`) when they can be read without doubt
  /// (each key once, every name valid, no merge key), even if the rest of the manifest is invalid;
  /// nil otherwise.
  mutating func claimedNames(from root: Node) -> [String]? {
    guard case .mapping(let mapping) = root else { return nil }
    let before = errors.count
    var server: String?
    var aliases: [String] = []
    for entry in entries(of: mapping, known: nil, place: "") {
      switch entry.key {
      case "server": server = serverName(entry)
      case "aliases": aliases = aliasNames(entry, server: server)
      case "<<": return nil
      default: break
      }
    }
    guard errors.count == before, let server else { return nil }
    return [server] + aliases
  }

  /// `warden_env`: names of warden's own variables (`WARDEN_...`) the server may keep.
  private mutating func wardenVariables(_ entry: Entry) -> [String] {
    var names: [String] = []
    for (name, node) in strings(entry) ?? [] {
      guard name.hasPrefix("WARDEN_"), name.count > 7, name.unicodeScalars.allSatisfy(Self.isNameCharacter)
      else {
        report("'\(name)' in warden_env is not a WARDEN_ variable name", at: node)
        continue
      }
      names.append(name)
    }
    return names
  }

  private mutating func serverName(_ entry: Entry) -> String? {
    guard let name = string(entry) else { return nil }
    guard Self.isName(name) else {
      report("invalid server name '\(name)': use letters, digits, '_', '.' and '-'", at: entry.value)
      return nil
    }
    return name
  }

  private mutating func aliasNames(_ entry: Entry, server: String?) -> [String] {
    var names: [String] = []
    for (name, node) in strings(entry) ?? [] {
      if !Self.isName(name) {
        report("invalid alias '\(name)': use letters, digits, '_', '.' and '-'", at: node)
      } else if names.contains(name) || name == server {
        report("duplicate alias '\(name)'", at: node)
      } else {
        names.append(name)
      }
    }
    return names
  }

  private mutating func undeclaredPolicy(_ entry: Entry) -> UndeclaredPolicy? {
    guard let text = string(entry) else { return nil }
    guard let policy = UndeclaredPolicy(rawValue: text) else {
      let known = UndeclaredPolicy.allCases.map(\.rawValue).joined(separator: ", ")
      report("unknown 'undeclared' policy '\(text)' (one of: \(known))", at: entry.value)
      return nil
    }
    return policy
  }

  /// An absolute path (`base`).
  mutating func absolutePath(_ entry: Entry) -> String? {
    guard let path = string(entry) else { return nil }
    guard path.hasPrefix("/"), !path.contains("\u{0}") else {
      report("'\(entry.key)' must be an absolute path, not '\(path)'", at: entry.value)
      return nil
    }
    return path
  }

  /// Letters, digits, `_`, `.` and `-`; not empty.
  static func isName(_ text: String) -> Bool {
    !text.isEmpty
      && text.unicodeScalars.allSatisfy { isNameCharacter($0) || $0 == "." }
  }

  static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
      || scalar == "_" || scalar == "-"
  }
}
