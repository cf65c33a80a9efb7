import WardenJSON

/// The requests one side has sent and not yet seen answered, in the order they were sent.
public struct RequestLedger: Sendable {
  /// One request in flight.
  public struct Entry: Sendable, Equatable {
    public let id: RequestID
    public let method: String
    /// Position in send order, so that the in-flight list can be replayed in order.
    public let sequence: UInt64
  }

  private var entries: [RequestID: Entry] = [:]
  private var nextSequence: UInt64 = 0

  public init() {}

  /// Records a request; returns false when a request with the same id is already in flight.
  public mutating func open(_ id: RequestID, method: String) -> Bool {
    guard entries[id] == nil else { return false }
    entries[id] = Entry(id: id, method: method, sequence: nextSequence)
    nextSequence += 1
    return true
  }

  /// Removes and returns the request a response answers, if it was in flight.
  public mutating func close(_ id: RequestID) -> Entry? {
    entries.removeValue(forKey: id)
  }

  public func contains(_ id: RequestID) -> Bool { entries[id] != nil }

  public var count: Int { entries.count }

  /// Every request in flight, oldest first.
  public var inFlight: [Entry] { entries.values.sorted { $0.sequence < $1.sequence } }

  /// Empties the ledger and returns what was in it, oldest first.
  public mutating func removeAll() -> [Entry] {
    defer { entries.removeAll() }
    return inFlight
  }
}
