import Testing
import WardenCore
import WardenJSON

/// The conversation `warden manifest init` has with a server, event by event, without a process.
@Suite struct ToolListingTests {
  /// The messages the actions send, parsed, and the other actions as they are.
  func sent(_ actions: [ToolListing.Action]) -> [JSON] {
    actions.compactMap { action in
      guard case .send(let line) = action else { return nil }
      #expect(line.last == 0x0A && line.dropLast().firstIndex(of: 0x0A) == nil, "one line")
      return try? JSONValue.parse(Array(line.dropLast())).json
    }
  }

  func answer(_ request: JSON, _ member: String) -> [UInt8] {
    let id = request["id"]?.stringValue ?? ""
    return Array(#"{"jsonrpc":"2.0","id":"\#(id)",\#(member)}"#.utf8)
  }

  @Test func perRequestEraWithPages() throws {
    var machine = ToolListing(clientVersion: "1")
    let discover = try #require(sent(machine.started()).first)
    #expect(discover["method"]?.stringValue == "server/discover")
    #expect(
      discover["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"]?.stringValue == "2026-07-28")
    let list = try #require(
      sent(machine.received(answer(discover, #""result":{"supportedVersions":["2026-07-28"]}"#))).first)
    #expect(list["method"]?.stringValue == "tools/list")
    #expect(list["params"]?["_meta"] != nil)
    let next = try #require(
      sent(machine.received(answer(list, #""result":{"tools":[{"name":"a"}],"nextCursor":"p2"}"#))).first)
    #expect(next["params"]?["cursor"]?.stringValue == "p2")
    let done = machine.received(answer(next, #""result":{"tools":[{"name":"b"}],"resultType":"complete"}"#))
    guard case .finished(let tools, let era)? = done.first else {
      Issue.record("not finished: \(done)")
      return
    }
    #expect(tools.compactMap { $0["name"]?.stringValue } == ["a", "b"])
    #expect(era == .perRequest("2026-07-28"))
  }

  @Test func handshakeAfterAnUnknownDiscover() throws {
    var machine = ToolListing(clientVersion: "1")
    let discover = try #require(sent(machine.started()).first)
    let initialize = try #require(
      sent(machine.received(answer(discover, #""error":{"code":-32601,"message":"Method not found"}"#))).first
    )
    #expect(initialize["method"]?.stringValue == "initialize")
    #expect(initialize["params"]?["_meta"] == nil)
    let next = sent(machine.received(answer(initialize, #""result":{"protocolVersion":"2025-06-18"}"#)))
    #expect(next.map { $0["method"]?.stringValue } == ["notifications/initialized", "tools/list"])
    let done = machine.received(answer(next[1], #""result":{"tools":[{"name":"a"}]}"#))
    #expect(
      done.first
        == .finished(tools: [.object([JSON.Member("name", .string("a"))])], era: .handshake("2025-06-18")))
  }

  @Test func aSilentDiscoverGetsTheHandshakeBesideIt() throws {
    var machine = ToolListing(clientVersion: "1")
    let discover = try #require(sent(machine.started()).first)
    #expect(machine.isProbing)
    let initialize = try #require(sent(machine.probeExpired()).first)
    #expect(initialize["method"]?.stringValue == "initialize")
    #expect(!machine.isProbing)
    // The discover answer arrives late after all: the first success fixes the era.
    let list = try #require(sent(machine.received(answer(discover, #""result":{}"#))).first)
    #expect(list["params"]?["_meta"] != nil)
    #expect(machine.received(answer(initialize, #""error":{"code":-32600,"message":"wrong era"}"#)).isEmpty)
  }

  @Test func refusedBothWaysRestartsOnceWithInitializeAlone() throws {
    var machine = ToolListing(clientVersion: "1")
    let discover = try #require(sent(machine.started()).first)
    let initialize = try #require(
      sent(machine.received(answer(discover, #""error":{"code":-32601,"message":"no"}"#))).first)
    #expect(
      machine.received(answer(initialize, #""error":{"code":-32600,"message":"era fixed"}"#)) == [.restart])
    let again = try #require(sent(machine.started()).first)
    #expect(again["method"]?.stringValue == "initialize")
    let failed = machine.received(answer(again, #""error":{"code":-32600,"message":"still \u001b no"}"#))
    guard case .failed(let reason)? = failed.first else {
      Issue.record("not failed: \(failed)")
      return
    }
    #expect(reason.contains("initialize: still  no (-32600)"))
  }

  @Test func anExitBeforeTheListRestartsOnceThenFails() throws {
    var machine = ToolListing(clientVersion: "1")
    _ = machine.started()
    #expect(machine.serverClosed() == [.restart])
    _ = machine.started()
    #expect(machine.serverClosed() == [.failed("the server exited before it listed its tools")])
  }

  @Test func serverRequestsAreAnsweredAndPagesThatLoopFail() throws {
    var machine = ToolListing(clientVersion: "1")
    let discover = try #require(sent(machine.started()).first)
    let answered = sent(machine.received(Array(#"{"jsonrpc":"2.0","id":7,"method":"roots/list"}"#.utf8)))
    #expect(answered.first?["error"]?["code"] == .number("-32601"))
    #expect(machine.received(Array("not json".utf8)).isEmpty)
    let list = try #require(sent(machine.received(answer(discover, #""result":{}"#))).first)
    let next = try #require(
      sent(machine.received(answer(list, #""result":{"tools":[],"nextCursor":"x"}"#))).first)
    let looped = machine.received(answer(next, #""result":{"tools":[],"nextCursor":"x"}"#))
    guard case .failed(let reason)? = looped.first else {
      Issue.record("not failed: \(looped)")
      return
    }
    #expect(reason.contains("never end"))
  }
}
