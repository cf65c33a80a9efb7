import GRDB

extension GrantStore {
  /// Records one allowed call under `grantID` at `at` (ms), for its rate limit. Uses older than the
  /// grant's rate period before `at` are pruned. Throws `.notFound` for an unknown grant.
  public func recordUse(grantID: String, at: Int64) throws(StoreError) {
    try guarded("cannot record a use of grant \(grantID) in \(databasePath)") {
      try pool.write { db in
        guard try exists(db, grantID) else { throw StoreError(.notFound, "no grant with id \(grantID)") }
        try db.cachedStatement(
          sql: "DELETE FROM grant_uses WHERE grant_id = ?1"
            + " AND at < ?2 - (SELECT rate_period_ms FROM grants WHERE id = ?1)"
        ).execute(arguments: [grantID, at])
        try db.cachedStatement(sql: "INSERT INTO grant_uses (grant_id, at) VALUES (?, ?)")
          .execute(arguments: [grantID, at])
      }
    }
  }

  /// The calls recorded under `grantID` at or after `since` (ms). Zero for a grant with none (or
  /// unknown).
  public func useCount(grantID: String, since: Int64) throws(StoreError) -> Int {
    try guarded("cannot count uses of grant \(grantID) in \(databasePath)") {
      try pool.read { db in
        try Int.fetchOne(
          db.cachedStatement(sql: "SELECT count(*) FROM grant_uses WHERE grant_id = ? AND at >= ?"),
          arguments: [grantID, since]) ?? 0
      }
    }
  }
}
