/// A JSON-RPC request id as the sender wrote it.
///
/// JSON-RPC ids are strings or numbers, and a string id never equals a number id. Numbers keep their
/// literal text (`7`, `7.0`) so that a reply can echo exactly what was sent; strings are compared by
/// their decoded value, because a peer may re-escape a string id when it echoes it.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
  /// A number written as a plain integer that fits 64 bits (`7`, `-3`): the common case, kept cheap.
  case integer(Int64)
  /// Any other number, by its literal (`7.0`, `1e3`, `123456789012345678901234567890`).
  case number(String)
  case string(String)

  /// The id as JSON text, ready to be placed in a message.
  public var jsonText: String {
    switch self {
    case .integer(let value): return String(value)
    case .number(let literal): return literal
    case .string(let value): return JSONText.quoted(value)
    }
  }

  /// An id from a number literal; a plain integer's literal is its canonical text, so the two forms
  /// never name the same id.
  init(numberLiteral cursor: Cursor, _ range: Range<Int>) {
    var value: Int64 = 0
    var index = range.lowerBound
    let negative = cursor.base[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    let digits = range.upperBound - index
    // At most 18 digits cannot overflow; "-0" and leading zeros are not canonical integers.
    var plain =
      digits > 0 && digits <= 18 && !(cursor.base[index] == UInt8(ascii: "0") && (digits > 1 || negative))
    while plain && index < range.upperBound {
      let digit = cursor.base[index] &- UInt8(ascii: "0")
      if digit > 9 { plain = false; break }
      value = value * 10 + Int64(digit)
      index += 1
    }
    self = plain ? .integer(negative ? -value : value) : .number(cursor.text(range))
  }

  public var description: String { jsonText }
}

/// What kind of JSON-RPC message a line carries.
public enum MessageKind: Sendable, Equatable {
  case request
  case notification
  case response
}

/// The envelope of one JSON-RPC message: what it is, learned without building a tree of its body.
public struct Envelope: Sendable, Equatable {
  public var kind: MessageKind
  /// The id of a request or response; nil for notifications and for responses whose id is null.
  public var id: RequestID?
  /// The method of a request or notification.
  public var method: String?
  /// Byte offsets of the `params` value within the line, when present.
  public var params: Range<Int>?
  /// Byte offsets of the `result` or `error` value of a response.
  public var payload: Range<Int>?
  /// True for a response that carries `error` rather than `result`.
  public var isError: Bool
  /// Some object key in the message is escaped, or is in warden's namespace (`dev.warden/...`), or is
  /// a `requestState`: a message from the server with one must be read in full and cleaned before the
  /// client sees it. False guarantees none of these keys is anywhere in the message.
  public var mayCarryReservedKeys = false

  public init(
    kind: MessageKind, id: RequestID?, method: String?, params: Range<Int>? = nil,
    payload: Range<Int>? = nil, isError: Bool = false
  ) {
    self.kind = kind
    self.id = id
    self.method = method
    self.params = params
    self.payload = payload
    self.isError = isError
  }
}

/// Why a line is not an acceptable JSON-RPC message.
public struct MessageDefect: Error, Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// Not one JSON value (syntax error, trailing bytes, or invalid UTF-8): JSON-RPC -32700.
    case notJSON
    /// Valid JSON, but not a JSON-RPC 2.0 message (or a batch): JSON-RPC -32600.
    case notJSONRPC
    /// A line break other than the line's terminator (a carriage return not followed by the final
    /// `\n`): a reader with universal newlines would see two messages where warden sees one.
    /// JSON-RPC -32600, reason `embedded-line-break`.
    case embeddedLineBreak
  }

  public var kind: Kind
  /// One lowercase line for humans and logs.
  public var detail: String
  /// The message's id, when it could be read; replies to the defect use it.
  public var id: RequestID?
  /// What the message seems meant to be, when its members say so: a notification or a response is
  /// never answered, even when it is invalid.
  public var apparentKind: MessageKind?

  public init(kind: Kind, detail: String, id: RequestID? = nil, apparentKind: MessageKind? = nil) {
    self.kind = kind
    self.detail = detail
    self.id = id
    self.apparentKind = apparentKind
  }

  /// The JSON-RPC error code that answers this defect.
  public var errorCode: Int { kind == .notJSON ? -32700 : -32600 }

  /// The machine-readable reason placed at `error.data.warden.reason`.
  public var reason: String {
    switch kind {
    case .notJSON: return "parse-error"
    case .notJSONRPC: return "invalid-request"
    case .embeddedLineBreak: return "embedded-line-break"
    }
  }
}
