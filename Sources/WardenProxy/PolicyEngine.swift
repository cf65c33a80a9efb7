import Logging
import Synchronization
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What `warden run` enforces: the server's manifest and the delegation store.
public struct PolicyConfiguration: Sendable {
  /// The loaded manifest; nil means every tool call is undeclared and denied.
  public var manifest: Manifest?
  /// The server's instance name grants, forbids, holds and audit records are matched against.
  public var serverName: String
  /// The store, or why it could not be opened (then every call is denied).
  public var store: Result<any DelegationStore, StoreError>
  /// Paths no call may touch: warden's own home.
  public var protectedPaths: [String]
  /// Remove tools the agent may not call from `tools/list` results, instead of marking them.
  public var hideUndelegated: Bool
  /// Where the manifest came from, or, when there is none, what was looked for.
  public var manifestSource: String
  /// Hold calls no grant covers for a human's decision instead of denying them (`--ungranted confirm`).
  public var ungrantedConfirm: Bool
  /// Seconds a held call waits for a decision before it is denied (`--confirm-timeout`).
  public var confirmTimeout: Double
  /// Whether the agent's client may be asked (`confirm.channels` has `elicitation`).
  public var askInClient: Bool
  /// Whether decisions from `warden confirm`, `approve` and `reject` count (`confirm.channels` has
  /// `terminal`).
  public var acceptTerminalDecisions: Bool
  /// Whether an approval in the client's form needs the approval code shown on a human-facing
  /// channel (the default); false when `confirm.channels` lists `elicitation` explicitly.
  public var clientAnswersNeedCode: Bool
  /// `--mode report`: calls outside the delegation are forwarded and recorded as what enforcement
  /// would have done (`would-deny`, `would-hold`).
  public var reportOnly: Bool
  /// The circuit breaker from `config.yaml`, if any.
  public var breaker: BreakerRule?
  /// This session, named in the trips it records.
  public var session = ""
  /// The launch context manifests read as `{ctx.KEY}`.
  public var context: [String: String] = [:]
  /// Classifies the SQL of rules that declare `sql:`.
  public var sql: (any SQLClassifying)?
  /// Add warden's own read-only tool `warden_delegation` to `tools/list` (`--delegation-tool`).
  public var delegationTool = false
  /// The server's command line, which its tool pins belong to (`ToolPinning.commandKey`); empty:
  /// no pins are kept.
  public var pinCommand = ""

  public init(
    manifest: Manifest?, serverName: String, store: Result<any DelegationStore, StoreError>,
    protectedPaths: [String],
    hideUndelegated: Bool, manifestSource: String = "", ungrantedConfirm: Bool = false,
    confirmTimeout: Double = 120, askInClient: Bool = true, acceptTerminalDecisions: Bool = true,
    clientAnswersNeedCode: Bool = true, reportOnly: Bool = false, breaker: BreakerRule? = nil
  ) {
    self.breaker = breaker
    self.reportOnly = reportOnly
    self.clientAnswersNeedCode = clientAnswersNeedCode
    self.askInClient = askInClient
    self.acceptTerminalDecisions = acceptTerminalDecisions
    self.manifestSource = manifestSource
    self.ungrantedConfirm = ungrantedConfirm
    self.confirmTimeout = confirmTimeout
    self.manifest = manifest
    self.serverName = serverName
    self.store = store
    self.protectedPaths = protectedPaths
    self.hideUndelegated = hideUndelegated
  }
}

/// The edge around the pure authorizer: keeps the grants in force current (re-reading the store
/// when any process changed it, checked before every call), supplies the clock, rate-limit usage and
/// the server's tool annotations, and records what rate limits need.
final class PolicyEngine: Sendable {
  let configuration: PolicyConfiguration
  /// Built once: the configuration does not change during a session.
  private let cachedPolicy: CallPolicy
  private let logger: Logger
  private let state: Mutex<State>

  private struct State {
    var snapshot = GrantSnapshot()
    var loadError: StoreError?
    var annotations: [String: ToolAnnotations] = [:]
    var counter: BreakerCounter?
    /// This server's tools that drifted from their pins, as of the last refresh.
    var drifted: [String: ToolPin.State] = [:]
    /// Whether this session made the server's first pins (its later pages are pinned too).
    var pinnedFirst = false
    /// Whether this session compared a listing of the server's tools with their pins.
    var toolsObserved = false
    /// Every tool the server listed in this session (all pages, every listing).
    var listedTools: Set<String> = []
  }
  /// Told about tools that drifted from their pins (the audit trail records it).
  private let driftHook = Mutex<(@Sendable ([(tool: String, state: ToolPin.State)]) -> Void)?>(nil)
  /// The tools whose manifest rule looks something up first (the others never ask).
  private let toolsWithLookups: Set<String>
  /// Asks the server for the manifest's lookups; set once the server runs.
  private let lookups = Mutex<ServerLookups?>(nil)
  /// Told about each breaker this warden trips (the audit trail records it).
  private let tripHook = Mutex<(@Sendable (BreakerTrip) -> Void)?>(nil)

  /// Says what will be enforced; called once the server has started, so that a command that cannot
  /// start gets its one-line error alone.
  init(configuration: PolicyConfiguration, logger: Logger) {
    self.configuration = configuration
    cachedPolicy = CallPolicy(
      manifest: configuration.manifest, serverName: configuration.serverName,
      protectedPaths: configuration.protectedPaths, ungrantedConfirm: configuration.ungrantedConfirm,
      context: configuration.context, sql: configuration.sql)
    self.logger = logger
    toolsWithLookups = Set((configuration.manifest?.tools ?? [:]).filter { !$0.value.lookups.isEmpty }.keys)
    state = Mutex(State(counter: configuration.breaker.map(BreakerCounter.init(rule:))))
    if let manifest = configuration.manifest {
      logger.info(
        "server '\(configuration.serverName)': manifest \(configuration.manifestSource) (\(manifest.tools.count) tools, undeclared: \(manifest.undeclared.rawValue))"
      )
      // One manifest serving several instances (`--server db-dev`, `--server db-prod`) is normal:
      // the instance's name is the one grants are matched against, said here and in `warden check`.
      let missing = LaunchContext.keys(readBy: manifest).filter { configuration.context[$0] == nil }
      if !missing.isEmpty {
        logger.error(
          "the manifest reads the launch context \(missing.map { "'\($0)'" }.joined(separator: ", ")), which this warden was not given: calls that need it are denied (warden run --context KEY=VALUE, or servers.\(configuration.serverName).context in config.yaml)"
        )
      }
    } else {
      let name = configuration.serverName
      logger.warning(
        "no manifest for server '\(name)' (\(configuration.manifestSource)): every tools/call will be denied. Write one (see `warden manifest show git` for an example) as $WARDEN_HOME/manifests/\(name).yaml with `server: \(name)` (or add '\(name)' to the `aliases` of one), or pass --manifest FILE."
      )
    }
    if case .failure(let error) = configuration.store {
      logger.error("the delegation store is unavailable (\(error)); every tools/call will be denied")
    }
    if configuration.reportOnly {
      logger.warning(
        "report mode: calls outside the delegation, and calls that would be held, are forwarded and recorded as would-deny / would-hold (warden audit --verdict would-deny); forbids, protected paths and failures still deny"
      )
    }
    if configuration.askInClient && !configuration.clientAnswersNeedCode {
      logger.warning(
        "confirm.channels lists elicitation: the agent's client alone approves held calls, without an approval code; a client that answers forms by itself (a hook, an auto-approve setting) can approve them"
      )
    }
  }

  static func now() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
  }

  /// Re-reads the grants if the store changed since the last look; returns true when it did.
  @discardableResult
  func refresh() -> Bool {
    guard case .success(let store) = configuration.store else { return false }
    let token: Int64
    do {
      token = try store.changeToken()
    } catch {
      state.withLock { $0.loadError = error }
      return false
    }
    if state.withLock({ $0.snapshot.token == token && $0.loadError == nil }) { return false }
    do {
      let live = try store.liveGrants(now: Self.now(), server: configuration.serverName)
      let trips = try store.breakerTrips()
      let drifted =
        configuration.pinCommand.isEmpty
        ? [:] : try store.driftedTools(server: configuration.serverName, command: configuration.pinCommand)
      let set = GrantSet(live)
      // Refreshes run on several threads (each pump, the watcher, the hold keeper): a slower one
      // must never put back a snapshot older than one already in place, or a revocation could come
      // undone between a refresh and a decision. The token only grows, and grants read after a
      // token are at least as new as it.
      let installed = state.withLock { current -> Bool in
        let trippedBefore = Set(current.snapshot.trips.keys)
        guard current.snapshot.offer(token: token, live: live, grants: set, trips: trips) else {
          return false
        }
        // A breaker a human reset counts its agent afresh.
        for agent in trippedBefore where current.snapshot.trips[agent] == nil {
          current.counter?.forget(agent: agent)
        }
        current.drifted = drifted
        current.loadError = nil
        return true
      }
      guard installed else { return false }
      logger.debug("loaded \(live.count) grants and forbids in force")
      return true
    } catch {
      state.withLock { $0.loadError = error }
      return false
    }
  }

  /// A grant in force at the last refresh, by id.
  func grant(id: String) -> Grant? { state.withLock { $0.snapshot.grants.grant(id: id) } }

  /// Grants and forbids in force at the last refresh.
  var liveGrants: [Grant] { state.withLock { $0.snapshot.live } }

  /// Remembers the server's annotations for its tools, from a `tools/list` result.
  func noteAnnotations(_ annotations: [String: ToolAnnotations]) {
    state.withLock { $0.annotations.merge(annotations) { $1 } }
  }

  /// The pure decision this engine feeds with the store, the clock and the file system.
  var policy: CallPolicy { cachedPolicy }

  /// The arguments the manifest reads for `tool`; the others need not be parsed.
  func argumentNames(forTool tool: String) -> Set<String> { cachedPolicy.argumentNames(forTool: tool) }

  /// The arguments of `tool` whose values are never stored, logged or shown (`redact:`).
  func redactedArguments(forTool tool: String) -> [String] { cachedPolicy.redactedArguments(forTool: tool) }

  /// Decides one call, against the store as it is now.
  func decide(tool: String, arguments: JSON, agent: String, params: UnsafeRawBufferPointer? = nil) -> (
    ToolCall, Authorization
  ) {
    refresh()
    let (grants, loadError, annotations, trip, drift) = state.withLock {
      ($0.snapshot.grants, $0.loadError, $0.annotations[tool], $0.snapshot.trips[agent], $0.drifted[tool])
    }
    let call = ToolCall(server: configuration.serverName, agent: agent, tool: tool, arguments: arguments)
    if case .failure(let error) = configuration.store {
      return (call, CallPolicy.storeUnavailable("\(error)"))
    }
    if let loadError { return (call, CallPolicy.storeUnavailable("\(loadError)")) }
    if let drift { return (call, Self.driftDenial(tool: tool, server: configuration.serverName, drift)) }
    let now = Self.now()
    var answers: [String: JSON] = [:]
    if let manifest = configuration.manifest, toolsWithLookups.contains(tool) {
      // Lookups first: the server's own answers are part of what the call means.
      let looked = Result { () throws(ScopeError) -> [LookupRequest] in
        try manifest.lookupRequests(for: call, context: configuration.context)
      }.flatMap { requests -> Result<[String: JSON], ScopeError> in
        guard !requests.isEmpty else { return .success([:]) }
        guard let lookups = lookups.withLock({ $0 }) else {
          return .failure(ScopeError("this warden cannot ask the server for the manifest's lookups"))
        }
        return lookups.answers(for: requests, params: params, now: now)
      }
      switch looked {
      case .success(let found): answers = found
      case .failure(let problem):
        return (call, Authorization(verdict: .deny, reason: .badArguments, explanation: problem.message))
      }
    }
    let decided = cachedPolicy.decide(
      tool: tool, arguments: arguments, agent: agent, grants: grants, now: now,
      usage: usage(for: grants, agent: agent, now: now), annotations: annotations,
      resolve: FileSystemPaths.resolver, trip: trip, lookups: answers)
    // A call that may reach the server (or a human's prompt) is compared with the pins first, even
    // when the client never listed the tools; a call denied anyway costs the server nothing.
    guard mayReachServer(decided.1) else { return decided }
    if let failure = observeToolsOnce(params: params) { return (call, failure) }
    if let drift = state.withLock({ $0.drifted[tool] }) {
      return (call, Self.driftDenial(tool: tool, server: configuration.serverName, drift))
    }
    // A tool the server did not list has no definition to compare: a server that serves it anyway
    // could have changed it unseen (and hides it from the pins by not listing it).
    if state.withLock({ $0.toolsObserved && !$0.listedTools.contains(tool) }) {
      return (call, Self.unlistedDenial(tool: tool, server: configuration.serverName))
    }
    return decided
  }

  /// The denial of a call of a tool the server did not list in this session.
  static func unlistedDenial(tool: String, server: String) -> Authorization {
    Authorization(
      verdict: .deny, reason: .toolDrift,
      explanation:
        "tool '\(tool)' is not among the tools server '\(server)' listed in this session, so it cannot be compared with what a human accepted; its calls are denied"
    )
  }

  /// Whether a decision lets its call go on, to the server or to a human: allowed, held, or denied
  /// for a reason report mode forwards (`CallMachine.wouldVerdict`).
  private func mayReachServer(_ decision: Authorization) -> Bool {
    decision.verdict != .deny
      || (configuration.reportOnly && (decision.reason == .notDelegated || decision.reason == .undeclared))
  }

  /// The denial of a call of a tool that drifted from its pin.
  static func driftDenial(tool: String, server: String, _ drift: ToolPin.State) -> Authorization {
    let what =
      drift == .added
      ? "appeared after the tools of server '\(server)' were pinned"
      : "changed (its description, schema or hints) since a human accepted it"
    return Authorization(
      verdict: .deny, reason: .toolDrift,
      explanation: "tool '\(tool)' \(what); its calls are denied until a human reviews and accepts the change"
    )
  }

  /// Before the first call of a session whose client has not listed the server's tools through
  /// warden (it may list them once and cache them across sessions), lists them itself, with
  /// requests of its own (`ServerLookups.listTools`), and compares them with their pins: a server
  /// that changed a tool since the last listing a human saw is caught whether or not the client
  /// asks. Returns the denial when the tools could not be listed (nothing is known to be as
  /// accepted); nil otherwise, and when pins are off or no server runs (`warden check`).
  private func observeToolsOnce(params: UnsafeRawBufferPointer?) -> Authorization? {
    guard case .success = configuration.store, !configuration.pinCommand.isEmpty,
      !state.withLock({ $0.toolsObserved }), let lookups = lookups.withLock({ $0 })
    else { return nil }
    switch lookups.listTools(params: params) {
    case .failure(let problem):
      logger.error(
        "could not list the tools of server '\(configuration.serverName)' to compare them with their pins: \(problem.message); the call is denied"
      )
      return Authorization(
        verdict: .deny, reason: .toolDrift,
        explanation:
          "warden could not list the server's tools to compare them with what a human accepted (\(problem.message)); the call is denied"
      )
    case .success(let tools):
      var annotations: [String: ToolAnnotations] = [:]
      var definitions: [(tool: String, definition: String)] = []
      for tool in tools {
        guard let name = tool["name"]?.stringValue, let definition = ToolPinning.definition(of: tool) else {
          continue
        }
        definitions.append((name, definition))
        annotations[name] = ToolAnnotations(listed: tool)
      }
      _ = observeTools(definitions)
      noteAnnotations(annotations)
      return nil
    }
  }

  /// Compares the tools a `tools/list` result showed with their pins (see `GrantStore.observeTools`)
  /// and returns the drifted ones. Every new drift is logged, with the commands for the human, and
  /// told to `onDrift` (the audit trail records it). A store that cannot be read or written treats
  /// every tool of the list as drifted: nothing is known to be as accepted.
  func observeTools(_ definitions: [(tool: String, definition: String)]) -> [String: ToolPin.State] {
    guard case .success(let store) = configuration.store, !configuration.pinCommand.isEmpty else {
      return [:]
    }
    let pinNew = state.withLock { state in
      state.toolsObserved = true
      state.listedTools.formUnion(definitions.map(\.tool))
      return state.pinnedFirst
    }
    let observed: (changes: [(tool: String, state: ToolPin.State)], pinnedFirst: Bool)
    do {
      observed = try store.observeTools(
        server: configuration.serverName, command: configuration.pinCommand, definitions: definitions,
        pinNew: pinNew, at: Self.now())
    } catch {
      logger.error("could not compare the server's tools with their pins: \(error); their calls are denied")
      return Dictionary(definitions.map { ($0.tool, .changed) }) { first, _ in first }
    }
    if observed.pinnedFirst {
      state.withLock { $0.pinnedFirst = true }
      logger.info(
        "pinned the definitions of \(definitions.count) tool(s) of server '\(configuration.serverName)'; a later change is caught"
      )
    }
    for (tool, drift) in observed.changes where drift != .pinned {
      logger.warning(
        "tool '\(HumanText.escaped(tool))' of server '\(HumanText.escaped(configuration.serverName))' \(drift == .added ? "appeared after its tools were pinned" : "changed since it was accepted"); its calls are denied until a human reviews it: warden tools diff \(configuration.serverName), then warden tools accept \(configuration.serverName) \(tool)"
      )
    }
    if !observed.changes.isEmpty { driftHook.withLock { $0 }?(observed.changes) }
    refresh()
    return state.withLock { $0.drifted }
  }

  /// Calls `hook` with the tools whose pin state an observation changed.
  func onDrift(_ hook: @escaping @Sendable ([(tool: String, state: ToolPin.State)]) -> Void) {
    driftHook.withLock { $0 = hook }
  }

  /// Lets the engine call the server for the manifest's lookups.
  func useLookups(_ client: ServerLookups) { lookups.withLock { $0 = client } }

  /// Calls `hook` with each breaker this warden trips.
  func onTrip(_ hook: @escaping @Sendable (BreakerTrip) -> Void) { tripHook.withLock { $0 = hook } }

  /// Counts a call (as first decided) against the circuit breaker; when it trips the breaker, the
  /// trip is recorded in the store for every warden on it, said, and the call is decided as a
  /// tripped agent's. A trip that cannot be recorded still applies here.
  func countForBreaker(_ call: ToolCall, _ decision: Authorization) -> Authorization {
    let now = Self.now()
    let (reason, already) = state.withLock { state -> (String?, BreakerTrip?) in
      (
        state.counter?.count(agent: call.agent, denied: decision.verdict == .deny, at: now),
        state.snapshot.trips[call.agent]
      )
    }
    guard let reason, already == nil, let rule = configuration.breaker else { return decision }
    let trip = BreakerTrip(agent: call.agent, at: now, reason: reason, then: rule.then)
    if case .success(let store) = configuration.store {
      do { try store.tripBreaker(trip, session: configuration.session) } catch {
        logger.error("could not record the tripped breaker of agent '\(call.agent)' in the store: \(error)")
      }
    }
    logger.warning(
      "circuit breaker tripped for agent '\(HumanText.escaped(call.agent))': \(reason); its calls are \(rule.then == .hold ? "held" : "denied") by every warden on this store until a human runs: warden reset \(HumanText.escaped(call.agent))"
    )
    DesktopNotice.announce(trip)
    tripHook.withLock { $0 }?(trip)
    refresh()
    return trip.apply(to: decision)
  }

  /// Records an allowed call against the rate limits of the grants that allowed it.
  func recordUse(of decision: Authorization) {
    guard case .success(let store) = configuration.store else { return }
    for grant in decision.grants where grant.rateLimit != nil {
      do { try store.recordUse(grantID: grant.id, at: Self.now()) } catch {
        logger.error("could not record a call against \(grant.id)'s rate limit: \(error)")
      }
    }
  }

  private func usage(for grants: GrantSet, agent: String, now: Int64) -> [String: Int] {
    guard case .success(let store) = configuration.store else { return [:] }
    var usage: [String: Int] = [:]
    for grant in grants.rateLimited(server: configuration.serverName, agent: agent) {
      guard let limit = grant.rateLimit else { continue }
      // Unknown usage counts as exhausted: a limit that cannot be checked does not allow.
      usage[grant.id] =
        (try? store.useCount(grantID: grant.id, since: now - limit.periodMilliseconds)) ?? limit.count
    }
    return usage
  }

  /// How each tool stands under the delegation, without arguments: for marking `tools/list`. The
  /// store is checked once for the whole list (a list may hold tens of thousands of tools).
  func standings(ofTools tools: [(name: String, annotations: ToolAnnotations?)], agent: String)
    -> [(CallPolicy.ToolStanding, String?)]
  {
    refresh()
    let (grants, loadError) = state.withLock { ($0.snapshot.grants, $0.loadError) }
    let unavailable: Bool
    if case .failure = configuration.store { unavailable = true } else { unavailable = loadError != nil }
    guard !unavailable else { return tools.map { _ in (.notDelegated, nil) } }
    return cachedPolicy.standings(ofTools: tools, agent: agent, grants: grants, now: Self.now())
  }
}
