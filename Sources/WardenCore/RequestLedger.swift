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

  // Integer ids, the common case, in a cheap table; string and other number ids in a dictionary.
  private var integerEntries = IntegerTable<Entry>()
  private var otherEntries: [RequestID: Entry] = [:]
  private var nextSequence: UInt64 = 0

  public init() {}

  /// Records a request; returns false when a request with the same id is already in flight.
  public mutating func open(_ id: RequestID, method: String) -> Bool {
    let entry = Entry(id: id, method: method, sequence: nextSequence)
    if case .integer(let key) = id {
      guard integerEntries.insert(entry, for: key) else { return false }
    } else {
      guard otherEntries[id] == nil else { return false }
      otherEntries[id] = entry
    }
    nextSequence += 1
    return true
  }

  /// Removes and returns the request a response answers, if it was in flight.
  public mutating func close(_ id: RequestID) -> Entry? {
    if case .integer(let key) = id { return integerEntries.remove(key) }
    return otherEntries.removeValue(forKey: id)
  }

  public func contains(_ id: RequestID) -> Bool {
    if case .integer(let key) = id { return integerEntries[key] != nil }
    return otherEntries[id] != nil
  }

  public var count: Int { integerEntries.count + otherEntries.count }

  /// Every request in flight, oldest first.
  public var inFlight: [Entry] {
    (integerEntries.allValues + otherEntries.values).sorted { $0.sequence < $1.sequence }
  }

  /// Empties the ledger and returns what was in it, oldest first.
  public mutating func removeAll() -> [Entry] {
    defer {
      integerEntries = IntegerTable()
      otherEntries.removeAll()
    }
    return inFlight
  }
}
