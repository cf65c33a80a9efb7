import Testing
import WardenJSON

/// Values that mean different things to different readers are found at any depth; values that mean
/// one thing pass.
@Suite("Ambiguity check of a call's bytes")
struct AmbiguityCheckTests {
  static func problem(_ text: String) -> String? {
    Array(text.utf8).withUnsafeBytes { AmbiguityCheck.firstAmbiguity(in: $0) }
  }

  static let ambiguous: [String] = [
    #"{"a":1,"a":2}"#,
    #"{"name":"send","arguments":{"to":"me","body":{"x":1,"x":"EXFIL"}}}"#,
    #"{"a":[{"b":{"c":1,"c":2}}]}"#,
    #"{"a":1,"\u0061":2}"#,
    #"{"n":1e999}"#,
    #"{"n":-1e999}"#,
    #"{"n":12345678901234567890}"#,
    #"{"n":-9223372036854775809}"#,
    #"{"s":"\ud800"}"#,
    #"{"s":"\udc00\ud800"}"#,
    #"{"s":"\ud800x"}"#,
    #"{"\ud800":1}"#,
    // Found by fuzzing: keys that C-string readers cut at the NUL, and bytes that are not JSON.
    #"{"a\u0000":1,"a":2}"#,
    "]", "}", "[1 2]", #"{"a" "b"}"#, "1 2", "",
  ]

  @Test(arguments: ambiguous)
  func ambiguousValuesAreFound(_ text: String) {
    #expect(Self.problem(text) != nil, "\(text)")
  }

  static let plain: [String] = [
    #"{}"#, #"[]"#, #"{"a":{"a":{"a":1}}}"#, #"[{"a":1},{"a":2}]"#,
    #"{"n":9223372036854775807,"m":-9223372036854775808}"#,
    #"{"x":1.5e300,"y":-0.0,"z":1e-999}"#,
    #"{"s":"\ud83d\ude00 \u00e9 \n"}"#,
    "{\"K\":1,\"\u{212A}\":2}",
    "{\"caf\u{E9}\":1,\"cafe\u{301}\":2}",
    #"{"a" : [ 1 , 2 ] , "b" : null , "c" : true , "d" : false}"#,
  ]

  @Test(arguments: plain)
  func plainValuesPass(_ text: String) {
    #expect(Self.problem(text) == nil, "\(text)")
  }

  @Test func theProblemNamesTheKey() {
    #expect(Self.problem(#"{"body":{"to":1,"to":2}}"#)?.contains("\"to\"") == true)
  }
}
