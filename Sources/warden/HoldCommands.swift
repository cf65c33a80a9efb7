import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Warden {
  struct Holds: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "holds",
      abstract: "List tool calls held for a human's decision.",
      discussion: """
        Decide them with `warden confirm` (a prompt for each), `warden approve ID...` or `warden reject ID...` (or a filter: --server, --tool, --agent).

        Examples:
          warden holds
          warden holds --full          (every argument, uncut)
          warden holds --all --json    (decided ones too: by whom, through which channel)
        """
    )

    @Flag(name: .long, help: "Also list decided holds (the 50 most recent).")
    var all = false

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    @Flag(name: .long, help: "Show every call's arguments in full, however long.")
    var full = false

    func run() throws {
      try reportingFailures {
        let store = try CommandEnvironment.openStore()
        let now = CommandEnvironment.now()
        let holds: [Hold]
        do { holds = all ? try store.recentHolds(limit: 50) : try store.pendingHolds(now: now) } catch {
          throw CommandFailure("warden: cannot read holds: \(error)")
        }
        if json {
          printLine(JSONValue.array(holds.map { HoldFormatting.json($0, now: now) }).text(pretty: true))
        } else if holds.isEmpty {
          printLine(all ? "no calls have been held" : "no calls are waiting for a decision")
        } else {
          // The approval code is for a person reading a terminal, not for a script.
          let showCode = CommandEnvironment.atTerminal
          printLine(
            holds.map { HoldFormatting.describe($0, now: now, full: full, showCode: showCode) }
              .joined(separator: "\n\n"))
        }
      }
    }
  }

  struct Approve: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "approve",
      abstract: "Approve held tool calls: warden forwards each to its server, once.",
      discussion: """
        Give one hold's id, several, or a filter (--server, --tool, --agent, combined: all must match) that selects pending holds; not ids and a filter together. With several ids or a filter, the held calls to be decided are listed and you are asked "Approve these N held calls? [y/N]" (--yes skips the question, not the terminal). Exactly the holds listed are decided: a call held after the list was made is never approved by it, and one decided meanwhile by someone else is reported and left as it is.

        Each call is decided again at the moment of approval: if the delegation no longer allows it (a revocation, a forbid), it is denied. Approving needs a terminal (exit status 77 without one) unless $WARDEN_HOME/config.yaml says `scripted: allow`; even then the question needs one, so a script passes --yes.

        Examples:
          warden approve h_0123456789abcdef
          warden approve --server mailbox --tool delete_message

        Exit status: 0 every hold listed was approved; 1 some could not be (already decided, past its deadline, unknown), none matched, or the question was not answered yes; 64 usage (no id and no filter, or both); 77 no terminal.
        """)

    @OptionGroup var selection: BulkSelection

    func validate() throws { try selection.validate() }

    func run() throws {
      try reportingFailures {
        let attestation = try CommandEnvironment.requireHuman("approve a held call")
        try HoldDecision.decideSelected(
          selection, state: .approved, note: nil, channel: "cli", attestation: attestation)
      }
    }
  }

  struct Reject: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reject",
      abstract: "Reject held tool calls: the agent is told each was denied, and why.",
      discussion: """
        Give one hold's id, several, or a filter (--server, --tool, --agent, combined: all must match) that selects pending holds; not ids and a filter together. With several ids or a filter, the held calls to be decided are listed and you are asked "Reject these N held calls? [y/N]" (--yes skips it; without a terminal, --yes is needed). Exactly the holds listed are decided; one decided meanwhile by someone else is reported and left as it is. Rejecting never needs a terminal otherwise: it only narrows what the agent may do.

        Examples:
          warden reject h_0123456789abcdef --why 'keep the backups'
          warden reject --agent claude-code --yes --why 'stop and ask me first'

        Exit status: 0 every hold listed was rejected; 1 some could not be (already decided, past its deadline, unknown), none matched, or the question was not answered yes; 64 usage (no id and no filter, or both); 77 a question with no terminal to ask it on.
        """)

    @OptionGroup var selection: BulkSelection

    @Option(name: .long, help: "Why, for the agent.")
    var why: String?

    func validate() throws { try selection.validate() }

    func run() throws {
      try reportingFailures {
        // Saying no never needs a terminal: it only narrows what the agent may do.
        try HoldDecision.decideSelected(
          selection, state: .rejected, note: why, channel: "cli",
          attestation: CommandEnvironment.atTerminal ? .cliTerminal : .cliScripted)
      }
    }
  }

  struct Confirm: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "confirm",
      abstract: "Decide held tool calls at a prompt, one by one (default: no).",
      discussion: """
        Shows each call waiting for a decision (server, agent, tool, arguments, what it means, why it was held, the grant and its purpose) and asks y/N; anything but y or yes rejects it. With --watch it keeps waiting for new holds until interrupted. It needs a terminal to approve (exit status 77 without one) unless $WARDEN_HOME/config.yaml says `scripted: allow`.

        Examples:
          warden confirm
          warden confirm --watch       (in a terminal window of its own while the agent works)
        """)

    @Flag(name: .long, help: "Keep prompting as new holds arrive.")
    var watch = false

    @Option(
      name: .long,
      help: "A name to note with the decision (it is recorded as the OS user's, with this as a note).")
    var by: String?

    func run() throws {
      try reportingFailures {
        let attestation: Attestation =
          try CommandEnvironment.requireHuman("approve held calls") == .cliTerminal
          ? .terminalPrompt : .cliScripted
        let store = try CommandEnvironment.openStore()
        var asked = Set<String>()
        while true {
          let now = CommandEnvironment.now()
          let pending: [Hold]
          do { pending = try store.pendingHolds(now: now).filter { !asked.contains($0.id) } } catch {
            throw CommandFailure("warden: cannot read holds: \(error)")
          }
          for hold in pending {
            asked.insert(hold.id)
            printLine("\n" + HoldFormatting.describe(hold, now: now, showCode: true))
            printRaw("Approve this call? [y/N] ")
            guard let answer = readLine() else { return }
            let approve = ["y", "yes"].contains(answer.trimmingCharacters().lowercased())
            let outcome = try HoldDecision.decide(
              id: hold.id, state: approve ? .approved : .rejected, by: by,
              note: approve ? nil : "rejected at the prompt",
              channel: "terminal", attestation: attestation, quiet: true)
            printLine(HoldDecision.describe(outcome, asked: approve ? .approved : .rejected))
          }
          if !watch {
            if asked.isEmpty { printLine("no calls are waiting for a decision") }
            return
          }
          usleep(250_000)
        }
      }
    }
  }
}

/// Deciding one hold, from any command.
enum HoldDecision {
  @discardableResult
  static func decide(
    id: String, state: Hold.State, by: String?, note: String?, channel: String, attestation: Attestation,
    quiet: Bool = false
  ) throws -> Hold {
    if state == .approved { try requireTerminalChannel() }
    let store = try CommandEnvironment.openStore()
    let hold: Hold
    do {
      // The decision is the OS user's: `--by` is whatever the caller typed, so it is kept as a note,
      // never as the identity (a server running as this user could type "the-human").
      let stated = by.map { "stated decider: \($0)" }
      hold = try store.decide(
        holdID: id, state: state, by: CommandEnvironment.userName, channel: channel,
        note: [stated, note].compactMap { $0 }.joined(separator: "; ").nilIfEmpty,
        at: CommandEnvironment.now(), attestation: attestation)
    } catch {
      throw CommandFailure("warden: \(error)")
    }
    if !quiet {
      let text = describe(hold, asked: state)
      if hold.state == state { printLine(text) } else { throw CommandFailure("warden: \(text)") }
    }
    return hold
  }

  /// Refuses an approval from the command line when `confirm.channels` leaves the terminal out.
  static func requireTerminalChannel() throws {
    guard (try CommandEnvironment.configuration()).confirmChannels.contains(.terminal) else {
      throw CommandFailure(
        "warden: confirm.channels in config.yaml does not include terminal: approvals must come from the agent's client"
      )
    }
  }

  static func describe(_ hold: Hold, asked: Hold.State) -> String {
    let show = HumanText.escaped
    switch hold.state {
    case asked where asked == .approved:
      return "\(hold.id) approved: warden forwards \(show(hold.tool)) to \(show(hold.server))"
    case asked where asked == .rejected: return "\(hold.id) rejected: the agent is told"
    case .pending: return "\(hold.id) is past its deadline; it is denied"
    default:
      return
        "\(hold.id) was already \(hold.state.rawValue) by \(show(hold.decidedBy ?? "?")) via \(show(hold.channel ?? "?"))"
    }
  }
}

/// How holds look on the command line.
enum HoldFormatting {
  /// Every field is escaped: agent names, tools, arguments, resources, purposes and notes come from
  /// the agent, the server or the call, and must not draw on the terminal.
  static func describe(_ hold: Hold, now: Int64, full: Bool = false, showCode: Bool = false) -> String {
    let show = HumanText.escaped
    var lines = [
      "hold \(hold.id)  (\(hold.state.rawValue)\(hold.state == .pending ? ", \(max(0, (hold.deadline - now) / 1000))s left" : ""))",
      "  server:    \(show(hold.server))", "  agent:     \(show(hold.agent))",
      "  tool:      \(show(hold.tool))",
      "  arguments: \(arguments(hold, limit: full ? Int.max : 400))",
      "  means:     \(show(hold.action))\(hold.resources.isEmpty ? "" : " on " + hold.resources.map(show).joined(separator: ", "))",
      "  held:      \(show(hold.explanation))",
    ]
    if let grant = hold.grantID { lines.append("  grant:     \(grant) — \"\(show(hold.purpose ?? ""))\"") }
    if showCode, hold.state == .pending, let code = hold.approvalCode {
      lines.append("  code:      \(code)  (to approve in the agent's own form)")
    }
    if let by = hold.decidedBy {
      lines.append(
        "  decided:   \(hold.state.rawValue) by \(show(by)) via \(show(hold.channel ?? "?"))\(hold.note.map { ": \(show($0))" } ?? "")"
      )
    }
    return lines.joined(separator: "\n")
  }

  /// The exact arguments as the server gets them (redacted values by length and digest), escaped;
  /// a long value is cut, with its length, the call's digest and where to read it all.
  static func arguments(_ hold: Hold, limit: Int) -> String {
    let text = hold.arguments.isEmpty ? "(none)" : hold.arguments
    return HumanText.shortened(
      text, limit: limit, rest: "digest \(hold.digest.prefix(16)); all of it: warden holds --full")
  }

  static func json(_ hold: Hold, now: Int64) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("id", .string(hold.id)), ("state", .string(hold.state.rawValue)), ("server", .string(hold.server)),
      ("agent", .string(hold.agent)), ("tool", .string(hold.tool)),
      ("arguments", (try? JSONValue.parse(hold.arguments)) ?? .string(hold.arguments)),
      ("digest", .string(hold.digest)), ("action", .string(hold.action)),
      ("resources", .array(hold.resources.map { .string($0) })), ("reason", .string(hold.reason)),
      ("explanation", .string(hold.explanation)), ("createdAt", .string(Timestamps.format(hold.createdAt))),
      ("deadline", .string(Timestamps.format(hold.deadline))),
    ]
    if let grant = hold.grantID { members.append(("grant", .string(grant))) }
    if let purpose = hold.purpose { members.append(("purpose", .string(purpose))) }
    if let by = hold.decidedBy { members.append(("decidedBy", .string(by))) }
    if let channel = hold.channel { members.append(("channel", .string(channel))) }
    if let at = hold.decidedAt { members.append(("decidedAt", .string(Timestamps.format(at)))) }
    if let note = hold.note { members.append(("note", .string(note))) }
    if let attestation = hold.attestation { members.append(("attestation", .string(attestation))) }
    return .object(members)
  }

  static func shortened(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "… (\(text.count) characters)"
  }
}

/// Writes to stdout (or another descriptor) without a newline (a prompt).
func printRaw(_ text: String, to descriptor: Int32 = 1) {
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}

extension String {
  /// Nil for the empty string.
  var nilIfEmpty: String? { isEmpty ? nil : self }
}
