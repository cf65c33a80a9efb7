import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore
import WardenWrap

extension Warden {
  struct Tools: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tools",
      abstract: "Show, compare and accept the pinned definitions of servers' tools.",
      discussion: """
        The first time a server's tools are listed through warden, their definitions (name, title, description, input and output schema, annotations) are pinned, per server name and command line. A tool whose definition later changes, or a tool that appears after that, is denied (reason tool-drift) by every warden on this store, whatever the grants and the manifest say, until a human looks at the change and accepts it. A tool that disappears is no risk (its calls fail at the server) and is not flagged.

        Examples:
          warden tools                       (every pin and its state)
          warden tools diff git              (what changed, as a diff)
          warden tools accept git git_log    (accept one tool's new definition)
        """,
      subcommands: [List.self, Diff.self, Accept.self],
      defaultSubcommand: List.self)
  }
}

extension Warden.Tools {
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list",
      abstract: "List the pinned tools and which drifted.",
      discussion: """
        Examples:
          warden tools
          warden tools git --json

        Exit status: 0 when nothing drifted, 1 when some tool did.
        """)

    @Argument(help: "Only this server.")
    var server: String?

    @Flag(name: .long, help: "Print the pins as JSON.")
    var json = false

    func run() throws {
      var drifted = false
      try reportingFailures {
        let store = try CommandEnvironment.openStore()
        let pins: [ToolPin]
        do { pins = try store.toolPins(server: server) } catch {
          throw CommandFailure("warden: cannot read the tool pins: \(error)")
        }
        drifted = pins.contains { $0.state != .pinned }
        if json {
          printLine(JSONValue.array(pins.map(ToolPinFormatting.json)).text(pretty: true))
        } else if pins.isEmpty {
          printLine(
            "no tools are pinned yet: they are pinned when a server's tools are first listed through warden")
        } else {
          for pin in pins { printLine(ToolPinFormatting.line(pin)) }
        }
      }
      if drifted { throw ExitCode(1) }
    }
  }

  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "diff",
      abstract: "Show how drifted tools differ from their pinned definitions.",
      discussion: """
        Example:
          warden tools diff git git_log

        Exit status: 0 when nothing drifted, 1 when a diff was shown.
        """)

    @Argument(help: "The server.")
    var server: String

    @Argument(help: "Only this tool.")
    var tool: String?

    func run() throws {
      var shown = false
      try reportingFailures {
        let store = try CommandEnvironment.openStore()
        let pins: [ToolPin]
        do { pins = try store.toolPins(server: server) } catch {
          throw CommandFailure("warden: cannot read the tool pins: \(error)")
        }
        for pin in pins where pin.state != .pinned && (tool == nil || pin.tool == tool) {
          shown = true
          printLine("\(ToolPinFormatting.line(pin))")
          let lines = { (definition: String?) in
            Array(ToolPinFormatting.pretty(definition).joined(separator: "\n").utf8) + [0x0A]
          }
          printLine(
            LineDiff.unified(
              old: lines(pin.pinned), new: lines(pin.observed), oldName: "pinned", newName: "seen",
              context: 1000))
        }
        if !shown { printLine("no tool of server '\(HumanText.escaped(server))' drifted") }
      }
      if shown { throw ExitCode(1) }
    }
  }

  struct Accept: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "accept",
      abstract: "Accept drifted tools as they are now, so their calls are decided by the grants again.",
      discussion: """
        Pins the definitions last seen of the server's drifted tools (only TOOL, when given), for every command line the server ran with. Read `warden tools diff SERVER` first. Like a grant, it needs a terminal (exit status 77 without one) unless $WARDEN_HOME/config.yaml says `scripted: allow`: an agent with a shell must not accept a tool it wants to call. The acceptance is recorded in the audit trail.

        Example (read the change, then accept it):
          warden tools diff git git_log
          warden tools accept git git_log

        Exit status: 0 when something was accepted, 1 when nothing had drifted.
        """)

    @Argument(help: "The server.")
    var server: String

    @Argument(help: "Only this tool.")
    var tool: String?

    @Option(name: .long, help: "Who accepts (default: the OS user).")
    var by: String?

    @Flag(name: .long, help: "Print the accepted tools as JSON.")
    var json = false

    func run() throws {
      try reportingFailures {
        let attestation = try CommandEnvironment.requireHuman("accept a changed tool")
        let store = try CommandEnvironment.openStore()
        let now = CommandEnvironment.now()
        let who = by ?? CommandEnvironment.userName
        let accepted: [ToolPin]
        do { accepted = try store.acceptTools(server: server, tool: tool, by: who, at: now) } catch {
          throw CommandFailure("warden: cannot accept the tools: \(error)")
        }
        guard !accepted.isEmpty else {
          throw CommandFailure(
            "warden: no tool of server '\(HumanText.escaped(server))'\(tool.map { " named '\(HumanText.escaped($0))'" } ?? "") has drifted"
          )
        }
        var records: [AuditRecord] = []
        for pin in accepted {
          var fields = CanonicalObject()
          fields.set("agent", "")
          fields.set("at", now)
          fields.set("attestation", attestation.rawValue)
          fields.set("by", who)
          fields.set("call", "")
          fields.set("change", pin.state.rawValue)
          fields.set("command", pin.command)
          fields.set("explanation", "a human accepted the definition of tool '\(pin.tool)' as seen")
          fields.set("kind", "tool-accepted")
          fields.set("server", server)
          fields.set("tool", pin.tool)
          fields.set("v", Int64(1))
          records.append(
            AuditRecord(fields: fields, at: now, kind: "tool-accepted", agent: "", server: server, call: ""))
        }
        do { try store.appendAudit(records) } catch {
          printToStandardError(
            "warden: the tools are accepted, but the audit trail could not record it: \(error)")
        }
        if json {
          printLine(JSONValue.array(accepted.map(ToolPinFormatting.json)).text(pretty: true))
        } else {
          for pin in accepted {
            printLine(
              "accepted \(HumanText.escaped(pin.tool)) of \(HumanText.escaped(server)) (\(pin.state.rawValue))"
            )
          }
        }
      }
    }
  }
}

/// How tool pins look on the command line.
enum ToolPinFormatting {
  static func json(_ pin: ToolPin) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("server", .string(pin.server)), ("command", .string(pin.command)), ("tool", .string(pin.tool)),
      ("state", .string(pin.state.rawValue)), ("since", .string(Timestamps.format(pin.since))),
    ]
    if let by = pin.acceptedBy { members.append(("accepted_by", .string(by))) }
    if let pinned = pin.pinned, let value = try? JSONValue.parse(pinned) { members.append(("pinned", value)) }
    if let observed = pin.observed, let value = try? JSONValue.parse(observed) {
      members.append(("seen", value))
    }
    return .object(members)
  }

  static func line(_ pin: ToolPin) -> String {
    let state: String
    switch pin.state {
    case .pinned: state = "pinned"
    case .changed: state = "CHANGED since accepted: calls denied"
    case .added: state = "ADDED since pinned: calls denied"
    }
    return
      "\(HumanText.escaped(pin.server)) \(HumanText.escaped(pin.tool)): \(state) (\(Timestamps.format(pin.since))) — \(HumanText.escaped(pin.command))"
  }

  /// A definition as indented JSON, one member a line, for diffs (every line escaped for the terminal).
  static func pretty(_ definition: String?) -> [String] {
    guard let definition, let value = try? JSONValue.parse(definition) else { return [] }
    return value.text(pretty: true).split(separator: "\n", omittingEmptySubsequences: false).map {
      HumanText.escaped(String($0))
    }
  }
}
