import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenProxy
import WardenStore

extension Warden {
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Explain the decision on a tool call, without calling anything.",
      discussion: """
        Computes the call's scopes from the server's manifest, weighs the grants and forbids in force, and prints the verdict with its reasons.

        Exit status: 0 allow, 2 deny, 3 confirm (1 if the check itself failed, 78 for an invalid manifest or a name two manifests claim).

        Example:
          warden check --server git --agent claude-code \\
            git_commit '{"repo_path": "/home/me/app", "message": "wip"}'

        For an instance named apart from its manifest, give the command as `warden run` gets it:
          warden check --server git-work git_status '{"repo_path": "/home/me/app"}' \\
            -- uvx mcp-server-git
        """
    )

    @Option(
      name: .long,
      help:
        "The server's name as `warden run --server` gives it (selects its manifest; grants are matched against it)."
    )
    var server: String

    @Option(
      name: .long,
      help:
        "The agent identity (default: any name, 'agent'; config.yaml's servers.NAME.agent wins, as in warden run)."
    )
    var agent: String?

    @Option(
      name: .long,
      help: "Use this manifest file instead of the server's (config.yaml's servers.NAME.manifest wins).")
    var manifest: String?

    @Argument(help: "The tool's name.")
    var tool: String

    @Argument(help: "The call's arguments as a JSON object.")
    var arguments: String = "{}"

    @Flag(name: .long, help: "Print the decision as JSON.")
    var json = false

    @Option(
      name: .long,
      help:
        "What a call no grant covers gets, as with `warden run --ungranted` (config.yaml's servers.NAME.ungranted wins)."
    )
    var ungranted: UngrantedPolicy?

    @Option(
      name: .long,
      help: ArgumentHelp(
        "A launch context value, as with `warden run --context` (config.yaml's servers.NAME.context wins).",
        valueName: "key=value"))
    var context: [String] = []

    @Argument(
      parsing: .postTerminator,
      help: ArgumentHelp(
        "The server's command line as given to `warden run`, after --: when no manifest is named after --server, the one it selects is used, as in `warden run`.",
        valueName: "command"))
    var command: [String] = []

    func run() throws {
      var status: Int32 = 1
      try reportingFailures {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(arguments) } catch {
          throw CommandFailure("warden: the arguments are not valid JSON: \(error)")
        }
        guard parsed.kind == .object else {
          throw CommandFailure("warden: the arguments must be a JSON object")
        }
        if let problem = Array(arguments.utf8).withUnsafeBytes({ AmbiguityCheck.firstAmbiguity(in: $0) }) {
          throw CommandFailure(
            "warden: the arguments are ambiguous (\(problem)); warden run denies such a call")
        }
        // The same manifest, server name and pinned settings as `warden run --server NAME -- COMMAND`.
        let commandLine = LaunchOptions(
          agent: agent, manifest: manifest,
          ungranted: ungranted.map { WardenConfiguration.Ungranted(rawValue: $0.rawValue)! },
          context: try CommandEnvironment.contextPairs(context))
        let launch = try CommandEnvironment.pinnedLaunch(
          server: server, commandLine: commandLine, command: command,
          settings: try CommandEnvironment.configuration())
        for warning in launch.warnings { printToStandardError("warden: \(warning)") }
        let selection = launch.selection
        let identity = launch.options.agent ?? "agent"
        let found = selection.entry.map { ($0.manifest, CommandEnvironment.describe(selection)) }
        var missing = "no manifest: " + CommandEnvironment.describe(selection)
        if command.isEmpty {
          missing += "; give the server's command after -- to use the manifest it selects, as warden run does"
        }
        let serverName = selection.serverName
        let call = ToolCall(server: serverName, agent: identity, tool: tool, arguments: parsed.json)
        let store = try CommandEnvironment.openStore()
        let now = CommandEnvironment.now()
        let grants: [Grant]
        do { grants = try store.liveGrants(now: now) } catch {
          throw CommandFailure("warden: cannot read the delegation store: \(error)")
        }
        var usage: [String: Int] = [:]
        for grant in grants {
          if let limit = grant.rateLimit {
            usage[grant.id] =
              (try? store.useCount(grantID: grant.id, since: now - limit.periodMilliseconds)) ?? limit.count
          }
        }
        // The same decision as `warden run`'s, through the same pure policy.
        let home = try CommandEnvironment.home()
        let policy = CallPolicy(
          manifest: found?.0, serverName: serverName,
          protectedPaths: CommandEnvironment.protectedPaths(home: home),
          ungrantedConfirm: launch.options.ungranted == .confirm, context: launch.options.context,
          sql: CommandEnvironment.sqlClassifier)
        let (_, decision) = policy.decide(
          tool: tool, arguments: call.arguments, agent: identity, grants: GrantSet(grants), now: now,
          usage: usage,
          resolve: FileSystemPaths.resolver, explain: true)
        if json {
          printLine(Self.json(decision, call: call, manifest: found?.1).text(pretty: true))
        } else {
          printLine(Self.text(decision, call: call, manifest: found?.1 ?? missing, liveGrants: grants))
        }
        switch decision.verdict {
        case .allow: status = 0
        case .deny: status = 2
        case .confirm: status = 3
        }
      }
      throw ExitCode(status)
    }

    static func text(_ decision: Authorization, call: ToolCall, manifest: String?, liveGrants: [Grant])
      -> String
    {
      var lines = [
        "server:   \(call.server) (\(manifest ?? "no manifest"))", "agent:    \(call.agent)",
        "tool:     \(call.tool)",
      ]
      if let scopes = decision.scopes {
        lines.append("action:   \(scopes.action)\(scopes.destructive ? " (destructive)" : "")")
        lines.append(
          "on:       \(scopes.resources.isEmpty ? "(no resources)" : scopes.resources.map(\.text).joined(separator: ", "))"
        )
        for operation in scopes.operations {
          let on =
            operation.resources.isEmpty
            ? "" : " on \(operation.resources.map(\.text).joined(separator: ", "))"
          lines.append("  does:   \(operation.action)\(on)\(operation.destructive ? " (destructive)" : "")")
        }
      }
      if !decision.considered.isEmpty {
        lines.append("considered:")
        for item in decision.considered {
          lines.append(
            "  \(item.applied ? "*" : "-") \(item.grant.id) \(item.grant.effect.rawValue) \(item.grant.actions.joined(separator: ",")): \(item.note)"
          )
        }
      }
      lines.append("verdict:  \(decision.verdict.rawValue.uppercased()) (\(decision.reason.rawValue))")
      lines.append("because:  \(decision.explanation)")
      if let command = DelegationText.suggestedGrant(for: call, authorization: decision) {
        lines.append("to allow: \(command)")
      }
      return lines.joined(separator: "\n")
    }

    static func json(_ decision: Authorization, call: ToolCall, manifest: String?) -> JSONValue {
      var members: [(String, JSONValue)] = [
        ("verdict", .string(decision.verdict.rawValue)),
        ("reason", .string(decision.reason.rawValue)),
        ("explanation", .string(decision.explanation)),
        ("server", .string(call.server)),
        ("agent", .string(call.agent)),
        ("tool", .string(call.tool)),
        ("manifest", manifest.map { .string($0) } ?? .null()),
      ]
      if let scopes = decision.scopes {
        members.append(("action", .string(scopes.action)))
        members.append(("resources", .array(scopes.resources.map { .string($0.text) })))
        members.append(("destructive", .bool(scopes.destructive)))
        if !scopes.operations.isEmpty {
          members.append(
            (
              "operations",
              .array(
                scopes.operations.map { operation in
                  .object([
                    ("action", .string(operation.action)),
                    ("resources", .array(operation.resources.map { .string($0.text) })),
                    ("destructive", .bool(operation.destructive)),
                  ])
                })
            ))
        }
      }
      members.append(("grants", .array(decision.grants.map { .string($0.id) })))
      if let forbid = decision.forbid { members.append(("forbid", .string(forbid.id))) }
      members.append(("uncovered", .array(decision.uncovered.map { .string($0.text) })))
      members.append(
        (
          "considered",
          .array(
            decision.considered.map { item in
              .object([
                ("id", .string(item.grant.id)), ("effect", .string(item.grant.effect.rawValue)),
                ("applied", .bool(item.applied)), ("note", .string(item.note)),
              ])
            })
        ))
      if let command = DelegationText.suggestedGrant(for: call, authorization: decision) {
        members.append(("suggestedGrant", .string(command)))
      }
      return .object(members)
    }
  }
}
