import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenStore

extension Warden {
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract:
        "What is in force now: grants and forbids with the time they have left, held calls, tripped breakers, recent denials.",
      discussion: """
        Without a circuit breaker in $WARDEN_HOME/config.yaml, it suggests one fitted to the calls recorded \
        in the period.

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
        let trips: [BreakerTrip]
        do {
          grants = try store.liveGrants(now: now)
          holds = try store.pendingHolds(now: now)
          trips = try store.breakerTrips()
          rows = try store.auditRecords(since: now - window, agent: nil, server: nil)
        } catch {
          throw CommandFailure("warden: cannot read the store: \(error)")
        }
        let decisions = rows.compactMap { try? JSONValue.parse($0.record) }.filter {
          $0["kind"]?.stringValue == "decision"
        }
        let denials = decisions.filter { $0["verdict"]?.stringValue == "deny" }
        let configured = (try? CommandEnvironment.configuration())?.breaker
        let suggestion =
          configured == nil && !decisions.isEmpty
          ? BreakerSuggestion.suggest(
            decisions.map {
              .init(
                agent: $0["agent"]?.stringValue ?? "", at: $0["at"]?.integerValue ?? 0,
                denied: $0["verdict"]?.stringValue == "deny")
            }) : nil
        if json {
          printLine(
            JSONValue.object([
              ("grants", .array(grants.map { GrantFormatting.json($0, now: now) })),
              ("holds", .array(holds.map { HoldFormatting.json($0, now: now) })),
              ("denials", .array(denials)),
              ("breakers", .array(trips.map(BreakerFormatting.json))),
              ("suggested_breaker", suggestion.map { .string(BreakerSuggestion.yaml($0)) } ?? .null()),
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
        lines.append(trips.isEmpty ? "no circuit breaker is tripped" : "tripped circuit breakers:")
        for trip in trips { lines.append("  " + BreakerFormatting.line(trip)) }
        if let suggestion {
          lines.append(
            "no circuit breaker is configured; one fitted to the last \(since) of calls, for $WARDEN_HOME/config.yaml:"
          )
          lines.append("  " + BreakerSuggestion.yaml(suggestion))
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
