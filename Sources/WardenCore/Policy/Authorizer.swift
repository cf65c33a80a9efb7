import WardenJSON

/// The decision on one tool call, with everything needed to explain it.
public struct Authorization: Sendable, Equatable {
  public enum Verdict: String, Sendable, Equatable {
    case allow
    /// Covered, but a human must confirm this exact call first.
    case confirm
    case deny
  }

  /// A machine-readable reason, stable for scripts and `_meta`.
  public enum Reason: String, Sendable, Equatable {
    case allowed
    /// Destructive, but every resource is one a covering grant lists as reviewed (`--reviewed`):
    /// allowed without a hold.
    case reviewed
    case destructive
    case confirmRequired = "confirm-required"
    case undeclaredConfirm = "undeclared-confirm"
    case forbidden
    case notDelegated = "not-delegated"
    case protectedPath = "protected-path"
    case noManifest = "no-manifest"
    case undeclared
    case badArguments = "bad-arguments"
    /// The delegation store could not be read; nothing is allowed until it can.
    case storeUnavailable = "store-unavailable"
    /// No grant covers the call and `--ungranted confirm` asks a human instead of denying.
    case ungranted
    /// A human was asked and said no.
    case rejected
    /// A human was asked and did not answer before the deadline.
    case confirmationTimedOut = "confirmation-timed-out"
    /// Warden stopped while the call waited for a human.
    case shutdown
    /// The agent's circuit breaker tripped (`breaker:` in config.yaml); a human resets it.
    case breakerTripped = "breaker-tripped"
    /// The tool's definition changed since a human accepted it, or it appeared since (`warden tools
    /// accept` ends it).
    case toolDrift = "tool-drift"
  }

  public var verdict: Verdict
  public var reason: Reason
  /// One line for a human and a model.
  public var explanation: String
  /// The scopes, when they could be computed.
  public var scopes: CallScopes?
  /// The grants that cover the call (for allow and confirm), in the order they were used.
  public var grants: [Grant]
  /// The forbid that denied the call.
  public var forbid: Grant?
  /// Resources no live grant covers.
  public var uncovered: [Resource]
  /// Every grant and forbid that was looked at, and what came of it (for `warden check`).
  public var considered: [Consideration]
  /// For a call of several operations denied or held: the operation that decided it.
  public var operation: CallScopes.Operation?

  public init(
    verdict: Verdict, reason: Reason, explanation: String, scopes: CallScopes? = nil, grants: [Grant] = [],
    forbid: Grant? = nil, uncovered: [Resource] = [], considered: [Consideration] = []
  ) {
    self.verdict = verdict
    self.reason = reason
    self.explanation = explanation
    self.scopes = scopes
    self.grants = grants
    self.forbid = forbid
    self.uncovered = uncovered
    self.considered = considered
  }
}

extension Authorizer {
  /// A call of several operations: each is decided as a call of its own, and the call is allowed
  /// only when every one is. A forbidden operation decides first, then the first other denial
  /// (with its operation named); else the first operation needing a human's confirmation holds the
  /// whole call; the grants behind it are those of every operation.
  static func authorizeEach(
    call: ToolCall, scopes: CallScopes, grants: GrantSet, now: Int64, protectedPaths: [String],
    usage: [String: Int], explain: Bool
  ) -> Authorization {
    var decisions: [Authorization] = []
    for operation in scopes.operations {
      let single = CallScopes(
        action: operation.action, resources: operation.resources, destructive: operation.destructive,
        source: scopes.source)
      decisions.append(
        authorize(
          call: call, scopes: .success(single), grants: grants, now: now, protectedPaths: protectedPaths,
          usage: usage, explain: explain))
    }
    // What a human explicitly refused decides first: a forbid (or a protected path) on any
    // operation, then any other denial, then a hold.
    let deciding =
      decisions.firstIndex { $0.reason == .protectedPath || $0.reason == .forbidden }
      ?? decisions.firstIndex { $0.verdict == .deny } ?? decisions.firstIndex { $0.verdict == .confirm }
    var result = decisions[deciding ?? 0]
    result.scopes = scopes
    if let deciding { result.operation = scopes.operations[deciding] }
    if result.verdict != .deny {
      var covering: [Grant] = []
      for grant in decisions.flatMap(\.grants) where !covering.contains(where: { $0.id == grant.id }) {
        covering.append(grant)
      }
      result.grants = covering
    }
    if explain { result.considered = decisions.flatMap(\.considered) }
    return result
  }
}

/// What the authorizer made of one grant or forbid.
public struct Consideration: Sendable, Equatable {
  public var grant: Grant
  /// Whether it took part in the decision (covered a resource, or forbade).
  public var applied: Bool
  /// Why it did or did not apply.
  public var note: String
}

/// Decides tool calls. A total, pure function of the call's scopes, the grants and forbids, and the
/// clock: every input gives allow, confirm or deny with reasons, never an error.
///
/// The rules, in order:
/// 1. No scopes (no manifest, undeclared tool, arguments that do not fit) means deny (or confirm for
///    a manifest whose undeclared policy is `confirm`).
/// 2. A resource path inside warden's own home means deny.
/// 3. Any live forbid matching the server, the agent, the action and one of the resources (or every
///    resource, when it names none) means deny. Forbids beat grants.
/// 4. Every resource must be covered by a live grant matching the server, the agent and the action
///    and not over its rate limit; a call with no resources needs one such grant. Otherwise deny.
/// 5. Covered and destructive, or the action is in a covering grant's confirm list: confirm. Except
///    that a destructive call is allowed (reason `reviewed`) when one candidate grant covers every
///    resource, lists every one of them among its reviewed resources (byte for byte), and does not
///    list the action in its own confirm list; scopes from the server's annotations never qualify.
/// 6. Otherwise allow.
/// A grant is live when it is not revoked, its expiry is after `now`, and so is every parent's.
public enum Authorizer {
  /// Convenience for a plain list of grants (tests, `warden check`).
  public static func authorize(
    call: ToolCall, scopes: Result<CallScopes, ScopeDenial>, grants: [Grant], now: Int64,
    protectedPaths: [String] = [], usage: [String: Int] = [:], explain: Bool = true
  ) -> Authorization {
    authorize(
      call: call, scopes: scopes, grants: GrantSet(grants), now: now, protectedPaths: protectedPaths,
      usage: usage, explain: explain)
  }

  /// Decides `call`. With `explain`, `considered` lists every grant looked at and why it did or did
  /// not apply (for `warden check`); the relay leaves it out, since it costs per grant.
  public static func authorize(
    call: ToolCall, scopes: Result<CallScopes, ScopeDenial>, grants: GrantSet, now: Int64,
    protectedPaths: [String] = [], usage: [String: Int] = [:], explain: Bool = false
  ) -> Authorization {
    let computedScopes = scopes
    let scopes: CallScopes
    switch computedScopes {
    case .failure(let denial):
      let reason: Authorization.Reason
      switch denial.kind {
      case .noManifest: reason = .noManifest
      case .undeclared: reason = .undeclared
      case .undeclaredConfirm: reason = .undeclaredConfirm
      case .badArguments: reason = .badArguments
      }
      return Authorization(
        verdict: reason == .undeclaredConfirm ? .confirm : .deny, reason: reason, explanation: denial.message,
        scopes: nil, grants: [], forbid: nil, uncovered: [], considered: [])
    case .success(let computed):
      if !computed.operations.isEmpty {
        return authorizeEach(
          call: call, scopes: computed, grants: grants, now: now, protectedPaths: protectedPaths,
          usage: usage,
          explain: explain)
      }
      scopes = computed
    }

    func deny(
      _ reason: Authorization.Reason, _ explanation: String, forbid: Grant? = nil, uncovered: [Resource] = []
    )
      -> Authorization
    {
      Authorization(
        verdict: .deny, reason: reason, explanation: explanation, scopes: scopes, grants: [], forbid: forbid,
        uncovered: uncovered, considered: [])
    }

    for resource in scopes.resources {
      for path in resource.paths {
        if let home = protectedPaths.first(where: {
          path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/")
        }) {
          return deny(
            .protectedPath,
            "'\(path)' is inside warden's own home (\(home)); warden never delegates access to its own store")
        }
      }
    }

    let liveness = Liveness(byID: grants.byID, now: now)
    var considered: [Consideration] = []
    let relevant = grants.relevant(server: call.server, agent: call.agent)

    /// Why a live grant or forbid for this server and agent does not apply to the action; nil when it does.
    func whyNotApplicable(_ entry: GrantSet.Compiled) -> String? {
      if !liveness.isLive(entry.grant) { return liveness.whyNotLive(entry.grant) }
      if !entry.actions.contains(where: { $0.matches(scopes.action) }) {
        return "for \(entry.grant.actions.joined(separator: ", ")), not \(scopes.action)"
      }
      return nil
    }

    // Forbids first: any one that matches denies, whatever grants say.
    for entry in relevant where entry.grant.effect == .forbid {
      let forbid = entry.grant
      if let note = whyNotApplicable(entry) {
        if explain { considered.append(Consideration(grant: forbid, applied: false, note: note)) }
        continue
      }
      let hit: Resource?
      if entry.resources.isEmpty {
        hit = scopes.resources.first ?? Resource(text: "")
      } else {
        hit = scopes.resources.first { resource in entry.resources.contains { $0.matches(resource.text) } }
      }
      guard let hit else {
        if explain {
          considered.append(
            Consideration(grant: forbid, applied: false, note: "no resource of the call matches"))
        }
        continue
      }
      if explain { considered.append(Consideration(grant: forbid, applied: true, note: "forbids it")) }
      let target = hit.text.isEmpty ? scopes.action : "\(scopes.action) on \(hit.text)"
      var result = deny(
        .forbidden, "forbid \(forbid.id) (\"\(forbid.purpose)\", by \(forbid.issuedBy)) forbids \(target)",
        forbid: forbid)
      result.considered = considered
      return result
    }

    // Grants that match everything but the resources.
    var candidates: [GrantSet.Compiled] = []
    for entry in relevant where entry.grant.effect == .allow {
      let grant = entry.grant
      if let note = whyNotApplicable(entry) {
        if explain { considered.append(Consideration(grant: grant, applied: false, note: note)) }
        continue
      }
      if let limit = grant.rateLimit, let used = usage[grant.id], used >= limit.count {
        if explain {
          considered.append(
            Consideration(
              grant: grant, applied: false,
              note:
                "rate limit reached: \(used) of \(limit.count) calls per \(Durations.describe(limit.periodMilliseconds))"
            ))
        }
        continue
      }
      candidates.append(entry)
    }

    func covers(_ entry: GrantSet.Compiled, _ resource: Resource) -> Bool {
      entry.resources.isEmpty || entry.resources.contains { $0.matches(resource.text) }
    }

    var usedEntries: [GrantSet.Compiled] = []
    var uncovered: [Resource] = []
    if scopes.resources.isEmpty {
      if let first = candidates.first { usedEntries = [first] }
    } else if let single = candidates.first(where: { entry in
      scopes.resources.allSatisfy { covers(entry, $0) }
    }) {
      usedEntries = [single]
    } else {
      for resource in scopes.resources {
        if let entry = candidates.first(where: { covers($0, resource) }) {
          if !usedEntries.contains(where: { $0.order == entry.order }) { usedEntries.append(entry) }
        } else {
          uncovered.append(resource)
        }
      }
    }
    // Every grant that covers a resource of the call is behind it (the audit trail records them
    // all): the ones used to decide first, then the others that cover it too.
    let covering =
      usedEntries.isEmpty || !uncovered.isEmpty
      ? usedEntries
      : usedEntries
        + candidates.filter { entry in
          !usedEntries.contains { $0.order == entry.order }
            && (scopes.resources.isEmpty || scopes.resources.contains { covers(entry, $0) })
        }
    let used = usedEntries.map(\.grant)
    for candidate in candidates where explain {
      let applied = covering.contains { $0.order == candidate.order }
      if explain {
        considered.append(
          Consideration(
            grant: candidate.grant, applied: applied,
            note: applied ? "covers it" : "does not cover the call's resources"))
      }
    }

    if used.isEmpty || !uncovered.isEmpty {
      let what: String
      if scopes.resources.isEmpty || uncovered.isEmpty {
        what = scopes.action
      } else {
        what = "\(scopes.action) on \(uncovered.map(\.text).joined(separator: ", "))"
      }
      var result = deny(
        .notDelegated, "no delegation covers \(what) for agent '\(call.agent)' on server '\(call.server)'",
        uncovered: uncovered.isEmpty ? scopes.resources : uncovered)
      result.considered = considered
      return result
    }

    var result = Authorization(
      verdict: .allow, reason: .allowed,
      explanation: "allowed by \(used.map(\.id).joined(separator: ", ")) (\"\(used[0].purpose)\")",
      scopes: scopes,
      grants: covering.map(\.grant), forbid: nil, uncovered: [], considered: considered)
    if scopes.destructive, let reviewer = reviewer(among: candidates, for: scopes) {
      // A human reviewed exactly these resources when issuing the grant: no hold, and the grant
      // that says so is the first behind the decision (its rate limit counts, the trail names it).
      result.grants =
        [reviewer.grant] + covering.filter { $0.order != reviewer.order }.map(\.grant)
      result.reason = .reviewed
      result.explanation =
        "allowed by \(reviewer.grant.id) (\"\(reviewer.grant.purpose)\") without a hold: \(scopes.action) is destructive, but a human reviewed exactly \(scopes.resources.map(\.text).joined(separator: ", ")) when issuing it"
    } else if scopes.destructive {
      result.verdict = .confirm
      result.reason = .destructive
      result.explanation = "\(scopes.action) is destructive and needs a human's confirmation"
    } else if let strict = usedEntries.first(where: { entry in
      entry.confirm.contains { $0.matches(scopes.action) }
    }) {
      result.verdict = .confirm
      result.reason = .confirmRequired
      result.explanation = "grant \(strict.grant.id) requires a human's confirmation for \(scopes.action)"
    }
    return result
  }
}

extension Authorizer {
  /// The first candidate grant under which a destructive call needs no hold: it covers every
  /// resource, lists every one among its reviewed resources (exact bytes: a canonically equivalent
  /// text names another resource to the server), and does not ask for confirmation of the action
  /// itself. A call without resources, or whose scopes come from the server's annotations
  /// (`tool:NAME` names no particular call), has none.
  static func reviewer(among candidates: [GrantSet.Compiled], for scopes: CallScopes) -> GrantSet.Compiled? {
    guard !scopes.resources.isEmpty, scopes.source == .manifest else { return nil }
    return candidates.first { entry in
      !entry.grant.reviewed.isEmpty
        && !entry.confirm.contains { $0.matches(scopes.action) }
        && scopes.resources.allSatisfy { resource in
          entry.grant.reviewed.contains { $0.hasSameBytes(as: resource.text) }
            && (entry.resources.isEmpty || entry.resources.contains { $0.matches(resource.text) })
        }
    }
  }
}

/// Which grants are live at one instant, following parents (a grant is only as live as its parent).
struct Liveness {
  private let byID: [String: Grant]
  private let now: Int64

  init(byID: [String: Grant], now: Int64) {
    self.byID = byID
    self.now = now
  }

  func isLive(_ grant: Grant) -> Bool { whyNotLiveOrNil(grant) == nil }

  func whyNotLive(_ grant: Grant) -> String { whyNotLiveOrNil(grant) ?? "live" }

  private func whyNotLiveOrNil(_ grant: Grant) -> String? {
    var current = grant
    var depth = 0
    while true {
      if current.revokedAt != nil {
        return current.id == grant.id ? "revoked" : "its parent \(current.id) is revoked"
      }
      if let expiresAt = current.expiresAt, expiresAt <= now {
        return current.id == grant.id ? "expired" : "its parent \(current.id) expired"
      }
      guard let parentID = current.parentID else { return nil }
      // A missing parent or a cycle cannot vouch for anything.
      guard let parent = byID[parentID], depth < 64 else { return "its parent \(parentID) is unknown" }
      current = parent
      depth += 1
    }
  }
}
