/// The statements of a TOML document with their byte ranges: table headers and key/value pairs,
/// each with the table it is in. Only as much of TOML's grammar as finding them needs: strings of
/// the four kinds (so that a `[` or `=` inside a multi-line string is not taken for structure),
/// comments, and the nesting of arrays and inline tables. The document's validity is TOMLKit's to
/// judge; an edit is checked afterwards by reading the result with TOMLKit again.
struct TOMLStatements {
  struct KeyValue: Equatable {
    /// The header's keys of the table it is in (`[]` at the top).
    var table: [String]
    /// Whether that table is an element of an array of tables (`[[...]]`).
    var inArrayTable: Bool
    /// The key, dotted keys split.
    var key: [String]
    /// From the first byte of the key to the end of the line, newline included.
    var line: Range<Int>
    /// The leading whitespace of the line.
    var indent: Range<Int>
    var value: Range<Int>
  }

  struct Header: Equatable {
    var keys: [String]
    var isArray: Bool
    var range: Range<Int>
  }

  var keyValues: [KeyValue] = []
  var headers: [Header] = []

  static func scan(_ bytes: [UInt8], file: String) throws(WrapError) -> TOMLStatements {
    var scanner = TOMLScanner(bytes: bytes, file: file)
    var result = TOMLStatements()
    var table: [String] = []
    var inArray = false
    while true {
      let lineStart = scanner.pos
      scanner.skipBlank()
      let indent = lineStart..<scanner.pos
      guard let byte = scanner.peek else { break }
      switch byte {
      case 0x0A:
        scanner.pos += 1
      case 0x0D:
        scanner.pos += 1
      case UInt8(ascii: "#"):
        scanner.skipComment()
      case UInt8(ascii: "["):
        let start = scanner.pos
        let isArray = scanner.byte(at: scanner.pos + 1) == UInt8(ascii: "[")
        scanner.pos += isArray ? 2 : 1
        scanner.skipBlank()
        let keys = try scanner.key()
        scanner.skipBlank()
        guard scanner.peek == UInt8(ascii: "]") else {
          throw scanner.error("expected ']' after a table name")
        }
        scanner.pos += 1
        if isArray {
          guard scanner.peek == UInt8(ascii: "]") else { throw scanner.error("expected ']]'") }
          scanner.pos += 1
        }
        result.headers.append(Header(keys: keys, isArray: isArray, range: start..<scanner.pos))
        table = keys
        inArray = isArray
        try scanner.endOfLine()
      default:
        let start = scanner.pos
        let key = try scanner.key()
        scanner.skipBlank()
        guard scanner.peek == UInt8(ascii: "=") else { throw scanner.error("expected '=' after a key") }
        scanner.pos += 1
        scanner.skipBlank()
        let valueStart = scanner.pos
        try scanner.skipValue(depth: 0)
        let value = valueStart..<scanner.pos
        try scanner.endOfLine()
        result.keyValues.append(
          KeyValue(
            table: table, inArrayTable: inArray, key: key, line: start..<scanner.pos, indent: indent,
            value: value))
      }
    }
    return result
  }

  /// The elements of the array at `range` (strings only), with their ranges and decoded values.
  static func stringElements(_ bytes: [UInt8], range: Range<Int>, file: String) throws(WrapError) -> [(
    text: String, range: Range<Int>
  )] {
    var scanner = TOMLScanner(bytes: bytes, file: file)
    scanner.pos = range.lowerBound + 1
    var elements: [(String, Range<Int>)] = []
    while true {
      scanner.skipSpaceAndComments()
      guard let byte = scanner.peek, scanner.pos < range.upperBound else {
        throw scanner.error("unterminated array")
      }
      if byte == UInt8(ascii: "]") { return elements }
      let start = scanner.pos
      guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") else {
        throw scanner.error("expected a string in the array")
      }
      let text = try scanner.string()
      elements.append((text, start..<scanner.pos))
      scanner.skipSpaceAndComments()
      if scanner.peek == UInt8(ascii: ",") { scanner.pos += 1 }
    }
  }
}

struct TOMLScanner {
  let bytes: [UInt8]
  let file: String
  var pos = 0

  init(bytes: [UInt8], file: String) {
    self.bytes = bytes
    self.file = file
  }

  var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }
  func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

  func error(_ message: String) -> WrapError {
    WrapError(.malformed, "\(file):\(WrapError.line(of: pos, in: bytes)): not valid TOML: \(message)")
  }

  mutating func skipBlank() {
    while let byte = peek, byte == 0x20 || byte == 0x09 { pos += 1 }
  }

  mutating func skipComment() {
    while let byte = peek, byte != 0x0A { pos += 1 }
  }

  mutating func skipSpaceAndComments() {
    while let byte = peek {
      switch byte {
      case 0x20, 0x09, 0x0A, 0x0D: pos += 1
      case UInt8(ascii: "#"): skipComment()
      default: return
      }
    }
  }

  /// Blank, an optional comment, then a newline (included) or the end of the file.
  mutating func endOfLine() throws(WrapError) {
    skipBlank()
    if peek == UInt8(ascii: "#") { skipComment() }
    if peek == 0x0D { pos += 1 }
    guard let byte = peek else { return }
    guard byte == 0x0A else { throw error("expected the end of the line") }
    pos += 1
  }

  /// A key, dotted parts split: bare (`A-Za-z0-9_-`), "basic" or 'literal'.
  mutating func key() throws(WrapError) -> [String] {
    var parts: [String] = []
    while true {
      skipBlank()
      guard let first = peek else { throw error("expected a key") }
      if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
        guard self.byte(at: pos + 1) != first || self.byte(at: pos + 2) != first else {
          throw error("a key cannot be a multi-line string")
        }
        parts.append(try string())
      } else {
        let start = pos
        while let byte = peek, Self.isBare(byte) { pos += 1 }
        guard pos > start else { throw error("expected a key") }
        parts.append(String(decoding: bytes[start..<pos], as: UTF8.self))
      }
      skipBlank()
      guard peek == UInt8(ascii: ".") else { return parts }
      pos += 1
    }
  }

  static func isBare(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
      true
    default: false
    }
  }

  /// Skips one value: a string, an array, an inline table or a scalar (up to what ends it).
  mutating func skipValue(depth: Int) throws(WrapError) {
    guard depth < 256 else { throw error("nested too deeply") }
    guard let byte = peek else { throw error("expected a value") }
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "'"):
      _ = try string()
    case UInt8(ascii: "["):
      pos += 1
      while true {
        skipSpaceAndComments()
        guard let next = peek else { throw error("unterminated array") }
        if next == UInt8(ascii: "]") {
          pos += 1
          return
        }
        if next == UInt8(ascii: ",") {
          pos += 1
          continue
        }
        try skipValue(depth: depth + 1)
      }
    case UInt8(ascii: "{"):
      pos += 1
      while true {
        skipSpaceAndComments()
        guard let next = peek else { throw error("unterminated inline table") }
        if next == UInt8(ascii: "}") {
          pos += 1
          return
        }
        if next == UInt8(ascii: ",") {
          pos += 1
          continue
        }
        _ = try key()
        skipBlank()
        guard peek == UInt8(ascii: "=") else { throw error("expected '=' in an inline table") }
        pos += 1
        skipSpaceAndComments()
        try skipValue(depth: depth + 1)
      }
    default:
      // A number, boolean or date: up to what ends a value (a date may hold one space).
      let start = pos
      while let next = peek {
        if next == 0x20, pos > start, Self.isDatePart(bytes[start..<pos]), let after = self.byte(at: pos + 1),
          (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(after)
        {
          pos += 1
          continue
        }
        if [
          0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#"),
        ]
        .contains(next) {
          break
        }
        pos += 1
      }
      guard pos > start else { throw error("expected a value") }
    }
  }

  static func isDatePart(_ text: ArraySlice<UInt8>) -> Bool {
    text.count == 10 && text[text.startIndex + 4] == UInt8(ascii: "-")
      && text[text.startIndex + 7] == UInt8(ascii: "-")
  }

  /// A string of any of the four kinds at `pos`, decoded; `pos` ends after it.
  mutating func string() throws(WrapError) -> String {
    guard let quote = peek else { throw error("expected a string") }
    let multiLine = self.byte(at: pos + 1) == quote && self.byte(at: pos + 2) == quote
    let literal = quote == UInt8(ascii: "'")
    pos += multiLine ? 3 : 1
    if multiLine {
      // A newline right after the opening delimiter is not part of the string.
      if peek == 0x0D && self.byte(at: pos + 1) == 0x0A { pos += 2 } else if peek == 0x0A { pos += 1 }
    }
    var out: [UInt8] = []
    while true {
      guard let byte = peek else { throw error("unterminated string") }
      if byte == quote {
        if !multiLine {
          pos += 1
          break
        }
        if self.byte(at: pos + 1) == quote && self.byte(at: pos + 2) == quote {
          // Up to two more quotes belong to the string: `""""` ends after one quote of content.
          var extra = 0
          while extra < 2 && self.byte(at: pos + 3) == quote {
            out.append(quote)
            pos += 1
            extra += 1
          }
          pos += 3
          break
        }
        out.append(byte)
        pos += 1
        continue
      }
      if byte == 0x0A && !multiLine { throw error("a newline in a single-line string") }
      if byte == UInt8(ascii: "\\") && !literal {
        pos += 1
        guard let escape = peek else { throw error("unterminated string") }
        pos += 1
        switch escape {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "e"): out.append(0x1B)
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
          let count = escape == UInt8(ascii: "u") ? 4 : 8
          guard pos + count <= bytes.count,
            let code = UInt32(String(decoding: bytes[pos..<(pos + count)], as: UTF8.self), radix: 16),
            let scalar = Unicode.Scalar(code)
          else { throw error("an invalid unicode escape") }
          pos += count
          out.append(contentsOf: Array(String(Character(scalar)).utf8))
        case 0x20, 0x09, 0x0A, 0x0D:
          // A line-ending backslash trims the newline and the whitespace after it.
          guard multiLine else { throw error("an invalid escape in a string") }
          pos -= 1
          var probe = pos
          while let next = self.byte(at: probe), next == 0x20 || next == 0x09 { probe += 1 }
          guard self.byte(at: probe) == 0x0A || self.byte(at: probe) == 0x0D else {
            throw error("an invalid escape in a string")
          }
          pos = probe
          while let next = peek, [0x20, 0x09, 0x0A, 0x0D].contains(next) { pos += 1 }
        default:
          throw error("an invalid escape in a string")
        }
        continue
      }
      out.append(byte)
      pos += 1
    }
    guard let text = String(validating: out, as: UTF8.self) else {
      throw error("a string is not valid UTF-8")
    }
    return text
  }
}
