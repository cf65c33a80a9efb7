import NIOCore
import PostgresNIO
import Synchronization
import WardenStore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The change token, read before every tool call, served from memory while a dedicated connection
/// listens on `warden_changes` (which the triggers notify on every change to grants, breaker trips
/// and tool pins), and from the database otherwise.
///
/// Correctness rests on three rules. A notification clears the cached value, and a value read from
/// the database is kept only if no notification came while it was being read (`epoch`), so a stale
/// read never outlives the notification that made it stale. The cache is used only while the
/// listener is connected: without it every call reads the database, as before. And the database is
/// read anyway once the cached value is older than `safetyNet`: a lost notification delays a change
/// by at most that. The listener starts at the second read, so a command that reads the token once
/// costs no second connection.
final class PostgresChangeToken: Sendable {
  private struct State {
    var value: Int64?
    /// When `value` was read from the database (monotonic ns).
    var readAt: UInt64 = 0
    /// Bumped by every notification and by the listener's loss.
    var epoch: UInt64 = 0
    var listener: PostgresConnection?
    /// When the listener was last tried (monotonic ns), so a failing one is retried at most every
    /// `retryAfter`, never on every call.
    var triedAt: UInt64?
    /// Reads from the database so far: a one-shot command reads once and needs no listener.
    var reads = 0
  }

  private let state = Mutex(State())
  private let session: PostgresSession
  /// Called on every notification on `warden_holds` (a hold created or decided, by any process).
  private let holdsChanged = Mutex<(@Sendable () -> Void)?>(nil)
  /// The longest a cached token is trusted without reading the database.
  static let safetyNet: UInt64 = 1_000_000_000
  static let retryAfter: UInt64 = 5_000_000_000
  static let channel = "warden_changes"
  static let holdsChannel = "warden_holds"

  init(session: PostgresSession) {
    self.session = session
  }

  deinit {
    if let listener = state.withLock({ $0.listener }) { PostgresSession.close(listener) }
  }

  func read(_ fromDatabase: () throws(StoreError) -> Int64) throws(StoreError) -> Int64 {
    let now = Self.monotonic()
    let (cached, epoch, shouldListen) = state.withLock { state -> (Int64?, UInt64, Bool) in
      let fresh =
        state.listener.map { !$0.isClosed } == true && state.value != nil
        && now - state.readAt < Self.safetyNet
      let retry =
        !fresh && state.listener == nil && state.reads >= 1
        && (state.triedAt.map { now - $0 >= Self.retryAfter } ?? true)
      if retry { state.triedAt = now }
      if !fresh { state.reads += 1 }
      return (fresh ? state.value : nil, state.epoch, retry)
    }
    if let cached { return cached }
    let value = try fromDatabase()
    state.withLock { state in
      guard state.epoch == epoch else { return }
      state.value = value
      state.readAt = now
    }
    // Only once the database answered: a listener is not worth a connect timeout while it is away.
    if shouldListen { listen() }
    return value
  }

  /// Calls `handler` whenever a hold is created or decided in the store, while the listener is up
  /// (the holds' pollers are the safety net).
  func onHoldsChanged(_ handler: @escaping @Sendable () -> Void) { holdsChanged.withLock { $0 = handler } }

  /// Whether a listener is connected (for tests).
  var isListening: Bool { state.withLock { $0.listener != nil } }

  /// Opens the listener connection and starts listening. Best effort: without it, every call reads
  /// the database.
  private func listen() {
    guard let connection = try? session.openConnection() else { return }
    let invalidate: @Sendable () -> Void = { [weak self] in self?.invalidate() }
    connection.addListener(channel: Self.channel) { _, _ in invalidate() }
    let holds: @Sendable () -> Void = { [weak self] in self?.holdsChanged.withLock { $0 }?() }
    connection.addListener(channel: Self.holdsChannel) { _, _ in holds() }
    connection.closeFuture.whenComplete { [weak self] _ in self?.lost(connection) }
    do {
      for channel in [Self.channel, Self.holdsChannel] {
        _ = try PostgresSession.wait(
          connection.query(PostgresQuery(unsafeSQL: "LISTEN \(channel)"), logger: session.logger),
          timeout: PostgresSession.timeout)
      }
    } catch {
      PostgresSession.close(connection)
      return
    }
    let stale = state.withLock { state -> PostgresConnection? in
      defer { state.listener = connection }
      // What was cached before the LISTEN took effect may have missed a notification.
      state.value = nil
      state.epoch &+= 1
      return state.listener
    }
    if let stale { PostgresSession.close(stale) }
  }

  /// Forgets the cached value: on a notification, and after this process's own writes, so that its
  /// next call sees them without waiting for the notification to come back.
  func invalidate() {
    state.withLock { state in
      state.value = nil
      state.epoch &+= 1
    }
  }

  private func lost(_ connection: PostgresConnection) {
    state.withLock { state in
      guard state.listener === connection else { return }
      state.listener = nil
      state.value = nil
      state.epoch &+= 1
    }
  }

  /// Drops the listener (for tests of the fallback): every call reads the database until a new one
  /// is up.
  func dropListener() {
    if let listener = state.withLock({ $0.listener }) { PostgresSession.close(listener) }
  }

  static func monotonic() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
  }
}
