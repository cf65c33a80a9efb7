/// A position in a line of bytes, with the lexical steps of JSON.
struct Cursor {
  let base: UnsafePointer<UInt8>
  let end: Int
  var pos = 0
  /// Set when an object key seen may be one of warden's own (see `Cursor.mayBeReserved`).
  var sawReservedKey = false

  init(base: UnsafePointer<UInt8>, end: Int) {
    self.base = base
    self.end = end
  }

  @inline(__always) func peek() -> UInt8? { pos < end ? base[pos] : nil }

  @inline(__always) mutating func next() -> UInt8? {
    guard pos < end else { return nil }
    defer { pos += 1 }
    return base[pos]
  }

  /// Skips JSON whitespace except the carriage return: on a line, `\r` is a line break to many
  /// readers (universal newlines), so the scanner refuses it instead of reading past it.
  @inline(__always) mutating func skipWhitespace() {
    if pos < end && base[pos] > 0x20 { return }
    while pos < end {
      switch base[pos] {
      case 0x20, 0x09, 0x0A: pos += 1
      default: return
      }
    }
  }

  @inline(__always)
  mutating func expect(_ byte: UInt8) throws(SyntaxError) {
    guard pos < end else { throw SyntaxError("unexpected end of input") }
    guard base[pos] == byte else { throw SyntaxError(Self.describeUnexpected(base[pos], at: pos)) }
    pos += 1
  }

  /// Only whitespace may follow the message.
  mutating func expectEnd() throws(SyntaxError) {
    skipWhitespace()
    if pos < end { throw SyntaxError("unexpected data after the message at offset \(pos)") }
  }

  @inline(__always)
  mutating func expectLiteral(_ literal: StaticString) throws(SyntaxError) {
    let count = literal.utf8CodeUnitCount
    guard end - pos >= count, bytes(pos..<(pos + count), equal: literal) else {
      throw SyntaxError("invalid literal at offset \(pos)")
    }
    pos += count
  }

  /// Whether the bytes in `range` are exactly `literal`.
  @inline(__always) func bytes(_ range: Range<Int>, equal literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let expected = literal.utf8Start
    for offset in 0..<range.count where base[range.lowerBound + offset] != expected[offset] { return false }
    return true
  }

  /// The bytes in `range` as a String; the caller has already validated them as UTF-8.
  func text(_ range: Range<Int>) -> String {
    String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
  }

  static func describeUnexpected(_ byte: UInt8, at offset: Int) -> String {
    if byte >= 0x80 { return "unexpected non-ascii byte at offset \(offset)" }
    if byte < 0x20 { return "unexpected control byte 0x\(String(byte, radix: 16)) at offset \(offset)" }
    return "unexpected '\(Character(Unicode.Scalar(byte)))' at offset \(offset)"
  }

  // MARK: - Numbers

  /// Skips a number in JSON's grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
  mutating func skipNumber() throws(SyntaxError) {
    let start = pos
    if peek() == UInt8(ascii: "-") { pos += 1 }
    guard let lead = peek(), isDigit(lead) else { throw SyntaxError("invalid number at offset \(start)") }
    pos += 1
    if lead != UInt8(ascii: "0") { skipDigits() }
    if peek() == UInt8(ascii: ".") {
      pos += 1
      guard let digit = peek(), isDigit(digit) else { throw SyntaxError("invalid number at offset \(start)") }
      skipDigits()
    }
    if let marker = peek(), marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
      pos += 1
      if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { pos += 1 }
      guard let digit = peek(), isDigit(digit) else { throw SyntaxError("invalid number at offset \(start)") }
      skipDigits()
    }
  }

  @inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
    byte &- UInt8(ascii: "0") < 10
  }

  @inline(__always) private mutating func skipDigits() {
    while pos < end, isDigit(base[pos]) { pos += 1 }
  }

  // MARK: - Strings

  /// Skips a string starting at its opening quote; returns the offset after the closing quote and
  /// whether it holds escapes. Checks escapes, control bytes and UTF-8 on the way.
  @inline(__always)
  mutating func skipString() throws(SyntaxError) -> (end: Int, escaped: Bool) {
    let start = pos
    var index = pos + 1
    var escaped = false
    while true {
      // Eight bytes at a time while none is a quote, a backslash, a control byte or non-ASCII; then
      // straight to the first byte that is.
      while index + 8 <= end {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
        let flags = Self.attentionFlags(word)
        if flags != 0 {
          index += flags.trailingZeroBitCount >> 3
          break
        }
        index += 8
      }
      guard index < end else { throw SyntaxError("unterminated string starting at offset \(start)") }
      let byte = base[index]
      if byte == UInt8(ascii: "\"") {
        pos = index + 1
        return (pos, escaped)
      } else if byte == UInt8(ascii: "\\") {
        escaped = true
        index = try skipEscape(at: index)
      } else if byte < 0x20 {
        throw SyntaxError("unescaped control byte in string at offset \(index)")
      } else if byte < 0x80 {
        index += 1
      } else {
        index = try skipMultibyteScalar(at: index)
      }
    }
  }

  /// A word with the high bit set in every byte that is a quote, a backslash, a control byte or
  /// non-ASCII (little-endian). A borrow can only flag bytes above one that is truly flagged, so the
  /// lowest flag is always exact.
  @inline(__always) static func attentionFlags(_ word: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let quote = word ^ (ones &* 0x22)
    let backslash = word ^ (ones &* 0x5C)
    let zeroQuote = (quote &- ones) & ~quote
    let zeroBackslash = (backslash &- ones) & ~backslash
    let control = (word &- (ones &* 0x20)) & ~word
    return (zeroQuote | zeroBackslash | control | word) & highs
  }

  private func skipEscape(at index: Int) throws(SyntaxError) -> Int {
    guard index + 1 < end else { throw SyntaxError("unterminated escape at offset \(index)") }
    switch base[index + 1] {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
      UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      return index + 2
    case UInt8(ascii: "u"):
      guard index + 6 <= end else { throw SyntaxError("truncated \\u escape at offset \(index)") }
      for offset in 2..<6 where Self.hexValue(base[index + offset]) == nil {
        throw SyntaxError("invalid \\u escape at offset \(index)")
      }
      return index + 6
    default:
      throw SyntaxError("invalid escape at offset \(index)")
    }
  }

  /// Validates one UTF-8 sequence of two to four bytes (no overlongs, no surrogates, at most U+10FFFF).
  private func skipMultibyteScalar(at index: Int) throws(SyntaxError) -> Int {
    let lead = base[index]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; high = 0x9F
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; high = 0x8F
    default: throw SyntaxError("invalid utf-8 at offset \(index)")
    }
    guard index + length <= end else { throw SyntaxError("invalid utf-8 at offset \(index)") }
    let second = base[index + 1]
    guard second >= low, second <= high else { throw SyntaxError("invalid utf-8 at offset \(index)") }
    for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
      throw SyntaxError("invalid utf-8 at offset \(index)")
    }
    return index + length
  }

  static func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
  }

  /// Decodes the escaped contents of an already validated string. A lone surrogate escape becomes
  /// U+FFFD, since a Swift String cannot hold it.
  static func decode(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) throws(SyntaxError) -> String {
    var scalars = String.UnicodeScalarView()
    var bytes: [UInt8] = []
    var index = range.lowerBound
    func flushBytes() {
      if !bytes.isEmpty {
        scalars.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
        bytes.removeAll(keepingCapacity: true)
      }
    }
    func hex4(_ at: Int) -> UInt32 {
      (0..<4).reduce(UInt32(0)) { $0 << 4 | (hexValue(base[at + $1]) ?? 0) }
    }
    while index < range.upperBound {
      let byte = base[index]
      guard byte == UInt8(ascii: "\\") else {
        bytes.append(byte)
        index += 1
        continue
      }
      flushBytes()
      let code = base[index + 1]
      index += 2
      switch code {
      case UInt8(ascii: "b"): scalars.append("\u{08}")
      case UInt8(ascii: "f"): scalars.append("\u{0C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var value = hex4(index)
        index += 4
        if (0xD800..<0xDC00).contains(value), index + 6 <= range.upperBound,
          base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u")
        {
          let trail = hex4(index + 2)
          if (0xDC00..<0xE000).contains(trail) {
            value = 0x10000 + ((value - 0xD800) << 10) + (trail - 0xDC00)
            index += 6
          }
        }
        scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
      default: scalars.append(Unicode.Scalar(code))
      }
    }
    flushBytes()
    return String(scalars)
  }
}
