import GRDB
import WardenJSON

/// A prune that did not remove its records, and whether its prune record was written.
public struct AuditPruneError: Error, Sendable, CustomStringConvertible {
  /// The prune record's place when it was appended (the records it names are still there, which
  /// `verify` accepts); nil when nothing was written.
  public var pruneRecord: Int64?
  public var cause: StoreError

  public init(pruneRecord: Int64?, cause: StoreError) {
    self.pruneRecord = pruneRecord
    self.cause = cause
  }

  public var description: String {
    guard let pruneRecord else { return "nothing was pruned: \(cause)" }
    return
      "prune record \(pruneRecord) was appended, but the records it names were not deleted (the trail still verifies; prune again to remove them): \(cause)"
  }
}

extension GrantStore {
  /// Carries out `plan` (from `AuditPrune.plan` on a verified chain): appends `record`, its prune
  /// record (`AuditPrune.record`), to the chain, then deletes records `plan.from` through
  /// `plan.through` in one transaction. Returns the prune record's `seq`.
  ///
  /// The record goes first so that no moment leaves records gone with nothing in the chain saying
  /// so: a crash in between leaves both the records and the prune record, which `verify` accepts.
  public func pruneAudit(_ plan: AuditPrune.Plan, record: JSONValue) throws(AuditPruneError) -> Int64 {
    let seq: Int64
    do throws(StoreError) {
      guard let appended = try appendAudit([record]).first else {
        throw StoreError(.io, "the prune record was not appended to \(databasePath)")
      }
      seq = appended
    } catch {
      throw AuditPruneError(pruneRecord: nil, cause: error)
    }
    do {
      try deleteAuditPrefix(plan)
    } catch {
      throw AuditPruneError(pruneRecord: seq, cause: error)
    }
    return seq
  }

  /// Deletes the records of `plan`, after checking, in the same transaction, that they are still the
  /// chain's oldest and that the last of them is the record the plan saw: the trail is never cut
  /// anywhere but at its start, nor past a record that changed since it was verified.
  private func deleteAuditPrefix(_ plan: AuditPrune.Plan) throws(StoreError) {
    let path = databasePath
    try guarded("cannot delete pruned records from \(path)") {
      try pool.write { db in
        let oldest = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit")
        if let oldest, oldest < plan.from {
          throw StoreError(
            .invalid,
            "record \(oldest) is older than record \(plan.from), where the prune starts: the trail changed since it was verified"
          )
        }
        // Gone already when a concurrent prune removed it: then so are those before it.
        let last = try String.fetchOne(
          db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [plan.through])
        if let last, last != plan.hash {
          throw StoreError(
            .invalid,
            "record \(plan.through) changed since the trail was verified: its hash is no longer the one the prune record names"
          )
        }
        try db.execute(
          sql: "DELETE FROM audit WHERE seq >= ? AND seq <= ?", arguments: [plan.from, plan.through])
      }
    }
  }
}
