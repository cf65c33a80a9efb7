import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden {
  struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit",
      abstract: "Read the audit trail: every tool call decided, and how it ended.",
      discussion: """
        Every decision warden makes on a tools/call (allowed, denied, held, approved) and how each call ended is a record in the store, written before an allowed call is forwarded. Records form a hash chain; `warden audit verify` checks it.

        Examples:
          warden audit --since 1h
          warden audit --grant g_abc123 --json       (what this delegation, and those narrowed from it, did)
          warden audit --verdict deny --jsonl | my-siem-forwarder
          warden audit prune --before 90d            (remove the oldest records; see its --help)
        """,
      subcommands: [List.self, Verify.self, Prune.self],
      defaultSubcommand: List.self)

    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit records, oldest first (the default subcommand).",
        discussion: """
          Filters combine: every one given must match.

          Examples:
            warden audit --since 1h --verdict deny
            warden audit list --agent claude-code --server git --json
            warden audit --jsonl >> warden-audit.jsonl
          """)

      @Option(name: .long, help: "Only records of calls under this grant, or grants narrowed from it.")
      var grant: String?

      @Option(name: .long, help: "Only this agent's records.")
      var agent: String?

      @Option(name: .long, help: "Only this server's records.")
      var server: String?

      @Option(
        name: .long, help: "Only records since this long ago (90s, 2h, 1d) or this time (2026-11-24T18:00).")
      var since: String?

      @Option(name: .long, help: "Only records with this verdict: allow, deny, hold.")
      var verdict: String?

      @Flag(name: .long, help: "Print a JSON array of the records.")
      var json = false

      @Flag(name: .long, help: "Print one record a line (JSON Lines), for log pipelines.")
      var jsonl = false

      func run() throws {
        try reportingFailures {
          let now = CommandEnvironment.now()
          let start = try since.map { try AuditTime.instant($0, option: "--since", now: now) }
          let store = try CommandEnvironment.openStoreWithAuditTrail()
          let rows: [AuditChain.Row]
          do { rows = try store.auditRecords(since: start, agent: agent, server: server) } catch {
            throw CommandFailure("warden: cannot read the audit trail: \(error)")
          }
          let records = rows.compactMap { try? JSONValue.parse($0.record) }.filter { record in
            (verdict.map { record["verdict"]?.stringValue == $0 } ?? true)
              && (grant.map { AuditFormatting.concerns(record, grant: $0) } ?? true)
          }
          if jsonl {
            for record in records { printLine(record.text()) }
          } else if json {
            printLine(JSONValue.array(records).text(pretty: true))
          } else if records.isEmpty {
            printLine("no audit records match")
          } else {
            for record in records { printLine(AuditFormatting.line(record)) }
          }
        }
      }
    }

    struct Verify: ParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit trail's hash chain, and that its newest records were not cut off.",
        discussion: """
          Exit status: 0 when the chain holds from its first record to its last and agrees with the head file ($WARDEN_HOME/audit.head; for a PostgreSQL store, the heads this machine wrote, in $WARDEN_HOME/audit-STORE.head); 1 when a record was edited, inserted, deleted or reordered, or the newest records were cut off (the first bad record is named); 2 when the check could not be made.

          After `warden audit prune` the chain starts at the first record left: a prune record in the chain must name the records before it as pruned, with the hash the first record follows. The head file's entries for pruned records are not checked (those records are gone).

          Example:
            warden audit verify && echo "the trail holds"
          """)

      func run() throws {
        try reportingFailures {
          let store: any DelegationStore
          do { store = try CommandEnvironment.openStoreWithAuditTrail() } catch let failure as CommandFailure
          {
            throw CommandFailure(failure.message, status: 2)
          }
          printLine(try AuditVerification.check(store).summary)
        }
      }
    }
  }
}

/// Instants given on the audit commands' command line.
enum AuditTime {
  /// `text` as a duration ago (`2h`, counted back from `now`) or a time (`2026-11-24T18:00`), in ms.
  static func instant(_ text: String, option: String, now: Int64) throws -> Int64 {
    if let milliseconds = Durations.parse(text) { return now - milliseconds }
    if let instant = Timestamps.parse(text) { return instant }
    throw CommandFailure(
      "warden: \(option) '\(HumanText.escaped(text))' is neither a duration (2h) nor a time (2026-11-24T18:00)"
    )
  }
}

/// How audit records look on the command line.
enum AuditFormatting {
  /// Whether a record is of a call under `grant`, or under a grant narrowed from it.
  static func concerns(_ record: JSONValue, grant: String) -> Bool {
    guard let grants = record["grants"], grants.kind == .array else { return false }
    for index in 0..<grants.count {
      guard let entry = grants[index] else { continue }
      if entry["id"]?.stringValue == grant { return true }
      if let chain = entry["chain"], chain.kind == .array {
        for link in 0..<chain.count where chain[link]?.stringValue == grant { return true }
      }
    }
    return false
  }

  /// One line a record, escaped.
  static func line(_ record: JSONValue) -> String {
    let show = HumanText.escaped
    let at = record["at"]?.integerValue.map(Timestamps.format) ?? "?"
    let kind = record["kind"]?.stringValue ?? "?"
    if kind == AuditPrune.kind { return pruneLine(record, at: at) }
    let verdict = record["verdict"]?.stringValue ?? "?"
    var text = "\(record["seq"]?.integerValue ?? 0)  \(at)  \(show(record["call"]?.stringValue ?? ""))  "
    text += kind == "outcome" ? "outcome \(show(record["outcome"]?.stringValue ?? "?"))" : show(verdict)
    text +=
      "  \(show(record["agent"]?.stringValue ?? "")) -> \(show(record["server"]?.stringValue ?? "")).\(show(record["tool"]?.stringValue ?? ""))"
    if let action = record["action"]?.stringValue {
      var resources: [String] = []
      if let list = record["resources"], list.kind == .array {
        resources = (0..<list.count).compactMap { list[$0]?.stringValue }.map(show)
      }
      text += "  \(show(action))" + (resources.isEmpty ? "" : " on " + resources.joined(separator: ", "))
    }
    text += "  (\(show(record["reason"]?.stringValue ?? "")))"
    if let grants = record["grants"], grants.kind == .array, grants.count > 0 {
      text +=
        "  grant "
        + (0..<grants.count).compactMap { grants[$0]?["id"]?.stringValue }.map(show).joined(separator: ",")
    }
    if let hold = record["hold"]?["id"]?.stringValue { text += "  hold \(show(hold))" }
    return text
  }

  /// A prune record: which records it removed, before when, and who pruned.
  private static func pruneLine(_ record: JSONValue, at: String) -> String {
    let show = HumanText.escaped
    let range = [record["pruned_from"], record["pruned_through"]].map {
      $0?.integerValue.map(String.init) ?? "?"
    }
    let before = record["before"]?.integerValue.map(Timestamps.format) ?? "?"
    return
      "\(record["seq"]?.integerValue ?? 0)  \(at)  prune  records \(range[0]) to \(range[1]) (before \(before))  by \(show(record["by"]?.stringValue ?? "?"))"
  }
}
