import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

/// What `warden approve` and `warden reject` decide: hold ids, or a filter over the pending holds.
struct BulkSelection: ParsableArguments {
  @Argument(help: ArgumentHelp("The holds' ids (see `warden holds`).", valueName: "id"))
  var ids: [String] = []

  @Option(name: .long, help: "Every pending hold of this server (its exact name).")
  var server: String?

  @Option(name: .long, help: "Every pending hold of this tool (its exact name).")
  var tool: String?

  @Option(
    name: .long, help: ArgumentHelp("Every pending hold of this agent (its exact name).", valueName: "id"))
  var agent: String?

  @Flag(name: .long, help: "Decide the holds listed without asking (a terminal is still needed to approve).")
  var yes = false

  @Flag(
    name: .long, help: "Print the outcome for each hold as JSON (the list and the question go to stderr).")
  var json = false

  @Option(
    name: .long,
    help: "A name to note with the decision (it is recorded as the OS user's, with this as a note).")
  var by: String?

  var filter: HoldFilter { HoldFilter(server: server, tool: tool, agent: agent) }

  func validate() throws {
    if ids.isEmpty, filter.isEmpty {
      throw ValidationError(
        "give the id of a held call, several ids, or a filter (--server, --tool, --agent)")
    }
    if !ids.isEmpty, !filter.isEmpty {
      throw ValidationError(
        "give hold ids or a filter (--server, --tool, --agent), not both: the ids name exactly what is decided"
      )
    }
  }

  /// Whether the holds are listed and a question asked before deciding: more than one id, or a filter.
  var isBulk: Bool { ids.count > 1 || !filter.isEmpty }
}

extension HoldDecision {
  /// Decides the holds `selection` names: a snapshot of them is taken (and, in bulk, shown and
  /// confirmed), then exactly those ids are decided in one transaction. A hold that arrives after the
  /// snapshot is never among them.
  static func decideSelected(
    _ selection: BulkSelection, state: Hold.State, note: String?, channel: String, attestation: Attestation
  ) throws {
    if state == .approved { try requireTerminalChannel() }
    let store = try CommandEnvironment.openStore()
    let now = CommandEnvironment.now()
    // The snapshot: what is listed is what is decided, and nothing else.
    var skipped: [(id: String, hold: Hold?, outcome: HoldDecisionOutcome)] = []
    var chosen: [Hold] = []
    do {
      if selection.filter.isEmpty {
        var seen = Set<String>()
        for id in selection.ids where seen.insert(id).inserted {
          let hold = try store.hold(id: id)
          if let hold, hold.state == .pending, hold.deadline > now {
            chosen.append(hold)
          } else {
            skipped.append((id, hold, HoldDecisionOutcome.of(hold, asked: state, taken: false)))
          }
        }
      } else {
        chosen = try store.pendingHolds(now: now).filter(selection.filter.matches)
      }
    } catch {
      throw CommandFailure("warden: cannot read holds: \(error)")
    }

    // People read the list and the question on stdout, unless stdout is for a script (--json).
    let json = selection.json
    func say(_ text: String) { if json { printToStandardError(text) } else { printLine(text) } }
    let verb = state == .approved ? "Approve" : "Reject"
    for entry in skipped {
      printToStandardError("warden: \(entry.outcome.describe(id: entry.id, hold: entry.hold))")
    }
    if chosen.isEmpty {
      if selection.json { printLine(outcomesJSON(skipped.map { ($0.id, $0.outcome) }).text(pretty: true)) }
      if !selection.filter.isEmpty {
        throw CommandFailure("warden: no held calls match \(selection.filter.options)")
      }
      if selection.isBulk { throw CommandFailure("warden: nothing decided") }
      throw ExitCode.failure
    }
    if selection.isBulk {
      say("\(chosen.count) held call\(chosen.count == 1 ? "" : "s") to \(verb.lowercased()):")
      for hold in chosen { say("  " + HoldFormatting.line(hold, now: now)) }
      if !selection.yes {
        guard CommandEnvironment.atTerminal else {
          throw CommandFailure(
            "warden: no terminal to ask on: nothing decided; pass --yes to \(verb.lowercased()) the \(chosen.count) held call\(chosen.count == 1 ? "" : "s") listed",
            status: 77)
        }
        let question =
          "\(verb) \(chosen.count == 1 ? "this held call" : "these \(chosen.count) held calls")? [y/N] "
        printRaw(question, to: selection.json ? 2 : 1)
        let answer = readLine() ?? ""
        guard ["y", "yes"].contains(answer.trimmingCharacters().lowercased()) else {
          throw CommandFailure("warden: nothing decided")
        }
      }
    }

    // The decision is the OS user's: `--by` is whatever the caller typed, so it is kept as a note,
    // never as the identity (a server running as this user could type "the-human").
    let stated = selection.by.map { "stated decider: \($0)" }
    let results: [HoldDecisionResult]
    do {
      results = try store.decide(
        holdIDs: chosen.map(\.id), state: state, by: CommandEnvironment.userName, channel: channel,
        note: [stated, note].compactMap { $0 }.joined(separator: "; ").nilIfEmpty,
        at: CommandEnvironment.now(), attestation: attestation)
    } catch {
      throw CommandFailure("warden: \(error)")
    }
    var outcomes = skipped.map { ($0.id, $0.outcome) }
    var failed = !skipped.isEmpty
    for result in results {
      let outcome = HoldDecisionOutcome.of(result.hold, asked: state, taken: result.taken)
      outcomes.append((result.id, outcome))
      if outcome.succeeded {
        if !selection.json { printLine(outcome.describe(id: result.id, hold: result.hold)) }
      } else {
        failed = true
        printToStandardError("warden: \(outcome.describe(id: result.id, hold: result.hold))")
      }
    }
    if selection.json { printLine(outcomesJSON(outcomes).text(pretty: true)) }
    if failed {
      guard selection.isBulk else { throw ExitCode.failure }
      let decided = outcomes.filter { $0.1.succeeded }.count
      throw CommandFailure(
        "warden: \(decided) of \(outcomes.count) held call\(outcomes.count == 1 ? "" : "s") \(state.rawValue); the others could not be"
      )
    }
  }

  /// `[{"id", "outcome", "state"?, "decidedBy"?, "channel"?}]`, one per hold asked about.
  static func outcomesJSON(_ outcomes: [(String, HoldDecisionOutcome)]) -> JSONValue {
    .array(
      outcomes.map { id, outcome in
        var members: [(String, JSONValue)] = [("id", .string(id)), ("outcome", .string(outcome.name))]
        if case .alreadyDecided(let state, let by, let channel) = outcome {
          members.append(("state", .string(state.rawValue)))
          if let by { members.append(("decidedBy", .string(by))) }
          if let channel { members.append(("channel", .string(channel))) }
        }
        return .object(members)
      })
  }
}

extension HoldFormatting {
  /// One hold on one line, for the list a bulk decision shows: id, server, agent, tool, what it
  /// means, the arguments (cut), why it is held and the time left. Escaped like `describe`.
  static func line(_ hold: Hold, now: Int64) -> String {
    let show = HumanText.escaped
    let means =
      show(hold.action)
      + (hold.resources.isEmpty ? "" : " on " + hold.resources.map(show).joined(separator: ", "))
    return
      "\(hold.id)  \(show(hold.server))  agent \(show(hold.agent))  \(show(hold.tool))  \(means)  arguments \(arguments(hold, limit: 160))  (\(show(hold.reason)), \(max(0, (hold.deadline - now) / 1000))s left)"
  }
}
