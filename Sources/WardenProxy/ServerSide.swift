import Logging
import WardenCore
import WardenJSON

/// Judges each line the server sends: valid messages go to the client; anything else is dropped, and
/// a request it was meant to answer gets an error instead. A server speaks only for itself: it
/// answers only what warden forwarded, it cannot write in warden's namespace, and a result warden
/// must amend but cannot read is never passed on unchanged.
final class ServerSide: LineHandler {
  private let session: SharedSession
  private let client: LockedWriter
  private let server: LockedWriter
  private let logger: Logger
  private let maxLine: Int
  private let serverName: String
  private let amender: ResultAmender?
  private let agent: @Sendable () -> String
  /// Told how each forwarded `tools/call` ended, for the audit trail.
  private let onToolResult: (@Sendable (RequestID, CallOutcome) -> Void)?
  /// Takes the answers to warden's own lookups.
  private let lookups: ServerLookups?

  init(
    session: SharedSession, client: LockedWriter, server: LockedWriter, logger: Logger, maxLine: Int,
    serverName: String, amender: ResultAmender?, agent: @escaping @Sendable () -> String,
    onToolResult: (@Sendable (RequestID, CallOutcome) -> Void)? = nil, lookups: ServerLookups? = nil
  ) {
    self.lookups = lookups
    self.onToolResult = onToolResult
    self.session = session
    self.client = client
    self.server = server
    self.logger = logger
    self.maxLine = maxLine
    self.serverName = serverName
    self.amender = amender
    self.agent = agent
  }

  func admit(_ line: UnsafeRawBufferPointer, scanner: inout MessageScanner) -> Admission {
    switch scanner.scan(line) {
    case .blank:
      return .handled
    case .defect(let defect):
      logger.warning("dropped a line from the server: \(defect.detail)")
      reject(
        id: defect.id ?? MessageScanner.peekID(line), problem: defect.detail,
        reason: defect.kind == .embeddedLineBreak ? defect.reason : "invalid-server-message")
      return .handled
    case .message(let envelope):
      // An answer to a lookup warden waits for: taken here, never relayed. (Any other response
      // goes through the session's bookkeeping, which relays only answers to the client's own
      // requests.)
      if envelope.kind == .response, let lookups, lookups.deliver(line, id: envelope.id) {
        return .handled
      }
      let verdict = session.withLock { $0.admitFromServer(envelope) }
      switch verdict {
      case .forwardResponse(let method) where method == "tools/call":
        if let onToolResult, let id = envelope.id { onToolResult(id, Self.outcome(of: envelope, in: line)) }
      case .forward, .forwardResponse:
        break
      case .answerServer(let response):
        logger.warning("refused a request from the server: \(response.message)")
        server.write(response.line)
        return .handled
      case .drop(let why):
        logger.warning("dropped a line from the server: \(why)")
        return .handled
      }
      // Rare: a key in warden's namespace (or an escaped key, or a request state), or the server's
      // own question for the client's user. Read in full and cleaned.
      var cleaned: [UInt8]?
      if envelope.mayCarryReservedKeys
        || (envelope.kind == .request && envelope.method == "elicitation/create")
      {
        switch clean(line) {
        case .success(let bytes): cleaned = bytes
        case .failure(let problem):
          return unreadable(envelope, problem: problem.description, method: nil)
        }
      }
      guard case .forwardResponse(let method) = verdict, let amender, Self.amendedMethods.contains(method)
      else {
        return cleaned.map(Admission.replace) ?? .forward
      }
      let outcome =
        cleaned.map { bytes in
          bytes.withUnsafeBytes { amend(amender, method: method, line: $0) }
        } ?? amend(amender, method: method, line: line, envelope: envelope)
      switch outcome {
      case .unchanged: return cleaned.map(Admission.replace) ?? .forward
      case .replaced(let bytes): return .replace(bytes)
      case .unreadable(let problem): return unreadable(envelope, problem: problem, method: method)
      }
    }
  }

  private static let amendedMethods: Set<String> = ["tools/list", "initialize", "server/discover"]

  /// How a `tools/call` ended: a JSON-RPC error, a tool error (`"isError":true`, looked for only near
  /// the start and the end of the result, where a result's own members are: a large result is not
  /// searched), or a result, with its size.
  static func outcome(of envelope: Envelope, in line: UnsafeRawBufferPointer) -> CallOutcome {
    guard !envelope.isError, let payload = envelope.payload else { return .rpcError }
    let size = payload.count
    let window = 512
    let head = UnsafeRawBufferPointer(
      rebasing: line[payload.lowerBound..<min(payload.upperBound, payload.lowerBound + window)])
    let tail = UnsafeRawBufferPointer(
      rebasing: line[max(payload.lowerBound, payload.upperBound - window)..<payload.upperBound])
    for part in [head, tail]
    where ClientSide.contains(part, "\"isError\":true") || ClientSide.contains(part, "\"isError\": true") {
      return .toolError(bytes: size)
    }
    return .result(bytes: size)
  }

  /// The line with what is warden's taken out, or nil when nothing had to change.
  private func clean(_ line: UnsafeRawBufferPointer) -> Result<[UInt8]?, ServerLineProblem> {
    let value: JSONValue
    do {
      value = try JSONValue.parse(line)
    } catch {
      return .failure(ServerLineProblem(description: "\(error)"))
    }
    guard let (cleaned, removed) = ServerNamespace.clean(value, serverName: serverName) else {
      return .success(nil)
    }
    logger.warning(
      "the server wrote in warden's namespace; taken out before the client saw it: \(removed.joined(separator: ", "))"
    )
    return .success(cleaned.serialized() + [0x0A])
  }

  private func amend(_ amender: ResultAmender, method: String, line: UnsafeRawBufferPointer)
    -> ResultAmender.Outcome
  {
    var scanner = MessageScanner()
    guard case .message(let envelope) = scanner.scan(line) else {
      return .unreadable("warden's own cleaning broke it")
    }
    return amend(amender, method: method, line: line, envelope: envelope)
  }

  private func amend(
    _ amender: ResultAmender, method: String, line: UnsafeRawBufferPointer, envelope: Envelope
  ) -> ResultAmender.Outcome {
    amender.amend(method: method, line: line, envelope: envelope, agent: agent())
  }

  /// A message warden must read but cannot read unambiguously is never passed on unchanged: the
  /// request it answers gets an error naming the problem; anything else is dropped.
  private func unreadable(_ envelope: Envelope, problem: String, method: String?) -> Admission {
    logger.warning(
      "dropped a \(method.map { "\($0) result" } ?? "message") from the server that warden could not read unambiguously: \(problem)"
    )
    if envelope.kind == .response, let id = envelope.id {
      client.write(
        ErrorResponse(
          id: id, code: WardenErrorCode.invalidServerMessage,
          message:
            "the server's \(method.map { "\($0) result" } ?? "answer") could not be read unambiguously (\(problem)); warden did not pass it on",
          reason: "unreadable-server-message"
        ).line)
    }
    return .handled
  }

  func rejectOversized(prefix: [UInt8], length: Int) {
    logger.warning("dropped a line of \(length) bytes from the server: over --max-message \(maxLine)")
    let id = prefix.withUnsafeBytes { MessageScanner.peekID($0) }
    reject(id: id, problem: "\(length) bytes, over the limit of \(maxLine) (--max-message)")
  }

  private func reject(id: RequestID?, problem: String, reason: String = "invalid-server-message") {
    if let response = session.withLock({ $0.rejectServerLine(id: id, problem: problem, reason: reason) }) {
      client.write(response.line)
    }
  }
}

/// Why a server line that must be read could not be.
struct ServerLineProblem: Error, CustomStringConvertible {
  let description: String
}
