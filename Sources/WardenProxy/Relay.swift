import Logging
import WardenCore
import WardenJSON
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How to run one relayed session.
public struct RelayConfiguration: Sendable {
  /// The server's command line; the first element is looked up on PATH.
  public var command: [String]
  /// The server's name (for manifests and the audit trail).
  public var serverName: String
  /// The agent identity given on the command line, if any; otherwise the client's self-reported name.
  public var agentID: String?
  /// Longest accepted line in either direction, in bytes, terminator excluded.
  public var maxMessage: Int
  /// Seconds the server gets to exit after its stdin closes, and again after SIGTERM.
  public var grace: Double
  /// What to enforce on tool calls; nil relays without judging them (tests of the relay only).
  public var policy: PolicyConfiguration?

  public init(
    command: [String], serverName: String, agentID: String?, maxMessage: Int, grace: Double,
    policy: PolicyConfiguration? = nil
  ) {
    self.command = command
    self.serverName = serverName
    self.agentID = agentID
    self.maxMessage = maxMessage
    self.grace = grace
    self.policy = policy
  }
}

/// Why a relay could not start.
public struct RelayStartError: Error, Sendable, CustomStringConvertible {
  public let command: String
  public let underlying: SystemError

  public var description: String {
    "cannot start '\(command)': \(SystemError.message(for: underlying.code))"
  }
}

/// Runs one MCP session: starts the server, relays both directions until the session ends, and
/// returns the exit status warden should exit with.
public enum Relay {
  /// The stdio descriptors of warden itself.
  static let clientInput: Int32 = 0
  static let clientOutput: Int32 = 1

  public static func run(_ configuration: RelayConfiguration, logger: Logger) throws(RelayStartError)
    -> Int32
  {
    // Signals to pass on are taken by a thread of ours with sigwait, never by a handler: block them
    // before any thread starts so every thread inherits the mask.
    var forwarded = sigset_t()
    sigemptyset(&forwarded)
    for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&forwarded, signal) }
    pthread_sigmask(SIG_BLOCK, &forwarded, nil)
    // A peer that goes away must show up as a failed write, not kill warden.
    signal(SIGPIPE, SIG_IGN)

    let child: ChildProcess
    do {
      child = try ChildProcess.spawn(
        configuration.command, keep: Set(configuration.policy?.manifest?.wardenEnvironment ?? []))
    } catch {
      throw RelayStartError(command: configuration.command[0], underlying: error)
    }
    logger.info("started \(configuration.command.joined(separator: " ")) as pid \(child.pid)")

    let events: EventChannel
    do { events = try EventChannel() } catch {
      child.send(SIGKILL)
      throw RelayStartError(command: configuration.command[0], underlying: error)
    }
    let sessionID = String(randomHex128().prefix(12))
    let session = SharedSession(
      CallMachine(
        session: RelaySession(nonce: randomHex128()),
        rules: configuration.policy.map(CallExecutor.rules(for:)) ?? .noHolds, sessionID: sessionID))
    let client = LockedWriter(descriptor: clientOutput)
    let server = LockedWriter(descriptor: child.input)

    let forwardedSignals = forwarded
    startThread {
      var set = forwardedSignals
      while true {
        var received: Int32 = 0
        if sigwait(&set, &received) == 0 { events.post(.signal(received)) }
      }
    }
    startThread { events.post(.serverExited(child.waitForExit())) }

    let lookups = ServerLookups(server: server, logger: logger)
    let engine = configuration.policy.map { policy in
      var named = policy
      named.session = sessionID
      let engine = PolicyEngine(configuration: named, logger: logger)
      engine.useLookups(lookups)
      return engine
    }
    let agentOverride = configuration.agentID
    let agent: @Sendable () -> String = {
      agentOverride ?? session.withLock { $0.clientName } ?? "unknown"
    }
    let calls = engine.map { engine in
      let store: (any DelegationStore)?
      if case .success(let opened) = engine.configuration.store { store = opened } else { store = nil }
      return CallExecutor(
        session: session, store: store, server: server, client: client, gate: ToolCallGate(engine: engine),
        logger: logger, audit: store.map { AuditTrail(store: $0, session: sessionID, logger: logger) })
    }
    let inbound = Pump(
      source: clientInput, maxLine: configuration.maxMessage, destination: server,
      handler: ClientSide(
        session: session, client: client, logger: logger, maxLine: configuration.maxMessage,
        calls: calls, agentOverride: agentOverride),
      onDestinationFailure: { logger.debug("the server's stdin is closed") })
    let outbound = Pump(
      source: child.output, maxLine: configuration.maxMessage, destination: client,
      handler: ServerSide(
        session: session, client: client, server: server, logger: logger, maxLine: configuration.maxMessage,
        serverName: configuration.serverName, amender: engine.map { ResultAmender(engine: $0) }, agent: agent,
        onToolResult: toolResults(calls), lookups: lookups),
      onDestinationFailure: { events.post(.clientClosed) },
      onUnterminatedLastLine: { length in
        logger.warning("the server's output ended in the middle of a line (\(length) bytes); dropped")
      })
    if let calls, calls.store != nil {
      startThread { calls.run() }
    }
    if let audit = calls?.audit {
      startThread { audit.run() }
      engine?.onTrip { trip in audit.recordTrip(trip) }
    }
    if let engine {
      engine.refresh()
      startThread { GrantWatcher(engine: engine, session: session, client: client, logger: logger).run() }
    }
    // The pump learns that the client left only when it reads the end of its input, which it
    // cannot while it waits on a server that stopped reading: watch for the hang-up from outside.
    startThread { watchForHangUp(clientInput, events: events) }
    startThread {
      let end = inbound.run()
      if case .failed(let code) = end {
        logger.warning("reading from the client failed: \(SystemError("read", code: code))")
      }
      events.post(.clientClosed)
    }
    startThread {
      _ = outbound.run()
      events.post(.serverOutputClosed)
    }

    var shutdown = Shutdown(grace: configuration.grace)
    while !shutdown.isComplete {
      let event = events.next(deadline: shutdown.deadline)
      for action in shutdown.handle(event, now: monotonicSeconds()) {
        switch action {
        case .closeServerInput:
          logger.debug("client closed; closing the server's stdin")
          calls?.handle(.end(note: "the client went away", answer: false), mayBlock: false)
          server.close()
        case .signalServer(let signal):
          logger.info("sending \(ServerExit.signalName(signal)) to the server")
          child.send(signal)
        case .abandonServerOutput:
          logger.debug("the server exited but its stdout is still open; not waiting for it")
        }
      }
    }

    // Held calls end with the session: answered (reason `shutdown`) while the client can still hear.
    if client.isOpen {
      calls?.handle(
        .end(
          note: "the session ended (\(shutdown.serverExit.map { "\($0)" } ?? "warden stopped"))", answer: true
        ))
    } else {
      calls?.handle(.end(note: "the session ended", answer: false), mayBlock: false)
    }
    let exit = shutdown.serverExit ?? .exited(status: 0)
    calls?.handle(.serverGone(at: PolicyEngine.now()), mayBlock: false)
    let unanswered = session.withLock { $0.serverGone(exit) }
    if !unanswered.isEmpty {
      logger.warning("\(exit); answering \(unanswered.count) request(s) in flight with an error")
    } else {
      logger.info("\(exit)")
    }
    for response in unanswered { client.send(response.line) }
    // Messages other threads queued behind a write in progress go out before warden exits, unless
    // the client stopped reading: then warden gives up after the grace period.
    client.flush(within: configuration.grace)
    // Every record of the session is in the store before warden exits.
    calls?.audit?.drain()
    return shutdown.exitStatus
  }

  /// Posts `clientHungUp` once the peer of `descriptor` is gone (a pipe's or socket's writer closed,
  /// a terminal hung up). Descriptors that never report a hang-up (a file) keep this thread waiting.
  private static func watchForHangUp(_ descriptor: Int32, events: EventChannel) {
    let peerClosedWriting: Int32 = 0x2000  // POLLRDHUP, which Glibc exports only under _GNU_SOURCE
    var poller = pollfd(fd: descriptor, events: Int16(peerClosedWriting), revents: 0)
    while true {
      poller.revents = 0
      let ready = poll(&poller, 1, -1)
      if ready < 0 {
        if errno == EINTR { continue }
        return
      }
      if Int32(poller.revents) & (POLLHUP | peerClosedWriting | POLLERR | POLLNVAL) != 0 {
        events.post(.clientHungUp)
        return
      }
      usleep(100_000)
    }
  }

  /// What the server side tells the call machine about each forwarded call's end.
  private static func toolResults(_ calls: CallExecutor?) -> (@Sendable (RequestID, CallOutcome) -> Void)? {
    guard let calls else { return nil }
    return { id, outcome in calls.handle(.answered(id, outcome, at: PolicyEngine.now())) }
  }
}

/// 128 random bits as 32 hexadecimal digits (the system generator draws from getrandom).
func randomHex128() -> String {
  var generator = SystemRandomNumberGenerator()
  return (0..<2).map { _ in
    let text = String(generator.next() as UInt64, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
  }.joined()
}
