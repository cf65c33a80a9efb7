/// One server of an agent's MCP configuration as the agent would launch it, read without changing
/// anything: what `warden doctor` checks.
public struct ServerLaunch: Sendable, Equatable {
  /// The server's key in the file.
  public var name: String
  /// Where the entry is: `mcpServers`, `projects["/home/me/app"].mcpServers`, `mcp_servers`.
  public var location: String
  /// A remote server's kind or URL (warden relays stdio only); nil for a stdio server.
  public var remote: String?
  /// Why the entry cannot be launched as read (no command, arguments that are not strings).
  public var problem: String?
  /// The command, when it is a string.
  public var command: String?
  /// The arguments (empty when there are none).
  public var arguments: [String]

  public init(
    name: String, location: String, remote: String? = nil, problem: String? = nil, command: String? = nil,
    arguments: [String] = []
  ) {
    self.name = name
    self.location = location
    self.remote = remote
    self.problem = problem
    self.command = command
    self.arguments = arguments
  }

  /// Whether the entry launches `warden run` (as `warden wrap` writes it, or by hand).
  public var isBehindWarden: Bool {
    guard remote == nil, let command else { return false }
    return ConfigEditor.isWrapped(command: command, args: arguments)
  }
}

extension ConfigEditor {
  /// Every server of a configuration file with its command and arguments, as the agent reads them.
  public static func launches(_ bytes: [UInt8], agent: AgentKind, file: String) throws(WrapError)
    -> [ServerLaunch]
  {
    try Document.read(bytes, agent: agent, file: file).entries.map { entry in
      ServerLaunch(
        name: entry.name, location: entry.location, remote: entry.remote, problem: entry.problem,
        command: entry.command?.text, arguments: entry.args?.elements.map(\.text) ?? [])
    }
  }
}
