import Synchronization
import WardenCore

/// The session state both pumps consult, one message at a time.
final class SharedSession: Sendable {
  private let state: Mutex<RelaySession>

  init(_ session: RelaySession) {
    state = Mutex(session)
  }

  func withLock<Result>(_ body: (inout RelaySession) -> Result) -> Result {
    state.withLock { body(&$0) }
  }
}
