import WardenJSON

/// Checks that a grant issued with `--parent` only narrows its parent.
public enum Narrowing {
  /// Every way `child` would be wider than `parent`; empty when it only narrows.
  public static func problems(child: Grant, parent: Grant, now: Int64) -> [String] {
    var problems: [String] = []
    if parent.effect != .allow { problems.append("parent \(parent.id) is a forbid, not a grant") }
    if !parent.isLive(at: now) { problems.append("parent \(parent.id) is not live (revoked or expired)") }
    for action in child.actions
    where !parent.actions.contains(where: { Glob.action($0).covers(Glob.action(action)) }) {
      problems.append(
        "action '\(action)' is not within the parent's \(parent.actions.joined(separator: ", "))")
    }
    if !parent.resources.isEmpty {
      if child.resources.isEmpty {
        problems.append(
          "the parent is limited to \(parent.resources.joined(separator: ", ")); give --on within it")
      }
      for resource in child.resources
      where !parent.resources.contains(where: { Glob.resource($0).covers(Glob.resource(resource)) }) {
        problems.append(
          "resource '\(resource)' is not within the parent's \(parent.resources.joined(separator: ", "))")
      }
    }
    if !Glob.name(parent.agent).covers(Glob.name(child.agent)) {
      problems.append("agent '\(child.agent)' is not within the parent's '\(parent.agent)'")
    }
    if !Glob.name(parent.server).covers(Glob.name(child.server)) {
      problems.append("server '\(child.server)' is not within the parent's '\(parent.server)'")
    }
    if let parentExpiry = parent.expiresAt {
      if let childExpiry = child.expiresAt, childExpiry > parentExpiry {
        problems.append("it would outlive its parent (which expires \(Timestamps.format(parentExpiry)))")
      } else if child.expiresAt == nil {
        problems.append("it needs an expiry no later than its parent's (\(Timestamps.format(parentExpiry)))")
      }
    }
    for confirm in parent.confirm where !child.confirm.contains(confirm) {
      problems.append("it drops the parent's confirmation requirement for '\(confirm)'")
    }
    // Reviewed resources are never inherited; a child may keep only what its parent's human
    // reviewed (compared as bytes), since each one lifts a hold the parent would impose.
    for resource in child.reviewed where !parent.reviewed.contains(where: { $0.hasSameBytes(as: resource) }) {
      problems.append(
        "reviewed resource '\(HumanText.escaped(resource))' is not among the parent's reviewed resources")
    }
    if let parentLimit = parent.rateLimit {
      if let childLimit = child.rateLimit {
        if childLimit.count > parentLimit.count
          || childLimit.periodMilliseconds < parentLimit.periodMilliseconds
        {
          problems.append("its rate limit is looser than the parent's")
        }
      } else {
        problems.append("it drops the parent's rate limit")
      }
    }
    return problems
  }
}
