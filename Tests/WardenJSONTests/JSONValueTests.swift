import Testing
import WardenJSON

@Suite("JSON values on jansson")
struct JSONValueTests {
  @Test func parsesAndReads() throws {
    let value = try JSONValue.parse(
      #"{"name":"git_status","arguments":{"repo_path":"/r","n":3,"f":1.5,"b":true,"z":null,"l":[1,"two"]}}"#)
    #expect(value.kind == .object)
    #expect(value.keys == ["name", "arguments"])
    #expect(value["name"]?.stringValue == "git_status")
    let arguments = try #require(value["arguments"])
    #expect(arguments["n"]?.integerValue == 3)
    #expect(arguments["f"]?.doubleValue == 1.5)
    #expect(arguments["b"]?.boolValue == true)
    #expect(arguments["z"]?.isNull == true)
    #expect(arguments["l"]?.count == 2)
    #expect(arguments["l"]?[1]?.stringValue == "two")
    #expect(arguments["missing"] == nil)
  }

  @Test func rejectsDuplicateKeys() {
    #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
    #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"x":{"a":1,"a":2}}"#) }
  }

  @Test func reportsWhereParsingFailed() {
    #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\":") }
    #expect(throws: JSONParseError.self) { try JSONValue.parse("") }
  }

  @Test func buildsCompactTextInOrder() {
    let value = JSONValue.object([
      ("z", .integer(1)), ("a", .string("é\"\n")), ("m", .array([.bool(false), .null(), .real(0.5)])),
    ])
    #expect(value.text() == #"{"z":1,"a":"é\"\n","m":[false,null,0.5]}"#)
    #expect(value.setting("a", to: .integer(2)).text() == #"{"z":1,"a":2,"m":[false,null,0.5]}"#)
  }

  @Test func stringsWithNULSurvive() throws {
    let value = try JSONValue.parse(#""a\u0000b""#)
    #expect(value.stringValue == "a\u{0}b")
  }

  @Test func quotedText() {
    #expect(JSONText.quoted("a\"b\\c\u{01}") == #""a\"b\\c\u0001""#)
  }
}
