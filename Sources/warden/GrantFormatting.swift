import WardenCore
import WardenJSON

/// How grants look on the command line: JSON for scripts, aligned text for people.
enum GrantFormatting {
  static func json(_ grant: Grant, now: Int64) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("id", .string(grant.id)),
      ("effect", .string(grant.effect.rawValue)),
      ("status", .string(status(of: grant, now: now))),
      ("actions", .array(grant.actions.map { .string($0) })),
      ("resources", .array(grant.resources.map { .string($0) })),
      ("agent", .string(grant.agent)),
      ("server", .string(grant.server)),
      ("confirm", .array(grant.confirm.map { .string($0) })),
      ("reviewed", .array(grant.reviewed.map { .string($0) })),
      ("purpose", .string(grant.purpose)),
      ("issuedBy", .string(grant.issuedBy)),
      ("issuedAt", .string(Timestamps.format(grant.issuedAt))),
      ("expiresAt", grant.expiresAt.map { .string(Timestamps.format($0)) } ?? .null()),
    ]
    if let attestation = grant.attestation { members.append(("attestation", .string(attestation))) }
    if let limit = grant.rateLimit {
      members.append(
        (
          "maxCalls",
          .object([
            ("count", .integer(Int64(limit.count))),
            ("period", .string(Durations.describe(limit.periodMilliseconds))),
          ])
        ))
    }
    if let parent = grant.parentID { members.append(("parent", .string(parent))) }
    if let revokedAt = grant.revokedAt {
      members.append(("revokedAt", .string(Timestamps.format(revokedAt))))
      members.append(("revokedBy", grant.revokedBy.map { .string($0) } ?? .null()))
    }
    return .object(members)
  }

  static func status(of grant: Grant, now: Int64) -> String {
    if grant.revokedAt != nil { return "revoked" }
    if let expiresAt = grant.expiresAt, expiresAt <= now { return "expired" }
    return "live"
  }

  /// A table with one grant a row.
  static func table(_ grants: [Grant], now: Int64, showStatus: Bool) -> String {
    var rows: [[String]] = [
      (showStatus ? ["ID", "STATUS"] : ["ID"]) + [
        "EFFECT", "ACTIONS", "ON", "AGENT", "SERVER", "EXPIRES", "PURPOSE",
      ]
    ]
    for grant in grants {
      var flags = grant.actions.joined(separator: ",")
      if !grant.confirm.isEmpty { flags += " (confirm \(grant.confirm.joined(separator: ",")))" }
      if !grant.reviewed.isEmpty { flags += " (reviewed \(grant.reviewed.joined(separator: ",")))" }
      if let limit = grant.rateLimit {
        flags += " (max \(limit.count)/\(Durations.describe(limit.periodMilliseconds)))"
      }
      // Escaped: purposes, names and resources are typed by people and agents, never trusted to draw.
      rows.append(
        ([grant.id] + (showStatus ? [status(of: grant, now: now)] : []) + [
          grant.effect.rawValue, flags,
          grant.resources.isEmpty ? "*" : grant.resources.joined(separator: ","),
          grant.agent, grant.server, grant.expiresAt.map(Timestamps.format) ?? "never",
          grant.purpose,
        ]).map(HumanText.escaped))
    }
    let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
      }.joined(separator: "  ")
    }.joined(separator: "\n")
  }
}
