import Synchronization
import WardenCore

/// The session's state both pumps and the hold poller consult, one event at a time: the call
/// machine, and through it the envelope-level session.
final class SharedSession: Sendable {
  private let state: Mutex<CallMachine>

  init(_ machine: CallMachine) {
    state = Mutex(machine)
  }

  /// The envelope-level session: requests in flight, the client, the era.
  func withLock<Result>(_ body: (inout RelaySession) -> Result) -> Result {
    state.withLock { body(&$0.session) }
  }

  /// The whole machine (calls, holds, and the session).
  func withMachine<Result>(_ body: (inout CallMachine) -> Result) -> Result {
    state.withLock { body(&$0) }
  }
}
