import WardenJSON

/// Warden's own read-only tool, `warden_delegation` (`warden run --delegation-tool`): the agent asks
/// what it may do, instead of guessing after its instructions were compacted away. The answer is
/// the delegation in force for this agent on this server, and nothing about other agents: grants
/// and forbids whose agent pattern covers it, what the manifest says needs a human's confirmation.
public enum DelegationTool {
  public static let name = "warden_delegation"

  /// The tool's entry in `tools/list`.
  public static var listEntry: JSONValue {
    .object([
      ("name", .string(name)),
      (
        "description",
        .string(
          "Warden (the human's delegation guard in front of this server): what you may do on this server, for how long, for what purpose, and what needs a human's confirmation. Read-only; call it when unsure, instead of guessing."
        )
      ),
      ("inputSchema", .object([("type", .string("object")), ("properties", .object([]))])),
      (
        "annotations",
        .object([
          ("readOnlyHint", .bool(true)), ("destructiveHint", .bool(false)), ("idempotentHint", .bool(true)),
          ("openWorldHint", .bool(false)),
        ])
      ),
    ])
  }

  /// The tool's result: the delegation as text and as `structuredContent`.
  public static func result(
    server: String, agent: String, liveGrants: [Grant], manifest: Manifest?, now: Int64
  )
    -> JSONValue
  {
    let applying = DelegationText.applicable(liveGrants, server: server, agent: agent)
      .filter { $0.isLive(at: now) }
    let grants = applying.filter { $0.effect == .allow }
    let forbids = applying.filter { $0.effect == .forbid }
    let confirmed = (manifest?.tools ?? [:]).filter { _, rule in
      rule.variants.contains { $0.destructive || !$0.destructiveKinds.isEmpty }
    }.keys.sorted()
    var lines = ["Delegation in force for agent '\(agent)' on server '\(server)':"]
    if grants.isEmpty { lines.append("- nothing is granted: every call will be denied") }
    for grant in grants { lines.append("- " + DelegationText.describe(grant)) }
    if !forbids.isEmpty {
      lines.append("Forbidden:")
      for forbid in forbids { lines.append("- " + DelegationText.describe(forbid)) }
    }
    if !confirmed.isEmpty {
      lines.append(
        "Always held for a human's confirmation (destructive): \(confirmed.joined(separator: ", ")).")
    }
    lines.append(
      "A call outside this is denied; do not work around a denial. Ask the human to change the delegation.")
    let structured: JSONValue = .object([
      ("server", .string(server)), ("agent", .string(agent)),
      ("grants", .array(grants.map(json))), ("forbids", .array(forbids.map(json))),
      ("destructive_tools", .array(confirmed.map { .string($0) })),
    ])
    return .object([
      (
        "content",
        .array([.object([("type", .string("text")), ("text", .string(lines.joined(separator: "\n")))])])
      ),
      ("structuredContent", structured),
      ("isError", .bool(false)),
    ])
  }

  private static func json(_ grant: Grant) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("id", .string(grant.id)), ("actions", .array(grant.actions.map { .string($0) })),
      ("resources", .array(grant.resources.map { .string($0) })), ("purpose", .string(grant.purpose)),
    ]
    if let expiresAt = grant.expiresAt {
      members.append(("expires_at", .string(Timestamps.format(expiresAt))))
    }
    if !grant.confirm.isEmpty { members.append(("confirm", .array(grant.confirm.map { .string($0) }))) }
    if let limit = grant.rateLimit {
      members.append(
        ("max_calls", .string("\(limit.count)/\(Durations.describe(limit.periodMilliseconds))")))
    }
    return .object(members)
  }
}
