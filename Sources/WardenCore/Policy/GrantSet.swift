/// Grants and forbids compiled for deciding: globs parsed once, and indexed by server and agent so
/// that a call looks only at the grants that could apply to it, however many are in force.
public struct GrantSet: Sendable {
  /// A class, not a struct: every call gathers the grants that could apply to it into lists, and
  /// copying a reference is one retain where copying these fields was one for each of them.
  final class Compiled: Sendable {
    let grant: Grant
    let order: Int
    let server: Glob
    let agent: Glob
    let actions: [Glob]
    let resources: [Glob]
    let confirm: [Glob]

    init(
      grant: Grant, order: Int, server: Glob, agent: Glob, actions: [Glob], resources: [Glob],
      confirm: [Glob]
    ) {
      self.grant = grant
      self.order = order
      self.server = server
      self.agent = agent
      self.actions = actions
      self.resources = resources
      self.confirm = confirm
    }
  }

  let byID: [String: Grant]
  private let compiled: [Compiled]
  /// Grants whose server and agent are both literal names, by "server\u{0}agent".
  private let exact: [String: [Int]]
  /// Grants with a literal server and any agent pattern, by server.
  private let byServer: [String: [Int]]
  /// Everything else (a server pattern).
  private let others: [Int]
  private let hasRateLimits: Bool

  public init(_ grants: [Grant]) {
    var byID: [String: Grant] = [:]
    var compiled: [Compiled] = []
    var exact: [String: [Int]] = [:]
    var byServer: [String: [Int]] = [:]
    var others: [Int] = []
    for (order, grant) in grants.enumerated() {
      byID[grant.id] = grant
      let entry = Compiled(
        grant: grant, order: order, server: .name(grant.server), agent: .name(grant.agent),
        actions: grant.actions.map(Glob.action), resources: grant.resources.map(Glob.resource),
        confirm: grant.confirm.map(Glob.action))
      compiled.append(entry)
      if entry.server.isLiteral && entry.agent.isLiteral {
        exact[grant.server + "\u{0}" + grant.agent, default: []].append(order)
      } else if entry.server.isLiteral {
        byServer[grant.server, default: []].append(order)
      } else {
        others.append(order)
      }
    }
    self.byID = byID
    self.compiled = compiled
    self.exact = exact
    self.byServer = byServer
    self.others = others
    hasRateLimits = grants.contains { $0.rateLimit != nil }
  }

  public var grants: [Grant] { compiled.map(\.grant) }

  /// The grant or forbid with this id, if it is in the set.
  public func grant(id: String) -> Grant? { byID[id] }
  public var count: Int { compiled.count }

  /// The grants with a rate limit that could apply to `server` and `agent` (their usage must be
  /// counted before deciding).
  public func rateLimited(server: String, agent: String) -> [Grant] {
    guard hasRateLimits else { return [] }
    return relevant(server: server, agent: agent).map(\.grant).filter {
      $0.rateLimit != nil && $0.effect == .allow
    }
  }

  /// The grants that could apply to `server` and `agent`, in issue order.
  func relevant(server: String, agent: String) -> [Compiled] {
    var indices = exact[server + "\u{0}" + agent] ?? []
    indices += byServer[server] ?? []
    indices += others
    indices.sort()
    return indices.map { compiled[$0] }.filter { $0.server.matches(server) && $0.agent.matches(agent) }
  }
}
