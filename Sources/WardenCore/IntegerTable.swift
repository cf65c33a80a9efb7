/// An open-addressing hash table from integer request ids to values.
///
/// Nearly every JSON-RPC id is a small integer, and the relay looks one up twice per request; a
/// multiplicative hash and linear probing cost a fraction of a general dictionary's keyed hashing.
/// Keys are not secret and a peer chooses them, so the table stays at most half full and probes are
/// bounded by the number of requests that peer itself keeps in flight.
struct IntegerTable<Value> {
  private var keys: [Int64]
  private var values: [Value?]
  private var shift: UInt64
  private(set) var count = 0

  init(capacity: Int = 64) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    keys = Array(repeating: 0, count: size)
    values = Array(repeating: nil, count: size)
    shift = UInt64(64 - size.trailingZeroBitCount)
  }

  private var mask: Int { keys.count - 1 }

  @inline(__always) private func home(_ key: Int64) -> Int {
    Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> shift)
  }

  private func slot(of key: Int64) -> Int? {
    var index = home(key)
    while values[index] != nil {
      if keys[index] == key { return index }
      index = (index + 1) & mask
    }
    return nil
  }

  subscript(key: Int64) -> Value? {
    guard let index = slot(of: key) else { return nil }
    return values[index]
  }

  /// Inserts `value` unless `key` is present; returns false if it was.
  mutating func insert(_ value: Value, for key: Int64) -> Bool {
    if (count + 1) * 2 > keys.count { grow() }
    var index = home(key)
    while values[index] != nil {
      if keys[index] == key { return false }
      index = (index + 1) & mask
    }
    keys[index] = key
    values[index] = value
    count += 1
    return true
  }

  /// Removes and returns the value for `key`, closing the gap so later probes still find their keys.
  mutating func remove(_ key: Int64) -> Value? {
    guard var hole = slot(of: key) else { return nil }
    let removed = values[hole]
    var next = (hole + 1) & mask
    while values[next] != nil {
      let wanted = home(keys[next])
      // Move the entry back into the hole unless its home lies cyclically after the hole.
      let fits = hole <= next ? (wanted <= hole || wanted > next) : (wanted <= hole && wanted > next)
      if fits {
        keys[hole] = keys[next]
        values[hole] = values[next]
        hole = next
      }
      next = (next + 1) & mask
    }
    values[hole] = nil
    count -= 1
    return removed
  }

  /// Every value, in no particular order.
  var allValues: [Value] { values.compactMap { $0 } }

  private mutating func grow() {
    var bigger = IntegerTable(capacity: keys.count)
    for index in keys.indices {
      if let value = values[index] { _ = bigger.insert(value, for: keys[index]) }
    }
    self = bigger
  }
}
extension IntegerTable: Sendable where Value: Sendable {}
