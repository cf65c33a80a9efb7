import Testing
import WardenJSON

/// The audit chain's records are written by `CanonicalObject` and checked by the verifier against
/// jansson's canonical dump: the two must agree on every string, or an honest record reads as edited.
@Suite("Canonical objects")
struct CanonicalObjectTests {
  /// Strings with everything that is escaped, or could wrongly be: quotes, backslashes, every C0
  /// control, DEL, slashes, non-ASCII, astral characters, bidi controls.
  static let strings: [String] = {
    var strings = [
      "", "plain", "\"quoted\"", "back\\slash", "/slash/", "\u{7F}", "é", "日本", "🙂", "\u{202E}rtl",
      "a\"b\\c\nd\u{1}e\u{1F}", "\"\"", "{\"text\":\"hello\"}", "ends with \"", "\\starts",
    ]
    strings += (0..<32).map { String(UnicodeScalar(UInt8($0))) + "x" }
    return strings
  }()

  @Test(arguments: strings) func aStringIsWrittenAsJanssonWritesIt(_ string: String) throws {
    var object = CanonicalObject()
    object.set("k", string)
    // jansson refuses NUL in keys; records have none.
    if !string.utf8.contains(0) { object.set(string, Int64(1)) }
    let parsed = try JSONValue.parse(object.bytes)
    #expect(parsed.canonicalText() == object.text)
    #expect(parsed["k"]?.stringValue == string)
  }

  @Test func membersAreSortedByTheirBytesWhateverOrderTheyAreSetIn() throws {
    var generator = SystemRandomNumberGenerator()
    let keys = [
      "v", "at", "agent", "action", "seq", "prev", "result_bytes", "reason", "é", "Z", "a_b", "ab", "a",
    ]
    for _ in 0..<50 {
      var object = CanonicalObject()
      for key in keys.shuffled(using: &generator) {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: object.set(key, Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 1: object.set(key, Bool.random(using: &generator))
        case 2: object.set(key, Self.strings.shuffled(using: &generator).prefix(3).map { $0 })
        case 3:
          var inner = CanonicalObject()
          inner.set("z", "last")
          inner.set("a", "first")
          object.set(key, [inner, CanonicalObject()])
        default: object.set(key, Self.strings.randomElement(using: &generator)!)
        }
      }
      let parsed = try JSONValue.parse(object.bytes)
      #expect(parsed.canonicalText() == object.text)
      #expect(parsed.count == keys.count)
      // Members added in passing (keys the object lacks) land where setting them would put them.
      var complete = object
      complete.set("prevx", "a\"b")
      complete.set("sez", Int64(42))
      complete.set("0", true)
      #expect(
        object.bytes(inserting: [
          ("0", Array("true".utf8)), ("prevx", CanonicalObject.encoded("a\"b")), ("sez", Array("42".utf8)),
        ]) == complete.bytes)
    }
  }

  @Test func membersInsertedInPassingLandAtEitherEndAndInAnEmptyObject() {
    #expect(CanonicalObject().bytes(inserting: [("k", Array("1".utf8))]) == Array(#"{"k":1}"#.utf8))
    #expect(CanonicalObject().bytes(inserting: []) == Array("{}".utf8))
    var object = CanonicalObject()
    object.set("m", "x")
    object.set("n", Int64(2))
    #expect(
      object.bytes(inserting: [("a", Array("0".utf8)), ("z", Array("9".utf8))])
        == Array(#"{"a":0,"m":"x","n":2,"z":9}"#.utf8))
    #expect(
      object.bytes(inserting: [("m0", Array("0".utf8)), ("n0", Array("9".utf8))])
        == Array(#"{"m":"x","m0":0,"n":2,"n0":9}"#.utf8))
    #expect(object.bytes(inserting: []) == object.bytes)
  }

  @Test func settingAKeyAgainReplacesIt() {
    var object = CanonicalObject()
    object.set("a", "one")
    object.set("a", Int64(2))
    #expect(object.text == #"{"a":2}"#)
    object.set("c", "3")
    object.set("b", true)
    object.set("b", "a longer value")
    object.set("a", Int64(10))
    #expect(object.text == #"{"a":10,"b":"a longer value","c":"3"}"#)
  }

  @Test func anObjectReadFromJSONIsWrittenCanonically() throws {
    let value = try JSONValue.parse(#"{"z":[1,{"b":2,"a":"\u0001"}],"a":{"y":null,"x":1.5}}"#)
    let object = try #require(CanonicalObject(value))
    #expect(object.text == value.canonicalText())
    #expect(CanonicalObject(try JSONValue.parse("[1]")) == nil)
  }
}
