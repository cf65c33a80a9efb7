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
public struct ToolRule: Sendable, Equatable {
  /// Dotted action name, such as `git.write` or `mail.delete`.
  public var action: String
  /// Resource templates computed from the call's arguments; every computed resource must be covered.
  public var resources: [ResourceTemplate]
  /// A destructive call needs a human's confirmation even when a grant covers it.
  public var destructive: Bool
  /// Argument names whose values the audit trail leaves out.
  public var redact: [String]
  /// Overrides the manifest's `base` for this tool's relative paths.
  public var base: String?
  /// The tool takes paths literally (no `$VAR`, `${VAR}` or `%VAR%` expansion): the `path` filter
  /// then lets such characters through as part of the name (`literal_paths: true`).
  public var literalPaths: Bool

  public init(
    action: String, resources: [ResourceTemplate] = [], destructive: Bool = false, redact: [String] = [],
    base: String? = nil, literalPaths: Bool = false
  ) {
    self.literalPaths = literalPaths
    self.action = action
    self.resources = resources
    self.destructive = destructive
    self.redact = redact
    self.base = base
  }
}
