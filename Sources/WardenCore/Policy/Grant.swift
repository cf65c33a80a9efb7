/// A delegation a human issued: who may do which actions on which resources, why, and until when.
/// A forbid has the same shape and beats every grant.
public struct Grant: Sendable, Equatable, Hashable, Codable {
  public enum Effect: String, Sendable, Codable, CaseIterable {
    case allow
    case forbid
  }

  /// Stable id: `g_...` for grants, `f_...` for forbids.
  public var id: String
  public var effect: Effect
  /// Action globs (`git.read`, `git.*`, `mail.**`): `*` within one dotted segment, `**` across them.
  public var actions: [String]
  /// Resource globs (`repo:/srv/app`, `file:/srv/app/**`): `*` within one path component, `**`
  /// across them. Empty means every resource.
  public var resources: [String]
  /// Agent glob; `*` for any agent.
  public var agent: String
  /// Server glob; `*` for any server.
  public var server: String
  /// Action globs that need a human's confirmation even though this grant covers them.
  public var confirm: [String]
  /// Exact resources (no globs) a human reviewed when issuing it: a destructive call this grant
  /// covers whose every resource is one of these, byte for byte, is not held (`--reviewed`).
  public var reviewed: [String]
  public var purpose: String
  /// The person who issued it: the OS user, or `--by`.
  public var issuedBy: String
  /// Milliseconds since the Unix epoch.
  public var issuedAt: Int64
  /// Milliseconds since the Unix epoch; the grant is inactive from this instant on. Nil only for a
  /// forbid, which then lasts until revoked (a deny that lasts too long fails safe).
  public var expiresAt: Int64?
  public var rateLimit: RateLimit?
  /// The grant this one narrows; revoking the parent revokes it.
  public var parentID: String?
  public var revokedAt: Int64?
  public var revokedBy: String?
  /// How the grant was issued (`Attestation`: `cli-terminal` or `cli-scripted`); nil for grants
  /// older than this record.
  public var attestation: String?

  public init(
    id: String, effect: Effect, actions: [String], resources: [String] = [], agent: String = "*",
    server: String = "*", confirm: [String] = [], reviewed: [String] = [], purpose: String, issuedBy: String,
    issuedAt: Int64, expiresAt: Int64?, rateLimit: RateLimit? = nil, parentID: String? = nil,
    revokedAt: Int64? = nil, revokedBy: String? = nil, attestation: String? = nil
  ) {
    self.attestation = attestation
    self.id = id
    self.effect = effect
    self.actions = actions
    self.resources = resources
    self.agent = agent
    self.server = server
    self.confirm = confirm
    self.reviewed = reviewed
    self.purpose = purpose
    self.issuedBy = issuedBy
    self.issuedAt = issuedAt
    self.expiresAt = expiresAt
    self.rateLimit = rateLimit
    self.parentID = parentID
    self.revokedAt = revokedAt
    self.revokedBy = revokedBy
  }

  /// Active at `now`: not revoked, not yet expired (an expiry at exactly `now` has passed).
  /// Whether its parents are active too is the authorizer's business.
  public func isLive(at now: Int64) -> Bool {
    guard revokedAt == nil else { return false }
    if let expiresAt, expiresAt <= now { return false }
    return true
  }
}

/// At most `count` calls in any window of `periodMilliseconds`.
public struct RateLimit: Sendable, Equatable, Hashable, Codable {
  public var count: Int
  public var periodMilliseconds: Int64

  public init(count: Int, periodMilliseconds: Int64) {
    self.count = count
    self.periodMilliseconds = periodMilliseconds
  }

  /// `N/PERIOD` (`100/1h`): a positive count of plain digits and a duration; nil otherwise.
  public static func parse(_ text: String) -> RateLimit? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
      let count = Int(parts[0]), count > 0,
      let period = Durations.parse(String(parts[1]))
    else { return nil }
    return RateLimit(count: count, periodMilliseconds: period)
  }
}
