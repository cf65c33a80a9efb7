/// A JSON (or JSONC) document read as values with the byte ranges they occupy, so that an edit can
/// replace one value and keep every other byte: key order, indentation, comments.
///
/// Strict by default: no comments, no trailing commas, no key given twice in an object (readers
/// disagree on which wins), strings valid UTF-8 without raw control characters. Nesting deeper
/// than `maximumDepth` is refused rather than recursed into.
struct JSONSpan: Equatable {
  indirect enum Value: Equatable {
    case object([Member])
    case array([JSONSpan])
    case string(String)
    /// A number, `true`, `false` or `null`, as its text.
    case literal(String)
  }

  struct Member: Equatable {
    var key: String
    var keyRange: Range<Int>
    var value: JSONSpan
  }

  var range: Range<Int>
  var value: Value

  var members: [Member]? {
    if case .object(let members) = value { return members }
    return nil
  }

  var elements: [JSONSpan]? {
    if case .array(let elements) = value { return elements }
    return nil
  }

  var string: String? {
    if case .string(let text) = value { return text }
    return nil
  }

  func member(_ key: String) -> Member? { members?.first { $0.key == key } }

  /// The value as plain data, without positions: what two documents are compared by.
  var plain: Plain {
    switch value {
    case .object(let members): .object(members.map { ($0.key, $0.value.plain) }.map(Plain.Pair.init))
    case .array(let elements): .array(elements.map(\.plain))
    case .string(let text): .string(text)
    case .literal(let text): .literal(text)
    }
  }

  static let maximumDepth = 256

  /// Reads `bytes` as one JSON document (with comments and trailing commas when `comments`).
  static func parse(_ bytes: [UInt8], comments: Bool, file: String) throws(WrapError) -> JSONSpan {
    var reader = Reader(bytes: bytes, comments: comments, file: file)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.pos = 3 }
    try reader.skipSpace()
    let value = try reader.value(depth: 0)
    try reader.skipSpace()
    guard reader.pos == bytes.count else { throw reader.error("unexpected text after the document") }
    return value
  }
}

/// Plain data of a JSON or TOML document, for comparing what an edit changed.
indirect enum Plain: Equatable {
  struct Pair: Equatable {
    var key: String
    var value: Plain
    init(_ pair: (String, Plain)) {
      key = pair.0
      value = pair.1
    }
  }
  case object([Pair])
  case array([Plain])
  case string(String)
  case literal(String)
}

private struct Reader {
  let bytes: [UInt8]
  let comments: Bool
  let file: String
  var pos = 0

  init(bytes: [UInt8], comments: Bool, file: String) {
    self.bytes = bytes
    self.comments = comments
    self.file = file
  }

  func error(_ message: String, at offset: Int? = nil) -> WrapError {
    let line = WrapError.line(of: offset ?? pos, in: bytes)
    return WrapError(.malformed, "\(file):\(line): not valid JSON: \(message)")
  }

  var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

  mutating func skipSpace() throws(WrapError) {
    while pos < bytes.count {
      switch bytes[pos] {
      case 0x20, 0x09, 0x0A, 0x0D: pos += 1
      case UInt8(ascii: "/") where pos + 1 < bytes.count && comments:
        if bytes[pos + 1] == UInt8(ascii: "/") {
          while pos < bytes.count && bytes[pos] != 0x0A { pos += 1 }
        } else if bytes[pos + 1] == UInt8(ascii: "*") {
          let start = pos
          pos += 2
          while pos + 1 < bytes.count
            && !(bytes[pos] == UInt8(ascii: "*") && bytes[pos + 1] == UInt8(ascii: "/"))
          {
            pos += 1
          }
          guard pos + 1 < bytes.count else { throw error("unterminated comment", at: start) }
          pos += 2
        } else {
          throw error("unexpected '/'")
        }
      case UInt8(ascii: "/"):
        throw error("comments are not JSON (this agent reads strict JSON)")
      default: return
      }
    }
  }

  mutating func value(depth: Int) throws(WrapError) -> JSONSpan {
    guard depth < JSONSpan.maximumDepth else {
      throw error("nested deeper than \(JSONSpan.maximumDepth) levels")
    }
    guard let byte = peek else { throw error("unexpected end of file") }
    let start = pos
    switch byte {
    case UInt8(ascii: "{"):
      pos += 1
      var members: [JSONSpan.Member] = []
      var seen = Set<String>()
      try skipSpace()
      if peek == UInt8(ascii: "}") {
        pos += 1
        return JSONSpan(range: start..<pos, value: .object(members))
      }
      while true {
        try skipSpace()
        if comments, peek == UInt8(ascii: "}"), !members.isEmpty {
          pos += 1
          break
        }
        guard peek == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
        let keyStart = pos
        let key = try string()
        guard seen.insert(key).inserted else {
          throw error("the key \"\(HumanKey.shown(key))\" appears twice in one object", at: keyStart)
        }
        let keyRange = keyStart..<pos
        try skipSpace()
        guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
        pos += 1
        try skipSpace()
        let member = try value(depth: depth + 1)
        members.append(JSONSpan.Member(key: key, keyRange: keyRange, value: member))
        try skipSpace()
        guard let next = peek else { throw error("unterminated object", at: start) }
        pos += 1
        if next == UInt8(ascii: "}") { break }
        guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}'", at: pos - 1) }
      }
      return JSONSpan(range: start..<pos, value: .object(members))
    case UInt8(ascii: "["):
      pos += 1
      var elements: [JSONSpan] = []
      try skipSpace()
      if peek == UInt8(ascii: "]") {
        pos += 1
        return JSONSpan(range: start..<pos, value: .array(elements))
      }
      while true {
        try skipSpace()
        if comments, peek == UInt8(ascii: "]"), !elements.isEmpty {
          pos += 1
          break
        }
        elements.append(try value(depth: depth + 1))
        try skipSpace()
        guard let next = peek else { throw error("unterminated array", at: start) }
        pos += 1
        if next == UInt8(ascii: "]") { break }
        guard next == UInt8(ascii: ",") else { throw error("expected ',' or ']'", at: pos - 1) }
      }
      return JSONSpan(range: start..<pos, value: .array(elements))
    case UInt8(ascii: "\""):
      let text = try string()
      return JSONSpan(range: start..<pos, value: .string(text))
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      for word in ["true", "false", "null"] where bytes[pos...].starts(with: word.utf8) {
        pos += word.utf8.count
        return JSONSpan(range: start..<pos, value: .literal(word))
      }
      throw error("unexpected text")
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      try number()
      return JSONSpan(
        range: start..<pos, value: .literal(String(decoding: bytes[start..<pos], as: UTF8.self)))
    default:
      throw error("unexpected character")
    }
  }

  mutating func number() throws(WrapError) {
    func digits(_ reader: inout Reader) -> Int {
      let start = reader.pos
      while let byte = reader.peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { reader.pos += 1 }
      return reader.pos - start
    }
    if peek == UInt8(ascii: "-") { pos += 1 }
    if peek == UInt8(ascii: "0") {
      pos += 1
    } else {
      guard digits(&self) > 0 else { throw error("invalid number") }
    }
    if peek == UInt8(ascii: ".") {
      pos += 1
      guard digits(&self) > 0 else { throw error("invalid number") }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      pos += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
      guard digits(&self) > 0 else { throw error("invalid number") }
    }
  }

  /// A string literal at `pos`, decoded; `pos` ends after its closing quote.
  mutating func string() throws(WrapError) -> String {
    let start = pos
    pos += 1
    var scalars = String.UnicodeScalarView()
    var runStart = pos
    func flush(_ reader: Reader, upTo end: Int, into scalars: inout String.UnicodeScalarView)
      throws(WrapError)
    {
      guard runStart < end else { return }
      guard let text = String(validating: reader.bytes[runStart..<end], as: UTF8.self) else {
        throw reader.error("a string is not valid UTF-8", at: runStart)
      }
      scalars.append(contentsOf: text.unicodeScalars)
    }
    while true {
      guard let byte = peek else { throw error("unterminated string", at: start) }
      if byte == UInt8(ascii: "\"") {
        try flush(self, upTo: pos, into: &scalars)
        pos += 1
        return String(scalars)
      }
      if byte < 0x20 { throw error("a control character in a string") }
      if byte != UInt8(ascii: "\\") {
        pos += 1
        continue
      }
      try flush(self, upTo: pos, into: &scalars)
      pos += 1
      guard let escape = peek else { throw error("unterminated string", at: start) }
      pos += 1
      switch escape {
      case UInt8(ascii: "\""): scalars.append("\"")
      case UInt8(ascii: "\\"): scalars.append("\\")
      case UInt8(ascii: "/"): scalars.append("/")
      case UInt8(ascii: "b"): scalars.append("\u{08}")
      case UInt8(ascii: "f"): scalars.append("\u{0C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
          guard bytes[pos...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
            throw error("a lone surrogate in a string")
          }
          pos += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate in a string") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("a lone surrogate in a string") }
        scalars.append(scalar)
      default:
        throw error("an invalid escape in a string")
      }
      runStart = pos
    }
  }

  mutating func hex4() throws(WrapError) -> UInt32 {
    guard pos + 4 <= bytes.count else { throw error("an invalid \\u escape") }
    var value: UInt32 = 0
    for byte in bytes[pos..<(pos + 4)] {
      guard let digit = UInt32(String(UnicodeScalar(byte)), radix: 16) else {
        throw error("an invalid \\u escape")
      }
      value = value * 16 + digit
    }
    pos += 4
    return value
  }
}

/// Names from a configuration file shown in messages: control characters escaped, long names cut.
enum HumanKey {
  static func shown(_ key: String) -> String {
    var out = ""
    for scalar in key.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
        || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
      {
        out += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(scalar)
      }
      if out.count > 80 { return out + "…" }
    }
    return out
  }
}
