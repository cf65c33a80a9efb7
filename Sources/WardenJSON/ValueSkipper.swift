#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension Cursor {
  /// Skips one complete JSON value, checking its whole grammar, in a single loop over the bytes.
  ///
  /// The hot path of pass-through: every result and params body crosses it once. One state variable
  /// replaces recursion; open containers are a bit mask for the first 64 levels and `deep` beyond.
  mutating func skipValue(deep: inout [Bool]) throws(SyntaxError) {
    enum Expect {
      case value, valueOrClose, key, keyOrClose, colon, separatorOrClose
    }
    var expect = Expect.value
    var depth = 0
    var objectBits: UInt64 = 0  // bit n set: the container at depth n+1 is an object
    deep.removeAll(keepingCapacity: true)
    var index = pos
    defer { pos = index }

    while true {
      guard index < end else { throw SyntaxError("unexpected end of input") }
      var byte = base[index]
      if byte <= 0x20 {
        // No `\r`: see `Cursor.skipWhitespace`.
        while byte == 0x20 || byte == 0x09 || byte == 0x0A {
          index += 1
          guard index < end else { throw SyntaxError("unexpected end of input") }
          byte = base[index]
        }
      }
      switch expect {
      case .value, .valueOrClose:
        switch byte {
        case UInt8(ascii: "\""):
          pos = index
          index = try skipString().end
          expect = .separatorOrClose
        case UInt8(ascii: "{"):
          Self.push(true, depth: &depth, bits: &objectBits, deep: &deep)
          index += 1
          expect = .keyOrClose
        case UInt8(ascii: "["):
          Self.push(false, depth: &depth, bits: &objectBits, deep: &deep)
          index += 1
          expect = .valueOrClose
        case UInt8(ascii: "]") where expect == .valueOrClose:
          index += 1
          if depth > 64 { deep.removeLast() }
          depth -= 1
          expect = .separatorOrClose
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
          pos = index
          try skipNumber()
          index = pos
          expect = .separatorOrClose
        case UInt8(ascii: "t"):
          pos = index
          try expectLiteral("true")
          index = pos
          expect = .separatorOrClose
        case UInt8(ascii: "f"):
          pos = index
          try expectLiteral("false")
          index = pos
          expect = .separatorOrClose
        case UInt8(ascii: "n"):
          pos = index
          try expectLiteral("null")
          index = pos
          expect = .separatorOrClose
        default:
          throw SyntaxError(Self.describeUnexpected(byte, at: index))
        }
      case .key, .keyOrClose:
        if byte == UInt8(ascii: "\"") {
          pos = index
          let (keyEnd, keyEscaped) = try skipString()
          if keyEscaped || Self.mayBeReserved(base, from: index + 1, to: keyEnd - 1) { sawReservedKey = true }
          index = keyEnd
          expect = .colon
        } else if byte == UInt8(ascii: "}") && expect == .keyOrClose {
          index += 1
          if depth > 64 { deep.removeLast() }
          depth -= 1
          expect = .separatorOrClose
        } else {
          throw SyntaxError("expected a string key at offset \(index)")
        }
      case .colon:
        guard byte == UInt8(ascii: ":") else { throw SyntaxError(Self.describeUnexpected(byte, at: index)) }
        index += 1
        expect = .value
      case .separatorOrClose:
        guard depth > 0 else { return }
        let isObject = depth <= 64 ? objectBits & (1 << UInt64(depth - 1)) != 0 : deep[depth - 65]
        if byte == UInt8(ascii: ",") {
          index += 1
          expect = isObject ? .key : .value
        } else if byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
          index += 1
          if depth > 64 { deep.removeLast() }
          depth -= 1
        } else {
          throw SyntaxError(Self.describeUnexpected(byte, at: index))
        }
      }
      // A complete value at the top level ends the skip without looking at the next byte.
      if depth == 0 && expect == .separatorOrClose { return }
    }
  }

  /// Whether the key in `base[from..<to]` (raw, unescaped) is one of warden's own: a key in
  /// warden's namespace (`dev.warden/...`) or a `requestState` (which may carry warden's prefix). A
  /// message from the server with one is read in full and cleaned (see `ServerNamespace`); the check
  /// costs one byte comparison on most keys.
  @inline(__always)
  static func mayBeReserved(_ base: UnsafePointer<UInt8>, from: Int, to: Int) -> Bool {
    let count = to - from
    guard count >= 11 else { return false }
    switch base[from] {
    case UInt8(ascii: "d"): return memcmp(base + from, Self.reservedPrefix.utf8Start, 11) == 0
    case UInt8(ascii: "r"): return count == 12 && memcmp(base + from, Self.requestStateKey.utf8Start, 12) == 0
    default: return false
    }
  }

  private static let reservedPrefix: StaticString = "dev.warden/"
  private static let requestStateKey: StaticString = "requestState"

  @inline(__always)
  private static func push(_ isObject: Bool, depth: inout Int, bits: inout UInt64, deep: inout [Bool]) {
    if depth < 64 {
      let bit: UInt64 = 1 << UInt64(depth)
      bits = isObject ? bits | bit : bits & ~bit
    } else {
      deep.append(isObject)
    }
    depth += 1
  }
}
