import Testing
import WardenJSON

/// Scans `text` and returns the outcome.
func scan(_ text: String) -> MessageScanner.Outcome {
  var scanner = MessageScanner()
  return Array(text.utf8).withUnsafeBytes { scanner.scan($0) }
}

func scan(bytes: [UInt8]) -> MessageScanner.Outcome {
  var scanner = MessageScanner()
  return bytes.withUnsafeBytes { scanner.scan($0) }
}

func defect(_ outcome: MessageScanner.Outcome) -> MessageDefect? {
  if case .defect(let defect) = outcome { return defect }
  return nil
}

func envelope(_ outcome: MessageScanner.Outcome) -> Envelope? {
  if case .message(let envelope) = outcome { return envelope }
  return nil
}

@Suite("Message scanner: envelopes")
struct MessageScannerEnvelopeTests {
  @Test func request() throws {
    let line = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{}}}"#
    let found = try #require(envelope(scan(line)))
    #expect(found.kind == .request)
    #expect(found.id == .integer(7))
    #expect(found.method == "tools/call")
    let params = try #require(found.params)
    let bytes = Array(line.utf8)[params]
    #expect(String(decoding: bytes, as: UTF8.self) == #"{"name":"x","arguments":{}}"#)
  }

  @Test func stringIDsAreDecodedAndNumbersKeepTheirLiteral() throws {
    #expect(envelope(scan(#"{"jsonrpc":"2.0","id":"a\u0062c","method":"m"}"#))?.id == .string("abc"))
    #expect(envelope(scan(#"{"jsonrpc":"2.0","id":1.0,"method":"m"}"#))?.id == .number("1.0"))
    #expect(envelope(scan(#"{"jsonrpc":"2.0","id":-12e3,"method":"m"}"#))?.id == .number("-12e3"))
    #expect(
      envelope(scan(#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"m"}"#))?.id
        == .number("123456789012345678901234567890"))
    #expect(RequestID.string("1") != RequestID.integer(1))
  }

  @Test func notification() throws {
    let found = try #require(envelope(scan(#"{"method":"notifications/initialized","jsonrpc":"2.0"}"#)))
    #expect(found.kind == .notification)
    #expect(found.id == nil)
    #expect(found.method == "notifications/initialized")
  }

  @Test func responses() throws {
    let result = try #require(
      envelope(scan(#"{"jsonrpc":"2.0","id":"s-1","result":{"a":[1,2,{"b":null}]}}"#)))
    #expect(result.kind == .response)
    #expect(result.id == .string("s-1"))
    #expect(!result.isError)
    let error = try #require(
      envelope(scan(#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}"#)))
    #expect(error.kind == .response)
    #expect(error.id == nil)
    #expect(error.isError)
  }

  @Test func escapedEnvelopeKeysAreRecognized() throws {
    // "\u0069d" is "id" to every JSON reader, so it must be to warden.
    let found = try #require(envelope(scan(#"{"jsonrpc":"2.0","\u0069d":5,"m\u0065thod":"tools/call"}"#)))
    #expect(found.kind == .request)
    #expect(found.id == .integer(5))
    #expect(found.method == "tools/call")
    #expect(envelope(scan(#"{"jsonrpc":"2.0","id":5,"method":"tools\/call"}"#))?.method == "tools/call")
  }

  @Test func unknownMembersAndWhitespaceAreAccepted() throws {
    let found = try #require(
      envelope(
        scan(
          " \t{ \"x-extra\" : [ true , false , null ] , \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"result\" : { } }\r"
        )))
    #expect(found.kind == .response)
  }

  @Test func blankLines() {
    #expect(scan("") == .blank)
    #expect(scan("   \t\r") == .blank)
  }

  @Test func unicodeInStrings() throws {
    let found = try #require(
      envelope(scan(#"{"jsonrpc":"2.0","id":"é✓😀","method":"x","params":{"t":"日本語 \ud83d\ude00"}}"#)))
    #expect(found.id == .string("é✓😀"))
  }
}

@Suite("Message scanner: defects")
struct MessageScannerDefectTests {
  static let notJSON: [String] = [
    "not json", "{", "{\"jsonrpc\":\"2.0\"", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "{'a':1}",
    "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"\\x\"}",
    "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}", "{} {}", "{}x", "{\"a\":[}", "{\"a\":{]}",
    "{\"a\":\"unterminated}",
    "{\"a\":+1}", "{\"a\":.5}", "{\"a\":NaN}", "{\"a\":Infinity}", "\"just a string", "{\"a\":1}}",
  ]

  @Test(arguments: notJSON)
  func syntaxErrorsAreParseErrors(_ line: String) {
    #expect(defect(scan(line))?.kind == .notJSON, "\(line)")
    #expect(defect(scan(line))?.errorCode == -32700)
  }

  static let invalidUTF8: [[UInt8]] = [
    [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3],
    [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
  ]

  @Test(arguments: invalidUTF8)
  func invalidUTF8IsAParseError(_ sequence: [UInt8]) {
    let line =
      Array(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"t":"abc"#.utf8) + sequence
      + Array(#"defghijklmnop"}}"#.utf8)
    #expect(defect(scan(bytes: line))?.kind == .notJSON)
    // Also where the eight-byte fast path would see it.
    let long =
      Array(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"t":"abcdefghijklmnopqrstuvwx"#.utf8)
      + sequence + Array(#"abcdefghijklmnopqrstuvwxyz"}}"#.utf8)
    #expect(defect(scan(bytes: long))?.kind == .notJSON)
  }

  static let notJSONRPC: [(String, RequestID?)] = [
    (#"{"a":1}"#, nil),
    (#"[{"jsonrpc":"2.0","id":1,"method":"m"}]"#, nil),
    (#"42"#, nil),
    (#"{"jsonrpc":"1.0","id":1,"method":"m"}"#, .integer(1)),
    (#"{"id":1,"method":"m"}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#, nil),
    (#"{"jsonrpc":"2.0","id":1,"method":"m","method":"n"}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1,"\u006dethod":"m","method":"n"}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":{"x":1},"method":"m"}"#, nil),
    (#"{"jsonrpc":"2.0","id":true,"method":"m"}"#, nil),
    (#"{"jsonrpc":"2.0","id":null,"method":"m"}"#, nil),
    (#"{"jsonrpc":"2.0","id":1,"method":5}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1,"method":"m","result":{}}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#, .integer(1)),
    (#"{"jsonrpc":"2.0","id":"r","error":"bad"}"#, .string("r")),
    (#"{"jsonrpc":"2.0","id":null,"result":{}}"#, nil),
    (#"{"jsonrpc":"2.0","result":{}}"#, nil),
    (#"{"jsonrpc":2.0,"id":1,"method":"m"}"#, .integer(1)),
  ]

  @Test(arguments: notJSONRPC)
  func jsonThatIsNotJSONRPCIsAnInvalidRequest(_ line: String, _ id: RequestID?) {
    let found = defect(scan(line))
    #expect(found?.kind == .notJSONRPC, "\(line)")
    #expect(found?.errorCode == -32600)
    #expect(found?.id == id, "\(line)")
  }

  @Test func deepNestingNeedsNoStack() {
    let depth = 200_000
    let line =
      #"{"jsonrpc":"2.0","id":1,"result":"# + String(repeating: "[", count: depth)
      + String(repeating: "]", count: depth) + "}"
    #expect(envelope(scan(line))?.kind == .response)
    let unbalanced = #"{"jsonrpc":"2.0","id":1,"result":"# + String(repeating: "[", count: depth) + "}"
    #expect(defect(scan(unbalanced))?.kind == .notJSON)
  }
}

@Suite("Message scanner: peeking at ids")
struct PeekIDTests {
  static let cases: [(String, RequestID?)] = [
    (#"{"jsonrpc":"2.0","id":42,"result":{"text":"aaaa"#, .integer(42)),
    (#"{"id":"abc","jsonrpc":"2.0","result":"#, .string("abc")),
    (#"{"jsonrpc":"2.0","method":"x","params":{"a":"#, nil),
    (#"{"jsonrpc":"2.0","id":4"#, nil),
    ("garbage", nil),
  ]

  @Test(arguments: cases)
  func peek(_ prefix: String, _ id: RequestID?) {
    let found = Array(prefix.utf8).withUnsafeBytes { MessageScanner.peekID($0) }
    #expect(found == id)
  }
}

@Suite("Message scanner: what an invalid message seems to be")
struct ApparentKindTests {
  static let cases: [(String, MessageKind?)] = [
    (#"{"jsonrpc":"2.0","method":"a","method":"b"}"#, .notification),
    (#"{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}"#, .request),
    (#"{"jsonrpc":"2.0","id":"s","result":{},"error":{"code":1,"message":"x"}}"#, .response),
    (#"{"jsonrpc":"1.0","id":1,"result":{}}"#, .response),
    (#"{"a":1}"#, nil),
  ]

  @Test(arguments: cases)
  func apparentKind(_ line: String, _ kind: MessageKind?) {
    #expect(defect(scan(line))?.apparentKind == kind)
  }
}
