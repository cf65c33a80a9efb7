import Logging
import WardenCore
import WardenJSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Judges each line the client sends: valid messages go to the server, bad ones are answered here.
final class ClientSide: LineHandler {
  private let session: SharedSession
  private let client: LockedWriter
  private let logger: Logger
  private let maxLine: Int
  /// Carries out the call machine's decisions on tool calls; nil relays them without judging.
  private let calls: CallExecutor?
  private let agentOverride: String?
  /// Cached from the session so that, once the client is known, no request's params are parsed.
  private var knowsClient = false

  init(
    session: SharedSession, client: LockedWriter, logger: Logger, maxLine: Int, calls: CallExecutor?,
    agentOverride: String?
  ) {
    self.calls = calls
    self.session = session
    self.client = client
    self.logger = logger
    self.maxLine = maxLine
    self.agentOverride = agentOverride
  }

  func admit(_ line: UnsafeRawBufferPointer, scanner: inout MessageScanner) -> Admission {
    switch scanner.scan(line) {
    case .blank:
      return .handled
    case .defect(let defect):
      let kind: String
      switch defect.kind {
      case .notJSON: kind = "parse error"
      case .notJSONRPC: kind = "invalid request"
      case .embeddedLineBreak: kind = "embedded line break"
      }
      if let apparent = defect.apparentKind, apparent != .request {
        // JSON-RPC never answers a notification, and an answer to a response would go nowhere.
        logger.warning("dropped an invalid \(apparent) from the client: \(defect.detail)")
        return .handled
      }
      logger.warning("rejected a line from the client: \(kind): \(defect.detail)")
      answer(
        ErrorResponse(
          id: defect.id, code: defect.errorCode,
          message: "\(kind): \(defect.detail); warden did not forward this line",
          reason: defect.reason))
      return .handled
    case .message(let envelope):
      // `initialize` is always read (it also says whether the client can show a form).
      if envelope.kind == .request, !knowsClient || envelope.method == "initialize" {
        learnClient(from: envelope, line: line)
      }
      switch session.withLock({ $0.admitFromClient(envelope) }) {
      case .forward:
        guard let calls else { return .forward }
        if envelope.kind == .request, envelope.method == "tools/call", let id = envelope.id {
          return judge(
            id: id, line: line, params: envelope.params.map { UnsafeRawBufferPointer(rebasing: line[$0]) },
            calls: calls)
        }
        if envelope.kind == .notification, envelope.method == "notifications/cancelled",
          let params = envelope.params,
          let requestID = Self.cancelledRequestID(UnsafeRawBufferPointer(rebasing: line[params]))
        {
          // A held request's cancellation stops here: the server never saw the request.
          return calls.handle(.cancelled(requestID)) ? .forward : .handled
        }
        return .forward
      case .answer(let response):
        logger.notice("answered \(envelope.method ?? "a request") itself: \(response.message)")
        answer(response)
        return .handled
      case .consume(let entry):
        // An answer to warden's own request: an elicitation asking the human about a held call.
        let answer: CallMachine.ApprovalAnswerInput =
          envelope.isError ? .error : .result(envelope.payload.map { Array(line[$0]) })
        calls?.handle(.questionAnswered(entry.id, answer: answer))
        return .handled
      }
    }
  }

  func rejectOversized(prefix: [UInt8], length: Int) {
    let id = prefix.withUnsafeBytes { MessageScanner.peekID($0) }
    logger.warning("rejected a line of \(length) bytes from the client: over --max-message \(maxLine)")
    answer(
      ErrorResponse(
        id: id, code: WardenErrorCode.invalidRequest,
        message:
          "message of \(length) bytes exceeds the limit of \(maxLine) bytes (--max-message); warden did not forward it",
        reason: "message-too-large"))
  }

  /// The agent identity grants are matched against.
  var agent: String {
    agentOverride ?? session.withLock { $0.clientName } ?? "unknown"
  }

  /// A `tools/call`: decided against the delegation as it is now, then routed by the call machine.
  private func judge(
    id: RequestID, line: UnsafeRawBufferPointer, params: UnsafeRawBufferPointer?, calls: CallExecutor
  )
    -> Admission
  {
    let perRequestEra = session.withLock { session -> Bool in
      if case .perRequest = session.era { return true }
      return false
    }
    // A retry that answers warden's own question (per-request era): resume the held call.
    if let params, let token = Self.wardenRequestState(params) {
      calls.handle(calls.retry(requestID: id, params: params, tokenText: token, agent: agent))
      return .handled
    }
    if calls.gate.engine.configuration.delegationTool, let params, Self.contains(params, "warden_delegation"),
      let value = try? JSONValue.parse(params), value["name"]?.stringValue == DelegationTool.name
    {
      let engine = calls.gate.engine
      let call = ToolCall(
        server: engine.configuration.serverName, agent: agent, tool: DelegationTool.name,
        arguments: .object([]))
      engine.refresh()
      var result = DelegationTool.result(
        server: call.server, agent: agent, liveGrants: engine.liveGrants,
        manifest: engine.configuration.manifest,
        now: PolicyEngine.now())
      if perRequestEra { result = result.setting("resultType", to: .string("complete")) }
      calls.handle(.wardenTool(id, call, response: ProtocolLines.result(id: id, result)))
      return .handled
    }
    let (call, decision) = calls.gate.judge(params: params, agent: agent).callAndDecision
    // Only a call that may be held needs its bytes kept (an approval forwards them); copying every
    // allowed line would cost the hot path.
    let mayBeHeld = decision.verdict == .confirm
    let decided = CallMachine.DecidedCall(
      requestID: id, line: mayBeHeld ? Array(line) : [], params: mayBeHeld ? params.map(Array.init) : nil,
      call: call, decision: decision,
      perRequestEra: perRequestEra,
      // Parsing the params for the capability costs a pass over them: only for a call to hold.
      declaresElicitation: mayBeHeld && perRequestEra && params.map(Self.clientCanElicit) == true,
      at: PolicyEngine.now(), arguments: calls.auditArguments(tool: call.tool, params: params))
    return calls.handle(.call(decided)) ? .forward : .handled
  }

  /// The `requestState` of a call when it is one warden issued (checked cheaply first: most calls
  /// carry none).
  static func wardenRequestState(_ params: UnsafeRawBufferPointer) -> String? {
    guard Self.contains(params, "\"requestState\""),
      let value = try? JSONValue.parse(params), let state = value["requestState"]?.stringValue,
      state.hasPrefix(ConfirmationToken.prefix)
    else { return nil }
    return state
  }

  /// Whether `bytes` contain `needle` (its first byte located with memchr, which runs far faster than a
  /// generic search on large arguments).
  static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
    guard let base = bytes.baseAddress, needle.utf8CodeUnitCount > 0 else { return false }
    let first = Int32(needle.utf8Start[0])
    var offset = 0
    while offset + needle.utf8CodeUnitCount <= bytes.count {
      guard let found = memchr(base + offset, first, bytes.count - offset) else { return false }
      let position = base.distance(to: UnsafeRawPointer(found))
      guard position + needle.utf8CodeUnitCount <= bytes.count else { return false }
      if memcmp(base + position, needle.utf8Start, needle.utf8CodeUnitCount) == 0 { return true }
      offset = position + 1
    }
    return false
  }

  /// Whether this per-request-era call says its client can show an elicitation form.
  static func clientCanElicit(_ params: UnsafeRawBufferPointer) -> Bool {
    guard let value = try? JSONValue.parse(params),
      let elicitation = value["_meta"]?["io.modelcontextprotocol/clientCapabilities"]?["elicitation"]
    else { return false }
    return elicitation.kind == .object
  }

  /// The `requestId` of a `notifications/cancelled`.
  static func cancelledRequestID(_ params: UnsafeRawBufferPointer) -> RequestID? {
    guard let value = try? JSONValue.parse(params), let requestID = value["requestId"] else { return nil }
    switch requestID.kind {
    case .string: return requestID.stringValue.map(RequestID.string)
    case .integer:
      return requestID.integerValue.map { RequestID.integer($0) }
    case .real: return .number(requestID.text())
    default: return nil
    }
  }

  private func answer(_ response: ErrorResponse) {
    client.write(response.line)
  }

  /// Reads the client's name and protocol version from `initialize` or a per-request `_meta`.
  private func learnClient(from envelope: Envelope, line: UnsafeRawBufferPointer) {
    guard let range = envelope.params,
      let params = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: line[range]))
    else { return }
    let meta = params["_meta"]
    if envelope.method == "initialize" {
      let canElicit = params["capabilities"]?["elicitation"].map { $0.kind == .object } ?? false
      session.withLock {
        $0.noteElicitationSupport(canElicit)
        $0.noteClient(
          name: params["clientInfo"]?["name"]?.stringValue,
          protocolVersion: params["protocolVersion"]?.stringValue, perRequest: false)
      }
    } else if let meta, meta["io.modelcontextprotocol/protocolVersion"] != nil {
      session.withLock {
        $0.noteClient(
          name: meta["io.modelcontextprotocol/clientInfo"]?["name"]?.stringValue,
          protocolVersion: meta["io.modelcontextprotocol/protocolVersion"]?.stringValue, perRequest: true)
      }
    }
    knowsClient = session.withLock { !$0.needsClientDetails }
    if knowsClient {
      let (name, rejection) = session.withLock { ($0.clientName, $0.clientNameRejection) }
      if let name {
        logger.info("client identified itself as \"\(name)\"")
      } else if let rejection {
        logger.warning(
          "the client's name \(rejection), so it is not used as an identity: the agent is 'unknown' (pass --agent to name it)"
        )
      }
    }
  }
}
