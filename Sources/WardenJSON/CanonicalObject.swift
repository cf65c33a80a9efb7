/// A JSON object written directly as canonical text: keys sorted by their bytes, compact, strings
/// escaped exactly as jansson's `JSON_COMPACT | JSON_SORT_KEYS` dump escapes them, so the text equals
/// `JSONValue.canonicalText()` of the same value (the audit chain's verifier checks that).
///
/// It exists because an audit record is built for every call: building it through jansson (a tree of
/// allocated nodes, then a sorted dump) cost several times more than writing the bytes.
public struct CanonicalObject: Sendable {
  /// Members with their values already encoded; kept in key order.
  private var members: [(key: String, value: [UInt8])] = []

  public init() {}

  public var isEmpty: Bool { members.isEmpty }

  public mutating func set(_ key: String, _ value: String) { set(key, encoded: Self.encode(value)) }

  public mutating func set(_ key: String, _ value: Int64) { set(key, encoded: Array(String(value).utf8)) }

  public mutating func set(_ key: String, _ value: Bool) { set(key, encoded: Array((value ? "true" : "false").utf8)) }

  public mutating func set(_ key: String, _ value: CanonicalObject) { set(key, encoded: value.bytes) }

  public mutating func set(_ key: String, _ values: [String]) {
    set(key, encoded: Self.array(values.map(Self.encode)))
  }

  public mutating func set(_ key: String, _ values: [CanonicalObject]) {
    set(key, encoded: Self.array(values.map(\.bytes)))
  }

  /// Sets a member whose value is already canonical JSON text.
  public mutating func set(_ key: String, encoded value: [UInt8]) {
    var low = 0
    var high = members.count
    while low < high {
      let middle = (low + high) / 2
      if members[middle].key.utf8.lexicographicallyPrecedes(key.utf8) { low = middle + 1 } else { high = middle }
    }
    if low < members.count, members[low].key.utf8.elementsEqual(key.utf8) {
      members[low].value = value
    } else {
      members.insert((key, value), at: low)
    }
  }

  /// The canonical text.
  public var bytes: [UInt8] {
    var out: [UInt8] = [0x7B]
    out.reserveCapacity(members.reduce(2) { $0 + $1.key.utf8.count + $1.value.count + 4 })
    for (index, member) in members.enumerated() {
      if index > 0 { out.append(0x2C) }
      Self.appendString(member.key, to: &out)
      out.append(0x3A)
      out += member.value
    }
    out.append(0x7D)
    return out
  }

  public var text: String { String(decoding: bytes, as: UTF8.self) }

  private static func array(_ elements: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = [0x5B]
    for (index, element) in elements.enumerated() {
      if index > 0 { out.append(0x2C) }
      out += element
    }
    out.append(0x5D)
    return out
  }

  static func encode(_ string: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(string.utf8.count + 2)
    appendString(string, to: &out)
    return out
  }

  private static let hexDigits = Array("0123456789ABCDEF".utf8)

  /// A JSON string as jansson writes it without `JSON_ENSURE_ASCII` or `JSON_ESCAPE_SLASH`: `"`, `\`
  /// and the C0 controls escaped (short forms where JSON has them, else `\u00XX`, upper-case hex),
  /// everything else, U+007F and non-ASCII included, as its UTF-8 bytes.
  static func appendString(_ string: String, to out: inout [UInt8]) {
    out.append(0x22)
    for byte in string.utf8 {
      switch byte {
      case 0x22: out += [0x5C, 0x22]
      case 0x5C: out += [0x5C, 0x5C]
      case 0x08: out += [0x5C, 0x62]
      case 0x0C: out += [0x5C, 0x66]
      case 0x0A: out += [0x5C, 0x6E]
      case 0x0D: out += [0x5C, 0x72]
      case 0x09: out += [0x5C, 0x74]
      case 0..<0x20:
        out += [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
      default: out.append(byte)
      }
    }
    out.append(0x22)
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
