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
  private let gate: ToolCallGate?
  private let holds: HoldKeeper?
  private let agentOverride: String?
  /// Cached from the session so that, once the client is known, no request's params are parsed.
  private var knowsClient = false

  init(
    session: SharedSession, client: LockedWriter, logger: Logger, maxLine: Int, gate: ToolCallGate?,
    holds: HoldKeeper?, agentOverride: String?
  ) {
    self.holds = holds
    self.session = session
    self.client = client
    self.logger = logger
    self.maxLine = maxLine
    self.gate = gate
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
        if let gate, envelope.kind == .request, envelope.method == "tools/call", let id = envelope.id {
          return judge(
            id: id, line: line, params: envelope.params.map { UnsafeRawBufferPointer(rebasing: line[$0]) },
            gate: gate)
        }
        if let holds, envelope.kind == .notification, envelope.method == "notifications/cancelled",
          let params = envelope.params,
          let requestID = Self.cancelledRequestID(UnsafeRawBufferPointer(rebasing: line[params])),
          holds.cancel(requestID: requestID)
        {
          // The request was held: the server never saw it, so it must not see its cancellation.
          return .handled
        }
        return .forward
      case .answer(let response):
        logger.notice("answered \(envelope.method ?? "a request") itself: \(response.message)")
        answer(response)
        return .handled
      case .consume(let entry):
        // An answer to warden's own request: an elicitation asking the human about a held call.
        holds?.elicitationAnswered(requestID: entry.id, envelope: envelope, line: line)
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

  private func judge(
    id: RequestID, line: UnsafeRawBufferPointer, params: UnsafeRawBufferPointer?, gate: ToolCallGate
  ) -> Admission {
    let perRequestEra = session.withLock { session -> Bool in
      if case .perRequest = session.era { return true }
      return false
    }
    // A retry that answers warden's own question (per-request era): resume the held call.
    if let holds, let params, let token = Self.wardenRequestState(params) {
      switch holds.resume(requestID: id, params: params, tokenText: token, gate: gate, agent: agent) {
      case .forward(let bytes):
        return .replace(bytes)
      case .refuse(let call, let decision):
        logger.notice("denied a retried \(call.tool): \(decision.explanation)")
        session.withLock { $0.answeredByWarden(id) }
        client.write(gate.refusal(id: id, call: call, decision: decision, perRequestEra: true))
        return .handled
      }
    }
    let (call, decision) = gate.judge(params: params, agent: agent).callAndDecision
    let context = CallRoute.Context(
      perRequestEra: perRequestEra, holdsAvailable: holds != nil,
      clientMayBeAsked: holds?.clientMayBeAsked ?? false,
      // Parsing the params for the capability costs a pass over them: only for a call to hold.
      requestDeclaresElicitation: decision.verdict == .confirm && perRequestEra
        && params.map(Self.clientCanElicit) == true)
    let denial: Authorization
    switch CallRoute.of(decision, in: context) {
    case .forward:
      logger.info("allowed \(call.tool) for \(call.agent): \(decision.explanation)")
      return .forward
    case .holdAndAskInResult(let decision):
      if let holds,
        let question = holds.holdAndAsk(requestID: id, params: params, call: call, decision: decision)
      {
        session.withLock { $0.answeredByWarden(id) }
        client.write(question)
        return .handled
      }
      denial = CallRoute.holdNotRecorded(decision)
    case .hold(let decision):
      if let holds,
        holds.hold(
          requestID: id, line: line, params: params, call: call, decision: decision,
          perRequestEra: perRequestEra)
      {
        return .handled
      }
      denial = CallRoute.holdNotRecorded(decision)
    case .deny(let decision):
      denial = decision
    }
    // The command that would allow it goes to the human's log, never to the agent.
    let command = DelegationText.suggestedGrant(for: call, authorization: denial).map {
      "; to allow it: \($0)"
    }
    logger.notice(
      "denied \(call.tool.isEmpty ? "a tool call" : call.tool) for \(call.agent): \(denial.explanation)\(command ?? "")"
    )
    session.withLock { $0.answeredByWarden(id) }
    client.write(gate.refusal(id: id, call: call, decision: denial, perRequestEra: perRequestEra))
    return .handled
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
