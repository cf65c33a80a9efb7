import WardenJSON

/// What each tool call of one MCP server means: the action it performs and the resources it touches.
///
/// Written by hand or by tools as YAML (or JSON) and loaded by `WardenManifest`; this is the checked,
/// parsed form the decision works on.
public struct Manifest: Sendable, Equatable {
  /// The server name `warden run --server` uses.
  public var server: String
  /// Other names that select this manifest, such as the basename of the server's command
  /// (`mcp-server-git` for `git`).
  public var aliases: [String]
  /// What happens to a call of a tool the manifest does not list.
  public var undeclared: UndeclaredPolicy
  /// Directory that relative paths are resolved against by the `path` filter, if any.
  public var base: String?
  /// Rules by tool name.
  public var tools: [String: ToolRule]
  /// Warden's own variables (`WARDEN_*`) the server is given; every other one is removed from its
  /// environment, so it does not learn where the store is.
  public var wardenEnvironment: [String]

  public init(
    server: String, aliases: [String] = [], undeclared: UndeclaredPolicy = .deny, base: String? = nil,
    tools: [String: ToolRule], wardenEnvironment: [String] = []
  ) {
    self.wardenEnvironment = wardenEnvironment
    self.server = server
    self.aliases = aliases
    self.undeclared = undeclared
    self.base = base
    self.tools = tools
  }
}

/// The policy for tools a manifest does not declare.
public enum UndeclaredPolicy: String, Sendable, Equatable, CaseIterable {
  /// Every call is denied (the default).
  case deny
  /// Every call needs a human's confirmation.
  case confirm
  /// The server's own MCP tool annotations decide read / write / destructive. They are hints from the
  /// server and untrusted, so this applies only when the manifest opts in.
  case annotations
}

/// The meaning of one tool.
///
/// `action`, `resources` and `destructive` are the tool's own rule; `rules` are conditional rules
/// checked before it, in order, the first whose condition holds on the call's arguments deciding
/// (a tool may have only conditional rules: `hasFallback` false, and a call none matches is refused).
public struct ToolRule: Sendable, Equatable {
  /// The tool's own rule.
  public private(set) var own: Variant
  /// Dotted action name, such as `git.write` or `mail.delete`; it may read the launch context
  /// (`{ctx.KEY}`) and, with `sql`, the kind of each SQL operation (`{query|sql-kind}`).
  public var action: String {
    get { own.action }
    set {
      own = Variant(
        action: newValue, resources: own.resources, destructive: own.destructive,
        destructiveKinds: own.destructiveKinds)
    }
  }
  /// Resource templates computed from the call's arguments; every computed resource must be covered.
  public var resources: [ResourceTemplate] {
    get { own.resources }
    set { own.resources = newValue }
  }
  /// A destructive call needs a human's confirmation even when a grant covers it.
  public var destructive: Bool {
    get { own.destructive }
    set { own.destructive = newValue }
  }
  /// Argument names whose values the audit trail leaves out.
  public var redact: [String]
  /// Overrides the manifest's `base` for this tool's relative paths.
  public var base: String?
  /// The tool takes paths literally (no `$VAR`, `${VAR}` or `%VAR%` expansion): the `path` filter
  /// then lets such characters through as part of the name (`literal_paths: true`).
  public var literalPaths: Bool
  /// Conditional rules, checked first, in order.
  public var rules: [ConditionalRule]
  /// Whether the tool's own action and resources apply when no conditional rule does.
  public var hasFallback: Bool
  /// The SQL the templates read (`sql-kind`, `sql-table`): its dialect and where the schema is.
  public var sql: SQLSettings?
  /// Values looked up from the server before deciding (`{lookup.NAME.FIELD}`).
  public var lookups: [Lookup]
  /// With `sql`: the operation kinds that are destructive, whatever `destructive` says.
  public var destructiveKinds: [String] {
    get { own.destructiveKinds }
    set { own.destructiveKinds = newValue }
  }

  public init(
    action: String, resources: [ResourceTemplate] = [], destructive: Bool = false, redact: [String] = [],
    base: String? = nil, literalPaths: Bool = false, rules: [ConditionalRule] = [], hasFallback: Bool = true,
    sql: SQLSettings? = nil, destructiveKinds: [String] = [], lookups: [Lookup] = []
  ) {
    self.lookups = lookups
    self.own = Variant(
      action: action, resources: resources, destructive: destructive, destructiveKinds: destructiveKinds)
    self.literalPaths = literalPaths
    self.redact = redact
    self.base = base
    self.rules = rules
    self.hasFallback = hasFallback
    self.sql = sql
  }

  /// Every variant a call of this tool can be decided by: the conditional rules, then the tool's own.
  public var variants: [Variant] {
    rules.map(\.variant) + (hasFallback ? [own] : [])
  }

  /// The variant that decides a call with `arguments`: the first conditional rule whose condition
  /// holds, else the tool's own; nil when none applies.
  public func variant(for arguments: JSON) -> Variant? {
    if let rule = rules.first(where: { $0.when.matches(arguments) }) { return rule.variant }
    return hasFallback ? own : nil
  }

  /// Every argument the rule reads: in templates, conditions and SQL.
  public var argumentNames: [String] {
    var names = variants.flatMap { variant in
      variant.resources.flatMap { $0.argumentNames + $0.sqlArguments } + variant.actionTemplate.sqlArguments
    }
    names += rules.flatMap(\.when.argumentNames)
    names += lookups.flatMap { $0.arguments.flatMap { $0.template.argumentNames } }
    return names
  }

  /// What one rule (conditional or the tool's own) says a call means.
  public struct Variant: Sendable, Equatable {
    /// The action as a template (a plain action is a template without placeholders).
    public var actionTemplate: ResourceTemplate
    public var resources: [ResourceTemplate]
    public var destructive: Bool
    public var destructiveKinds: [String]

    /// `action` is parsed as a template; one that does not parse is taken literally (the manifest
    /// reader reports it first).
    public init(
      action: String, resources: [ResourceTemplate], destructive: Bool, destructiveKinds: [String] = []
    ) {
      self.actionTemplate = (try? ResourceTemplate(action)) ?? ResourceTemplate(literal: action)
      self.resources = resources
      self.destructive = destructive
      self.destructiveKinds = destructiveKinds
    }

    /// The action as written.
    public var action: String { actionTemplate.source }

    /// Whether deciding it needs the SQL text classified.
    public var readsSQL: Bool {
      // Asked on every call: most rules read no SQL and have a literal action.
      (!actionTemplate.isLiteral && !actionTemplate.sqlArguments.isEmpty)
        || resources.contains { !$0.isLiteral && !$0.sqlArguments.isEmpty }
    }
  }
}

/// A rule that applies when its condition holds on the call's arguments (`rules:` of a tool).
public struct ConditionalRule: Sendable, Equatable {
  public var when: RuleCondition
  public var variant: ToolRule.Variant

  public init(when: RuleCondition, variant: ToolRule.Variant) {
    self.when = when
    self.variant = variant
  }
}

/// The SQL a tool's argument holds: its dialect, and for SQLite the database file whose schema the
/// classifier reads (a template over the launch context; none: every name is taken as a table).
public struct SQLSettings: Sendable, Equatable {
  public var dialect: SQLDialect
  public var schema: ResourceTemplate?

  public init(dialect: SQLDialect, schema: ResourceTemplate? = nil) {
    self.dialect = dialect
    self.schema = schema
  }
}
