import ArgumentParser
import WardenDoctor
import WardenWrap

extension Warden {
  struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "doctor",
      abstract:
        "Check a deployment: warden's home and store, who can approve, and the agents' configurations.",
      discussion: """
        Reports each finding as ok, warning or problem, with a one-line explanation and the exact fix (a command to run or the config.yaml lines to add). It changes nothing: the store is opened read-only, no file is created, locked or repaired.

        Checks (each finding names its check):
          home, permissions, store: $WARDEN_HOME is yours and private (0700, the store 0600); the store opens and its schema is current.
          same-user: an agent with a shell running as the store's OS user can approve its own calls (SPEC, "Threat model: who can approve").
          config, channels, terminal, scripted, notify-send: config.yaml is valid; who may approve held calls; whether warden confirm can run here; desktop notices.
          agent-config, not-wrapped, manifest: every configuration warden wrap recorded, and each CONFIG given: each stdio server is behind warden and resolves to a manifest.
          unpinned-option: --mode report, --ungranted confirm, --agent, --context, or a --manifest the agent's user could change, given only on a command line and not pinned in config.yaml.

        Examples:
          warden doctor
          warden doctor ~/.config/Claude/claude_desktop_config.json .mcp.json
          warden doctor --json | jq '.findings[] | select(.severity != "ok")'

        Exit status: 0 no problem (warnings allowed); 1 at least one problem; 2 the deployment could not be checked (no WARDEN_HOME can be found, or it cannot be read); 64 usage.
        """)

    @Flag(name: .long, help: "Print the findings as one JSON object.")
    var json = false

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The agent reading each CONFIG: claude-desktop, claude-code, cursor, vscode or codex (default: told by the file's name).",
        valueName: "agent"))
    var agent: String?

    @Argument(
      help: ArgumentHelp(
        "Agents' MCP configuration files to check besides those warden wrap recorded.", valueName: "config"))
    var configs: [String] = []

    func run() throws {
      var kind: AgentKind?
      if let agent {
        guard let known = AgentKind(rawValue: agent) else {
          let names = AgentKind.allCases.map(\.rawValue).joined(separator: ", ")
          printToStandardError("warden: unknown agent '\(agent)' (known: \(names))")
          throw ExitCode(64)
        }
        kind = known
      }
      let facts: DeploymentFacts
      do { facts = try DoctorGathering.gather(configs: configs, agent: kind) } catch let failure
        as CommandFailure
      {
        printToStandardError(failure.message)
        throw ExitCode(2)
      }
      let report = Doctor.report(facts)
      printLine(json ? report.json : report.text)
      if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
  }
}
