import WardenCore
import WardenJSON

/// Checks grants against the installed manifests before anything runs (`warden grants --check`):
/// a grant that can never allow what its human meant is a mistake best found now, not when the agent
/// is denied. Pure: grants, manifests and the clock in, findings out. Only certain findings are
/// reported: an action template that reads the launch context could be anything, so it matches
/// every pattern.
public enum GrantCheck {
  public struct Finding: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
      /// No installed manifest is named or aliased like the grant's server pattern.
      case unknownServer = "unknown-server"
      /// No manifest of the grant's servers declares an action the pattern matches.
      case unknownAction = "unknown-action"
      /// No template of a tool the grant's actions reach can produce a resource the pattern matches.
      case unreachableResource = "unreachable-resource"
      /// The grant is not revoked or expired itself, but a grant it was narrowed from is.
      case deadParent = "dead-parent"
      /// A forbid in force denies everything the grant allows.
      case shadowed
    }

    public var grant: String
    public var kind: Kind
    public var message: String
  }

  /// Findings for every grant in force at `now` (`grants` holds every grant and forbid, so that
  /// parents can be followed).
  public static func findings(grants: [Grant], manifests: [Manifest], now: Int64) -> [Finding] {
    let byID = Dictionary(grants.map { ($0.id, $0) }) { first, _ in first }
    let forbids = grants.filter { $0.effect == .forbid && isLive($0, byID: byID, now: now) }
    var findings: [Finding] = []
    for grant in grants where grant.effect == .allow && grant.revokedAt == nil {
      if let expiresAt = grant.expiresAt, expiresAt <= now { continue }
      if let dead = deadAncestor(of: grant, byID: byID, now: now) {
        findings.append(
          Finding(
            grant: grant.id, kind: .deadParent,
            message: "\(grant.id) looks in force but allows nothing: the grant it was narrowed from, \(dead)")
        )
        continue
      }
      let server = Glob.name(grant.server)
      let reached = manifests.filter { manifest in
        ([manifest.server] + manifest.aliases).contains { server.matches($0) }
      }
      if reached.isEmpty {
        findings.append(
          Finding(
            grant: grant.id, kind: .unknownServer,
            message:
              "\(grant.id) is for server '\(grant.server)', and no installed manifest is named or aliased so (an instance name is fine: its manifest is chosen by the server's command, which this check cannot see)"
          ))
      } else {
        findings += actionFindings(grant, manifests: reached)
      }
      if let forbid = forbids.first(where: { shadows($0, grant) }) {
        findings.append(
          Finding(
            grant: grant.id, kind: .shadowed,
            message:
              "\(grant.id) allows nothing: forbid \(forbid.id) (\"\(forbid.purpose)\") denies everything it allows"
          ))
      }
    }
    return findings
  }

  /// Actions no manifest declares, and resource patterns no template of a reached tool produces.
  private static func actionFindings(_ grant: Grant, manifests: [Manifest]) -> [Finding] {
    var findings: [Finding] = []
    var variants: [(action: ResourceTemplate, resources: [ResourceTemplate])] = []
    for manifest in manifests {
      for rule in manifest.tools.values {
        for variant in rule.variants { variants.append((variant.actionTemplate, variant.resources)) }
      }
    }
    var reachedResources: [[ResourceTemplate]] = []
    for pattern in grant.actions {
      let glob = Glob.action(pattern)
      let matching = variants.filter { couldMatch(glob, $0.action) }
      if matching.isEmpty {
        let known = Array(Set(variants.compactMap { $0.action.isLiteral ? $0.action.source : nil })).sorted()
        let guess = Suggestion.closest(to: pattern, among: known).map { " (did you mean '\($0)'?)" } ?? ""
        findings.append(
          Finding(
            grant: grant.id, kind: .unknownAction,
            message:
              "\(grant.id) allows '\(pattern)', which no installed manifest for server '\(grant.server)' declares\(guess)"
          ))
      }
      reachedResources += matching.map(\.resources)
    }
    guard !reachedResources.isEmpty else { return findings }
    // A tool without resources is covered by any grant of its action, whatever its patterns.
    if reachedResources.contains(where: \.isEmpty) { return findings }
    let templates = reachedResources.flatMap { $0 }
    for pattern in grant.resources where !templates.contains(where: { canProduce($0, pattern) }) {
      let prefixes = Array(Set(templates.map(literalPrefix))).sorted().map { "'\($0)…'" }
      findings.append(
        Finding(
          grant: grant.id, kind: .unreachableResource,
          message:
            "\(grant.id) names the resource '\(pattern)', which no template of the tools its actions reach can produce (they produce \(prefixes.joined(separator: ", ")))"
        ))
    }
    return findings
  }

  /// Whether an action the template produces could match `glob`. A template that reads the SQL
  /// kind is tried with every kind; one that reads the launch context is compared segment by
  /// segment, a segment with a placeholder matching any (a pattern with `**` is not compared).
  static func couldMatch(_ glob: Glob, _ action: ResourceTemplate) -> Bool {
    if action.isLiteral { return glob.matches(action.source) }
    if !action.contextKeys.isEmpty {
      guard !glob.pattern.contains("**") else { return true }
      let wanted = glob.pattern.split(separator: ".", omittingEmptySubsequences: false)
      let made = placeholdersMarked(action.source).split(separator: ".", omittingEmptySubsequences: false)
      guard wanted.count == made.count else { return false }
      return zip(wanted, made).allSatisfy { pattern, segment in
        segment.contains("\u{1}") || Glob.action(String(pattern)).matches(String(segment))
      }
    }
    let arguments = JSON.object(action.sqlArguments.map { JSON.Member($0, .string("")) })
    return SQLOperation.kinds.contains { kind in
      let input = TemplateInput(
        arguments: arguments, operation: SQLOperation(kind: kind, table: nil, statement: 0))
      return (try? action.resources(for: input, base: nil))?.contains { glob.matches($0.text) } ?? true
    }
  }

  /// Whether a resource the template produces could match the pattern: their literal beginnings
  /// agree (one starts the other). Sound for reporting: a pattern reported cannot match.
  static func canProduce(_ template: ResourceTemplate, _ pattern: String) -> Bool {
    let produced = literalPrefix(template)
    if template.isLiteral { return Glob.resource(pattern).matches(template.source) }
    let wanted = String(pattern.prefix { !"*?[".contains($0) })
    return produced.hasPrefix(wanted) || wanted.hasPrefix(produced)
  }

  /// A template's text with each placeholder replaced by U+0001.
  static func placeholdersMarked(_ source: String) -> String {
    var out = ""
    var inside = false
    for character in source {
      if inside {
        if character == "}" { inside = false }
      } else if character == "{" {
        inside = true
        out.append("\u{1}")
      } else {
        out.append(character)
      }
    }
    return out
  }

  /// The text before a template's first placeholder.
  static func literalPrefix(_ template: ResourceTemplate) -> String {
    guard let brace = template.source.firstIndex(of: "{") else { return template.source }
    return String(template.source[..<brace]).replacing("}}", with: "}")
  }

  /// Whether `forbid` denies every call `grant` allows: its agent and server patterns cover the
  /// grant's, its actions cover each of the grant's, and it names no resources or covers each of
  /// the grant's (a grant without resources allows every resource).
  static func shadows(_ forbid: Grant, _ grant: Grant) -> Bool {
    guard Glob.name(forbid.agent).covers(Glob.name(grant.agent)),
      Glob.name(forbid.server).covers(Glob.name(grant.server))
    else { return false }
    let actions = grant.actions.allSatisfy { action in
      forbid.actions.contains { Glob.action($0).covers(Glob.action(action)) }
    }
    guard actions else { return false }
    if forbid.resources.isEmpty { return true }
    guard !grant.resources.isEmpty else { return false }
    return grant.resources.allSatisfy { resource in
      forbid.resources.contains { Glob.resource($0).covers(Glob.resource(resource)) }
    }
  }

  private static func isLive(_ grant: Grant, byID: [String: Grant], now: Int64) -> Bool {
    grant.isLive(at: now) && deadAncestor(of: grant, byID: byID, now: now) == nil
  }

  /// The first grant up the parent chain that is revoked, expired or unknown, described.
  private static func deadAncestor(of grant: Grant, byID: [String: Grant], now: Int64) -> String? {
    var current = grant
    var depth = 0
    while let parentID = current.parentID {
      guard let parent = byID[parentID], depth < 64 else { return "\(parentID), is unknown" }
      if parent.revokedAt != nil { return "\(parent.id), is revoked" }
      if let expiresAt = parent.expiresAt, expiresAt <= now { return "\(parent.id), has expired" }
      current = parent
      depth += 1
    }
    return nil
  }
}
