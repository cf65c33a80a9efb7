import GRDB
import WardenCore

extension GrantStore {
  /// Records that `trip.agent`'s breaker tripped. The first trip stands: a second one (another
  /// warden, the same moment) changes nothing. Returns whether this was the first.
  @discardableResult
  public func tripBreaker(_ trip: BreakerTrip, session: String) throws(StoreError) -> Bool {
    try guarded("cannot record a tripped breaker in \(databasePath)") {
      try pool.write { db in
        try db.execute(
          sql: """
            INSERT INTO breaker_trips (agent, tripped_at, reason, effect, session) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (agent) DO NOTHING
            """,
          arguments: [trip.agent, trip.at, trip.reason, trip.then.rawValue, session])
        return db.changesCount > 0
      }
    }
  }

  /// Every tripped breaker, by agent.
  public func breakerTrips() throws(StoreError) -> [BreakerTrip] {
    try guarded("cannot read the tripped breakers in \(databasePath)") {
      try pool.read { db in
        try Row.fetchAll(
          db, sql: "SELECT agent, tripped_at, reason, effect FROM breaker_trips ORDER BY agent"
        )
        .map { row in
          BreakerTrip(
            agent: row["agent"], at: row["tripped_at"], reason: row["reason"],
            then: BreakerRule.Then(rawValue: row["effect"]) ?? .deny)
        }
      }
    }
  }

  /// Resets `agent`'s breaker; returns the trip it ended, nil when none was tripped.
  public func resetBreaker(agent: String) throws(StoreError) -> BreakerTrip? {
    try guarded("cannot reset a breaker in \(databasePath)") {
      try pool.write { db in
        guard
          let row = try Row.fetchOne(
            db, sql: "SELECT agent, tripped_at, reason, effect FROM breaker_trips WHERE agent = ?",
            arguments: [agent])
        else { return nil }
        try db.execute(sql: "DELETE FROM breaker_trips WHERE agent = ?", arguments: [agent])
        return BreakerTrip(
          agent: row["agent"], at: row["tripped_at"], reason: row["reason"],
          then: BreakerRule.Then(rawValue: row["effect"]) ?? .deny)
      }
    }
  }
}
