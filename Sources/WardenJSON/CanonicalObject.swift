#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A JSON object written directly as canonical text: keys sorted by their bytes, compact, strings
/// escaped exactly as jansson's `JSON_COMPACT | JSON_SORT_KEYS` dump escapes them, so the text equals
/// `JSONValue.canonicalText()` of the same value (the audit chain's verifier checks that).
///
/// It exists because an audit record is built for every call: building it through jansson (a tree of
/// allocated nodes, then a sorted dump) cost several times more than writing the bytes.
public struct CanonicalObject: Sendable {
  /// The members as text, `"key":value` joined by commas, in key order, without the braces: set in
  /// order (as the audit trail does), each member is written once, where it stays.
  private var members: [UInt8] = []
  /// Each member's key, in order, and where its text starts.
  private var keys: [String] = []
  private var starts: [Int] = []

  public init() {}

  public var isEmpty: Bool { keys.isEmpty }

  public mutating func set(_ key: String, _ value: String) {
    setMember(key) { Self.appendString(value, to: &$0) }
  }

  public mutating func set(_ key: String, _ value: Int64) { setMember(key) { $0 += String(value).utf8 } }

  public mutating func set(_ key: String, _ value: Bool) {
    setMember(key) { $0 += (value ? "true" : "false").utf8 }
  }

  public mutating func set(_ key: String, _ value: CanonicalObject) {
    setMember(key) { value.write(to: &$0) }
  }

  public mutating func set(_ key: String, _ values: [String]) {
    setMember(key) { out in
      out.append(0x5B)
      for (index, value) in values.enumerated() {
        if index > 0 { out.append(0x2C) }
        Self.appendString(value, to: &out)
      }
      out.append(0x5D)
    }
  }

  public mutating func set(_ key: String, _ values: [CanonicalObject]) {
    setMember(key) { out in
      out.append(0x5B)
      for (index, value) in values.enumerated() {
        if index > 0 { out.append(0x2C) }
        value.write(to: &out)
      }
      out.append(0x5D)
    }
  }

  /// Sets a member whose value is already canonical JSON text.
  public mutating func set(_ key: String, encoded value: [UInt8]) { setMember(key) { $0 += value } }

  private mutating func setMember(_ key: String, _ writeValue: (inout [UInt8]) -> Void) {
    // In order: write it at the end, in place.
    if let last = keys.last, !Self.precedes(last, key) {
      setMemberOutOfOrder(key, writeValue)
      return
    }
    if keys.isEmpty {
      members.reserveCapacity(512)
      keys.reserveCapacity(24)
      starts.reserveCapacity(24)
    } else {
      members.append(0x2C)
    }
    keys.append(key)
    starts.append(members.count)
    Self.appendString(key, to: &members)
    members.append(0x3A)
    writeValue(&members)
  }

  private mutating func setMemberOutOfOrder(_ key: String, _ writeValue: (inout [UInt8]) -> Void) {
    var member: [UInt8] = []
    Self.appendString(key, to: &member)
    member.append(0x3A)
    writeValue(&member)
    var low = 0
    var high = keys.count
    while low < high {
      let middle = (low + high) / 2
      if Self.precedes(keys[middle], key) { low = middle + 1 } else { high = middle }
    }
    let start = starts[low]
    if keys[low].utf8.elementsEqual(key.utf8) {
      let end = low + 1 < keys.count ? starts[low + 1] - 1 : members.count
      members.replaceSubrange(start..<end, with: member)
      let shift = member.count - (end - start)
      for index in (low + 1)..<keys.count { starts[index] += shift }
    } else {
      member.append(0x2C)
      members.insert(contentsOf: member, at: start)
      for index in low..<keys.count { starts[index] += member.count }
      keys.insert(key, at: low)
      starts.insert(start, at: low)
    }
  }

  private func write(to out: inout [UInt8]) {
    out.append(0x7B)
    out += members
    out.append(0x7D)
  }

  /// The canonical text of this object with `extras` added (sorted by key, none of them a key the
  /// object has), written in one pass: how the chain adds a record's `seq` and `prev`. The members
  /// between two extras are copied as one run (an extra's place is found by binary search), so a
  /// record of twenty members costs three copies, not twenty.
  public func bytes(inserting extras: [(key: String, value: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(members.count + extras.reduce(2) { $0 + $1.key.utf8.count + $1.value.count + 4 })
    out.append(0x7B)
    var member = 0
    members.withUnsafeBufferPointer { text in
      for extra in extras {
        let place = insertionIndex(of: extra.key, from: member)
        if place > member {
          // The members before the extra, as one run (without the comma that follows the last).
          let end = place < keys.count ? starts[place] - 1 : text.count
          if out.count > 1 { out.append(0x2C) }
          out.append(contentsOf: UnsafeBufferPointer(rebasing: text[starts[member]..<end]))
          member = place
        }
        if out.count > 1 { out.append(0x2C) }
        Self.appendString(extra.key, to: &out)
        out.append(0x3A)
        out += extra.value
      }
      if member < keys.count {
        if out.count > 1 { out.append(0x2C) }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: text[starts[member]...]))
      }
    }
    out.append(0x7D)
    return out
  }

  /// The index of the first member, at `from` or after, whose key sorts after `key`.
  private func insertionIndex(of key: String, from: Int) -> Int {
    var low = from
    var high = keys.count
    while low < high {
      let middle = (low + high) / 2
      if Self.precedes(keys[middle], key) { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// The canonical text.
  public var bytes: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(members.count + 2)
    write(to: &out)
    return out
  }

  public var text: String { String(decoding: bytes, as: UTF8.self) }

  private static let hexDigits = Array("0123456789ABCDEF".utf8)

  /// A JSON string as jansson writes it without `JSON_ENSURE_ASCII` or `JSON_ESCAPE_SLASH`: `"`, `\`
  /// and the C0 controls escaped (short forms where JSON has them, else `\u00XX`, upper-case hex),
  /// everything else, U+007F and non-ASCII included, as its UTF-8 bytes.
  /// A string as canonical JSON text.
  public static func encoded(_ string: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(string.utf8.count + 2)
    appendString(string, to: &out)
    return out
  }

  /// Whether `a` sorts before `b` by their UTF-8 bytes (jansson's `strcmp` order), with `memcmp`
  /// for the contiguous strings Swift makes.
  static func precedes(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { left in
      b.utf8.withContiguousStorageIfAvailable { right -> Bool in
        let common = min(left.count, right.count)
        let order = common == 0 ? 0 : memcmp(left.baseAddress!, right.baseAddress!, common)
        return order != 0 ? order < 0 : left.count < right.count
      }
    }
    return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
  }

  static func appendString(_ string: String, to out: inout [UInt8]) {
    out.append(0x22)
    if string.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &out) }) == nil {
      Array(string.utf8).withUnsafeBufferPointer { appendEscaped($0, to: &out) }
    }
    out.append(0x22)
  }

  private static func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    // Runs without anything to escape are copied whole, and an escape is written byte by byte: the
    // records of every call carry quoted text (arguments, explanations), so this is hot.
    var run = 0
    for (index, byte) in buffer.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
      if index > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run..<index])) }
      run = index + 1
      out.append(0x5C)
      switch byte {
      case 0x22, 0x5C: out.append(byte)
      case 0x08: out.append(0x62)
      case 0x0C: out.append(0x66)
      case 0x0A: out.append(0x6E)
      case 0x0D: out.append(0x72)
      case 0x09: out.append(0x74)
      default:
        out.append(0x75)
        out.append(0x30)
        out.append(0x30)
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0xF)])
      }
    }
    if buffer.count > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run...])) }
  }

}

extension CanonicalObject {
  /// The members of a JSON object, each value in its canonical text; nil for anything but an object.
  public init?(_ value: JSONValue) {
    guard value.kind == .object else { return nil }
    self.init()
    for key in value.keys {
      guard let member = value[key] else { return nil }
      set(key, encoded: Array(member.canonicalText().utf8))
    }
  }
}

extension JSON {
  /// The value as canonical JSON text: object keys sorted by their bytes, compact, strings escaped
  /// as jansson does, numbers as written.
  public var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }

  public var canonicalBytes: [UInt8] {
    var out: [UInt8] = []
    write(to: &out)
    return out
  }

  private func write(to out: inout [UInt8]) {
    switch self {
    case .null: out += "null".utf8
    case .bool(let flag): out += (flag ? "true" : "false").utf8
    case .number(let literal): out += literal.utf8
    case .string(let text): CanonicalObject.appendString(text, to: &out)
    case .array(let elements):
      out.append(0x5B)
      for (index, element) in elements.enumerated() {
        if index > 0 { out.append(0x2C) }
        element.write(to: &out)
      }
      out.append(0x5D)
    case .object(let members):
      var object = CanonicalObject()
      for member in members { object.set(member.key, encoded: member.value.canonicalBytes) }
      out += object.bytes
    }
  }
}
