import GRDB
import WardenCore

/// `Grant` <-> a row of the `grants` table.
enum GrantRow {
  /// The columns, in the order `decode` reads them.
  static let columns =
    "id, effect, actions, resources, agent, server, confirm, purpose, issued_by, issued_at, expires_at,"
    + " rate_count, rate_period_ms, parent_id, revoked_at, revoked_by, attestation, reviewed"

  static let columnNames = columns.split(separator: ",").map { $0.trimmingPrefix(" ") }.map(String.init)

  static let insertSQL =
    "INSERT INTO grants (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

  static func arguments(_ grant: Grant) -> StatementArguments {
    [
      grant.id, grant.effect.rawValue, StringArrayJSON.encode(grant.actions),
      StringArrayJSON.encode(grant.resources), grant.agent, grant.server,
      StringArrayJSON.encode(grant.confirm), grant.purpose, grant.issuedBy, grant.issuedAt, grant.expiresAt,
      grant.rateLimit.map { Int64($0.count) }, grant.rateLimit?.periodMilliseconds, grant.parentID,
      grant.revokedAt, grant.revokedBy, grant.attestation, StringArrayJSON.encode(grant.reviewed),
    ]
  }

  /// The grants a `SELECT \(columns) ...` statement yields. A value of the wrong type or shape (a
  /// database edited by hand, or by a newer warden) is an `.unreadable` error, never a crash or a skip.
  static func fetchAll(_ statement: Statement, _ arguments: StatementArguments = []) throws -> [Grant] {
    var grants: [Grant] = []
    let rows = try Row.fetchCursor(statement, arguments: arguments)
    while let row = try rows.next() {
      grants.append(try decode(row))
    }
    return grants
  }

  static func decode(_ row: Row) throws -> Grant {
    var reader = Reader(row: row)
    let id = try reader.text()
    reader.grantID = id
    guard let effect = Grant.Effect(rawValue: try reader.text()) else { throw reader.bad("effect") }
    let actions = try reader.strings()
    let resources = try reader.strings()
    let agent = try reader.text()
    let server = try reader.text()
    let confirm = try reader.strings()
    let purpose = try reader.text()
    let issuedBy = try reader.text()
    let issuedAt = try reader.integer()
    let expiresAt = try reader.optionalInteger()
    let rateCount = try reader.optionalInteger()
    let ratePeriod = try reader.optionalInteger()
    let parentID = try reader.optionalText()
    let revokedAt = try reader.optionalInteger()
    let revokedBy = try reader.optionalText()
    let attestation = try reader.optionalText()
    let reviewed = try reader.strings()
    var rateLimit: RateLimit?
    if let rateCount, let ratePeriod, let count = Int(exactly: rateCount) {
      rateLimit = RateLimit(count: count, periodMilliseconds: ratePeriod)
    } else if rateCount != nil || ratePeriod != nil {
      throw reader.bad("rate limit")
    }
    return Grant(
      id: id, effect: effect, actions: actions, resources: resources, agent: agent, server: server,
      confirm: confirm, reviewed: reviewed, purpose: purpose, issuedBy: issuedBy, issuedAt: issuedAt,
      expiresAt: expiresAt, rateLimit: rateLimit, parentID: parentID, revokedAt: revokedAt,
      revokedBy: revokedBy, attestation: attestation)
  }

  /// Reads a row's columns in order, checking each value's type instead of trapping on a mismatch.
  private struct Reader {
    let row: Row
    var index = 0
    var grantID = "?"

    init(row: Row) { self.row = row }

    mutating func next() -> DatabaseValue {
      defer { index += 1 }
      return row[index]
    }

    mutating func text() throws -> String {
      guard case .string(let text) = next().storage else { throw bad(column) }
      return text
    }

    mutating func optionalText() throws -> String? {
      let value = next()
      if value.isNull { return nil }
      guard case .string(let text) = value.storage else { throw bad(column) }
      return text
    }

    mutating func integer() throws -> Int64 {
      guard case .int64(let number) = next().storage else { throw bad(column) }
      return number
    }

    mutating func optionalInteger() throws -> Int64? {
      let value = next()
      if value.isNull { return nil }
      guard case .int64(let number) = value.storage else { throw bad(column) }
      return number
    }

    mutating func strings() throws -> [String] {
      guard let strings = StringArrayJSON.decode(try text()) else { throw bad(column) }
      return strings
    }

    /// The name of the column just read.
    var column: String { GrantRow.columnNames[index - 1] }

    func bad(_ what: String) -> StoreError {
      StoreError(.unreadable, "grant \(grantID) in the database has an invalid \(what)")
    }
  }
}
