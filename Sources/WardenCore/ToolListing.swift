import WardenJSON

/// The conversation `warden manifest init` has with a server to read its tools, in either protocol
/// era, as a state machine: each event (the child started, a line from it, its stdout closed, the
/// probe waited long enough) returns the actions to perform. No I/O here.
///
/// It probes as a dual-era client does: `server/discover` first (the per-request era, 2026-07-28);
/// on an error, or when no answer comes within the probe delay, `initialize` on the same connection
/// (a server that answers nothing to an unknown method still gets its handshake). The first success
/// fixes the era. A server that fixes its era on the first message and refuses `initialize` after a
/// failed discover, or exits, is started again and greeted with `initialize` alone. Then
/// `tools/list`, page after page while `nextCursor` is given.
public struct ToolListing: Sendable {
  /// The era the server answered in, with the protocol version it named.
  public enum Era: Sendable, Equatable, CustomStringConvertible {
    case perRequest(String)
    case handshake(String)

    public var description: String {
      switch self {
      case .perRequest(let version): return "per-request (\(version))"
      case .handshake(let version): return "handshake (\(version))"
      }
    }
  }

  public enum Action: Sendable, Equatable {
    /// Write this line (newline included) to the server.
    case send([UInt8])
    /// Stop this child and start the command again, then call `started()`.
    case restart
    case finished(tools: [JSON], era: Era)
    case failed(String)
  }

  private enum Probe: Sendable, Equatable {
    case notSent, waiting, failed(String)
  }

  private enum State: Sendable, Equatable {
    case idle
    case probing(discover: Probe, initialize: Probe)
    case listing(era: Era, cursors: Set<String>)
    case done
  }

  public static let perRequestVersion = "2026-07-28"
  public static let handshakeVersion = "2025-11-25"
  /// Pages beyond this many are taken for a server that never stops paginating.
  public static let pageLimit = 1_000

  private var state = State.idle
  /// 0: discover first; 1: the command restarted, `initialize` alone.
  private var attempt = 0
  private var tools: [JSON] = []
  private var nextID = 0
  private var pending: [String: String] = [:]
  private let clientVersion: String

  public init(clientVersion: String) {
    self.clientVersion = clientVersion
  }

  /// The child is running: greet it.
  public mutating func started() -> [Action] {
    pending = [:]
    if attempt == 0 {
      state = .probing(discover: .waiting, initialize: .notSent)
      return [.send(request("server/discover", params: [], perRequest: true))]
    }
    state = .probing(discover: .failed("not asked"), initialize: .waiting)
    return [.send(initializeRequest())]
  }

  /// The discover probe went unanswered for a while: try the handshake beside it.
  public mutating func probeExpired() -> [Action] {
    guard case .probing(let discover, .notSent) = state, discover == .waiting else { return [] }
    state = .probing(discover: discover, initialize: .waiting)
    return [.send(initializeRequest())]
  }

  /// Whether the probe delay still matters (the discover probe is unanswered and alone).
  public var isProbing: Bool {
    if case .probing(.waiting, .notSent) = state { return true }
    return false
  }

  /// The server's stdout closed (it exited).
  public mutating func serverClosed() -> [Action] {
    switch state {
    case .probing where attempt == 0:
      attempt = 1
      return [.restart]
    case .done: return []
    default:
      state = .done
      return [.failed("the server exited before it listed its tools")]
    }
  }

  /// A line from the server.
  public mutating func received(_ bytes: [UInt8]) -> [Action] {
    guard state != .done, let message = try? JSONValue.parse(bytes).json, case .object = message else {
      return []
    }
    if let method = message["method"]?.stringValue {
      // A request of the server's own (handshake era): answered, so it does not wait on us.
      guard let id = message["id"], id != .null else { return [] }
      let answer: JSON.Member =
        method == "ping"
        ? JSON.Member("result", .object([]))
        : JSON.Member(
          "error",
          .object([JSON.Member("code", .number("-32601")), JSON.Member("message", .string("not supported"))]))
      return [.send(line(.object([JSON.Member("jsonrpc", .string("2.0")), JSON.Member("id", id), answer])))]
    }
    guard case .string(let id)? = message["id"], let method = pending.removeValue(forKey: id) else {
      return []
    }
    let error = message["error"].map(Self.describe)
    let result = message["result"]
    switch method {
    case "server/discover": return discovered(result: result, error: error)
    case "initialize": return initialized(result: result, error: error)
    default: return listed(result: result, error: error)
    }
  }

  private mutating func discovered(result: JSON?, error: String?) -> [Action] {
    guard case .probing(_, let initialize) = state else { return [] }
    if let result, error == nil, case .object = result {
      var versions: [String] = []
      if case .array(let list)? = result["supportedVersions"] { versions = list.compactMap(\.stringValue) }
      if versions.isEmpty || versions.contains(Self.perRequestVersion) {
        return startListing(era: .perRequest(Self.perRequestVersion))
      }
      return probeFailed(
        discover: "it supports only \(versions.joined(separator: ", "))", initialize: initialize)
    }
    return probeFailed(discover: error ?? "no result", initialize: initialize)
  }

  private mutating func initialized(result: JSON?, error: String?) -> [Action] {
    guard case .probing(let discover, _) = state else { return [] }
    if let result, error == nil, case .object = result {
      let version = result["protocolVersion"]?.stringValue ?? Self.handshakeVersion
      let notification = line(
        .object([
          JSON.Member("jsonrpc", .string("2.0")), JSON.Member("method", .string("notifications/initialized")),
        ]))
      return [.send(notification)] + startListing(era: .handshake(ServerText.version(version)))
    }
    state = .probing(discover: discover, initialize: .failed(error ?? "no result"))
    return probeFailed(discover: nil, initialize: .failed(error ?? "no result"))
  }

  /// One probe failed; go on with the other, restart, or give up.
  private mutating func probeFailed(discover reason: String?, initialize: Probe) -> [Action] {
    guard case .probing(var discover, _) = state else { return [] }
    if let reason { discover = .failed(reason) }
    state = .probing(discover: discover, initialize: initialize)
    switch (discover, initialize) {
    case (.failed, .notSent):
      state = .probing(discover: discover, initialize: .waiting)
      return [.send(initializeRequest())]
    case (.failed(let first), .failed(let second)):
      if attempt == 0 {
        attempt = 1
        return [.restart]
      }
      state = .done
      let discoverText = first == "not asked" ? "" : "server/discover: \(first); "
      return [.failed("the server answered neither era's greeting (\(discoverText)initialize: \(second))")]
    default:
      return []
    }
  }

  private mutating func startListing(era: Era) -> [Action] {
    state = .listing(era: era, cursors: [])
    return [.send(listRequest(cursor: nil, era: era))]
  }

  private mutating func listed(result: JSON?, error: String?) -> [Action] {
    guard case .listing(let era, var cursors) = state else { return [] }
    state = .done
    if let error { return [.failed("tools/list failed: \(error)")] }
    guard let result, case .object = result else { return [.failed("tools/list gave no result")] }
    if let kind = result["resultType"]?.stringValue, kind != "complete" {
      return [.failed("tools/list gave a result of type '\(ServerText.text(kind))', not a complete one")]
    }
    guard case .array(let page)? = result["tools"] else {
      return [.failed("tools/list gave no 'tools' array")]
    }
    tools += page
    guard case .string(let cursor)? = result["nextCursor"], !cursor.isEmpty else {
      return [.finished(tools: tools, era: era)]
    }
    guard cursors.insert(cursor).inserted, cursors.count < Self.pageLimit else {
      return [
        .failed("tools/list pages never end (a cursor came back, or more than \(Self.pageLimit) pages)")
      ]
    }
    state = .listing(era: era, cursors: cursors)
    return [.send(listRequest(cursor: cursor, era: era))]
  }

  // MARK: - Messages

  private var meta: JSON.Member {
    JSON.Member(
      "_meta",
      .object([
        JSON.Member("io.modelcontextprotocol/protocolVersion", .string(Self.perRequestVersion)),
        JSON.Member("io.modelcontextprotocol/clientCapabilities", .object([])),
        JSON.Member("io.modelcontextprotocol/clientInfo", clientInfo),
      ]))
  }

  private var clientInfo: JSON {
    .object([
      JSON.Member("name", .string("warden-manifest-init")), JSON.Member("version", .string(clientVersion)),
    ])
  }

  private mutating func initializeRequest() -> [UInt8] {
    request(
      "initialize",
      params: [
        JSON.Member("protocolVersion", .string(Self.handshakeVersion)),
        JSON.Member("capabilities", .object([])), JSON.Member("clientInfo", clientInfo),
      ], perRequest: false)
  }

  private mutating func listRequest(cursor: String?, era: Era) -> [UInt8] {
    var params: [JSON.Member] = []
    if let cursor { params.append(JSON.Member("cursor", .string(cursor))) }
    if case .perRequest = era { return request("tools/list", params: params, perRequest: true) }
    return request("tools/list", params: params, perRequest: false)
  }

  private mutating func request(_ method: String, params: [JSON.Member], perRequest: Bool) -> [UInt8] {
    nextID += 1
    let id = "warden-init-\(nextID)"
    pending[id] = method
    var members = [
      JSON.Member("jsonrpc", .string("2.0")), JSON.Member("id", .string(id)),
      JSON.Member("method", .string(method)),
    ]
    let all = perRequest ? params + [meta] : params
    if !all.isEmpty || perRequest { members.append(JSON.Member("params", .object(all))) }
    return line(.object(members))
  }

  private func line(_ message: JSON) -> [UInt8] {
    message.canonicalBytes + [0x0A]
  }

  /// A JSON-RPC error as one line: its message and code.
  private static func describe(_ error: JSON) -> String {
    let message = error["message"]?.stringValue.map(ServerText.text) ?? "no message"
    if case .number(let code)? = error["code"] { return "\(message) (\(code))" }
    return message
  }
}

/// Server text made fit for one line of a message: controls and bidirectional controls dropped,
/// at most 200 characters.
enum ServerText {
  static func text(_ text: String) -> String {
    let kept = text.unicodeScalars.filter { scalar in
      !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
        || [0x061C, 0x200E, 0x200F, 0x2028, 0x2029].contains(scalar.value)
        || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value))
    }
    let line = String(String.UnicodeScalarView(kept))
    return line.count > 200 ? String(line.prefix(200)) + "..." : line
  }

  /// A protocol version as the server named it, if it looks like one.
  static func version(_ text: String) -> String {
    let plain = text.count <= 32 && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || $0 == "-" }
    return plain ? text : "unknown version"
  }
}
