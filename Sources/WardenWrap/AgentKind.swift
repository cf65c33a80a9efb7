/// The agents whose MCP configuration `warden wrap` edits, named as `warden run --agent` gets them.
public enum AgentKind: String, Sendable, Equatable, CaseIterable {
  case claudeDesktop = "claude-desktop"
  case claudeCode = "claude-code"
  case cursor
  case vscode
  case codex

  /// How the agent's file is written.
  public enum Format: Sendable, Equatable {
    /// Strict JSON.
    case json
    /// JSON with comments and trailing commas (VS Code reads its files so).
    case jsonWithComments
    /// TOML.
    case toml
  }

  public var format: Format {
    switch self {
    case .claudeDesktop, .claudeCode, .cursor: .json
    case .vscode: .jsonWithComments
    case .codex: .toml
    }
  }

  /// The object (JSON) or table (TOML) that maps server names to their settings.
  public var serversKey: String {
    switch self {
    case .claudeDesktop, .claudeCode, .cursor: "mcpServers"
    case .vscode: "servers"
    case .codex: "mcp_servers"
    }
  }

  /// The agent whose file `path` is, by its name and folder; nil when the name says nothing
  /// (then `--agent` must say).
  public static func detect(path: String) -> AgentKind? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    guard let name = parts.last else { return nil }
    let folder = parts.count >= 2 ? parts[parts.count - 2] : ""
    switch name {
    case "claude_desktop_config.json": return .claudeDesktop
    case ".claude.json", ".mcp.json": return .claudeCode
    case "config.toml" where folder == ".codex": return .codex
    case "mcp.json" where folder == ".cursor": return .cursor
    case "mcp.json" where folder == ".vscode" || folder == "User": return .vscode
    default: return nil
    }
  }
}
