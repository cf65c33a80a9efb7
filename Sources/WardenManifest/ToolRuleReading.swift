import WardenCore
import WardenJSON
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
    var positions: [String: Node] = [:]
    for tool in entries(of: mapping, known: nil, place: "in 'tools'") {
      guard !tool.key.isEmpty else {
        report("a tool name must not be empty", at: tool.keyNode)
        continue
      }
      if let rule = toolRule(tool) {
        rules[tool.key] = rule
        positions[tool.key] = tool.keyNode
      }
    }
    checkLookups(rules, positions: positions)
    return rules
  }

  /// Each lookup calls a tool the manifest declares, that is not destructive and looks nothing up
  /// itself; each `{lookup.NAME...}` names a lookup of its tool.
  private mutating func checkLookups(_ rules: [String: ToolRule], positions: [String: Node]) {
    for (tool, rule) in rules.sorted(by: { $0.key < $1.key }) {
      let node = positions[tool]
      for lookup in rule.lookups {
        guard let target = rules[lookup.tool] else {
          report(
            "lookup '\(lookup.name)' of tool '\(tool)' calls '\(lookup.tool)', which the manifest does not declare",
            at: node?.mark)
          continue
        }
        if target.variants.contains(where: { $0.destructive || !$0.destructiveKinds.isEmpty }) {
          report(
            "lookup '\(lookup.name)' of tool '\(tool)' calls '\(lookup.tool)', which is destructive: a lookup must only read",
            at: node?.mark)
        }
        if !target.lookups.isEmpty {
          report(
            "lookup '\(lookup.name)' of tool '\(tool)' calls '\(lookup.tool)', which looks things up itself",
            at: node?.mark)
        }
      }
      let declared = Set(rule.lookups.map(\.name))
      let read = rule.variants.flatMap { $0.resources.flatMap(\.lookupNames) }
      for name in Set(read).subtracting(declared).sorted() {
        report("tool '\(tool)' reads '{lookup.\(name)...}' and declares no lookup '\(name)'", at: node?.mark)
      }
    }
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
    var destructiveKinds: [String] = []
    var redact: [String] = []
    var base: String?
    var literalPaths = false
    var sawAction = false
    var rules: [(rule: ConditionalRule, node: Node)] = []
    var sawRules = false
    var sql: SQLSettings?
    var lookups: [Lookup] = []
    let entries = entries(of: mapping, known: Self.toolKeys, place: "in tool '\(tool.key)'")
    // `sql` first: the actions and templates read below depend on it; `rules` last, since they
    // inherit the tool's resources.
    for entry in entries where entry.key == "sql" { sql = sqlSettings(entry) }
    for entry in entries where entry.key == "resource" { resources = templates(entry) }
    for entry in entries {
      switch entry.key {
      case "action":
        sawAction = true
        action = actionTemplate(entry, sql: sql != nil)
      case "destructive": (destructive, destructiveKinds) = destructiveness(entry, sql: sql != nil)
      case "redact": redact = argumentNames(entry)
      case "base": base = absolutePath(entry)
      case "literal_paths": literalPaths = bool(entry) ?? false
      case "lookup": lookups = lookupList(entry, tool: tool.key)
      case "rules":
        sawRules = true
        rules = conditionalRules(entry, tool: tool.key, sql: sql != nil, inherited: resources)
      default: break
      }
    }
    if !sawAction && !sawRules {
      report("tool '\(tool.key)' has no 'action'", at: tool.keyNode)
    }
    if sawAction && action == nil { return nil }
    if sql == nil, resources.contains(where: { !$0.sqlArguments.isEmpty }) {
      report(
        "tool '\(tool.key)' reads SQL (sql-kind, sql-table) and declares no 'sql:' dialect (sqlite or postgres)",
        at: tool.keyNode)
    }
    reportUnreachable(rules, tool: tool.key)
    return ToolRule(
      action: action ?? "", resources: resources, destructive: destructive, redact: redact, base: base,
      literalPaths: literalPaths, rules: rules.map(\.rule), hasFallback: sawAction, sql: sql,
      destructiveKinds: destructiveKinds, lookups: lookups)
  }

  /// `lookup: {NAME: {tool: TOOL, arguments: {ARG: TEMPLATE, ...}}, ...}`.
  private mutating func lookupList(_ entry: Entry, tool: String) -> [Lookup] {
    guard case .mapping(let mapping) = entry.value else {
      report(
        "'lookup' of tool '\(tool)' must map names to lookups ({tool: ..., arguments: {...}})",
        at: entry.value)
      return []
    }
    var lookups: [Lookup] = []
    for named in entries(of: mapping, known: nil, place: "in 'lookup' of tool '\(tool)'") {
      let place = "in lookup '\(named.key)' of tool '\(tool)'"
      guard !named.key.isEmpty, named.key.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
        report("invalid lookup name '\(named.key)': use letters, digits, '_' and '-'", at: named.keyNode)
        continue
      }
      guard case .mapping(let fields) = named.value else {
        report(
          "lookup '\(named.key)' of tool '\(tool)' must be a mapping with 'tool' and 'arguments'",
          at: named.value)
        continue
      }
      var target: String?
      var arguments: [(name: String, template: ResourceTemplate)] = []
      for field in entries(of: fields, known: Self.lookupKeys, place: place) {
        switch field.key {
        case "tool": target = string(field)
        case "arguments":
          guard case .mapping(let values) = field.value else {
            report("'arguments' \(place) must map argument names to templates", at: field.value)
            continue
          }
          for argument in entries(of: values, known: nil, place: "in 'arguments' \(place)") {
            guard let template = templates(argument).first else { continue }
            if !template.lookupNames.isEmpty {
              report("a lookup's arguments cannot read another lookup", at: argument.value)
              continue
            }
            arguments.append((argument.key, template))
          }
        default: break
        }
      }
      guard let target, !target.isEmpty else {
        report("lookup '\(named.key)' of tool '\(tool)' has no 'tool'", at: named.keyNode)
        continue
      }
      lookups.append(Lookup(name: named.key, tool: target, arguments: arguments))
    }
    return lookups
  }

  /// `rules:` a list of conditional rules, each `when` plus the action, resources and
  /// destructiveness that apply then (resources default to the tool's own).
  private mutating func conditionalRules(
    _ entry: Entry, tool: String, sql: Bool, inherited: [ResourceTemplate]
  ) -> [(rule: ConditionalRule, node: Node)] {
    guard case .sequence(let sequence) = entry.value else {
      report(
        "'rules' of tool '\(tool)' must be a list of rules, not \(Self.describe(entry.value))",
        at: entry.value)
      return []
    }
    var rules: [(ConditionalRule, Node)] = []
    for (index, node) in sequence.enumerated() {
      let place = "in rule \(index + 1) of tool '\(tool)'"
      guard case .mapping(let mapping) = node else {
        report("rule \(index + 1) of tool '\(tool)' must be a mapping with 'when' and 'action'", at: node)
        continue
      }
      var condition: RuleCondition?
      var action: String?
      var resources: [ResourceTemplate]?
      var destructive = false
      var destructiveKinds: [String] = []
      for field in entries(of: mapping, known: Self.ruleKeys, place: place) {
        switch field.key {
        case "when": condition = ruleCondition(field, place: place)
        case "action": action = actionTemplate(field, sql: sql)
        case "resource": resources = templates(field)
        case "destructive": (destructive, destructiveKinds) = destructiveness(field, sql: sql)
        default: break
        }
      }
      guard let condition else {
        report(
          "rule \(index + 1) of tool '\(tool)' has no 'when': the tool's own action is the rule for every call no rule matches",
          at: node)
        continue
      }
      guard let action else {
        report("rule \(index + 1) of tool '\(tool)' has no 'action'", at: node)
        continue
      }
      let variant = ToolRule.Variant(
        action: action, resources: resources ?? inherited, destructive: destructive,
        destructiveKinds: destructiveKinds)
      if !sql, variant.resources.contains(where: { !$0.sqlArguments.isEmpty }) {
        report(
          "rule \(index + 1) of tool '\(tool)' reads SQL and the tool declares no 'sql:' dialect", at: node)
      }
      rules.append((ConditionalRule(when: condition, variant: variant), node))
    }
    return rules
  }

  /// Rules that can never apply: contradictory conditions, or a rule before that matches every
  /// call this one matches. First match wins, so such a rule is a mistake, not a harmless extra.
  private mutating func reportUnreachable(_ rules: [(rule: ConditionalRule, node: Node)], tool: String) {
    for (index, current) in rules.enumerated() {
      if !current.rule.when.isSatisfiable {
        report(
          "rule \(index + 1) of tool '\(tool)' can never apply: its conditions contradict each other",
          at: current.node)
        continue
      }
      if let earlier = rules[..<index].firstIndex(where: { current.rule.when.implies($0.rule.when) }) {
        report(
          "rule \(index + 1) of tool '\(tool)' can never apply: rule \(earlier + 1) before it matches every call it matches (the first rule that matches decides)",
          at: current.node)
      }
    }
  }

  /// `when:` a mapping of tests, all of which must hold: `present` and `absent` (argument paths),
  /// `equals` (path: scalar), `in` and `none` (path: list of scalars), `contains_none` (path: list of
  /// texts). A path is an argument name, `ARG[N]` (one element of an array argument) or `ARG[]`
  /// (every element; not for `present` and `absent`).
  private mutating func ruleCondition(_ entry: Entry, place: String) -> RuleCondition? {
    guard case .mapping(let mapping) = entry.value else {
      report(
        "'when' \(place) must be a mapping of tests (present, absent, equals, in, none, contains_none)",
        at: entry.value)
      return nil
    }
    var tests: [RuleCondition.Test] = []
    for field in entries(of: mapping, known: Self.conditionKeys, place: "in 'when' \(place)") {
      switch field.key {
      case "present", "absent":
        for (name, node) in strings(field) ?? [] {
          guard let path = argumentPath(name, at: node, test: field.key) else { continue }
          guard path.selector != .everyElement else {
            report(
              "'\(field.key)' reads one value: '\(name)' names every element (write the array '\(path.argument)', or one element '\(path.argument)[0]')",
              at: node)
            continue
          }
          tests.append(field.key == "present" ? .present(path) : .absent(path))
        }
      case "equals", "in", "none", "contains_none":
        guard case .mapping(let values) = field.value else {
          report("'\(field.key)' \(place) must be a mapping of argument names to values", at: field.value)
          continue
        }
        for argument in entries(of: values, known: nil, place: "in '\(field.key)' \(place)") {
          guard let path = argumentPath(argument.key, at: argument.keyNode, test: field.key) else { continue }
          var nodes = [argument.value]
          if field.key != "equals" {
            guard case .sequence(let sequence) = argument.value, !sequence.isEmpty else {
              report(
                "'\(field.key)' values of '\(argument.key)' must be a non-empty list", at: argument.value)
              continue
            }
            nodes = Array(sequence)
          }
          if field.key == "contains_none" {
            var texts: [String] = []
            for node in nodes {
              guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
                report(
                  "a text to look for in '\(argument.key)' must be a non-empty string (every value holds the empty text)",
                  at: node)
                continue
              }
              texts.append(scalar.string)
            }
            if texts.count == nodes.count { tests.append(.containsNone(path, texts)) }
            continue
          }
          var scalars: [JSON] = []
          for node in nodes {
            guard let scalar = Self.scalarJSON(node) else {
              report(
                "a value to compare '\(argument.key)' with must be a string, number or boolean", at: node)
              continue
            }
            scalars.append(scalar)
          }
          // A list with a bad value is reported and left out whole: a `none` that silently lost a
          // value would let that value through.
          guard scalars.count == nodes.count else { continue }
          tests.append(field.key == "none" ? .noneOf(path, scalars) : .oneOf(path, scalars))
        }
      default: break
      }
    }
    guard !tests.isEmpty else {
      report("'when' \(place) has no test", at: entry.value)
      return nil
    }
    return RuleCondition(tests)
  }

  /// An argument path in a condition: `ARG`, `ARG[N]` or `ARG[]`.
  private mutating func argumentPath(_ text: String, at node: Node, test: String) -> ArgumentPath? {
    guard !text.isEmpty else {
      report("argument names in '\(test)' must not be empty", at: node)
      return nil
    }
    guard let path = ArgumentPath(parsing: text) else {
      report(
        "invalid argument path '\(text)' in '\(test)': write an argument name, 'ARG[N]' for one element of an array (N from 0 to \(ArgumentPath.maximumIndex), no leading zeros) or 'ARG[]' for every element",
        at: node)
      return nil
    }
    return path
  }

  /// A YAML scalar as the JSON value a call would carry: strings, numbers (as written), booleans.
  private static func scalarJSON(_ node: Node) -> JSON? {
    guard case .scalar(let scalar) = node else { return nil }
    switch tagName(of: node) {
    case .str, .nonSpecific: return .string(scalar.string)
    case .int, .float: return .number(scalar.string)
    case .bool: return node.bool.map { .bool($0) }
    default: return nil
    }
  }

  /// `destructive:` true or false; with `sql:`, also a list of the operation kinds that are.
  private mutating func destructiveness(_ entry: Entry, sql: Bool) -> (Bool, [String]) {
    if case .sequence = entry.value {
      guard sql else {
        report(
          "'destructive' is a list of SQL operation kinds only for a tool that declares 'sql:'",
          at: entry.value)
        return (false, [])
      }
      var kinds: [String] = []
      for (kind, node) in strings(entry) ?? [] {
        guard !kind.isEmpty, kind.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
          report("invalid SQL operation kind '\(kind)'", at: node)
          continue
        }
        kinds.append(kind)
      }
      return (false, kinds)
    }
    return (bool(entry) ?? false, [])
  }

  /// `sql: sqlite` or `sql: {dialect: sqlite, schema: "{ctx.database}"}`.
  private mutating func sqlSettings(_ entry: Entry) -> SQLSettings? {
    var dialectEntry: Entry? = entry
    var schemaEntry: Entry?
    if case .mapping(let mapping) = entry.value {
      dialectEntry = nil
      for field in entries(of: mapping, known: Self.sqlKeys, place: "in 'sql'") {
        if field.key == "dialect" { dialectEntry = field } else { schemaEntry = field }
      }
      guard dialectEntry != nil else {
        report("'sql' needs a 'dialect' (sqlite or postgres)", at: entry.value)
        return nil
      }
    }
    guard let dialectEntry, let name = string(dialectEntry) else { return nil }
    guard let dialect = SQLDialect(rawValue: name) else {
      report("unknown SQL dialect '\(name)' (sqlite or postgres)", at: dialectEntry.value)
      return nil
    }
    var schema: ResourceTemplate?
    if let schemaEntry, let text = string(schemaEntry) {
      guard dialect == .sqlite else {
        report("'schema' applies to the sqlite dialect only", at: schemaEntry.value)
        return nil
      }
      schema = templates(schemaEntry).first
      // The schema steers the classifier: the agent's arguments must not choose it.
      if let template = schema, template.readsArguments || !template.sqlArguments.isEmpty {
        report("the SQL schema '\(text)' may read only the launch context ({ctx.KEY})", at: schemaEntry.value)
        return nil
      }
    }
    return SQLSettings(dialect: dialect, schema: schema)
  }

  /// An action: a dotted name such as `git.write`, or a template of one that reads only the launch
  /// context (`{ctx.KEY}`) and, with `sql:`, the kind of each SQL operation (`{query|sql-kind}`):
  /// the agent's arguments never choose an action by themselves. No globs, no empty segments.
  private mutating func actionTemplate(_ entry: Entry, sql: Bool) -> String? {
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
    guard action.contains("{") else { return actionName(entry, action) }
    let template: ResourceTemplate
    do throws(TemplateSyntaxError) {
      template = try ResourceTemplate(action)
    } catch {
      report("invalid action template '\(action)': \(error.message)", at: entry.value)
      return nil
    }
    if template.readsArguments || template.readsSQLTable {
      report(
        "action '\(action)' reads the call's arguments: an action may read only the launch context ({ctx.KEY}) and the kind of a SQL operation ({ARG|sql-kind}), so that the agent cannot choose it",
        at: entry.value)
      return nil
    }
    if !sql, !template.sqlArguments.isEmpty {
      report("action '\(action)' reads SQL and the tool declares no 'sql:' dialect", at: entry.value)
      return nil
    }
    return action
  }

  /// A dotted action name such as `git.write`.
  private mutating func actionName(_ entry: Entry, _ action: String) -> String? {
    guard Manifest.isActionName(action) else {
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
