/// Finds what would let two JSON readers take the same bytes for different values: a key given twice
/// in any object, a number that is neither an integer fitting 64 bits nor a finite double, and a
/// `\u` escape naming a lone surrogate. Python keeps the last duplicate and jansson refuses it;
/// `1e999` is infinity to one reader and an error to another; a 20-digit integer is exact in Python
/// and rounded in JavaScript; a lone surrogate is kept, replaced or refused. Warden decides on a
/// call's arguments and shows them to a human, so it refuses such a call instead of guessing.
///
/// Walks the bytes once without building a tree; keys are compared as the bytes they decode to,
/// never by Unicode equivalence.
public enum AmbiguityCheck {
  /// The first ambiguity in `bytes` (one JSON value), described in one line; nil when the value
  /// means the same to every reader. Bytes that are not valid JSON are reported too, unless the
  /// caller says they were `alreadyValidated` (a value inside a line the scanner accepted), which
  /// saves a pass over a large argument.
  public static func firstAmbiguity(in bytes: UnsafeRawBufferPointer, alreadyValidated: Bool = false)
    -> String?
  {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return "empty value" }
    // The grammar first, so the walk below can trust the structure (brackets balance, tokens are
    // where they belong).
    if !alreadyValidated {
      var checker = Cursor(base: base.assumingMemoryBound(to: UInt8.self), end: bytes.count)
      var deep: [Bool] = []
      do throws(SyntaxError) {
        checker.skipWhitespace()
        try checker.skipValue(deep: &deep)
        try checker.expectEnd()
      } catch {
        return error.detail
      }
    }
    var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), end: bytes.count)
    // One frame per open container: for objects, the keys seen so far and whether a key comes next.
    var frames: [Frame] = []
    do throws(SyntaxError) {
      while true {
        cursor.skipWhitespace()
        guard let byte = cursor.peek() else { break }
        switch byte {
        case UInt8(ascii: "{"):
          frames.append(Frame(isObject: true))
          cursor.pos += 1
        case UInt8(ascii: "["):
          frames.append(Frame(isObject: false))
          cursor.pos += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
          frames.removeLast()
          cursor.pos += 1
        case UInt8(ascii: ","):
          if let last = frames.indices.last, frames[last].isObject { frames[last].expectsKey = true }
          cursor.pos += 1
        case UInt8(ascii: ":"):
          cursor.pos += 1
        case UInt8(ascii: "\""):
          let start = cursor.pos + 1
          let (end, escaped) = try cursor.skipString()
          let range = start..<(end - 1)
          if escaped, let problem = loneSurrogate(cursor.base, range) { return problem }
          if let last = frames.indices.last, frames[last].isObject, frames[last].expectsKey {
            frames[last].expectsKey = false
            let key: [UInt8] =
              escaped
              ? Array(try Cursor.decode(cursor.base, range).utf8)
              : Array(UnsafeBufferPointer(start: cursor.base + range.lowerBound, count: range.count))
            // A NUL ends a key for readers that keep keys as C strings: `"a\u0000"` is `"a"`.
            if key.contains(0) {
              return "a key holds a NUL character, which some readers cut the key at"
            }
            if !frames[last].keys.insert(key).inserted {
              return
                "the key \"\(String(decoding: key, as: UTF8.self))\" appears more than once in one object"
            }
          }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
          let start = cursor.pos
          try cursor.skipNumber()
          if let problem = numberProblem(cursor.text(start..<cursor.pos)) { return problem }
        case UInt8(ascii: "t"): try cursor.expectLiteral("true")
        case UInt8(ascii: "f"): try cursor.expectLiteral("false")
        case UInt8(ascii: "n"): try cursor.expectLiteral("null")
        default:
          throw SyntaxError(Cursor.describeUnexpected(byte, at: cursor.pos))
        }
      }
    } catch {
      return error.detail
    }
    return nil
  }

  private struct Frame {
    let isObject: Bool
    var expectsKey: Bool
    var keys: Set<[UInt8]> = []

    init(isObject: Bool) {
      self.isObject = isObject
      expectsKey = isObject
    }
  }

  /// Integers must fit a signed 64-bit integer; other numbers must be finite doubles.
  static func numberProblem(_ literal: String) -> String? {
    let isInteger = !literal.utf8.contains {
      $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
    }
    if isInteger {
      return Int64(literal) == nil ? "the integer \(shortened(literal)) does not fit in 64 bits" : nil
    }
    guard let value = Double(literal), value.isFinite else {
      return "the number \(shortened(literal)) is not a finite double"
    }
    return nil
  }

  private static func shortened(_ literal: String) -> String {
    literal.utf8.count <= 40 ? literal : String(literal.prefix(40)) + "…"
  }

  /// A `\uD800`–`\uDFFF` escape that is not half of a high-low pair.
  static func loneSurrogate(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> String? {
    var index = range.lowerBound
    var pendingHigh = false
    while index < range.upperBound {
      guard base[index] == UInt8(ascii: "\\") else {
        if pendingHigh { return "a string holds a lone surrogate escape" }
        index += 1
        continue
      }
      let code = base[index + 1]
      guard code == UInt8(ascii: "u") else {
        if pendingHigh { return "a string holds a lone surrogate escape" }
        index += 2
        continue
      }
      let value = (2..<6).reduce(UInt32(0)) { $0 << 4 | (Cursor.hexValue(base[index + $1]) ?? 0) }
      index += 6
      switch value {
      case 0xD800..<0xDC00:
        if pendingHigh { return "a string holds a lone surrogate escape" }
        pendingHigh = true
      case 0xDC00..<0xE000:
        if !pendingHigh { return "a string holds a lone surrogate escape" }
        pendingHigh = false
      default:
        if pendingHigh { return "a string holds a lone surrogate escape" }
      }
    }
    return pendingHigh ? "a string holds a lone surrogate escape" : nil
  }
}
