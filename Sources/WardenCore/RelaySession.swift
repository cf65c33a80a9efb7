import WardenJSON

/// The protocol era a session speaks, learned from the client's first messages.
public enum ProtocolEra: Sendable, Equatable {
  case unknown
  /// `initialize` handshake, with the version the client asked for.
  case handshake(version: String?)
  /// Per-request era (2026-07-28 and later): `server/discover`, capabilities in each request's `_meta`.
  case perRequest(version: String?)
}

/// What warden knows about one relayed session: requests in flight each way, the client, the era.
///
/// Pure bookkeeping: every method is a decision on an envelope that returns what to do with it, and
/// the relay performs it. Later policy (grants, holds) is decided on top of this state.
public struct RelaySession: Sendable {
  /// Client-to-server requests awaiting the server's response.
  public private(set) var clientRequests = RequestLedger()
  /// Client requests in flight that warden has not forwarded (held calls): whatever the server
  /// writes with their ids, they stay open until warden forwards or answers them.
  public private(set) var withheld: Set<RequestID> = []
  /// Server-to-client requests awaiting the client's response.
  public private(set) var serverRequests = RequestLedger()
  /// Requests warden itself sent to the client.
  public private(set) var ownRequests = RequestLedger()
  public private(set) var ownIDs: OwnRequestIDs
  public private(set) var era: ProtocolEra = .unknown
  /// The client's self-reported name (`clientInfo.name`), once seen.
  public private(set) var clientName: String?
  /// Set once the server is gone; requests after that are answered by warden.
  public private(set) var serverExit: ServerExit?

  public init(nonce: String) {
    ownIDs = OwnRequestIDs(nonce: nonce)
  }

  // MARK: - From the client

  public enum ClientVerdict: Sendable, Equatable {
    /// Pass the line to the server unchanged.
    case forward
    /// Do not forward; write this line to the client instead.
    case answer(ErrorResponse)
    /// A response to warden's own request: warden consumes it.
    case consume(RequestLedger.Entry)
  }

  public mutating func admitFromClient(_ envelope: Envelope) -> ClientVerdict {
    switch envelope.kind {
    case .request:
      guard let id = envelope.id, let method = envelope.method else { return .forward }
      if let serverExit {
        return .answer(
          ErrorResponse(
            id: id, code: WardenErrorCode.serverExited,
            message: "\(serverExit); the request was not delivered", reason: "server-exited"))
      }
      guard clientRequests.open(id, method: method) else {
        return .answer(
          ErrorResponse(
            id: id, code: WardenErrorCode.invalidRequest,
            message: "request id \(id) is already in use by a request in flight",
            reason: "duplicate-request-id"))
      }
      if method == "initialize", era == .unknown { era = .handshake(version: nil) }
      if method == "server/discover", era == .unknown { era = .perRequest(version: nil) }
      return .forward
    case .response:
      guard let id = envelope.id else { return .forward }
      if ownIDs.isOwn(id) {
        if let entry = ownRequests.close(id) { return .consume(entry) }
        // An answer to an id warden never sent (or already answered) must not reach the server.
        return .consume(RequestLedger.Entry(id: id, method: "", sequence: 0))
      }
      _ = serverRequests.close(id)
      return .forward
    case .notification:
      return .forward
    }
  }

  /// Why the name the client gave was not taken as its identity, if it was not.
  public private(set) var clientNameRejection: String?

  /// Records what the client said about itself in `initialize` or a request's `_meta`. A name that
  /// is not a plausible identity (see `ClientName`) is not used: the agent is then `unknown`.
  public mutating func noteClient(name: String?, protocolVersion: String?, perRequest: Bool) {
    if clientName == nil, clientNameRejection == nil, let name, !name.isEmpty {
      switch ClientName.validated(name) {
      case .success(let valid): clientName = valid
      case .failure(let rejection):
        // Kept raw: whoever shows it escapes it (the log handler does).
        clientNameRejection = "\"\(String(name.prefix(80)))\" \(rejection.reason)"
      }
    }
    if perRequest {
      if case .perRequest(nil) = era { era = .perRequest(version: protocolVersion) }
      if era == .unknown { era = .perRequest(version: protocolVersion) }
    } else if let protocolVersion {
      era = .handshake(version: protocolVersion)
    }
  }

  /// Whether the client said, in `initialize`, that it can show an elicitation form to its user.
  public private(set) var clientCanElicit = false

  public mutating func noteElicitationSupport(_ supported: Bool) {
    clientCanElicit = supported
  }

  /// Whether the client's identity still has to be learned from a request's params.
  public var needsClientDetails: Bool { clientName == nil && clientNameRejection == nil }

  // MARK: - From the server

  public enum ServerVerdict: Sendable, Equatable {
    case forward
    /// A response to the client's request with this method: forward it (warden may amend it first).
    case forwardResponse(method: String)
    /// Do not forward; write this line to the server instead.
    case answerServer(ErrorResponse)
    /// Do not forward, for this reason (to log): a response to nothing warden forwarded.
    case drop(String)
  }

  public mutating func admitFromServer(_ envelope: Envelope) -> ServerVerdict {
    switch envelope.kind {
    case .response:
      // A response reaches the client only for a request warden forwarded and has not yet seen
      // answered: a server must not answer a held call it never received, a request already
      // answered, or a request nobody sent.
      guard let id = envelope.id else {
        return .drop("a response without an id answers no request warden forwarded")
      }
      if !withheld.isEmpty, withheld.contains(id) {
        return .drop("a response for request \(id), which warden is holding and did not forward")
      }
      guard let entry = clientRequests.close(id) else {
        return .drop(
          "a response for request \(id), which warden did not forward or which was already answered")
      }
      return .forwardResponse(method: entry.method)
    case .request:
      guard let id = envelope.id, let method = envelope.method else { return .forward }
      if ownIDs.isOwn(id) {
        // Practically impossible (the nonce is random and never shown to the server), but if it
        // happened the client's answer would be taken for warden's: refuse the request instead.
        return .answerServer(
          ErrorResponse(
            id: id, code: WardenErrorCode.invalidRequest,
            message: "request id \(id) is reserved by warden", reason: "reserved-request-id"))
      }
      if case .perRequest = era {
        // The 2026-07-28 stdio transport has no server-to-client requests: a server asks for
        // input through `input_required` results instead.
        return .answerServer(
          ErrorResponse(
            id: id, code: WardenErrorCode.invalidRequest,
            message:
              "servers do not send requests over stdio in protocol 2026-07-28 (use an input_required result); warden did not forward \"\(method)\"",
            reason: "server-request-forbidden"))
      }
      _ = serverRequests.open(id, method: method)
      return .forward
    case .notification:
      return .forward
    }
  }

  /// A line from the server that failed the checks: if its id answers a request in flight, the client
  /// gets an error for that request instead of waiting forever.
  public mutating func rejectServerLine(
    id: RequestID?, problem: String, reason: String = "invalid-server-message"
  ) -> ErrorResponse? {
    guard let id, !withheld.contains(id), clientRequests.close(id) != nil else { return nil }
    return ErrorResponse(
      id: id, code: WardenErrorCode.invalidServerMessage,
      message: "the server's answer was not a valid JSON-RPC message (\(problem)); warden did not pass it on",
      reason: reason)
  }

  /// Warden answered this client request itself (a denied tool call): it is no longer in flight.
  public mutating func answeredByWarden(_ id: RequestID) {
    _ = clientRequests.close(id)
    withheld.remove(id)
  }

  /// Warden holds this client request instead of forwarding it (yet).
  public mutating func withhold(_ id: RequestID) {
    withheld.insert(id)
  }

  /// Warden forwards a request it held: the server's response is now awaited.
  public mutating func release(_ id: RequestID) {
    withheld.remove(id)
  }

  // MARK: - Warden's own requests

  /// Allocates an id for a request warden sends to the client and records it in flight.
  public mutating func openOwnRequest(method: String) -> RequestID {
    let id = ownIDs.next()
    _ = ownRequests.open(id, method: method)
    return id
  }

  // MARK: - The end

  /// Marks the server gone and returns an error for every client request still in flight, oldest first.
  public mutating func serverGone(_ exit: ServerExit) -> [ErrorResponse] {
    serverExit = exit
    withheld.removeAll()
    return clientRequests.removeAll().map { entry in
      ErrorResponse(
        id: entry.id, code: WardenErrorCode.serverExited,
        message: "\(exit) before answering \"\(entry.method)\"", reason: "server-exited",
        details: exitDetails(exit))
    }
  }

  private func exitDetails(_ exit: ServerExit) -> [(String, JSONValue)] {
    switch exit {
    case .exited(let status): return [("exitStatus", .integer(Int64(status)))]
    case .killed(let signal): return [("signal", .integer(Int64(signal)))]
    }
  }
}
