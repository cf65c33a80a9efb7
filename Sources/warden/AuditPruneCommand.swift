import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden.Audit {
  struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "prune",
      abstract: "Remove the oldest audit records, leaving a record of the prune in the chain.",
      discussion: """
        Removes the records at the start of the trail that are older than --before: from the oldest record left, up to the first record that is not older (records of different warden processes are not strictly in time order, and only the start of the chain can go without breaking it).

        First it checks the trail as `warden audit verify` does, and refuses (exit status 1) when it does not hold: pruning must not erase the evidence. Then it appends a prune record to the chain naming the records it removes (pruned_from, pruned_through), the hash of the last of them (pruned_hash), the cutoff, the OS user and how the command was run; then it deletes the records in one transaction. Interrupted in between, it leaves the records and the prune record, and the trail still verifies.

        What remains stays verifiable: `warden audit verify` checks the chain from the first record left, which must follow the hash a prune record names, and the head file's lines for every record left. What the pruned records said can no longer be checked. Records deleted anywhere else, or at the start without a prune record, and a prune record edited or inserted, are still reported.

        Pruning erases history, so it must be typed at a terminal: an agent with a shell could otherwise erase its own traces. Run without one (an agent's shell tool, a script) it is refused with exit status 77, unless $WARDEN_HOME/config.yaml says `scripted: allow`. Either way the prune record stays in the trail, saying who pruned what.

        Examples:
          warden audit prune --before 90d
          warden audit prune --before 2026-01-01 --json
        """)

    @Option(
      name: .long,
      help: ArgumentHelp(
        "Remove records older than this long ago (90s, 2h, 30d) or this time (2026-11-24T18:00, UTC unless an offset is given).",
        valueName: "duration|time"))
    var before: String

    @Flag(name: .long, help: "Print {\"pruned\": N, \"from\": A, \"through\": K, \"prune_record\": SEQ}.")
    var json = false

    func run() throws {
      try reportingFailures {
        // Erasing the trail needs a human at a terminal (or `scripted: allow`), like widening grants.
        let attestation = try CommandEnvironment.requireHuman("prune the audit trail")
        let cutoff = try AuditTime.instant(before, option: "--before", now: CommandEnvironment.now())
        let store = try CommandEnvironment.openStoreWithAuditTrail()
        let held: AuditVerification.Held
        do { held = try AuditVerification.check(store) } catch let failure as CommandFailure {
          throw CommandFailure(failure.message + "\nwarden: nothing was pruned", status: 1)
        }
        guard let plan = AuditPrune.plan(held.rows, before: cutoff) else {
          report(nothingBefore: cutoff, oldest: held.rows.first)
          return
        }
        let record = AuditPrune.record(
          plan, before: cutoff, at: CommandEnvironment.now(), by: CommandEnvironment.userName,
          attestation: attestation.rawValue)
        let seq: Int64
        do { seq = try store.pruneAudit(plan, record: record) } catch {
          throw CommandFailure("warden: cannot prune the audit trail: \(error)")
        }
        if json {
          printLine(Self.summary(count: plan.count, from: plan.from, through: plan.through, record: seq))
        } else {
          printLine(
            "pruned \(plan.count) records (\(plan.from) to \(plan.through), before \(Timestamps.format(cutoff))); prune record \(seq) names them, and `warden audit verify` checks what remains"
          )
        }
      }
    }

    private func report(nothingBefore cutoff: Int64, oldest: AuditChain.Row?) {
      if json {
        printLine(Self.summary(count: 0, from: nil, through: nil, record: nil))
        return
      }
      let oldestAt = oldest.flatMap { (try? JSONValue.parse($0.record))?["at"]?.integerValue }
      printLine(
        "nothing to prune: "
          + (oldestAt.map {
            "the oldest record (\(oldest?.seq ?? 0)) is from \(Timestamps.format($0)), not before \(Timestamps.format(cutoff))"
          } ?? "the audit trail is empty"))
    }

    /// The `--json` output.
    private static func summary(count: Int64, from: Int64?, through: Int64?, record: Int64?) -> String {
      func number(_ value: Int64?) -> JSONValue { value.map { .integer($0) } ?? .null() }
      return JSONValue.object([
        ("pruned", .integer(count)), ("from", number(from)), ("through", number(through)),
        ("prune_record", number(record)),
      ]).text(pretty: true)
    }
  }
}
