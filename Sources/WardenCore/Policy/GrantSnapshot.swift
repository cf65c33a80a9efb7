/// The grants in force as last read from the store, and the store's change token they were read
/// under. Several threads refresh it (each pump, the grant watcher, the hold keeper); it only ever
/// moves forward, so a slow refresh cannot put back grants a revocation already took away.
public struct GrantSnapshot: Sendable {
  /// The change token the grants were read under; nil before the first read.
  public private(set) var token: Int64?
  public private(set) var grants = GrantSet([])
  public private(set) var live: [Grant] = []
  /// Tripped circuit breakers, by agent.
  public private(set) var trips: [String: BreakerTrip] = [:]

  public init() {}

  /// Installs grants read after the store showed `token`. Refused (false) when a snapshot of a
  /// newer token is already in place: the token only grows, and grants read after a token are at
  /// least as new as it.
  public mutating func offer(token: Int64, live: [Grant], grants: GrantSet, trips: [BreakerTrip] = []) -> Bool
  {
    if let current = self.token, current > token { return false }
    self.token = token
    self.live = live
    self.grants = grants
    self.trips = Dictionary(trips.map { ($0.agent, $0) }) { first, _ in first }
    return true
  }
}
