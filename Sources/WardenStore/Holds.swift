import GRDB
import WardenCore

extension GrantStore {
  /// Records a new pending hold.
  public func createHold(_ hold: Hold) throws(StoreError) {
    try guarded("cannot record hold \(hold.id) in \(databasePath)") {
      try pool.write { db in
        try db.cachedStatement(sql: "INSERT INTO holds (\(HoldRow.columns)) VALUES (\(placeholders(22)))")
          .execute(arguments: HoldRow.arguments(hold))
      }
    }
  }

  public func hold(id: String) throws(StoreError) -> Hold? {
    try guarded("cannot read hold \(id) from \(databasePath)") {
      try pool.read { db in
        try HoldRow.fetchAll(
          db.cachedStatement(sql: "SELECT \(HoldRow.columns) FROM holds WHERE id = ?"), [id]
        ).first
      }
    }
  }

  /// Holds still waiting at `now` (pending and before their deadline), oldest first.
  public func pendingHolds(now: Int64) throws(StoreError) -> [Hold] {
    try guarded("cannot read holds from \(databasePath)") {
      try pool.read { db in
        try HoldRow.fetchAll(
          db.cachedStatement(
            sql:
              "SELECT \(HoldRow.columns) FROM holds WHERE state = 'pending' AND deadline > ? ORDER BY created_at, id"
          ),
          [now])
      }
    }
  }

  /// Every hold, newest first, at most `limit`.
  public func recentHolds(limit: Int) throws(StoreError) -> [Hold] {
    try guarded("cannot read holds from \(databasePath)") {
      try pool.read { db in
        try HoldRow.fetchAll(
          db.cachedStatement(
            sql: "SELECT \(HoldRow.columns) FROM holds ORDER BY created_at DESC, id DESC LIMIT ?"),
          [limit])
      }
    }
  }

  /// The states of the given holds (for the process that holds them, polling for decisions).
  public func holdStates(ids: [String]) throws(StoreError) -> [String: Hold.State] {
    guard !ids.isEmpty else { return [:] }
    return try guarded("cannot read holds from \(databasePath)") {
      try pool.read { db in
        var states: [String: Hold.State] = [:]
        let rows = try Row.fetchAll(
          db, sql: "SELECT id, state FROM holds WHERE id IN (\(placeholders(ids.count)))",
          arguments: StatementArguments(ids))
        for row in rows {
          if let state = Hold.State(rawValue: row["state"]) { states[row["id"]] = state }
        }
        return states
      }
    }
  }

  /// Decides a pending hold. The first decision wins: returns the hold as it stands afterwards, so
  /// the caller can tell whether its decision was the one taken (`decidedAt == at` and its channel)
  /// or someone else's came first. A hold past its deadline can only become `expired`.
  @discardableResult
  public func decide(
    holdID: String, state: Hold.State, by: String, channel: String, note: String? = nil, at: Int64,
    attestation: Attestation = .warden
  ) throws(StoreError) -> Hold {
    precondition(state != .pending, "a decision leaves the pending state")
    return try guarded("cannot decide hold \(holdID) in \(databasePath)") {
      try pool.write { db in
        let deadlineClause = state == .expired ? "" : " AND deadline > ?"
        var arguments: StatementArguments = [
          state.rawValue, by, channel, at, note, attestation.rawValue, holdID,
        ]
        if state != .expired { arguments += [at] }
        try db.cachedStatement(
          sql:
            "UPDATE holds SET state = ?, decided_by = ?, channel = ?, decided_at = ?, note = ?, attestation = ?"
            + " WHERE id = ? AND state = 'pending'" + deadlineClause
        ).execute(arguments: arguments)
        guard
          let hold = try HoldRow.fetchAll(
            db.cachedStatement(sql: "SELECT \(HoldRow.columns) FROM holds WHERE id = ?"), [holdID]
          ).first
        else { throw StoreError(.notFound, "no hold with id \(holdID)") }
        return hold
      }
    }
  }
}

extension GrantStore {
  /// Decides the pending holds among `holdIDs` in one transaction, as `decide(holdID:...)` decides
  /// one (the first decision wins; a hold past its deadline can only become `expired`). Returns, for
  /// each id in order, the hold as it stands afterwards (nil when there is none) and whether this
  /// decision was the one taken: a hold someone else decided first, or one past its deadline, is
  /// left as it is. Only the ids given are touched: a hold that arrived since they were listed is not.
  public func decide(
    holdIDs: [String], state: Hold.State, by: String, channel: String, note: String?, at: Int64,
    attestation: Attestation
  ) throws(StoreError) -> [HoldDecisionResult] {
    precondition(state != .pending && state != .expired, "a human decides: approved or rejected")
    return try guarded("cannot decide holds in \(databasePath)") {
      try pool.write { db in
        var results: [HoldDecisionResult] = []
        for id in holdIDs {
          try db.cachedStatement(
            sql:
              "UPDATE holds SET state = ?, decided_by = ?, channel = ?, decided_at = ?, note = ?, attestation = ?"
              + " WHERE id = ? AND state = 'pending' AND deadline > ?"
          ).execute(arguments: [state.rawValue, by, channel, at, note, attestation.rawValue, id, at])
          let taken = db.changesCount == 1
          let hold = try HoldRow.fetchAll(
            db.cachedStatement(sql: "SELECT \(HoldRow.columns) FROM holds WHERE id = ?"), [id]
          ).first
          results.append(HoldDecisionResult(id: id, hold: hold, taken: taken))
        }
        return results
      }
    }
  }
}

private func placeholders(_ count: Int) -> String {
  Array(repeating: "?", count: count).joined(separator: ", ")
}
