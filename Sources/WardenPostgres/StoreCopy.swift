import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Moving up: everything of a SQLite store copied into an empty PostgreSQL store, in one
/// transaction, so a person's grants, holds, tool pins, breaker trips and audit history become the
/// team's without losing verifiability: the audit records keep their places, text and hashes, the
/// audit key comes along (so argument digests stay comparable), and the chain is verified inside the
/// transaction, against the SQLite store's own anchors, before it commits.
public enum StoreCopy {
  public struct Report: Sendable, Equatable {
    public var grants = 0
    public var holds = 0
    public var toolPins = 0
    public var breakerTrips = 0
    public var auditRecords = 0
    /// Anchors of the SQLite store the copied chain was checked against.
    public var anchors = 0
  }

  /// Copies `source` into `target`, which must be migrated and hold nothing yet (no grant, hold,
  /// pin, trip or audit record): a copy never merges. Rate-limit uses are not copied (they only
  /// count calls of the last period). The SQLite store's audit anchors are appended to the target's
  /// anchor file in the same home, so `verify` here goes on checking them.
  public static func copy(from source: GrantStore, to target: PostgresStore) throws(StoreError) -> Report {
    // Journals left behind by killed sessions belong in the chain before it moves.
    let recovery = source.recoverAuditJournals(now: now())
    if let problem = recovery.problems.first {
      throw StoreError(.io, "cannot fold the audit journals into \(source.databasePath) first: \(problem)")
    }
    let grants = try source.allGrants()
    let holds = try source.recentHolds(limit: Int(Int32.max))
    let pins = try source.toolPins(server: nil)
    let trips = try source.breakerTrips()
    let (rows, heads) = try source.auditChainForVerification()
    let key = try source.auditDigestKey()
    let anchors: [AuditChain.Anchor]
    switch heads {
    case .success(let found): anchors = found
    case .failure(let problem):
      throw StoreError(
        .unreadable,
        "\(source.auditHeadPath) line \(problem.line) is not a head (\(problem.text)); fix it first")
    }
    guard case .holds = AuditChain.verify(rows, anchors: anchors) else {
      throw StoreError(
        .unreadable,
        "the audit trail of \(source.databasePath) does not verify (warden audit verify says where); it is not copied"
      )
    }
    let report = try target.importStore(
      grants: grants, holds: holds, pins: pins, trips: trips, audit: rows, key: key, anchors: anchors)
    appendAnchors(anchors, to: target.auditHeadPath)
    return report
  }

  private static func appendAnchors(_ anchors: [AuditChain.Anchor], to path: String) {
    guard !anchors.isEmpty else { return }
    let descriptor = openFile(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return }
    defer { _ = closeDescriptor(descriptor) }
    let bytes = Array(anchors.map { "\($0.seq) \($0.hash)\n" }.joined().utf8)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
  }

  private static func now() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
  }
}

extension PostgresStore {
  /// Writes a whole store's contents into this empty one in one transaction (see `StoreCopy`).
  func importStore(
    grants: [Grant], holds: [Hold], pins: [ToolPin], trips: [BreakerTrip], audit: [AuditChain.Row],
    key: [UInt8], anchors: [AuditChain.Anchor]
  ) throws(StoreError) -> StoreCopy.Report {
    defer { token.invalidate() }
    return try session.transaction("cannot copy into \(url)") { (statements: Statements) throws(StoreError) in
      try statements.lock("grants")
      try statements.lock("tool_pins")
      try statements.lock("audit")
      let held = try statements.rows(
        "SELECT (SELECT count(*) FROM grants) + (SELECT count(*) FROM holds) + (SELECT count(*) FROM audit)"
          + " + (SELECT count(*) FROM tool_pins) + (SELECT count(*) FROM breaker_trips)"
      ) { (cells: Cells) throws(StoreError) in try cells.integer(0) }
      guard held.first == 0 else {
        throw StoreError(
          .invalid,
          "\(url) is not empty: a copy goes only into a store that holds nothing yet (it never merges)")
      }
      var report = StoreCopy.Report()
      // Parents before their children: the foreign key wants them there first.
      var inserted = Set<String>()
      var waiting = grants
      while !waiting.isEmpty {
        let ready = waiting.filter { $0.parentID.map(inserted.contains) ?? true }
        guard !ready.isEmpty else {
          throw StoreError(.unreadable, "grant \(waiting[0].id) names a parent the store does not have")
        }
        for grant in ready {
          try statements.execute(PostgresGrantRow.insertSQL, PostgresGrantRow.binds(grant))
          inserted.insert(grant.id)
        }
        waiting.removeAll { inserted.contains($0.id) }
      }
      report.grants = grants.count
      for hold in holds {
        try statements.execute(PostgresHoldRow.insertSQL, PostgresHoldRow.binds(hold))
      }
      report.holds = holds.count
      for pin in pins {
        try statements.execute(
          "INSERT INTO tool_pins (server, command, tool, pinned, observed, state, since, accepted_by)"
            + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          binds(
            .text(pin.server), .text(pin.command), .text(pin.tool), .text(pin.pinned), .text(pin.observed),
            .text(pin.state.rawValue), .integer(pin.since), .text(pin.acceptedBy)))
      }
      report.toolPins = pins.count
      for trip in trips {
        try statements.execute(
          "INSERT INTO breaker_trips (agent, tripped_at, reason, effect, session) VALUES ($1, $2, $3, $4, 'copied')",
          binds(.text(trip.agent), .integer(trip.at), .text(trip.reason), .text(trip.then.rawValue)))
      }
      report.breakerTrips = trips.count
      for row in audit {
        guard let value = try? JSONValue.parse(row.record), let record = AuditRecord(json: value) else {
          throw StoreError(.unreadable, "audit record \(row.seq) is not a JSON object")
        }
        try statements.execute(
          "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id)"
            + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          binds(
            .integer(row.seq), .text(row.hash), .text(row.record), .integer(record.at), .text(record.kind),
            .text(record.agent), .text(record.server), .text(record.call)))
      }
      report.auditRecords = audit.count
      try statements.execute(
        "UPDATE audit_key SET secret = $1 WHERE id = 1",
        binds(.text(key.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined())))
      // What was written, read back inside the transaction, must verify as the source did.
      let copied = try statements.rows("SELECT seq, hash, record FROM audit ORDER BY seq") {
        (cells: Cells) throws(StoreError) in
        AuditChain.Row(seq: try cells.integer(0), hash: try cells.text(1), record: try cells.text(2))
      }
      guard copied == audit, case .holds(_, let checked) = AuditChain.verify(copied, anchors: anchors) else {
        throw StoreError(.io, "the copied audit trail does not verify on \(url); nothing was copied")
      }
      report.anchors = checked
      return report
    }
  }
}
