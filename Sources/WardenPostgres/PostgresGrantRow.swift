import PostgresNIO
import WardenCore
import WardenStore

/// `Grant` <-> a row of `grants`, the columns in `GrantRow`'s order.
enum PostgresGrantRow {
  static let columns =
    "id, effect, actions, resources, agent, server, confirm, purpose, issued_by, issued_at, expires_at,"
    + " rate_count, rate_period_ms, parent_id, revoked_at, revoked_by, attestation, reviewed"

  static let insertSQL =
    "INSERT INTO grants (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
    + " $15, $16, $17, $18)"

  static func binds(_ grant: Grant) -> PostgresBindings {
    WardenPostgres.binds(
      .text(grant.id), .text(grant.effect.rawValue), .text(StringArrayJSON.encode(grant.actions)),
      .text(StringArrayJSON.encode(grant.resources)), .text(grant.agent), .text(grant.server),
      .text(StringArrayJSON.encode(grant.confirm)), .text(grant.purpose), .text(grant.issuedBy),
      .integer(grant.issuedAt), .integer(grant.expiresAt), .integer(grant.rateLimit.map { Int64($0.count) }),
      .integer(grant.rateLimit?.periodMilliseconds), .text(grant.parentID), .integer(grant.revokedAt),
      .text(grant.revokedBy), .text(grant.attestation), .text(StringArrayJSON.encode(grant.reviewed)))
  }

  static func decode(_ cells: Cells) throws(StoreError) -> Grant {
    let id = try cells.text(0)
    func bad(_ what: String) -> StoreError {
      StoreError(.unreadable, "grant \(id) in the database has an invalid \(what)")
    }
    func strings(_ index: Int, _ what: String) throws(StoreError) -> [String] {
      guard let strings = StringArrayJSON.decode(try cells.text(index)) else { throw bad(what) }
      return strings
    }
    guard let effect = Grant.Effect(rawValue: try cells.text(1)) else { throw bad("effect") }
    let rateCount = try cells.optionalInteger(11)
    let ratePeriod = try cells.optionalInteger(12)
    var rateLimit: RateLimit?
    if let rateCount, let ratePeriod, let count = Int(exactly: rateCount) {
      rateLimit = RateLimit(count: count, periodMilliseconds: ratePeriod)
    } else if rateCount != nil || ratePeriod != nil {
      throw bad("rate limit")
    }
    return Grant(
      id: id, effect: effect, actions: try strings(2, "actions"), resources: try strings(3, "resources"),
      agent: try cells.text(4), server: try cells.text(5), confirm: try strings(6, "confirm"),
      reviewed: try strings(17, "reviewed"), purpose: try cells.text(7), issuedBy: try cells.text(8),
      issuedAt: try cells.integer(9), expiresAt: try cells.optionalInteger(10), rateLimit: rateLimit,
      parentID: try cells.optionalText(13), revokedAt: try cells.optionalInteger(14),
      revokedBy: try cells.optionalText(15), attestation: try cells.optionalText(16))
  }
}

/// `Hold` <-> a row of `holds`.
enum PostgresHoldRow {
  static let columns =
    "id, server, agent, tool, arguments, digest, action, resources, reason, explanation, grant_id, purpose,"
    + " holder_pid, created_at, deadline, state, decided_by, channel, decided_at, note, approval_code,"
    + " attestation"

  static let insertSQL =
    "INSERT INTO holds (\(columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
    + " $16, $17, $18, $19, $20, $21, $22)"

  static func binds(_ hold: Hold) -> PostgresBindings {
    WardenPostgres.binds(
      .text(hold.id), .text(hold.server), .text(hold.agent), .text(hold.tool), .text(hold.arguments),
      .text(hold.digest), .text(hold.action), .text(StringArrayJSON.encode(hold.resources)),
      .text(hold.reason),
      .text(hold.explanation), .text(hold.grantID), .text(hold.purpose), .integer(Int64(hold.holderPID)),
      .integer(hold.createdAt), .integer(hold.deadline), .text(hold.state.rawValue), .text(hold.decidedBy),
      .text(hold.channel), .integer(hold.decidedAt), .text(hold.note), .text(hold.approvalCode),
      .text(hold.attestation))
  }

  static func decode(_ cells: Cells) throws(StoreError) -> Hold {
    let id = try cells.text(0)
    guard let state = Hold.State(rawValue: try cells.text(15)) else {
      throw StoreError(.unreadable, "hold \(id) has an unknown state")
    }
    guard let resources = StringArrayJSON.decode(try cells.text(7)) else {
      throw StoreError(.unreadable, "hold \(id) has unreadable resources")
    }
    return Hold(
      id: id, server: try cells.text(1), agent: try cells.text(2), tool: try cells.text(3),
      arguments: try cells.text(4), digest: try cells.text(5), action: try cells.text(6),
      resources: resources,
      reason: try cells.text(8), explanation: try cells.text(9), grantID: try cells.optionalText(10),
      purpose: try cells.optionalText(11), holderPID: Int32(truncatingIfNeeded: try cells.integer(12)),
      createdAt: try cells.integer(13), deadline: try cells.integer(14), state: state,
      decidedBy: try cells.optionalText(16), channel: try cells.optionalText(17),
      decidedAt: try cells.optionalInteger(18), note: try cells.optionalText(19),
      approvalCode: try cells.optionalText(20), attestation: try cells.optionalText(21))
  }
}
