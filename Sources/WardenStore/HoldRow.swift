import GRDB
import WardenCore

/// `Hold` to and from a row of `holds`.
enum HoldRow {
  static let columns =
    "id, server, agent, tool, arguments, digest, action, resources, reason, explanation, grant_id, purpose,"
    + " holder_pid, created_at, deadline, state, decided_by, channel, decided_at, note, approval_code,"
    + " attestation"

  static func arguments(_ hold: Hold) -> StatementArguments {
    [
      hold.id, hold.server, hold.agent, hold.tool, hold.arguments, hold.digest, hold.action,
      StringArrayJSON.encode(hold.resources), hold.reason, hold.explanation, hold.grantID, hold.purpose,
      Int64(hold.holderPID), hold.createdAt, hold.deadline, hold.state.rawValue, hold.decidedBy, hold.channel,
      hold.decidedAt, hold.note, hold.approvalCode, hold.attestation,
    ]
  }

  static func fetchAll(_ statement: Statement, _ arguments: StatementArguments = []) throws -> [Hold] {
    try Row.fetchAll(statement, arguments: arguments).map(hold)
  }

  static func hold(_ row: Row) throws -> Hold {
    guard let state = Hold.State(rawValue: row["state"]) else {
      throw StoreError(.unreadable, "hold \(row["id"] as String? ?? "?") has an unknown state")
    }
    guard let resources = StringArrayJSON.decode(row["resources"]) else {
      throw StoreError(.unreadable, "hold \(row["id"] as String? ?? "?") has unreadable resources")
    }
    return Hold(
      id: row["id"], server: row["server"], agent: row["agent"], tool: row["tool"],
      arguments: row["arguments"],
      digest: row["digest"], action: row["action"], resources: resources, reason: row["reason"],
      explanation: row["explanation"], grantID: row["grant_id"], purpose: row["purpose"],
      holderPID: Int32(truncatingIfNeeded: row["holder_pid"] as Int64), createdAt: row["created_at"],
      deadline: row["deadline"], state: state, decidedBy: row["decided_by"], channel: row["channel"],
      decidedAt: row["decided_at"], note: row["note"], approvalCode: row["approval_code"],
      attestation: row["attestation"])
  }
}
