import WardenCore
import WardenStore

extension PostgresStore {
  public func createHold(_ hold: Hold) throws(StoreError) {
    try session.withConnection("cannot record hold \(hold.id) in \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.execute(PostgresHoldRow.insertSQL, PostgresHoldRow.binds(hold))
    }
  }

  public func hold(id: String) throws(StoreError) -> Hold? {
    try session.withConnection("cannot read hold \(id) from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresHoldRow.columns) FROM holds WHERE id = $1", binds(.text(id)), PostgresHoldRow.decode
      ).first
    }
  }

  /// Holds still waiting at `now` (pending and before their deadline), oldest first.
  public func pendingHolds(now: Int64) throws(StoreError) -> [Hold] {
    try session.withConnection("cannot read holds from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresHoldRow.columns) FROM holds WHERE state = 'pending' AND deadline > $1"
          + " ORDER BY created_at, id COLLATE \"C\"", binds(.integer(now)), PostgresHoldRow.decode)
    }
  }

  /// Every hold, newest first, at most `limit`.
  public func recentHolds(limit: Int) throws(StoreError) -> [Hold] {
    try session.withConnection("cannot read holds from \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT \(PostgresHoldRow.columns) FROM holds ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT $1",
        binds(.integer(Int64(max(limit, 0)))), PostgresHoldRow.decode)
    }
  }

  public func holdStates(ids: [String]) throws(StoreError) -> [String: Hold.State] {
    guard !ids.isEmpty else { return [:] }
    let rows = try session.withConnection("cannot read holds from \(url)") {
      (statements: Statements) throws(StoreError) -> [(String, String)] in
      try statements.rows("SELECT id, state FROM holds WHERE id = ANY($1)", binds(.texts(ids))) {
        (cells: Cells) throws(StoreError) in (try cells.text(0), try cells.text(1))
      }
    }
    var states: [String: Hold.State] = [:]
    for (id, state) in rows {
      if let state = Hold.State(rawValue: state) { states[id] = state }
    }
    return states
  }

  /// Decides a pending hold; the first decision wins (a concurrent one waits for the row and then
  /// finds it decided). A hold past its deadline can only become `expired`.
  @discardableResult
  public func decide(
    holdID: String, state: Hold.State, by: String, channel: String, note: String?, at: Int64,
    attestation: Attestation
  ) throws(StoreError) -> Hold {
    precondition(state != .pending, "a decision leaves the pending state")
    return try session.transaction("cannot decide hold \(holdID) in \(url)") {
      (statements: Statements) throws(StoreError) -> Hold in
      let deadlineClause = state == .expired ? " AND $8::bigint IS NOT NULL" : " AND deadline > $8"
      try statements.execute(
        "UPDATE holds SET state = $1, decided_by = $2, channel = $3, decided_at = $4, note = $5, attestation = $6"
          + " WHERE id = $7 AND state = 'pending'" + deadlineClause,
        binds(
          .text(state.rawValue), .text(by), .text(channel), .integer(at), .text(note),
          .text(attestation.rawValue),
          .text(holdID), .integer(at)))
      guard
        let hold = try statements.rows(
          "SELECT \(PostgresHoldRow.columns) FROM holds WHERE id = $1", binds(.text(holdID)),
          PostgresHoldRow.decode
        ).first
      else { throw StoreError(.notFound, "no hold with id \(holdID)") }
      return hold
    }
  }

  /// Decides the pending holds among `holdIDs` in one transaction, as `GrantStore` does.
  public func decide(
    holdIDs: [String], state: Hold.State, by: String, channel: String, note: String?, at: Int64,
    attestation: Attestation
  ) throws(StoreError) -> [HoldDecisionResult] {
    precondition(state != .pending && state != .expired, "a human decides: approved or rejected")
    return try session.transaction("cannot decide holds in \(url)") {
      (statements: Statements) throws(StoreError) -> [HoldDecisionResult] in
      var results: [HoldDecisionResult] = []
      for id in holdIDs {
        let taken =
          try statements.query(
            "UPDATE holds SET state = $1, decided_by = $2, channel = $3, decided_at = $4, note = $5,"
              + " attestation = $6 WHERE id = $7 AND state = 'pending' AND deadline > $8",
            binds(
              .text(state.rawValue), .text(by), .text(channel), .integer(at), .text(note),
              .text(attestation.rawValue), .text(id), .integer(at))
          ).affected == 1
        let hold = try statements.rows(
          "SELECT \(PostgresHoldRow.columns) FROM holds WHERE id = $1", binds(.text(id)),
          PostgresHoldRow.decode
        ).first
        results.append(HoldDecisionResult(id: id, hold: hold, taken: taken))
      }
      return results
    }
  }
}
