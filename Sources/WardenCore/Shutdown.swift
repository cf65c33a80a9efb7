/// What the relay's threads report to the coordinator.
public enum LifecycleEvent: Sendable, Equatable {
  /// The client closed warden's stdin, or stopped reading its stdout.
  case clientClosed
  /// The client's end of warden's stdin is gone, seen from outside the pump: the pump may still be
  /// forwarding what the client wrote, or be stuck writing it to a server that stopped reading.
  case clientHungUp
  /// The server closed its stdout.
  case serverOutputClosed
  case serverExited(ServerExit)
  /// Warden received a signal to pass on to the server.
  case signal(Int32)
}

/// The end of a session as a state machine: which events arrived, what to do next, by when, and the
/// exit status that tells what happened. Pure, so every ordering of events can be tested.
public struct Shutdown: Sendable {
  public enum Action: Sendable, Equatable {
    case closeServerInput
    case signalServer(Int32)
    /// The server exited but something it started still holds its stdout open.
    case abandonServerOutput
  }

  public static let sigterm: Int32 = 15
  public static let sigkill: Int32 = 9

  public let grace: Double
  public private(set) var clientClosed = false
  /// The client hung up, and the pump has not reached the end of its input yet.
  public private(set) var clientHungUp = false
  public private(set) var serverOutputOpen = true
  public private(set) var serverExit: ServerExit?
  /// Signals warden sent on its own to end the server (not ones it passed on).
  public private(set) var escalation: [Int32] = []
  /// When to act if nothing else happens, in monotonic seconds.
  public private(set) var deadline: Double?

  public init(grace: Double) {
    self.grace = grace
  }

  /// The session is over once the server has exited and its output is drained (or abandoned).
  public var isComplete: Bool { serverExit != nil && !serverOutputOpen }

  /// Handles one event, or the deadline passing when `event` is nil.
  public mutating func handle(_ event: LifecycleEvent?, now: Double) -> [Action] {
    switch event {
    case .clientClosed:
      guard !clientClosed else { return [] }
      clientClosed = true
      guard serverExit == nil else { return [] }
      deadline = now + grace
      return [.closeServerInput]
    case .clientHungUp:
      guard !clientClosed, !clientHungUp, serverExit == nil else { return [] }
      // The pump gets the grace period to forward what the client wrote and reach the end itself.
      clientHungUp = true
      deadline = min(deadline ?? .infinity, now + grace)
      return []
    case .serverOutputClosed:
      serverOutputOpen = false
      // A server that closed its output cannot answer any more: give it the grace period to exit.
      if serverExit == nil, deadline == nil { deadline = now + grace }
      return []
    case .serverExited(let exit):
      serverExit = exit
      // Let the pipe drain what the server wrote before it exited.
      deadline = serverOutputOpen ? now + max(grace, 0.5) : nil
      return []
    case .signal(let signal):
      return serverExit == nil ? [.signalServer(signal)] : []
    case nil:
      guard let current = deadline, now >= current else { return [] }
      if serverExit != nil {
        serverOutputOpen = false
        deadline = nil
        return [.abandonServerOutput]
      }
      if clientHungUp, !clientClosed {
        // The pump is stuck on a server that does not read what the client sent: the session ends
        // as if the client had closed, and the server is asked to stop now.
        clientClosed = true
        escalation.append(Self.sigterm)
        deadline = now + grace
        return [.closeServerInput, .signalServer(Self.sigterm)]
      }
      let next = escalation.isEmpty ? Self.sigterm : Self.sigkill
      escalation.append(next)
      deadline = now + grace
      return [.signalServer(next)]
    }
  }

  /// Warden's exit status: the server's own, except that a server warden itself had to end after the
  /// client left counts as a clean shutdown.
  public var exitStatus: Int32 {
    guard let serverExit else { return 0 }
    switch serverExit {
    case .exited(let status):
      return status
    case .killed(let signal):
      return escalation.contains(signal) ? 0 : 128 + signal
    }
  }
}
