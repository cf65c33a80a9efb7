import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden {
  struct Reset: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reset",
      abstract: "Reset an agent's tripped circuit breaker, so its calls are decided by its grants again.",
      discussion: """
        A circuit breaker (`breaker:` in $WARDEN_HOME/config.yaml) trips when an agent makes more calls, or \
        has more calls denied, than it allows within its period. From then on every warden on this store \
        denies (or holds) that agent's calls until a human runs this command. The reset is recorded in the \
        audit trail. Like a grant, it needs a terminal (or `scripted: allow`): an agent with a shell must not \
        reset its own breaker. `warden status` lists tripped breakers.

        Examples:
          warden reset claude-code
          warden reset claude-code --json
        """)

    @Argument(help: "The agent whose breaker to reset.")
    var agent: String

    @Flag(name: .long, help: "Print the trip that was reset as JSON.")
    var json = false

    func run() throws {
      try reportingFailures {
        let attestation = try CommandEnvironment.requireHuman("reset a circuit breaker")
        let store = try CommandEnvironment.openStore()
        let now = CommandEnvironment.now()
        let trip: BreakerTrip?
        do { trip = try store.resetBreaker(agent: agent) } catch {
          throw CommandFailure("warden: cannot reset the breaker: \(error)")
        }
        guard let trip else {
          let tripped = ((try? store.breakerTrips()) ?? []).map { HumanText.escaped($0.agent) }
          throw CommandFailure(
            "warden: no breaker is tripped for agent '\(HumanText.escaped(agent))'"
              + (tripped.isEmpty ? " (none is tripped)" : " (tripped: \(tripped.joined(separator: ", ")))"))
        }
        var record = CanonicalObject()
        record.set("agent", agent)
        record.set("at", now)
        record.set("attestation", attestation.rawValue)
        record.set("by", CommandEnvironment.userName)
        record.set("call", "")
        record.set(
          "explanation", "a human reset the circuit breaker of agent '\(agent)' (tripped: \(trip.reason))")
        record.set("kind", "breaker-reset")
        record.set("server", "")
        record.set("tripped_at", trip.at)
        record.set("v", Int64(1))
        do {
          try store.appendAudit([
            AuditRecord(fields: record, at: now, kind: "breaker-reset", agent: agent, server: "", call: "")
          ])
        } catch {
          printToStandardError(
            "warden: the breaker is reset, but the audit trail could not record it: \(error)")
        }
        if json {
          printLine(BreakerFormatting.json(trip).text(pretty: true))
        } else {
          printLine(
            "reset the breaker of agent '\(HumanText.escaped(agent))' (tripped \(Timestamps.format(trip.at)): \(HumanText.escaped(trip.reason)))"
          )
        }
      }
    }
  }
}

/// How tripped breakers look on the command line.
enum BreakerFormatting {
  static func json(_ trip: BreakerTrip) -> JSONValue {
    .object([
      ("agent", .string(trip.agent)), ("tripped_at", .string(Timestamps.format(trip.at))),
      ("reason", .string(trip.reason)), ("then", .string(trip.then.rawValue)),
    ])
  }

  static func line(_ trip: BreakerTrip) -> String {
    "\(HumanText.escaped(trip.agent)): tripped \(Timestamps.format(trip.at)), \(HumanText.escaped(trip.reason)); calls \(trip.then == .hold ? "held" : "denied") until `warden reset \(HumanText.escaped(trip.agent))`"
  }
}
