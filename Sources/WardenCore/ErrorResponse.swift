import WardenJSON

/// JSON-RPC error codes warden uses. The standard ones, then warden's own in the server-error range.
public enum WardenErrorCode {
  public static let parseError = -32700
  public static let invalidRequest = -32600
  public static let internalError = -32603
  /// The server exited, crashed or closed its output before answering.
  public static let serverExited = -32098
  /// The server answered with a line that is not a valid JSON-RPC message.
  public static let invalidServerMessage = -32097
}

/// A JSON-RPC error response composed by warden, one line with its `\n`.
public struct ErrorResponse: Sendable, Equatable {
  public let id: RequestID?
  public let code: Int
  public let message: String
  /// A short machine-readable reason, placed at `error.data.warden.reason`.
  public let reason: String
  public let line: [UInt8]

  public init(id: RequestID?, code: Int, message: String, reason: String, details: [(String, JSONValue)] = [])
  {
    self.id = id
    self.code = code
    self.message = message
    self.reason = reason
    let wardenData = JSONValue.object([("reason", JSONValue.string(reason))] + details)
    let error = JSONValue.object([
      ("code", .integer(Int64(code))),
      ("message", .string(message)),
      ("data", .object(["warden": wardenData])),
    ])
    // The id is written as text so that a number id comes back exactly as the client wrote it.
    var text = Array("{\"jsonrpc\":\"2.0\",\"id\":\(id?.jsonText ?? "null"),\"error\":".utf8)
    text += error.serialized()
    text += Array("}\n".utf8)
    line = text
  }

  public static func == (lhs: ErrorResponse, rhs: ErrorResponse) -> Bool { lhs.line == rhs.line }
}
