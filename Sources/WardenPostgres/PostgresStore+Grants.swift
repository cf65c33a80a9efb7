import PostgresNIO
import WardenCore
import WardenStore

extension PostgresStore {
  /// Revokes the given grants and forbids and, transitively, every descendant; returns the ids newly
  /// revoked, ordered by `issuedAt` then `id`. An unknown id throws `.notFound` and changes nothing.
  public func revoke(ids: [String], by: String, at: Int64) throws(StoreError) -> [String] {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot revoke grants in \(url)") {
      (statements: Statements) throws(StoreError) -> [String] in
      try statements.lock("grants")
      let unknown = try statements.rows(
        "SELECT DISTINCT requested COLLATE \"C\" FROM unnest($1::text[]) AS requested"
          + " WHERE requested NOT IN (SELECT id FROM grants) ORDER BY 1",
        binds(.texts(ids))
      ) { (cells: Cells) throws(StoreError) in try cells.text(0) }
      if !unknown.isEmpty {
        throw StoreError(.notFound, "no grant with id \(unknown.joined(separator: ", "))")
      }
      return try revokeTrees(
        statements, rootsSQL: "SELECT unnest($3::text[])", binds(.integer(at), .text(by), .texts(ids)))
    }
  }

  public func revoke(agent: String, by: String, at: Int64) throws(StoreError) -> [String] {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot revoke grants in \(url)") {
      (statements: Statements) throws(StoreError) -> [String] in
      try statements.lock("grants")
      return try revokeTrees(
        statements,
        rootsSQL: "SELECT id FROM grants WHERE agent = $3 AND revoked_at IS NULL"
          + " AND (expires_at IS NULL OR expires_at > $1)",
        binds(.integer(at), .text(by), .text(agent)))
    }
  }

  /// The kill switch: revokes every grant and forbid not yet revoked.
  public func revokeAll(by: String, at: Int64) throws(StoreError) -> [String] {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.transaction("cannot revoke grants in \(url)") {
      (statements: Statements) throws(StoreError) -> [String] in
      try statements.lock("grants")
      return try revokeTrees(
        statements, rootsSQL: "SELECT id FROM grants WHERE revoked_at IS NULL AND $3::text IS NULL",
        binds(.integer(at), .text(by), .text(nil)))
    }
  }

  /// Revokes the unrevoked grants among the roots and all their descendants, in one statement
  /// (`$1` is the time, `$2` who); the descent goes through grants revoked earlier too.
  private func revokeTrees(
    _ statements: Statements, rootsSQL: String, _ arguments: PostgresBindings
  ) throws(StoreError) -> [String] {
    try statements.rows(
      """
      WITH RECURSIVE tree(id) AS (
        \(rootsSQL)
        UNION
        SELECT grants.id FROM grants JOIN tree ON grants.parent_id = tree.id
      ), revoked AS (
        UPDATE grants SET revoked_at = $1, revoked_by = $2
        WHERE id IN (SELECT id FROM tree) AND revoked_at IS NULL
        RETURNING id, issued_at
      )
      SELECT id FROM revoked ORDER BY issued_at, id COLLATE "C"
      """, arguments
    ) { (cells: Cells) throws(StoreError) in try cells.text(0) }
  }

  /// Records one allowed call under `grantID`, pruning uses older than its rate period.
  public func recordUse(grantID: String, at: Int64) throws(StoreError) {
    try session.transaction("cannot record a use of grant \(grantID) in \(url)") {
      (statements: Statements) throws(StoreError) in
      guard try exists(statements, grantID) else {
        throw StoreError(.notFound, "no grant with id \(grantID)")
      }
      try statements.execute(
        "DELETE FROM grant_uses WHERE grant_id = $1"
          + " AND at < $2 - (SELECT rate_period_ms FROM grants WHERE id = $1)",
        binds(.text(grantID), .integer(at)))
      try statements.execute(
        "INSERT INTO grant_uses (grant_id, at) VALUES ($1, $2)", binds(.text(grantID), .integer(at)))
    }
  }

  public func useCount(grantID: String, since: Int64) throws(StoreError) -> Int {
    let counts = try session.withConnection("cannot count uses of grant \(grantID) in \(url)") {
      (statements: Statements) throws(StoreError) -> [Int64] in
      try statements.rows(
        "SELECT count(*) FROM grant_uses WHERE grant_id = $1 AND at >= $2",
        binds(.text(grantID), .integer(since))
      ) { (cells: Cells) throws(StoreError) in try cells.integer(0) }
    }
    return Int(counts.first ?? 0)
  }

  /// Records that `trip.agent`'s breaker tripped; the first trip stands. Returns whether this was it.
  @discardableResult
  public func tripBreaker(_ trip: BreakerTrip, session id: String) throws(StoreError) -> Bool {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.withConnection("cannot record a tripped breaker in \(url)") {
      (statements: Statements) throws(StoreError) -> Bool in
      try statements.query(
        "INSERT INTO breaker_trips (agent, tripped_at, reason, effect, session) VALUES ($1, $2, $3, $4, $5)"
          + " ON CONFLICT (agent) DO NOTHING",
        binds(.text(trip.agent), .integer(trip.at), .text(trip.reason), .text(trip.then.rawValue), .text(id))
      ).affected > 0
    }
  }

  public func breakerTrips() throws(StoreError) -> [BreakerTrip] {
    try session.withConnection("cannot read the tripped breakers in \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "SELECT agent, tripped_at, reason, effect FROM breaker_trips ORDER BY agent COLLATE \"C\"", binds(),
        Self.trip)
    }
  }

  public func resetBreaker(agent: String) throws(StoreError) -> BreakerTrip? {
    // This process sees its own change at its next call, before the notification comes back.
    defer { token.invalidate() }
    return try session.withConnection("cannot reset a breaker in \(url)") {
      (statements: Statements) throws(StoreError) in
      try statements.rows(
        "DELETE FROM breaker_trips WHERE agent = $1 RETURNING agent, tripped_at, reason, effect",
        binds(.text(agent)), Self.trip
      ).first
    }
  }

  private static func trip(_ cells: Cells) throws(StoreError) -> BreakerTrip {
    BreakerTrip(
      agent: try cells.text(0), at: try cells.integer(1), reason: try cells.text(2),
      then: BreakerRule.Then(rawValue: try cells.text(3)) ?? .deny)
  }
}
