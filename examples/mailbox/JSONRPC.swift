import Foundation

/// JSON-RPC 2.0 error codes used by this server (the MCP ones included).
enum ErrorCode {
  static let parseError: Int64 = -32700
  static let invalidRequest: Int64 = -32600
  static let methodNotFound: Int64 = -32601
  static let invalidParams: Int64 = -32602
  static let internalError: Int64 = -32603
  static let unsupportedProtocolVersion: Int64 = -32022
}

/// A JSON-RPC error that becomes the `error` member of a response.
struct RPCError: Error {
  var code: Int64
  var message: String
  var data: JSON?

  func json() -> JSON {
    var members: [String: JSON] = ["code": .int(code), "message": .string(message)]
    if let data { members["data"] = data }
    return .object(members)
  }
}

/// One line from the client, classified.
enum Incoming {
  case request(id: JSON, method: String, params: JSON?)
  case notification(method: String, params: JSON?)
  /// A response to a request of ours. This server sends none, so these are only logged.
  case response(id: JSON)
  /// Not a valid JSON-RPC message; `id` is the message's id when it could be read.
  case invalid(RPCError, id: JSON)

  init(line: Data) {
    guard String(validating: line, as: UTF8.self) != nil, let value = try? JSON.parse(line) else {
      self = .invalid(RPCError(code: ErrorCode.parseError, message: "Parse error"), id: .null)
      return
    }
    guard case .object(let message) = value else {
      let what = if case .array = value { "batches are not supported" } else { "not a JSON object" }
      self = .invalid(
        RPCError(code: ErrorCode.invalidRequest, message: "Invalid request: \(what)"), id: .null)
      return
    }
    let id = message["id"]
    let readableID: JSON
    switch id {
    case .string?, .int?, .double?: readableID = id ?? .null
    default: readableID = .null
    }
    func invalid(_ reason: String) -> Incoming {
      .invalid(
        RPCError(code: ErrorCode.invalidRequest, message: "Invalid request: \(reason)"), id: readableID)
    }
    guard message["jsonrpc"] == "2.0" else {
      self = invalid("\"jsonrpc\" must be \"2.0\"")
      return
    }
    if id != nil, readableID == .null {
      self = invalid("id must be a string or a number")
      return
    }
    let params = message["params"]
    switch params {
    case nil, .object?, .array?: break
    default:
      self = invalid("params must be an object or an array")
      return
    }
    switch (message["method"], id) {
    case (.string(let method)?, let id?):
      self = .request(id: id, method: method, params: params)
    case (.string(let method)?, nil):
      self = .notification(method: method, params: params)
    case (nil, let id?) where (message["result"] != nil) != (message["error"] != nil):
      self = .response(id: id)
    case (_?, _):
      self = invalid("method must be a string")
    default:
      self = invalid("neither a request, a notification nor a response")
    }
  }
}

/// A response to one request. Serialized with the envelope first, `{"jsonrpc":"2.0","id":…,"result":…}`,
/// as the reference servers write it; the id is echoed exactly as received.
struct Response {
  var id: JSON
  var outcome: Result<JSON, RPCError>

  static func result(id: JSON, _ result: JSON) -> Response {
    Response(id: id, outcome: .success(result))
  }

  static func error(id: JSON, _ error: RPCError) -> Response {
    Response(id: id, outcome: .failure(error))
  }

  func serialized() -> Data {
    var line = Data(#"{"jsonrpc":"2.0","id":"#.utf8)
    line.append(id.serialized())
    switch outcome {
    case .success(let result):
      line.append(Data(#","result":"#.utf8))
      line.append(result.serialized())
    case .failure(let error):
      line.append(Data(#","error":"#.utf8))
      line.append(error.json().serialized())
    }
    line.append(UInt8(ascii: "}"))
    return line
  }
}

/// The stdio transport: newline-delimited JSON-RPC messages on stdin and stdout. stdout carries nothing else.
struct LineTransport {
  private let input = FileHandle.standardInput
  private let output = FileHandle.standardOutput
  private var buffer = Data()
  private var atEnd = false

  /// The next non-blank line from stdin without its terminator (`\n` or `\r\n`), or nil at end of input.
  /// Bytes are returned as read: invalid UTF-8 is left for the JSON parser to reject.
  mutating func readLine() -> Data? {
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        var line = Data(buffer[buffer.startIndex..<newline])
        buffer = Data(buffer[(newline + 1)...])
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.contains(where: { !Self.isWhitespace($0) }) { return line }
        continue
      }
      if atEnd {
        // A last line without a terminator still counts.
        let rest = buffer
        buffer = Data()
        return rest.contains(where: { !Self.isWhitespace($0) }) ? rest : nil
      }
      let chunk = input.availableData
      if chunk.isEmpty { atEnd = true } else { buffer.append(chunk) }
    }
  }

  /// Writes one message as one line. Returns false when stdout is gone (the client went away).
  func write(_ response: Response) -> Bool {
    var line = response.serialized()
    line.append(UInt8(ascii: "\n"))
    do {
      try output.write(contentsOf: line)
      return true
    } catch {
      return false
    }
  }

  private static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
  }
}

/// Diagnostics go to stderr, never stdout.
func log(_ message: String) {
  FileHandle.standardError.write(Data("warden-example-mailbox: \(message)\n".utf8))
}
