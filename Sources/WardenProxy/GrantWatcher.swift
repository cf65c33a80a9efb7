import Logging
import WardenCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Watches the delegation store while a session runs, and tells a handshake-era client that the
/// tool list changed when grants do, so the marks in `tools/list` stay true. (Enforcement does not
/// depend on it: every call re-checks the store.)
struct GrantWatcher {
  let engine: PolicyEngine
  let session: SharedSession
  let client: LockedWriter
  let logger: Logger
  static let interval: UInt32 = 200_000  // microseconds

  func run() {
    // What is in force now: grants the store holds, less those whose expiry has passed since.
    func inForce() -> [String] {
      let now = PolicyEngine.now()
      return engine.liveGrants.filter { $0.isLive(at: now) }.map(\.id)
    }
    var lastSeen = inForce()
    while client.isOpen {
      usleep(Self.interval)
      engine.refresh()
      let current = inForce()
      guard current != lastSeen else { continue }
      lastSeen = current
      // Only the handshake era has server-to-client notifications on stdio.
      guard case .handshake = session.withLock({ $0.era }) else { continue }
      logger.info("grants changed; telling the client its tool list changed")
      // Never waits: a client that stopped reading must not stall the watcher.
      client.send(ProtocolLines.toolsListChanged)
    }
  }
}
