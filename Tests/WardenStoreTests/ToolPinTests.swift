import Testing
import WardenCore
import WardenJSON
import WardenStore

@Suite struct ToolPinTests {
  let command = ToolPinning.commandKey(["uvx", "mcp-server-notes"])

  func observe(
    _ store: any DelegationStore, _ definitions: [(String, String)], pinNew: Bool = false,
    server: String = "notes"
  )
    throws -> [String]
  {
    try store.observeTools(
      server: server, command: command, definitions: definitions.map { (tool: $0.0, definition: $0.1) },
      pinNew: pinNew, at: 5
    ).changes.map { "\($0.tool) \($0.state.rawValue)" }
  }

  @Test(arguments: Backend.all) func firstSightPinsThenChangesAndAdditionsDrift(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let before = try store.changeToken()
      #expect(try observe(store, [("read", "r1"), ("send", "s1")]).isEmpty)
      #expect(try store.changeToken() > before)
      #expect(try store.driftedTools(server: "notes", command: command).isEmpty)
      // As pinned: nothing changes, and nothing is written.
      let token = try store.changeToken()
      #expect(try observe(store, [("read", "r1"), ("send", "s1")]).isEmpty)
      #expect(try store.changeToken() == token)
      // A new description, a rename: both drift; the vanished tool is not flagged.
      #expect(
        try observe(store, [("read", "r2"), ("send_note", "s1")]) == ["read changed", "send_note added"])
      #expect(
        try store.driftedTools(server: "notes", command: command) == ["read": .changed, "send_note": .added])
      // Seen again the same way: already known; the other instance and command have pins of their own.
      #expect(try observe(store, [("read", "r2")]).isEmpty)
      #expect(try observe(store, [("read", "r9")], server: "notes-2").isEmpty)
      #expect(
        try store.driftedTools(server: "notes", command: ToolPinning.commandKey(["other"])).isEmpty)
      // The server going back to the accepted definition ends the drift.
      #expect(try observe(store, [("read", "r1")]) == ["read pinned"])
      #expect(try store.driftedTools(server: "notes", command: command) == ["send_note": .added])
    }
  }

  @Test(arguments: Backend.all) func theFirstSessionPinsItsLaterPages(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      #expect(try observe(store, [("a", "1")]).isEmpty)
      #expect(try observe(store, [("b", "1")], pinNew: true).isEmpty)
      #expect(try observe(store, [("c", "1")]) == ["c added"])
    }
  }

  @Test(arguments: Backend.all) func acceptingPinsWhatWasSeen(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      _ = try observe(store, [("read", "r1"), ("send", "s1")])
      _ = try observe(store, [("read", "r2"), ("new", "n1")])
      #expect(
        try store.acceptTools(server: "notes", tool: "read", by: "alice", at: 9).map(\.tool) == ["read"])
      #expect(try store.driftedTools(server: "notes", command: command) == ["new": .added])
      let pins = try store.toolPins(server: "notes")
      let read = try #require(pins.first { $0.tool == "read" })
      #expect(
        read.pinned == "r2" && read.observed == nil && read.state == .pinned && read.acceptedBy == "alice")
      #expect(try store.acceptTools(server: "notes", tool: nil, by: "alice", at: 9).map(\.tool) == ["new"])
      #expect(try store.acceptTools(server: "notes", tool: nil, by: "alice", at: 9).isEmpty)
      #expect(try observe(store, [("read", "r2"), ("new", "n1")]).isEmpty)
    }
  }

  @Test func theDefinitionLeavesOutMeta() throws {
    let tool = try JSONValue.parse(
      #"{"name":"t","description":"d","inputSchema":{"type":"object"},"_meta":{"x":1},"icons":[]}"#)
    #expect(
      ToolPinning.definition(of: tool) == #"{"description":"d","inputSchema":{"type":"object"},"name":"t"}"#)
    #expect(ToolPinning.definition(of: try JSONValue.parse(#"{"description":"d"}"#)) == nil)
    #expect(ToolPinning.commandKey(["a b", "c\"d"]) == #"["a b","c\"d"]"#)
  }
}
