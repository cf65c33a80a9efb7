import Dispatch
import Logging
import Synchronization
import WardenCore
import WardenJSON

/// Calls the server's own read-only tools for the manifest's lookups (`lookup:`), before a call is
/// decided, and keeps the answers a short while.
///
/// Each lookup is a `tools/call` with a request id of warden's own: `warden-lookup-` and 128 random
/// bits, new for every request, so neither the client nor the server can name one before warden
/// sends it; warden never uses such an id toward the client, and the answer is consumed here, never
/// relayed. In the per-request era the lookup carries the protocol keys of the `_meta` of the call
/// that needs it (version, client capabilities, client info), as the server expects of any request.
///
/// An answer that does not come within `timeout`, an error, a tool error, an answer that is not
/// complete or not a JSON object: the lookup fails, and the call that needed it is denied. Only
/// answers are cached, per session, for `cacheLifetime` milliseconds, at most `cacheLimit` of them.
final class ServerLookups: Sendable {
  static let idPrefix = "warden-lookup-"
  static let timeout: Double = 5
  static let cacheLifetime: Int64 = 60_000
  static let cacheLimit = 1_024

  private final class Waiter: Sendable {
    let signal = DispatchSemaphore(value: 0)
    /// The server's whole response line, read by the waiting thread.
    let answer = Mutex<[UInt8]?>(nil)
  }

  private struct State {
    var waiting: [String: Waiter] = [:]
    var cache: [String: (at: Int64, answer: JSON)] = [:]
  }

  private let server: LockedWriter
  private let logger: Logger
  private let state = Mutex(State())

  init(server: LockedWriter, logger: Logger) {
    self.server = server
    self.logger = logger
  }

  /// The answers of `requests`, by lookup name, or why one could not be had. `params` are the raw
  /// params of the call that needs them (for the protocol keys of its `_meta`).
  func answers(for requests: [LookupRequest], params: UnsafeRawBufferPointer?, now: Int64) -> Result<
    [String: JSON], ScopeError
  > {
    var answers: [String: JSON] = [:]
    for request in requests {
      switch answer(for: request, params: params, now: now) {
      case .success(let answer): answers[request.name] = answer
      case .failure(let problem):
        return .failure(
          ScopeError("the lookup '\(request.name)' (\(request.tool)) failed: \(problem.message)"))
      }
    }
    return .success(answers)
  }

  private func answer(for request: LookupRequest, params: UnsafeRawBufferPointer?, now: Int64) -> Result<
    JSON, ScopeError
  > {
    let key = request.cacheKey
    if let cached = state.withLock({ $0.cache[key] }), now - cached.at < Self.cacheLifetime {
      return .success(cached.answer)
    }
    let answer = ask(Self.line(id: Self.newID(), request: request, meta: Self.protocolMeta(params)))
      .flatMap { Lookup.answer(fromResponse: $0) }
    if case .success(let value) = answer {
      state.withLock { state in
        if state.cache.count >= Self.cacheLimit {
          state.cache = state.cache.filter { now - $0.value.at < Self.cacheLifetime }
          if state.cache.count >= Self.cacheLimit { state.cache.removeAll() }
        }
        state.cache[key] = (now, value)
      }
    }
    return answer
  }

  /// A request id of warden's own, new each time.
  private static func newID() -> String { idPrefix + randomHex128() }

  /// Sends `line` (a request whose id is the one `line` carries) and waits for the server's response.
  private func ask(_ line: (id: String, bytes: [UInt8])) -> Result<JSONValue, ScopeError> {
    let waiter = Waiter()
    state.withLock { $0.waiting[line.id] = waiter }
    defer { _ = state.withLock { $0.waiting.removeValue(forKey: line.id) } }
    guard server.write(line.bytes) else {
      return .failure(ScopeError("the server's input is closed"))
    }
    guard waiter.signal.wait(timeout: .now() + Self.timeout) == .success,
      let answer = waiter.answer.withLock({ $0 })
    else {
      return .failure(ScopeError("no answer within \(Int(Self.timeout)) s"))
    }
    do {
      return .success(try JSONValue.parse(answer))
    } catch {
      return .failure(ScopeError("the server's answer is not JSON: \(error)"))
    }
  }

  /// The most pages of a paginated `tools/list` warden follows.
  static let toolPagesLimit = 100

  /// The server's tools, every page of them, asked with requests of warden's own (see
  /// `PolicyEngine.observeToolsOnce`: the pins are checked even for a client that never lists).
  func listTools(params: UnsafeRawBufferPointer?) -> Result<[JSONValue], ScopeError> {
    let meta = Self.protocolMeta(params)
    var tools: [JSONValue] = []
    var cursor: String?
    for _ in 0..<Self.toolPagesLimit {
      let response = ask(Self.toolsListLine(id: Self.newID(), cursor: cursor, meta: meta))
      guard case .success(let response) = response else { return response.map { _ in [] } }
      if let error = response["error"] {
        return .failure(
          ScopeError("the server answered tools/list with an error: \(error["message"]?.stringValue ?? "?")"))
      }
      guard let result = response["result"], result.kind == .object, let page = result["tools"],
        page.kind == .array
      else {
        return .failure(ScopeError("the server's tools/list answer has no list of tools"))
      }
      for index in 0..<page.count { if let tool = page[index] { tools.append(tool) } }
      guard let next = result["nextCursor"]?.stringValue, !next.isEmpty else { return .success(tools) }
      cursor = next
    }
    return .failure(ScopeError("the server's tools/list goes on past \(Self.toolPagesLimit) pages"))
  }

  /// Takes the server's response when it answers a lookup warden waits for; false for any other
  /// (a late answer is then dropped by the session, which never sent such a request to the client).
  func deliver(_ line: UnsafeRawBufferPointer, id: RequestID?) -> Bool {
    guard case .string(let text)? = id, text.hasPrefix(Self.idPrefix),
      let waiter = state.withLock({ $0.waiting[text] })
    else { return false }
    let answer = Array(line)
    let first = waiter.answer.withLock { current -> Bool in
      guard current == nil else { return false }
      current = answer
      return true
    }
    if first { waiter.signal.signal() }
    return true
  }

  /// The request line: canonical JSON, warden's id, the protocol keys of the call's `_meta`.
  static func line(id: String, request: LookupRequest, meta: [JSON.Member]) -> (id: String, bytes: [UInt8]) {
    var params: [JSON.Member] = [
      JSON.Member("name", .string(request.tool)), JSON.Member("arguments", request.arguments),
    ]
    if !meta.isEmpty { params.append(JSON.Member("_meta", .object(meta))) }
    return (id, requestBytes(id: id, method: "tools/call", params: params))
  }

  /// A `tools/list` request line of warden's own.
  static func toolsListLine(id: String, cursor: String?, meta: [JSON.Member]) -> (id: String, bytes: [UInt8])
  {
    var params: [JSON.Member] = []
    if let cursor { params.append(JSON.Member("cursor", .string(cursor))) }
    if !meta.isEmpty { params.append(JSON.Member("_meta", .object(meta))) }
    return (id, requestBytes(id: id, method: "tools/list", params: params))
  }

  private static func requestBytes(id: String, method: String, params: [JSON.Member]) -> [UInt8] {
    let message: JSON = .object([
      JSON.Member("jsonrpc", .string("2.0")), JSON.Member("id", .string(id)),
      JSON.Member("method", .string(method)), JSON.Member("params", .object(params)),
    ])
    return message.canonicalBytes + [0x0A]
  }

  /// The `io.modelcontextprotocol/` keys of the `_meta` of `params` (the per-request era's protocol
  /// version, client capabilities and client info); none in the handshake era.
  static func protocolMeta(_ params: UnsafeRawBufferPointer?) -> [JSON.Member] {
    guard let params, let value = try? JSONValue.parse(params), let meta = value["_meta"],
      case .object(let members) = meta.json
    else { return [] }
    return members.filter { $0.key.hasPrefix("io.modelcontextprotocol/") }
  }
}
