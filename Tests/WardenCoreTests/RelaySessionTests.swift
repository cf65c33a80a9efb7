import Testing
import WardenCore
import WardenJSON

func request(_ id: RequestID, _ method: String = "tools/call") -> Envelope {
  Envelope(kind: .request, id: id, method: method)
}

func response(_ id: RequestID?) -> Envelope {
  Envelope(kind: .response, id: id, method: nil)
}

@Suite("Relay session bookkeeping")
struct RelaySessionTests {
  @Test func clientRequestsAreTrackedUntilAnswered() {
    var session = RelaySession(nonce: "n")
    #expect(session.admitFromClient(request(.integer(1))) == .forward)
    #expect(session.admitFromClient(request(.string("1"))) == .forward)
    #expect(session.clientRequests.count == 2)
    #expect(session.admitFromServer(response(.integer(1))) == .forwardResponse(method: "tools/call"))
    // A response to nothing in flight answers nothing: it is dropped.
    #expect(session.admitFromServer(response(.integer(99))) != .forward)
    #expect(session.clientRequests.inFlight.map(\.id) == [.string("1")])
  }

  @Test func aReusedInFlightIDIsRefused() throws {
    var session = RelaySession(nonce: "n")
    #expect(session.admitFromClient(request(.number("7"))) == .forward)
    guard case .answer(let error) = session.admitFromClient(request(.number("7"), "ping")) else {
      Issue.record("expected an answer")
      return
    }
    #expect(error.code == -32600)
    #expect(error.reason == "duplicate-request-id")
    #expect(
      String(decoding: error.line, as: UTF8.self).hasPrefix(
        #"{"jsonrpc":"2.0","id":7,"error":{"code":-32600"#))
    // Once answered, the id may be used again.
    _ = session.admitFromServer(response(.number("7")))
    #expect(session.admitFromClient(request(.number("7"))) == .forward)
  }

  @Test func serverRequestsAndClientAnswers() {
    var session = RelaySession(nonce: "n")
    #expect(session.admitFromServer(request(.number("1"), "elicitation/create")) == .forward)
    #expect(session.serverRequests.count == 1)
    #expect(session.admitFromClient(response(.number("1"))) == .forward)
    #expect(session.serverRequests.count == 0)
  }

  @Test func wardensOwnRequestsNeverReachTheServer() {
    var session = RelaySession(nonce: "abc")
    let id = session.openOwnRequest(method: "elicitation/create")
    #expect(id == .string("warden-abc-1"))
    guard case .consume(let entry) = session.admitFromClient(response(id)) else {
      Issue.record("expected the answer to be consumed")
      return
    }
    #expect(entry.method == "elicitation/create")
    // A second, forged answer to the same id is consumed too, never forwarded.
    guard case .consume = session.admitFromClient(response(id)) else {
      Issue.record("expected the forged answer to be consumed")
      return
    }
  }

  @Test func theServerCannotUseWardensIDs() {
    var session = RelaySession(nonce: "abc")
    guard
      case .answerServer(let error) = session.admitFromServer(request(.string("warden-abc-9"), "roots/list"))
    else {
      Issue.record("expected a refusal")
      return
    }
    #expect(error.reason == "reserved-request-id")
  }

  @Test func serverExitAnswersEveryRequestInFlightInOrder() {
    var session = RelaySession(nonce: "n")
    for index in [3, 1, 2] { _ = session.admitFromClient(request(.number(String(index)))) }
    _ = session.admitFromServer(response(.number("1")))
    let errors = session.serverGone(.killed(signal: 9))
    #expect(errors.map(\.id) == [.number("3"), .number("2")])
    #expect(errors.allSatisfy { $0.code == -32098 })
    #expect(
      errors[0].message == "the server was killed by signal 9 (SIGKILL) before answering \"tools/call\"")
    // Later requests are answered at once.
    guard case .answer(let late) = session.admitFromClient(request(.number("4"))) else {
      Issue.record("expected an answer")
      return
    }
    #expect(late.reason == "server-exited")
  }

  @Test func anInvalidServerLineAnswersTheRequestItWasFor() {
    var session = RelaySession(nonce: "n")
    _ = session.admitFromClient(request(.number("5")))
    let error = session.rejectServerLine(id: .number("5"), problem: "invalid utf-8 at offset 3")
    #expect(error?.code == -32097)
    #expect(session.clientRequests.count == 0)
    #expect(session.rejectServerLine(id: .number("5"), problem: "again") == nil)
    #expect(session.rejectServerLine(id: nil, problem: "no id") == nil)
  }

  /// Issue 14, finding 1: the server answers only what warden forwarded, once.
  @Test func responsesReachTheClientOnlyForForwardedRequests() {
    var session = RelaySession(nonce: "n")
    _ = session.admitFromClient(request(.integer(7)))
    session.withhold(.integer(7))
    // Held: the server never received it, so it cannot answer it, nor close it with a bad line.
    guard case .drop = session.admitFromServer(response(.integer(7))) else {
      Issue.record("a response for a held request was not dropped")
      return
    }
    #expect(session.rejectServerLine(id: .integer(7), problem: "bad") == nil)
    #expect(session.clientRequests.contains(.integer(7)))
    // Never sent, or a guess at warden's own ids: dropped.
    for id in [RequestID.integer(999), .string("warden-0000000000000000-1")] {
      guard case .drop = session.admitFromServer(response(id)) else {
        Issue.record("a response for \(id) was not dropped")
        return
      }
    }
    // Once forwarded, the first response passes and a second does not.
    session.release(.integer(7))
    #expect(session.admitFromServer(response(.integer(7))) == .forwardResponse(method: "tools/call"))
    guard case .drop = session.admitFromServer(response(.integer(7))) else {
      Issue.record("a second response was not dropped")
      return
    }
  }

  @Test func theServerSendsNoRequestsInThePerRequestEra() {
    var session = RelaySession(nonce: "n")
    _ = session.admitFromClient(request(.integer(1), "server/discover"))
    guard case .answerServer(let error) = session.admitFromServer(request(.integer(1), "roots/list")) else {
      Issue.record("expected the server's request to be refused")
      return
    }
    #expect(error.reason == "server-request-forbidden")
  }

  @Test func learnsTheClientAndTheEra() {
    var session = RelaySession(nonce: "n")
    #expect(session.needsClientDetails)
    _ = session.admitFromClient(request(.number("1"), "initialize"))
    session.noteClient(name: "claude-code", protocolVersion: "2025-11-25", perRequest: false)
    #expect(session.clientName == "claude-code")
    #expect(session.era == .handshake(version: "2025-11-25"))
    var modern = RelaySession(nonce: "n")
    _ = modern.admitFromClient(request(.number("1"), "server/discover"))
    modern.noteClient(name: "mcp", protocolVersion: "2026-07-28", perRequest: true)
    #expect(modern.era == .perRequest(version: "2026-07-28"))
  }

  @Test func errorLinesEchoIDsExactly() {
    let number = ErrorResponse(id: .number("1.0"), code: -32600, message: "m", reason: "r")
    #expect(
      String(decoding: number.line, as: UTF8.self)
        == #"{"jsonrpc":"2.0","id":1.0,"error":{"code":-32600,"message":"m","data":{"warden":{"reason":"r"}}}}"#
        + "\n")
    let string = ErrorResponse(id: .string("a\"b"), code: -32700, message: "m", reason: "r")
    #expect(String(decoding: string.line, as: UTF8.self).hasPrefix(#"{"jsonrpc":"2.0","id":"a\"b","#))
    let none = ErrorResponse(id: nil, code: -32700, message: "m", reason: "r")
    #expect(String(decoding: none.line, as: UTF8.self).hasPrefix(#"{"jsonrpc":"2.0","id":null,"#))
  }
}
