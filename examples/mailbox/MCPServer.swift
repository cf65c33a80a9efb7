/// The MCP layer: which protocol era the connection speaks, the lifecycle, and method dispatch.
///
/// Like the Python SDK's servers, the connection's era is fixed by the client's first request: one carrying
/// `params._meta["io.modelcontextprotocol/protocolVersion"]` (other than `initialize`) opens the per-request
/// era (2026-07-28); anything else opens the handshake era. A request from the other era is refused
/// afterwards: `initialize` on a per-request connection gets -32022, an enveloped request on a handshake
/// connection gets -32600.
final class MCPServer {
  enum Era: String {
    case undecided
    case handshake = "handshake (initialize)"
    case perRequest = "per-request (2026-07-28)"
  }

  static let handshakeVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
  static let perRequestVersions = ["2026-07-28"]
  static let serverInfo: JSON = ["name": "warden-example-mailbox", "version": "0.1.0"]
  static let instructions = """
    A local mailbox with the folders inbox, archive and sent (move_message can create more). Use \
    list_messages to see a folder and read_message to open a message by id. delete_message removes a \
    message permanently; prefer archive_message when the user only wants it out of the inbox. send_message \
    sends mail to other people.
    """

  private static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
  private static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
  private static let serverInfoKey = "io.modelcontextprotocol/serverInfo"

  private let store: MailboxStore
  private(set) var era = Era.undecided
  /// Handshake era: `initialize` has been answered, so the tools may be used.
  private var initialized = false

  init(store: MailboxStore) {
    self.store = store
  }

  /// The response to one incoming line, or nil when nothing is to be answered (notifications, responses).
  func handle(_ incoming: Incoming) -> Response? {
    switch incoming {
    case .invalid(let error, let id):
      log("rejected a line: \(error.message)")
      return Response.error(id: id, error)
    case .response:
      log("ignored a response: this server sends no requests")
      return nil
    case .notification(let method, _):
      log("notification \(method)")
      return nil
    case .request(let id, let method, let params):
      do {
        return Response.result(id: id, try handleRequest(method, params: params))
      } catch let error as RPCError {
        return Response.error(id: id, error)
      } catch {
        log("internal error in \(method): \(error)")
        return Response.error(id: id, RPCError(code: ErrorCode.internalError, message: "Internal error"))
      }
    }
  }

  private func handleRequest(_ method: String, params: JSON?) throws -> JSON {
    if era == .undecided {
      era = method != "initialize" && Self.hasEnvelope(params) ? .perRequest : .handshake
      log("protocol era: \(era.rawValue)")
    }
    switch era {
    case .perRequest: return try handlePerRequest(method, params: params)
    case .handshake, .undecided: return try handleHandshake(method, params: params)
    }
  }

  // MARK: Handshake era (2024-11-05 ... 2025-11-25)

  private func handleHandshake(_ method: String, params: JSON?) throws -> JSON {
    if method != "initialize" && Self.hasEnvelope(params) {
      throw RPCError(
        code: ErrorCode.invalidRequest,
        message: "this connection serves the handshake protocol era; "
          + "requests carrying the 2026-07-28 envelope are not accepted on it")
    }
    switch method {
    case "initialize":
      let requested = params?["protocolVersion"]?.stringValue ?? ""
      let version = Self.handshakeVersions.contains(requested) ? requested : Self.handshakeVersions.last!
      initialized = true
      log(
        "initialize: client asked for \(requested.isEmpty ? "no version" : requested), answering \(version)")
      return [
        "protocolVersion": .string(version),
        "capabilities": ["tools": ["listChanged": false]],
        "serverInfo": Self.serverInfo,
        "instructions": .string(Self.instructions),
      ]
    case "ping":
      return [:]
    case "tools/list", "tools/call":
      guard initialized else {
        throw RPCError(code: ErrorCode.invalidParams, message: "Invalid request parameters: initialize first")
      }
      return method == "tools/list" ? .object(listTools()) : .object(try callTool(params))
    default:
      throw Self.methodNotFound(method)
    }
  }

  // MARK: Per-request era (2026-07-28)

  private func handlePerRequest(_ method: String, params: JSON?) throws -> JSON {
    if method == "initialize" {
      var data: [String: JSON] = ["supported": .array(Self.perRequestVersions.map { .string($0) })]
      if let requested = params?["protocolVersion"]?.stringValue { data["requested"] = .string(requested) }
      throw RPCError(
        code: ErrorCode.unsupportedProtocolVersion,
        message: "connection is serving the 2026-07-28 protocol; the initialize handshake is not accepted",
        data: .object(data))
    }
    try Self.checkEnvelope(params)
    var result: [String: JSON]
    switch method {
    case "server/discover":
      result = [
        "supportedVersions": .array(Self.perRequestVersions.map { .string($0) }),
        "capabilities": ["tools": ["listChanged": false]],
        "instructions": .string(Self.instructions),
        "ttlMs": 0,
        "cacheScope": "private",
      ]
    case "tools/list":
      result = listTools()
      result["ttlMs"] = 0
      result["cacheScope"] = "private"
    case "tools/call":
      result = try callTool(params)
    default:
      throw Self.methodNotFound(method)
    }
    result["resultType"] = "complete"
    result["_meta"] = [Self.serverInfoKey: Self.serverInfo]
    return .object(result)
  }

  private static func hasEnvelope(_ params: JSON?) -> Bool {
    params?["_meta"]?[protocolVersionKey] != nil
  }

  /// The checks the Python SDK runs on every per-request-era request, in the same order.
  private static func checkEnvelope(_ params: JSON?) throws {
    guard let meta = params?["_meta"]?.objectValue else {
      throw RPCError(
        code: ErrorCode.invalidParams,
        message: "params._meta must be an object carrying the required '\(protocolVersionKey)' and "
          + "'\(clientCapabilitiesKey)' envelope keys")
    }
    let missing = [protocolVersionKey, clientCapabilitiesKey].filter { meta[$0] == nil }
    guard missing.isEmpty else {
      throw RPCError(
        code: ErrorCode.invalidParams,
        message: "params._meta is missing the required envelope key(s): \(missing.joined(separator: ", "))")
    }
    guard let version = meta[protocolVersionKey]?.stringValue else {
      throw RPCError(
        code: ErrorCode.invalidParams, message: "the protocol-version envelope value must be a string")
    }
    guard perRequestVersions.contains(version) else {
      throw RPCError(
        code: ErrorCode.unsupportedProtocolVersion, message: "Unsupported protocol version",
        data: ["supported": .array(perRequestVersions.map { .string($0) }), "requested": .string(version)])
    }
  }

  // MARK: Tools (both eras)

  private func listTools() -> [String: JSON] {
    ["tools": .array(Tools.all.map(\.definition))]
  }

  private func callTool(_ params: JSON?) throws -> [String: JSON] {
    guard let name = params?["name"]?.stringValue else {
      throw RPCError(code: ErrorCode.invalidParams, message: "tools/call needs a string 'name'")
    }
    guard let tool = Tools.named(name) else {
      throw RPCError(code: ErrorCode.invalidParams, message: "Unknown tool: \(name)")
    }
    let arguments: [String: JSON]
    switch params?["arguments"] {
    case nil, .null?: arguments = [:]
    case .object(let members)?: arguments = members
    default:
      throw RPCError(code: ErrorCode.invalidParams, message: "tools/call 'arguments' must be an object")
    }
    do {
      let output = try tool.run(store, Arguments(values: arguments))
      log("tools/call \(name): ok")
      var result: [String: JSON] = [
        "content": [["type": "text", "text": .string(output.text)]],
        "isError": false,
      ]
      if let structured = output.structured { result["structuredContent"] = structured }
      return result
    } catch {
      log("tools/call \(name): failed: \(error)")
      return [
        "content": [["type": "text", "text": .string("Error executing tool \(name): \(error)")]],
        "isError": true,
      ]
    }
  }

  private static func methodNotFound(_ method: String) -> RPCError {
    RPCError(code: ErrorCode.methodNotFound, message: "Method not found", data: .string(method))
  }
}
