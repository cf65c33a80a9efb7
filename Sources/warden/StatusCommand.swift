import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden {
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "What is in force now: grants and forbids with the time they have left, held calls, recent denials.",
      discussion: """
        Example:
          warden status                 (a summary for a person)
          warden status --since 24h --json
        """)

    @Option(name: .long, help: "How far back to look for denials (default: 1h).")
    var since: String = "1h"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
      try reportingFailures {
        guard let window = Durations.parse(since) else {
          throw CommandFailure("warden: --since '\(since)' is not a duration (examples: 30m, 1h, 24h)")
        }
        let now = CommandEnvironment.now()
        let store = try CommandEnvironment.openStoreWithAuditTrail()
        let grants: [Grant]
        let holds: [Hold]
        let rows: [AuditChain.Row]
        do {
          grants = try store.liveGrants(now: now)
          holds = try store.pendingHolds(now: now)
          rows = try store.auditRecords(since: now - window)
        } catch {
          throw CommandFailure("warden: cannot read the store: \(error)")
        }
        let denials = rows.compactMap { try? JSONValue.parse($0.record) }.filter {
          $0["kind"]?.stringValue == "decision" && $0["verdict"]?.stringValue == "deny"
        }
        if json {
          printLine(
            JSONValue.object([
              ("grants", .array(grants.map { GrantFormatting.json($0, now: now) })),
              ("holds", .array(holds.map { HoldFormatting.json($0, now: now) })),
              ("denials", .array(denials)),
              ("since", .string(Timestamps.format(now - window))),
            ]).text(pretty: true))
          return
        }
        var lines: [String] = []
        lines.append(grants.isEmpty ? "no grants or forbids in force" : "in force:")
        if !grants.isEmpty { lines.append(GrantFormatting.table(grants, now: now, showStatus: true)) }
        lines.append("")
        lines.append(
          holds.isEmpty
            ? "no calls are waiting for a decision"
            : "\(holds.count) call(s) waiting for a decision (warden confirm):")
        for hold in holds {
          let show = HumanText.escaped
          lines.append(
            "  \(hold.id)  \(show(hold.agent)) -> \(show(hold.server)).\(show(hold.tool))  \(max(0, (hold.deadline - now) / 1000))s left"
          )
        }
        lines.append("")
        lines.append(
          denials.isEmpty
            ? "no denials in the last \(since)"
            : "\(denials.count) denial(s) in the last \(since) (warden audit --verdict deny --since \(since)):"
        )
        for record in denials.suffix(10) { lines.append("  " + AuditFormatting.line(record)) }
        printLine(lines.joined(separator: "\n"))
      }
    }
  }
}
