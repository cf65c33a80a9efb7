import WardenJSON

/// Ids for requests warden itself sends to the client (for example elicitation), chosen so that they
/// cannot collide with the server's own server-to-client requests: a per-session random nonce that the
/// server never sees, and a counter.
public struct OwnRequestIDs: Sendable {
  public let prefix: String
  private var counter: UInt64 = 0

  /// - Parameter nonce: random text unique to this session.
  public init(nonce: String) {
    prefix = "warden-\(nonce)-"
  }

  public mutating func next() -> RequestID {
    counter += 1
    return .string(prefix + String(counter))
  }

  /// True for an id warden made; such ids are never forwarded to the server.
  public func isOwn(_ id: RequestID) -> Bool {
    if case .string(let value) = id { return value.hasPrefix(prefix) }
    return false
  }
}
