import WardenCore
import Yams

/// Warden's own settings, `$WARDEN_HOME/config.yaml` (optional):
///
/// ```yaml
/// confirm:
///   channels: [elicitation, terminal]   # who may decide held calls
/// scripted: allow                       # grants and approvals without a terminal (default: deny)
/// store: postgres://warden@db.example.com:5432/warden?sslmode=verify-full   # a team's store
/// breaker: {calls: 100/10s, denials: 5/1m, then: deny, agents: [claude-code]}
/// servers:
///   db-prod:
///     context: {env: production}       # the launch context of this server; wins over --context
///     agent: claude-code               # wins over --agent and the client's name
///     manifest: manifests/db.yaml      # wins over --manifest; relative to $WARDEN_HOME
///     mode: enforce                    # wins over --mode
///     ungranted: deny                  # wins over --ungranted
/// ```
///
/// `breaker` (optional; none applies without it) trips per agent, see `BreakerRule`.
///
/// `elicitation` is the agent's client asking its user; `terminal` is `warden confirm`, `approve` and
/// `reject`. Without a `channels` key both decide, and the client's form asks for an approval code
/// that only a human-facing channel shows (a client that answers forms by itself cannot approve);
/// listing `elicitation` explicitly trusts the client's answer alone. Unknown keys are errors, as in
/// manifests: a typo must not silently widen who approves.
public struct WardenConfiguration: Sendable, Equatable {
  public enum Channel: String, Sendable, Equatable, CaseIterable {
    case elicitation
    case terminal
  }

  public var confirmChannels: Set<Channel>
  /// Whether `confirm.channels` lists `elicitation` explicitly: then the client's answer alone
  /// approves, without the approval code.
  public var trustsClientAnswers: Bool
  /// Whether grants and approvals may be issued without a terminal (`scripted: allow`).
  public var allowsScripted: Bool
  /// The circuit breaker, when one is configured.
  public var breaker: BreakerRule?
  /// Settings of each server by the name it runs under (`--server`).
  public var servers: [String: ServerSettings] = [:]
  /// The delegation store (`store:`), as written: `sqlite` for the file in the home, or a
  /// `postgres://` URL; nil when not set. It wins over `WARDEN_STORE`: an agent that can set the
  /// environment of its own warden must not be able to point it at a store of its own.
  public var store: String?

  /// What `config.yaml` pins for one server: the agent cannot change it from its MCP configuration.
  /// Each value set wins over the command line's option of the same name.
  public struct ServerSettings: Sendable, Equatable {
    /// Launch context values (`{ctx.KEY}` in manifests); each wins over `--context` for its key.
    public var context: [String: String] = [:]
    /// The agent identity (`--agent`), checked like a client's self-reported name.
    public var agent: String?
    /// The manifest file (`--manifest`) as written: a relative path is relative to `$WARDEN_HOME`.
    public var manifest: String?
    /// `enforce` or `report` (`--mode`).
    public var mode: Mode?
    /// `deny` or `confirm` (`--ungranted`).
    public var ungranted: Ungranted?

    public init(
      context: [String: String] = [:], agent: String? = nil, manifest: String? = nil, mode: Mode? = nil,
      ungranted: Ungranted? = nil
    ) {
      self.context = context
      self.agent = agent
      self.manifest = manifest
      self.mode = mode
      self.ungranted = ungranted
    }

    /// The manifest's path, a relative one taken from `home`.
    public func manifestPath(home: String) -> String? {
      guard let manifest else { return nil }
      if manifest.hasPrefix("/") { return manifest }
      return (home.hasSuffix("/") ? home : home + "/") + manifest
    }

    /// The keys `servers.NAME` may hold.
    public static let keys = ["agent", "context", "manifest", "mode", "ungranted"]
  }

  /// `servers.NAME.mode`.
  public enum Mode: String, Sendable, Equatable, CaseIterable {
    case enforce
    case report
  }

  /// `servers.NAME.ungranted`.
  public enum Ungranted: String, Sendable, Equatable, CaseIterable {
    case deny
    case confirm
  }

  public init(
    confirmChannels: Set<Channel> = Set(Channel.allCases), trustsClientAnswers: Bool = false,
    allowsScripted: Bool = false
  ) {
    self.confirmChannels = confirmChannels
    self.trustsClientAnswers = trustsClientAnswers
    self.allowsScripted = allowsScripted
  }

  /// Reads the configuration text; the error is one line naming the problem.
  public static func parse(_ text: String, file: String) throws(ConfigurationError) -> WardenConfiguration {
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch {
      throw ConfigurationError(message: "\(file): not valid YAML: \(error)")
    }
    guard let node else { return WardenConfiguration() }
    guard let top = node.mapping else { throw ConfigurationError(message: "\(file): must be a mapping") }
    var configuration = WardenConfiguration()
    for (key, value) in top {
      if key.string == "scripted" {
        switch value.string {
        case "allow": configuration.allowsScripted = true
        case "deny": configuration.allowsScripted = false
        default:
          throw ConfigurationError(message: "\(file): 'scripted' must be allow or deny")
        }
        continue
      }
      if key.string == "breaker" {
        configuration.breaker = try breaker(value, file: file)
        continue
      }
      if key.string == "servers" {
        configuration.servers = try servers(value, file: file)
        continue
      }
      if key.string == "store" {
        guard let text = value.string, !text.isEmpty, !text.contains("\0") else {
          throw ConfigurationError(message: "\(file): 'store' must be sqlite or a postgres:// URL")
        }
        configuration.store = text
        continue
      }
      guard key.string == "confirm" else {
        throw ConfigurationError(
          message:
            "\(file): unknown key '\(key.string ?? "?")' (known: breaker, confirm, scripted, servers, store)")
      }
      guard let confirm = value.mapping else {
        throw ConfigurationError(message: "\(file): 'confirm' must be a mapping")
      }
      for (confirmKey, confirmValue) in confirm {
        guard confirmKey.string == "channels" else {
          throw ConfigurationError(
            message: "\(file): unknown key 'confirm.\(confirmKey.string ?? "?")' (known: confirm.channels)")
        }
        let names = confirmValue.sequence?.compactMap(\.string) ?? confirmValue.string.map { [$0] } ?? []
        var channels = Set<Channel>()
        for name in names {
          guard let channel = Channel(rawValue: name) else {
            let known = Channel.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(
              message: "\(file): unknown channel '\(name)' in confirm.channels (known: \(known))")
          }
          channels.insert(channel)
        }
        configuration.confirmChannels = channels
        configuration.trustsClientAnswers = channels.contains(.elicitation)
      }
    }
    return configuration
  }
}

extension WardenConfiguration {
  /// `servers: {NAME: {context: {KEY: VALUE, ...}}, ...}`.
  static func servers(_ node: Node, file: String) throws(ConfigurationError) -> [String: ServerSettings] {
    guard let mapping = node.mapping else {
      throw ConfigurationError(message: "\(file): 'servers' must map server names to their settings")
    }
    var servers: [String: ServerSettings] = [:]
    for (nameNode, settingsNode) in mapping {
      guard let name = nameNode.string, !name.isEmpty else {
        throw ConfigurationError(message: "\(file): a key of 'servers' must be a server name")
      }
      guard servers[name] == nil else {
        throw ConfigurationError(message: "\(file): server '\(name)' is listed twice in 'servers'")
      }
      guard let settingsMapping = settingsNode.mapping else {
        throw ConfigurationError(
          message:
            "\(file): 'servers.\(name)' must be a mapping (known: \(ServerSettings.keys.joined(separator: ", ")))"
        )
      }
      var settings = ServerSettings()
      let known = ServerSettings.keys.joined(separator: ", ")
      var seen = Set<String>()
      for (key, value) in settingsMapping {
        let setting = "servers.\(name).\(key.string ?? "?")"
        guard seen.insert(key.string ?? "?").inserted else {
          throw ConfigurationError(message: "\(file): '\(setting)' is given twice")
        }
        switch key.string {
        case "context":
          settings.context = try context(value, server: name, file: file)
        case "agent":
          guard let agent = value.scalarText, case .success = ClientName.validated(agent) else {
            throw ConfigurationError(
              message:
                "\(file): '\(setting)' must be an agent name of letters, digits and . _ @ / : + - (at most 64)"
            )
          }
          settings.agent = agent
        case "manifest":
          guard let path = value.scalarText, !path.isEmpty, !path.contains("\0") else {
            throw ConfigurationError(message: "\(file): '\(setting)' must be a manifest file's path")
          }
          settings.manifest = path
        case "mode":
          guard let text = value.scalarText, let mode = Mode(rawValue: text) else {
            throw ConfigurationError(message: "\(file): '\(setting)' must be enforce or report")
          }
          settings.mode = mode
        case "ungranted":
          guard let text = value.scalarText, let ungranted = Ungranted(rawValue: text) else {
            throw ConfigurationError(message: "\(file): '\(setting)' must be deny or confirm")
          }
          settings.ungranted = ungranted
        default:
          throw ConfigurationError(message: "\(file): unknown key '\(setting)' (known: \(known))")
        }
      }
      servers[name] = settings
    }
    return servers
  }

  /// `servers.NAME.context: {KEY: VALUE, ...}`.
  static func context(_ node: Node, server name: String, file: String) throws(ConfigurationError)
    -> [String: String]
  {
    guard let pairs = node.mapping else {
      throw ConfigurationError(
        message: "\(file): 'servers.\(name).context' must map keys to values, e.g. {env: production}")
    }
    var context: [String: String] = [:]
    for (contextKey, contextValue) in pairs {
      guard let contextName = contextKey.string, LaunchContext.isKey(contextName),
        let text = contextValue.string
      else {
        throw ConfigurationError(
          message:
            "\(file): 'servers.\(name).context' needs keys of letters, digits, '_' and '-' and text values"
        )
      }
      context[contextName] = text
    }
    return context
  }

  /// `breaker: {calls: N/PERIOD, denials: N/PERIOD, then: deny|hold, agents: [PATTERN, ...]}`.
  static func breaker(_ node: Node, file: String) throws(ConfigurationError) -> BreakerRule {
    guard let mapping = node.mapping else {
      throw ConfigurationError(
        message: "\(file): 'breaker' must be a mapping, e.g. {calls: 100/10s, denials: 5/1m}")
    }
    var rule = BreakerRule()
    for (key, value) in mapping {
      switch key.string {
      case "calls", "denials":
        guard let text = value.string, let limit = RateLimit.parse(text) else {
          throw ConfigurationError(
            message: "\(file): 'breaker.\(key.string!)' must be N/PERIOD (example: 100/10s)")
        }
        if key.string == "calls" { rule.calls = limit } else { rule.denials = limit }
      case "then":
        guard let text = value.string, let then = BreakerRule.Then(rawValue: text) else {
          throw ConfigurationError(message: "\(file): 'breaker.then' must be deny or hold")
        }
        rule.then = then
      case "agents":
        let agents = value.sequence?.compactMap(\.string) ?? value.string.map { [$0] }
        guard let agents, !agents.isEmpty, agents.allSatisfy({ !$0.isEmpty }) else {
          throw ConfigurationError(message: "\(file): 'breaker.agents' must list agent names or patterns")
        }
        rule.agents = agents
      default:
        throw ConfigurationError(
          message: "\(file): unknown key 'breaker.\(key.string ?? "?")' (known: calls, denials, then, agents)"
        )
      }
    }
    guard rule.calls != nil || rule.denials != nil else {
      throw ConfigurationError(
        message: "\(file): 'breaker' needs calls, denials or both (example: {calls: 100/10s})")
    }
    return rule
  }
}

extension Node {
  /// The text of a scalar that is not null (`~`, `null`, nothing); nil for anything else.
  var scalarText: String? {
    guard let scalar, scalar.style != .plain || !["", "~", "null", "Null", "NULL"].contains(scalar.string)
    else { return nil }
    return scalar.string
  }
}

/// The options of `warden run` and `warden check` that `servers.NAME` can pin, as the command line
/// gave them (nil: not given).
public struct LaunchOptions: Sendable, Equatable {
  public var agent: String?
  public var manifest: String?
  public var mode: WardenConfiguration.Mode?
  public var ungranted: WardenConfiguration.Ungranted?
  public var context: [String: String]

  public init(
    agent: String? = nil, manifest: String? = nil, mode: WardenConfiguration.Mode? = nil,
    ungranted: WardenConfiguration.Ungranted? = nil, context: [String: String] = [:]
  ) {
    self.agent = agent
    self.manifest = manifest
    self.mode = mode
    self.ungranted = ungranted
    self.context = context
  }

  /// An option the command line gave that a pinned value replaced: `--agent` and what was given.
  public struct Ignored: Sendable, Equatable, CustomStringConvertible {
    /// `agent`, `manifest`, `mode`, `ungranted` or `context.KEY`.
    public var setting: String
    /// The option as given, `--agent x` or `--context env=...`.
    public var given: String
    public var description: String { given }
  }

  /// These options with what `settings` pins put in their place (a relative pinned manifest taken
  /// from `home`), and the options given on the command line that said otherwise.
  public func pinned(by settings: WardenConfiguration.ServerSettings?, home: String) -> (
    options: LaunchOptions, ignored: [Ignored]
  ) {
    guard let settings else { return (self, []) }
    var result = self
    var ignored: [Ignored] = []
    if let agent = settings.agent {
      if let given = self.agent, given != agent {
        ignored.append(Ignored(setting: "agent", given: "--agent \(given)"))
      }
      result.agent = agent
    }
    if let path = settings.manifestPath(home: home) {
      if let given = manifest, given != path, given != settings.manifest {
        ignored.append(Ignored(setting: "manifest", given: "--manifest \(given)"))
      }
      result.manifest = path
    }
    if let mode = settings.mode {
      if let given = self.mode, given != mode {
        ignored.append(Ignored(setting: "mode", given: "--mode \(given.rawValue)"))
      }
      result.mode = mode
    }
    if let ungranted = settings.ungranted {
      if let given = self.ungranted, given != ungranted {
        ignored.append(Ignored(setting: "ungranted", given: "--ungranted \(given.rawValue)"))
      }
      result.ungranted = ungranted
    }
    let merged = LaunchContext.merge(commandLine: context, pinned: settings.context)
    result.context = merged.context
    for key in merged.overridden {
      ignored.append(Ignored(setting: "context.\(key)", given: "--context \(key)=..."))
    }
    return (result, ignored)
  }
}

/// A configuration file that cannot be used.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
