import WardenCore
import Yams

extension ManifestReader {
  /// The `tools` mapping: tool name to rule. Nil when it is not a mapping.
  mutating func toolRules(_ entry: Entry) -> [String: ToolRule]? {
    guard case .mapping(let mapping) = entry.value else {
      report(
        "'tools' must be a mapping of tool names to rules, not \(Self.describe(entry.value))", at: entry.value
      )
      return nil
    }
    var rules: [String: ToolRule] = [:]
    for tool in entries(of: mapping, known: nil, place: "in 'tools'") {
      guard !tool.key.isEmpty else {
        report("a tool name must not be empty", at: tool.keyNode)
        continue
      }
      if let rule = toolRule(tool) { rules[tool.key] = rule }
    }
    return rules
  }

  private mutating func toolRule(_ tool: Entry) -> ToolRule? {
    guard case .mapping(let mapping) = tool.value else {
      report(
        "tool '\(tool.key)' must be a mapping with at least 'action', not \(Self.describe(tool.value))",
        at: position(of: tool))
      return nil
    }
    var action: String?
    var resources: [ResourceTemplate] = []
    var destructive = false
    var redact: [String] = []
    var base: String?
    var literalPaths = false
    var sawAction = false
    for entry in entries(of: mapping, known: Self.toolKeys, place: "in tool '\(tool.key)'") {
      switch entry.key {
      case "action":
        sawAction = true
        action = actionName(entry)
      case "resource": resources = templates(entry)
      case "destructive": destructive = bool(entry) ?? false
      case "redact": redact = argumentNames(entry)
      case "base": base = absolutePath(entry)
      case "literal_paths": literalPaths = bool(entry) ?? false
      default: break
      }
    }
    if !sawAction {
      report("tool '\(tool.key)' has no 'action'", at: tool.keyNode)
    }
    guard let action else { return nil }
    return ToolRule(
      action: action, resources: resources, destructive: destructive, redact: redact, base: base,
      literalPaths: literalPaths)
  }

  /// A dotted action name such as `git.write`: no globs, no empty segments.
  private mutating func actionName(_ entry: Entry) -> String? {
    guard let action = string(entry) else { return nil }
    if action.isEmpty {
      report("'action' must not be empty", at: entry.value)
      return nil
    }
    if action.contains("*") {
      report(
        "action '\(action)' contains a glob: a manifest names exactly one action, globs belong in grants",
        at: entry.value)
      return nil
    }
    let segments = action.split(separator: ".", omittingEmptySubsequences: false)
    guard segments.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(Self.isNameCharacter) }) else {
      report(
        "invalid action '\(action)': use dot-separated names of letters, digits, '_' and '-', such as 'git.write'",
        at: entry.value)
      return nil
    }
    return action
  }

  private mutating func templates(_ entry: Entry) -> [ResourceTemplate] {
    var templates: [ResourceTemplate] = []
    for (text, node) in strings(entry) ?? [] {
      guard !text.isEmpty else {
        report("a resource template must not be empty", at: node)
        continue
      }
      do throws(TemplateSyntaxError) {
        templates.append(try ResourceTemplate(text))
      } catch {
        let message = "invalid resource template '\(text)': \(error.message)"
        if let scalar = node.scalar,
          let position = TemplatePosition.locate(
            offset: error.offset, in: text, scalar: scalar, lines: lines)
        {
          report(message, line: position.line, column: position.column)
        } else {
          report(message + " (at character \(error.offset + 1))", at: node)
        }
      }
    }
    return templates
  }

  private mutating func argumentNames(_ entry: Entry) -> [String] {
    var names: [String] = []
    for (name, node) in strings(entry) ?? [] {
      if name.isEmpty {
        report("argument names in 'redact' must not be empty", at: node)
      } else {
        names.append(name)
      }
    }
    return names
  }
}
