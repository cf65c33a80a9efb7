import Testing
import WardenCore
import WardenJSON

@testable import WardenProxy

@Suite struct ServerLookupsTests {
  @Test func theRequestLineCarriesOnlyTheProtocolKeysOfTheCall() throws {
    let params = Array(
      #"{"name":"delete_volume","arguments":{"volume_id":"v"},"_meta":{"progressToken":7,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c"}}}"#
        .utf8)
    let meta = params.withUnsafeBytes { ServerLookups.protocolMeta($0) }
    #expect(
      meta.map(\.key) == ["io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientInfo"])
    let request = LookupRequest(
      name: "volume", tool: "get_volume", arguments: .object([JSON.Member("volume_id", .string("v"))]))
    let line = String(
      decoding: ServerLookups.line(id: "warden-lookup-1", request: request, meta: meta).bytes, as: UTF8.self)
    #expect(
      line
        == #"{"id":"warden-lookup-1","jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientInfo":{"name":"c"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"volume_id":"v"},"name":"get_volume"}}"#
        + "\n")
    #expect([UInt8](#"{"name":"x"}"#.utf8).withUnsafeBytes { ServerLookups.protocolMeta($0) }.isEmpty)
  }
}
