import WardenJSON

/// Everything warden decides about one server's tool calls, as one pure value: the manifest, the
/// server's name, warden's own protected paths and the options that change verdicts. `warden run`
/// and `warden check` both decide through it, so they cannot disagree; the store, the clock, the
/// file system and rate-limit counts come in as arguments.
public struct CallPolicy: Sendable {
  /// The loaded manifest; nil means every tool call is undeclared and denied.
  public var manifest: Manifest? {
    didSet { readArguments = Self.readArguments(of: manifest) }
  }
  /// The arguments each tool's rule reads, worked out once (every call asks).
  private var readArguments: [String: Set<String>] = [:]
  /// The canonical server name grants are matched against.
  public var serverName: String
  /// Paths no call may touch: warden's own home.
  public var protectedPaths: [String]
  /// Hold calls no grant covers for a human's decision instead of denying them (`--ungranted
  /// confirm`); forbids still deny.
  public var ungrantedConfirm: Bool
  /// The launch context templates read as `{ctx.KEY}` (`--context`, `context:` in config.yaml).
  public var context: [String: String]
  /// Classifies the SQL of rules that declare `sql:`; without one, their calls are refused.
  public var sql: (any SQLClassifying)?

  public init(
    manifest: Manifest?, serverName: String, protectedPaths: [String], ungrantedConfirm: Bool = false,
    context: [String: String] = [:], sql: (any SQLClassifying)? = nil
  ) {
    self.manifest = manifest
    self.readArguments = Self.readArguments(of: manifest)
    self.serverName = serverName
    self.protectedPaths = protectedPaths
    self.ungrantedConfirm = ungrantedConfirm
    self.context = context
    self.sql = sql
  }

  /// Decides a call of `tool` with `arguments` by `agent` against the grants in force at `now`.
  /// `usage` counts recent calls of rate-limited grants; `annotations` are the server's hints for
  /// the tool; `resolve` follows symbolic links (see `Manifest.scopes`).
  public func decide(
    tool: String, arguments: JSON, agent: String, grants: GrantSet, now: Int64, usage: [String: Int] = [:],
    annotations: ToolAnnotations? = nil, resolve: PathResolver? = nil, explain: Bool = false,
    trip: BreakerTrip? = nil, lookups: [String: JSON] = [:]
  ) -> (ToolCall, Authorization) {
    let call = ToolCall(server: serverName, agent: agent, tool: tool, arguments: arguments)
    let scopes: Result<CallScopes, ScopeDenial> =
      manifest.map {
        $0.scopes(
          for: call, annotations: annotations, resolve: resolve, context: context, sql: sql, lookups: lookups)
      }
      ?? .failure(
        ScopeDenial(
          .noManifest,
          "no manifest is loaded for server '\(serverName)', so warden cannot tell what '\(tool)' would do"))
    var decision = Authorizer.authorize(
      call: call, scopes: scopes, grants: grants, now: now, protectedPaths: protectedPaths, usage: usage,
      explain: explain)
    if decision.reason == .notDelegated, ungrantedConfirm {
      decision.verdict = .confirm
      decision.reason = .ungranted
      decision.explanation = "no grant covers it (\(decision.explanation)), so a human is asked"
    }
    if let trip { decision = trip.apply(to: decision) }
    return (call, decision)
  }

  /// The denial of every call while the store cannot be read.
  public static func storeUnavailable(_ problem: String) -> Authorization {
    Authorization(
      verdict: .deny, reason: .storeUnavailable,
      explanation: "warden cannot read its delegation store (\(problem)), so it allows nothing")
  }

  /// The rule for `tool`, its name compared as bytes.
  public func rule(forTool tool: String) -> ToolRule? {
    guard let tools = manifest?.tools, let index = tools.index(forKey: tool),
      tools[index].key.hasSameBytes(as: tool)
    else { return nil }
    return tools[index].value
  }

  /// The arguments the manifest reads for `tool`; the others need not be parsed.
  public func argumentNames(forTool tool: String) -> Set<String> {
    guard rule(forTool: tool) != nil else { return [] }
    return readArguments[tool] ?? []
  }

  private static func readArguments(of manifest: Manifest?) -> [String: Set<String>] {
    (manifest?.tools ?? [:]).mapValues { Set($0.argumentNames) }
  }

  /// The arguments of `tool` whose values are never stored, logged or shown (`redact:`).
  public func redactedArguments(forTool tool: String) -> [String] {
    rule(forTool: tool)?.redact ?? []
  }

  /// How a tool stands under the delegation, without arguments: for marking `tools/list`.
  public enum ToolStanding: String, Sendable {
    case delegated
    case needsConfirmation = "needs-confirmation"
    case notDelegated = "not-delegated"
  }

  /// The standing of `tool` for `agent`, and the action it performs when known.
  public func standing(
    ofTool tool: String, agent: String, grants: GrantSet, now: Int64, annotations: ToolAnnotations?
  ) -> (ToolStanding, String?) {
    standings(ofTools: [(tool, annotations)], agent: agent, grants: grants, now: now)[0]
  }

  /// How each tool of a list stands. The grants that could apply to this agent are found once, with
  /// their globs compiled, and each distinct action is judged once: a list may hold tens of
  /// thousands of tools.
  public func standings(
    ofTools tools: [(name: String, annotations: ToolAnnotations?)], agent: String, grants: GrantSet,
    now: Int64
  ) -> [(ToolStanding, String?)] {
    let relevant = grants.relevant(server: serverName, agent: agent).filter { $0.grant.isLive(at: now) }
    var memo: [String: ToolStanding] = [:]
    return tools.map { tool in
      let meanings = meanings(ofTool: tool.name, annotations: tool.annotations)
      guard !meanings.isEmpty else {
        guard let manifest, manifest.undeclared == .confirm else { return (.notDelegated, nil) }
        return (.needsConfirmation, nil)
      }
      // A tool whose calls mean different things stands as its least delegated meaning, unless
      // none at all is delegated.
      var standings: [ToolStanding] = []
      for (action, destructive) in meanings {
        let key = action + (destructive ? "\u{0}d" : "")
        if let known = memo[key] {
          standings.append(known)
          continue
        }
        let standing = Self.standing(
          of: action, destructive: destructive, among: relevant, ungrantedConfirm: ungrantedConfirm)
        memo[key] = standing
        standings.append(standing)
      }
      let action = meanings.count == 1 ? meanings[0].action : nil
      if standings.allSatisfy({ $0 == .delegated }) { return (.delegated, action) }
      if standings.allSatisfy({ $0 == .notDelegated }) { return (.notDelegated, action) }
      return (.needsConfirmation, action)
    }
  }

  /// The actions a tool's calls can perform and whether each is destructive; empty when the
  /// manifest says nothing about it (no manifest, or an undeclared tool under `deny` or `confirm`).
  /// An action that depends on the SQL a call holds stands for its reads (`read`); one the launch
  /// context cannot complete is left out.
  private func meanings(ofTool tool: String, annotations: ToolAnnotations?) -> [(
    action: String, destructive: Bool
  )] {
    guard let manifest else { return [] }
    if let rule = rule(forTool: tool) {
      return rule.variants.compactMap { variant in
        let input = TemplateInput(
          arguments: .object([]), context: context,
          operation: SQLOperation(kind: "read", table: nil, statement: 0))
        guard let action = try? variant.actionTemplate.resources(for: input, base: nil).first?.text else {
          return nil
        }
        return (action, variant.destructive || variant.destructiveKinds.contains("read"))
      }
    }
    guard manifest.undeclared == .annotations else { return [] }
    let readOnly = annotations?.readOnly ?? false
    return [
      ("\(manifest.server).\(readOnly ? "read" : "write")", !readOnly && (annotations?.destructive ?? true))
    ]
  }

  private static func standing(
    of action: String, destructive: Bool, among grants: [GrantSet.Compiled], ungrantedConfirm: Bool
  ) -> ToolStanding {
    let applying = grants.filter { $0.actions.contains { $0.matches(action) } }
    // A forbid on every resource of the action rules the tool out entirely.
    if applying.contains(where: { $0.grant.effect == .forbid && $0.grant.resources.isEmpty }) {
      return .notDelegated
    }
    let granting = applying.filter { $0.grant.effect == .allow }
    guard !granting.isEmpty else { return ungrantedConfirm ? .needsConfirmation : .notDelegated }
    if destructive || granting.allSatisfy({ $0.confirm.contains { $0.matches(action) } }) {
      return .needsConfirmation
    }
    return .delegated
  }
}
