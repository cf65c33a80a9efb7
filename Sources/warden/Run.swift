import ArgumentParser
import Logging
import WardenCore
import WardenManifest
import WardenPostgres
import WardenProxy
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run an MCP server behind warden, relaying its stdio transport.",
      discussion: """
        Point your agent at warden instead of the server, for example in an MCP client config:

          "command": "warden", "args": ["run", "--", "uvx", "mcp-server-git"]

        Warden starts COMMAND in its own working directory, in a session of its own (no controlling terminal) and with its environment less warden's own WARDEN_* variables (a manifest's warden_env keeps some), and relays JSON-RPC both ways. The server's responses reach the client only for requests warden forwarded, and keys in warden's namespace (dev.warden/...) are taken out of what it sends. Messages it does not need to change pass byte-for-byte. Lines that are not valid JSON-RPC are answered with an error (-32700 / -32600) and never forwarded. stdout carries only the protocol; the server's stderr and warden's log go to stderr.

        The manifest is the one --server names (by its server or an alias; $WARDEN_HOME/manifests first, then the built-in ones), else the one COMMAND's name selects: its basename, the script of python, node, deno run, bun or uv run without its extension, the module after python -m, or the package of uvx, npx, bunx, pipx run. So `--server git-work -- uvx mcp-server-git` runs the git manifest for an instance named git-work, and grants are written for git-work (a grant issued with --server git does not cover it).

        Every tools/call is checked against the server's manifest and the grants issued with `warden grant`: a call outside the delegation never reaches the server, and the agent gets a tool result with isError and the reason. tools/list marks each tool delegated, needing confirmation, or not delegated (--hide-undelegated leaves the last out).

        Exit status: the server's own (128+N if it was killed by signal N); 0 when the client closed the session and warden had to stop the server; 127 if COMMAND cannot be started; 78 for an invalid manifest or configuration, or a name two manifests claim; 64 for a usage error.
        """
    )

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The server's instance name, which grants are written for (an alias of its manifest stands for the manifest's name). Selects the manifest named or aliased so, else the one COMMAND's name selects (default: the manifest's name, else COMMAND's name).",
        valueName: "name"))
    var server: String?

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The manifest (default: the one whose server or aliases name the server, in $WARDEN_HOME/manifests, then among the manifests installed with warden). servers.NAME.manifest in $WARDEN_HOME/config.yaml wins.",
        valueName: "file"))
    var manifest: String?

    @Flag(name: .long, help: "Leave tools the agent may not call out of tools/list instead of marking them.")
    var hideUndelegated = false

    @Flag(
      name: .long,
      help:
        "Add warden's own read-only tool warden_delegation to tools/list: it tells the agent the delegation in force for it on this server (never other agents'), so a model whose instructions were compacted away can ask instead of guessing."
    )
    var delegationTool = false

    @Option(
      name: .long,
      help: ArgumentHelp(
        "Seconds a call held for confirmation waits for a human before it is denied.", valueName: "seconds"))
    var confirmTimeout: Double = 120

    @Option(
      name: .long,
      help: ArgumentHelp(
        "What happens to a call no grant covers: deny (the default), or confirm (hold it for a human, like an 'ask' permission; forbids still deny). servers.NAME.ungranted in $WARDEN_HOME/config.yaml wins.",
        valueName: "deny|confirm"))
    var ungranted: UngrantedPolicy?

    @Option(
      name: .long,
      help: ArgumentHelp(
        "enforce (the default), or report: forward calls that enforcement would deny as not delegated or undeclared, or would hold, and record them in the audit trail as would-deny / would-hold. Forbids, protected paths, unreadable calls and store failures are still denied. servers.NAME.mode in $WARDEN_HOME/config.yaml wins.",
        valueName: "enforce|report"))
    var mode: EnforcementMode?

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The agent identity (default: the client's self-reported name). servers.NAME.agent in $WARDEN_HOME/config.yaml wins.",
        valueName: "id"))
    var agent: String?

    @Option(
      name: .long,
      help: ArgumentHelp(
        "A launch context value the manifest reads as {ctx.KEY}, such as env=production (repeatable). A value that $WARDEN_HOME/config.yaml sets for this server (servers.NAME.context) wins.",
        valueName: "key=value"))
    var context: [String] = []

    @Option(
      name: .long,
      help: ArgumentHelp("Longest accepted message in bytes; K, M, G suffixes.", valueName: "bytes"))
    var maxMessage: ByteCount = ByteCount(67_108_864)

    @Option(
      name: .long,
      help: ArgumentHelp(
        "Seconds the server gets to exit after the client leaves, and again after SIGTERM.",
        valueName: "seconds"))
    var grace: Double = 2

    @Option(
      name: .long,
      help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical (default: $WARDEN_LOG or warning).",
        valueName: "level"))
    var logLevel: Logger.Level?

    @Argument(
      parsing: .postTerminator,
      help: ArgumentHelp("The MCP server's command line, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else {
        throw ValidationError(
          "missing the server's command: put it after --, as in: warden run -- uvx mcp-server-git")
      }
      guard grace >= 0, grace.isFinite else { throw ValidationError("--grace must be zero or more seconds") }
      guard maxMessage.bytes >= 64 else { throw ValidationError("--max-message must be at least 64 bytes") }
      guard confirmTimeout > 0, confirmTimeout.isFinite else {
        throw ValidationError("--confirm-timeout must be a positive number of seconds")
      }
      _ = try CommandEnvironment.contextPairs(context)
    }

    func run() throws {
      let level = logLevel ?? Logger.Level(environment: "WARDEN_LOG") ?? .warning
      LoggingSystem.bootstrap { _ in StandardErrorLogHandler(level: level) }
      let logger = Logger(label: "warden")
      try reportingFailures {
        let policy = try policyConfiguration(logger: logger)
        let configuration = RelayConfiguration(
          command: command, serverName: policy.configuration.serverName, agentID: policy.agent,
          maxMessage: maxMessage.bytes, grace: grace, policy: policy.configuration)
        do {
          let status = try Relay.run(configuration, logger: logger)
          throw ExitCode(status)
        } catch let error as RelayStartError {
          throw CommandFailure("warden: \(error)", status: 127)
        }
      }
    }

    /// The manifest and store to enforce, and the agent identity given. An invalid manifest or
    /// configuration stops warden before it starts the server; a missing manifest or an unreadable
    /// store lets it start and deny every tool call.
    private func policyConfiguration(logger: Logger) throws -> (
      configuration: PolicyConfiguration, agent: String?
    ) {
      var store: Result<any DelegationStore, StoreError> = .failure(
        StoreError(.invalid, "warden's home is unknown"))
      var protectedPaths: [String] = []
      var home: String?
      do {
        let resolved = try GrantStore.defaultHome(environment: CommandEnvironment.variables)
        home = resolved
        protectedPaths = CommandEnvironment.protectedPaths(home: resolved)
        // Before the manifests are read from it: a home others could write is refused here.
        try CommandEnvironment.repairHome(resolved)
      } catch {
        store = .failure(error)
      }
      let settings = try CommandEnvironment.configuration()
      if let home {
        // config.yaml's `store:` wins over WARDEN_STORE, which the agent's MCP configuration may set.
        store = Result { () throws(StoreError) -> any DelegationStore in
          let (selection, warning) = try StoreSelection.choose(
            configured: settings.store, environment: CommandEnvironment.variables)
          if let warning { logger.warning("\(warning)") }
          // A database not there yet denies calls until it is, without a restart.
          return try selection.open(
            home: home, environment: CommandEnvironment.variables, waitForDatabase: true)
        }
      }
      let commandLine = LaunchOptions(
        agent: agent, manifest: manifest, mode: mode.map { WardenConfiguration.Mode(rawValue: $0.rawValue)! },
        ungranted: ungranted.map { WardenConfiguration.Ungranted(rawValue: $0.rawValue)! },
        context: try CommandEnvironment.contextPairs(context))
      let launch = try CommandEnvironment.pinnedLaunch(
        server: server, commandLine: commandLine, command: command, settings: settings)
      for warning in launch.warnings { logger.warning("\(warning)") }
      let selection = launch.selection
      let serverName = selection.serverName
      var configuration = PolicyConfiguration(
        manifest: selection.entry?.manifest, serverName: serverName, store: store,
        protectedPaths: protectedPaths, hideUndelegated: hideUndelegated,
        manifestSource: CommandEnvironment.describe(selection),
        ungrantedConfirm: launch.options.ungranted == .confirm, confirmTimeout: confirmTimeout,
        askInClient: settings.confirmChannels.contains(.elicitation),
        acceptTerminalDecisions: settings.confirmChannels.contains(.terminal),
        clientAnswersNeedCode: !settings.trustsClientAnswers, reportOnly: launch.options.mode == .report,
        breaker: settings.breaker)
      configuration.context = launch.options.context
      configuration.pinCommand = ToolPinning.commandKey(command)
      configuration.delegationTool = delegationTool
      configuration.sql = CommandEnvironment.sqlClassifier
      return (configuration, launch.options.agent)
    }
  }
}

/// `--mode`: enforce the delegation, or only report what enforcement would do.
enum EnforcementMode: String, ExpressibleByArgument, CaseIterable {
  case enforce
  case report
}

/// `--ungranted`: what a call no grant covers gets.
enum UngrantedPolicy: String, ExpressibleByArgument, CaseIterable {
  case deny
  case confirm
}

/// A size in bytes given as `65536`, `64K`, `64M` or `1G`.
struct ByteCount: ExpressibleByArgument {
  let bytes: Int

  init(_ bytes: Int) {
    self.bytes = bytes
  }

  init?(argument: String) {
    let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    var digits = argument.uppercased()
    var multiplier = 1
    if digits.hasSuffix("B") { digits.removeLast() }
    if let last = digits.last, let factor = multipliers[last] {
      multiplier = factor
      digits.removeLast()
    }
    guard let value = Int(digits), value >= 0 else { return nil }
    let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
    guard !overflow else { return nil }
    bytes = product
  }

  var defaultValueDescription: String { String(bytes) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {
  init?(environment name: String) {
    guard let value = getenv(name) else { return nil }
    self.init(rawValue: String(cString: value).lowercased())
  }
}

func printToStandardError(_ message: String) {
  let line = Array((message + "\n").utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
