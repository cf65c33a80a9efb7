#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Validates one line as a JSON-RPC 2.0 message and reads its envelope, without building a tree.
///
/// This is the hot path of the relay: every line in both directions passes through `scan`. It checks
/// the whole line (JSON grammar and UTF-8), but only decodes the few envelope members warden needs
/// (`jsonrpc`, `id`, `method`) and records where `params`, `result` and `error` lie, so that large
/// bodies cost one pass over their bytes and no allocation. A scanner is reused for every line of one
/// direction; it is not shared between threads.
public struct MessageScanner: Sendable {
  /// Open containers beyond the first 64 levels while skipping a nested value (true for an object);
  /// the first 64 live in a bit mask, so ordinary messages touch no array.
  private var deepContainers: [Bool] = []

  public init() {}

  /// The outcome of scanning one line.
  public enum Outcome: Sendable, Equatable {
    case message(Envelope)
    /// The line holds only whitespace.
    case blank
    case defect(MessageDefect)
  }

  /// Scans `line` (without its `\n`).
  ///
  /// One carriage return may end the line (`\r\n` is a line end to every reader); anywhere else a
  /// `\r` is refused as an embedded line break, since the Python SDK's reader, and every reader with
  /// universal newlines, would end a message there and read what follows as another one.
  public mutating func scan(_ line: UnsafeRawBufferPointer) -> Outcome {
    guard let base = line.baseAddress, line.count > 0 else { return .blank }
    let count = line[line.count - 1] == 0x0D ? line.count - 1 : line.count
    guard count > 0 else { return .blank }
    var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), end: count)
    do {
      return try scanEnvelope(&cursor)
    } catch {
      // The grammar has no place for `\r` any more; on failure, say so when one is the reason.
      if let carriageReturn = memchr(base, 0x0D, count) {
        let offset = base.distance(to: UnsafeRawPointer(carriageReturn))
        return .defect(
          MessageDefect(
            kind: .embeddedLineBreak,
            detail: "a carriage return at offset \(offset) is a line break to other readers",
            id: Self.peekID(UnsafeRawBufferPointer(start: base, count: offset))))
      }
      return .defect(MessageDefect(kind: .notJSON, detail: error.detail))
    }
  }

  /// Best effort: the id of a message read from its first bytes, for answering a line that is too
  /// long or not valid JSON further on. Nil when the id does not come before the problem.
  public static func peekID(_ prefix: UnsafeRawBufferPointer) -> RequestID? {
    guard let base = prefix.baseAddress, prefix.count > 0 else { return nil }
    var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), end: prefix.count)
    var scanner = MessageScanner()
    do {
      cursor.skipWhitespace()
      try cursor.expect(UInt8(ascii: "{"))
      while true {
        cursor.skipWhitespace()
        let key = try scanner.readKey(&cursor)
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: ":"))
        cursor.skipWhitespace()
        if key == .id {
          let valueStart = cursor.pos
          if cursor.peek() == UInt8(ascii: "\"") { return .string(try scanner.readString(&cursor)) }
          try cursor.skipNumber()
          // A number cut off by the end of the prefix may be longer than it looks.
          guard cursor.pos < cursor.end else { return nil }
          return RequestID(numberLiteral: cursor, valueStart..<cursor.pos)
        }
        try scanner.skipValue(&cursor)
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: ","))
      }
    } catch {
      return nil
    }
  }

  // MARK: - The envelope

  fileprivate enum EnvelopeKey: Int {
    case jsonrpc, id, method, params, result, error
  }

  private mutating func scanEnvelope(_ cursor: inout Cursor) throws(SyntaxError) -> Outcome {
    cursor.skipWhitespace()
    guard let first = cursor.peek() else { return .blank }
    guard first == UInt8(ascii: "{") else {
      try skipValue(&cursor)
      try cursor.expectEnd()
      let detail = first == UInt8(ascii: "[") ? "batches are not supported" : "message is not a json object"
      return .defect(MessageDefect(kind: .notJSONRPC, detail: detail))
    }
    cursor.pos += 1

    var found = FoundMembers()

    cursor.skipWhitespace()
    if cursor.peek() == UInt8(ascii: "}") {
      cursor.pos += 1
    } else {
      while true {
        cursor.skipWhitespace()
        let key = try readKey(&cursor)
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: ":"))
        cursor.skipWhitespace()
        let valueStart = cursor.pos
        if let key {
          let bit = 1 << key.rawValue
          if found.seen & bit != 0, found.duplicate == nil { found.duplicate = key }
          found.seen |= bit
          switch key {
          case .jsonrpc:
            if cursor.peek() == UInt8(ascii: "\"") {
              found.versionIsValid = try readVersion(&cursor)
            } else {
              try skipValue(&cursor)
            }
          case .id:
            switch cursor.peek() ?? 0 {
            case UInt8(ascii: "\""):
              found.id = .string(try readString(&cursor))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
              try cursor.skipNumber()
              found.id = RequestID(numberLiteral: cursor, valueStart..<cursor.pos)
            case UInt8(ascii: "n"):
              try cursor.expectLiteral("null")
              found.idIsNull = true
            default:
              try skipValue(&cursor)
              found.idIsInvalid = true
            }
          case .method:
            if cursor.peek() == UInt8(ascii: "\"") {
              found.method = try readMethod(&cursor)
            } else {
              try skipValue(&cursor)
              found.methodIsInvalid = true
            }
          case .params:
            let opener = cursor.peek()
            try skipValue(&cursor)
            found.params = valueStart..<cursor.pos
            found.paramsIsInvalid = opener != UInt8(ascii: "{") && opener != UInt8(ascii: "[")
          case .result:
            try skipValue(&cursor)
            found.payload = valueStart..<cursor.pos
          case .error:
            let opener = cursor.peek()
            try skipValue(&cursor)
            found.payload = valueStart..<cursor.pos
            found.errorIsInvalid = opener != UInt8(ascii: "{")
          }
        } else {
          try skipValue(&cursor)
        }
        cursor.skipWhitespace()
        guard let next = cursor.next() else { throw SyntaxError("unterminated object") }
        if next == UInt8(ascii: "}") { break }
        guard next == UInt8(ascii: ",") else {
          throw SyntaxError("expected ',' or '}' at offset \(cursor.pos - 1)")
        }
      }
    }
    try cursor.expectEnd()
    guard cursor.sawReservedKey, case .message(var envelope) = found.outcome() else { return found.outcome() }
    envelope.mayCarryReservedKeys = true
    return .message(envelope)
  }

  /// Reads an object key; returns which envelope member it names, or nil for any other key.
  private func readKey(_ cursor: inout Cursor) throws(SyntaxError) -> EnvelopeKey? {
    guard cursor.peek() == UInt8(ascii: "\"") else {
      throw SyntaxError("expected a string key at offset \(cursor.pos)")
    }
    let start = cursor.pos + 1
    // Fast path: the eight bytes after the opening quote hold a whole envelope key and its closing
    // quote, compared as one word.
    if start + 8 <= cursor.end {
      let word = UnsafeRawPointer(cursor.base + start).loadUnaligned(as: UInt64.self)
      if let (key, length) = Self.envelopeKey(in: word) {
        cursor.pos = start + length
        return key
      }
    }
    let (end, escaped) = try cursor.skipString()
    let range = start..<(end - 1)
    if escaped || Cursor.mayBeReserved(cursor.base, from: range.lowerBound, to: range.upperBound) {
      cursor.sawReservedKey = true
    }
    if escaped {
      // Rare: an escaped key still names a member ("\u0069d" is "id"), so decode and compare.
      switch try Cursor.decode(cursor.base, range) {
      case "jsonrpc": return .jsonrpc
      case "id": return .id
      case "method": return .method
      case "params": return .params
      case "result": return .result
      case "error": return .error
      default: return nil
      }
    }
    switch range.count {
    case 2: return cursor.bytes(range, equal: "id") ? .id : nil
    case 5: return cursor.bytes(range, equal: "error") ? .error : nil
    case 6:
      if cursor.bytes(range, equal: "method") { return .method }
      if cursor.bytes(range, equal: "params") { return .params }
      if cursor.bytes(range, equal: "result") { return .result }
      return nil
    case 7: return cursor.bytes(range, equal: "jsonrpc") ? .jsonrpc : nil
    default: return nil
    }
  }

  /// Recognizes `jsonrpc"`, `id"`, `method"`, `params"`, `result"`, `error"` at the start of a
  /// little-endian word; returns the key and its length including the closing quote.
  @inline(__always)
  private static func envelopeKey(in word: UInt64) -> (EnvelopeKey, Int)? {
    // The constants are the keys' bytes, quote included, read as little-endian words.
    if word == 0x2263_7072_6E6F_736A { return (.jsonrpc, 8) }  // jsonrpc"
    switch word & 0x00FF_FFFF_FFFF_FFFF {
    case 0x0022_646F_6874_656D: return (.method, 7)  // method"
    case 0x0022_736D_6172_6170: return (.params, 7)  // params"
    case 0x0022_746C_7573_6572: return (.result, 7)  // result"
    default: break
    }
    if word & 0xFFFF_FFFF_FFFF == 0x0000_2272_6F72_7265 { return (.error, 6) }  // error"
    if word & 0xFF_FFFF == 0x0000_0000_0022_6469 { return (.id, 3) }  // id"
    return nil
  }

  /// Reads a string value; the caller has checked that one starts here.
  private func readString(_ cursor: inout Cursor) throws(SyntaxError) -> String {
    let start = cursor.pos + 1
    let (end, escaped) = try cursor.skipString()
    if escaped { return try Cursor.decode(cursor.base, start..<(end - 1)) }
    return cursor.text(start..<(end - 1))
  }

  /// Whether the string starting here is exactly "2.0" (escaped spellings are decoded first).
  private func readVersion(_ cursor: inout Cursor) throws(SyntaxError) -> Bool {
    let start = cursor.pos + 1
    let (end, escaped) = try cursor.skipString()
    if escaped { return try Cursor.decode(cursor.base, start..<(end - 1)) == "2.0" }
    return cursor.bytes(start..<(end - 1), equal: "2.0")
  }

  /// Reads a method name, sharing one String for the methods every session uses.
  private func readMethod(_ cursor: inout Cursor) throws(SyntaxError) -> String {
    let start = cursor.pos + 1
    let (end, escaped) = try cursor.skipString()
    let range = start..<(end - 1)
    if !escaped {
      for known in KnownMethods.all where cursor.bytes(range, equal: known.literal) { return known.name }
      return cursor.text(range)
    }
    return try Cursor.decode(cursor.base, range)
  }

  // MARK: - Any value

  /// Skips one complete JSON value, checking its grammar.
  private mutating func skipValue(_ cursor: inout Cursor) throws(SyntaxError) {
    try cursor.skipValue(deep: &deepContainers)
  }
}

/// What the members of a message's top-level object said, gathered in one pass and judged after it.
/// A struct rather than local variables captured by helper closures, which would cost runtime
/// exclusivity checks on every message.
private struct FoundMembers {
  var seen = 0  // bit per EnvelopeKey
  var duplicate: MessageScanner.EnvelopeKey?
  var versionIsValid = false
  var id: RequestID?
  var idIsNull = false
  var idIsInvalid = false
  var method: String?
  var methodIsInvalid = false
  var params: Range<Int>?
  var paramsIsInvalid = false
  var payload: Range<Int>?
  var errorIsInvalid = false

  func has(_ key: MessageScanner.EnvelopeKey) -> Bool { seen & (1 << key.rawValue) != 0 }

  func invalid(_ detail: String) -> MessageScanner.Outcome {
    let apparentKind: MessageKind? =
      has(.method)
      ? (has(.id) ? .request : .notification)
      : (has(.result) || has(.error) ? .response : nil)
    return .defect(MessageDefect(kind: .notJSONRPC, detail: detail, id: id, apparentKind: apparentKind))
  }

  /// Judges the message against JSON-RPC 2.0.
  func outcome() -> MessageScanner.Outcome {
    if let duplicate {
      // Peers disagree on which duplicate wins; a message that means two things is refused, and
      // with two ids there is no id to answer.
      var withoutID = self
      if duplicate == .id { withoutID.id = nil }
      return withoutID.invalid("member \"\(duplicate)\" appears more than once")
    }
    guard versionIsValid else { return invalid("\"jsonrpc\" must be \"2.0\"") }
    guard !idIsInvalid else { return invalid("\"id\" must be a string or a number") }
    if has(.method) {
      guard let method, !methodIsInvalid else { return invalid("\"method\" must be a string") }
      guard !has(.result), !has(.error) else {
        return invalid("a message cannot have both \"method\" and \"result\" or \"error\"")
      }
      guard !paramsIsInvalid else { return invalid("\"params\" must be an object or an array") }
      if has(.id) {
        guard !idIsNull else { return invalid("a request's \"id\" must not be null") }
        return .message(Envelope(kind: .request, id: id, method: method, params: params))
      }
      return .message(Envelope(kind: .notification, id: nil, method: method, params: params))
    }
    guard has(.id) else { return invalid("message has neither \"method\" nor \"id\"") }
    guard has(.result) != has(.error) else {
      return invalid("a response needs exactly one of \"result\" and \"error\"")
    }
    guard !has(.params) else { return invalid("a response cannot have \"params\"") }
    if has(.error) {
      guard !errorIsInvalid else { return invalid("\"error\" must be an object") }
    } else if idIsNull {
      return invalid("a result's \"id\" must not be null")
    }
    return .message(
      Envelope(kind: .response, id: id, method: nil, payload: payload, isError: has(.error)))
  }
}

/// A syntax problem found while scanning; becomes a -32700 defect.
struct SyntaxError: Error {
  var detail: String
  init(_ detail: String) { self.detail = detail }
}

/// Methods common enough that their names are matched against bytes instead of building a String.
enum KnownMethods {
  struct Method {
    let literal: StaticString
    let name: String
  }

  static let all: [Method] = [
    Method(literal: "tools/call", name: "tools/call"),
    Method(literal: "tools/list", name: "tools/list"),
    Method(literal: "notifications/progress", name: "notifications/progress"),
    Method(literal: "notifications/cancelled", name: "notifications/cancelled"),
    Method(literal: "ping", name: "ping"),
    Method(literal: "initialize", name: "initialize"),
    Method(literal: "notifications/initialized", name: "notifications/initialized"),
    Method(literal: "server/discover", name: "server/discover"),
  ]
}
