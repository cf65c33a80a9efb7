import Testing
import WardenJSON

@Suite("Object members by position")
struct ObjectMembersTests {
  func split(_ text: String) -> Result<[ObjectMembers.Member], ObjectMembers.Problem> {
    Array(text.utf8).withUnsafeBytes { ObjectMembers.split($0) }
  }

  @Test func membersAndTheirValues() throws {
    let text = #"{ "name" : "git_status", "arguments": {"repo_path": "/r", "n": [1, {"a": 2}]}, "x": null }"#
    let members = try split(text).get()
    #expect(members.map(\.key) == ["name", "arguments", "x"])
    let bytes = Array(text.utf8)
    #expect(String(decoding: bytes[members[0].value], as: UTF8.self) == #""git_status""#)
    #expect(
      String(decoding: bytes[members[1].value], as: UTF8.self) == #"{"repo_path": "/r", "n": [1, {"a": 2}]}"#)
    #expect(String(decoding: bytes[members[2].value], as: UTF8.self) == "null")
  }

  @Test func duplicateKeysAreRefusedEvenWhenEscaped() {
    #expect(throws: ObjectMembers.Problem.self) { try split(#"{"a": 1, "a": 2}"#).get() }
    #expect(throws: ObjectMembers.Problem.self) { try split(#"{"name": 1, "n\u0061me": 2}"#).get() }
  }

  @Test func notAnObject() {
    for text in ["[]", "\"x\"", "{", "{\"a\" 1}", "{\"a\":1,}", "{} x", ""] {
      #expect(throws: ObjectMembers.Problem.self, "\(text)") { try split(text).get() }
    }
    #expect((try? split("{}").get())?.isEmpty == true)
  }
}
