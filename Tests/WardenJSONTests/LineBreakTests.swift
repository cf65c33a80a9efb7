import Testing
import WardenJSON

/// A carriage return ends a line for the Python SDK's reader (universal newlines) and for Java's and
/// .NET's line readers: a message with one inside is two messages to them and one to a scanner that
/// took `\r` for whitespace. Only a `\r` right before the terminator is accepted.
@Suite("Message scanner: line breaks other than the terminator")
struct LineBreakTests {
  static let smuggled: [String] = [
    // The finding: a harmless notification to warden, a tools/call to the server.
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"x\":\r"
      + "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"git_create_branch\"}}\r}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"\r,\"params\":{}}",
    "\r{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\r",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\",\"arguments\":{\"b\":[1,\r2]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[]}\r}",
  ]

  @Test(arguments: smuggled)
  func carriageReturnInsideALineIsRefused(_ line: String) throws {
    let found = try #require(defect(scan(line)))
    #expect(found.kind == .embeddedLineBreak)
    #expect(found.reason == "embedded-line-break")
    #expect(found.errorCode == -32600)
  }

  @Test func theIDBeforeTheBreakIsKeptForTheAnswer() throws {
    let found = try #require(defect(scan("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\"\r}")))
    #expect(found.id == .integer(42))
  }

  @Test func oneCarriageReturnBeforeTheTerminatorIsALineEnd() throws {
    let found = try #require(envelope(scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r")))
    #expect(found.method == "ping")
    #expect(scan("\r") == .blank)
    #expect(scan("  \r") == .blank)
  }

  @Test func escapedCarriageReturnsInStringsAreData() throws {
    let found = try #require(
      envelope(scan(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"text":"a\r\nb"}}"#)))
    #expect(found.kind == .request)
  }

  @Test func rawControlCharactersInStringsStayParseErrors() throws {
    let found = try #require(
      defect(scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"x\u{0B}\"}}")))
    #expect(found.kind == .notJSON)
  }
}
