import Testing

@testable import WardenProxy

@Suite("Finding warden's request state in a call")
struct ByteSearchTests {
  func contains(_ text: String, _ needle: StaticString) -> Bool {
    Array(text.utf8).withUnsafeBytes { ClientSide.contains($0, needle) }
  }

  @Test func finds() {
    #expect(contains(#"{"name":"x","requestState":"warden1.aa"}"#, "\"requestState\""))
    #expect(contains("\"requestState\"", "\"requestState\""))
    #expect(!contains(#"{"name":"x","requestStat":"y"}"#, "\"requestState\""))
    #expect(!contains("", "\"requestState\""))
    #expect(!contains("\"requestStat", "\"requestState\""))
    #expect(contains(String(repeating: "\"", count: 10_000) + "\"requestState\"", "\"requestState\""))
  }

  @Test func wardenStatesOnly() {
    let ours = #"{"name":"x","requestState":"warden1.abc.def"}"#
    let theirs = #"{"name":"x","requestState":"srv-1"}"#
    #expect(Array(ours.utf8).withUnsafeBytes { ClientSide.wardenRequestState($0) } == "warden1.abc.def")
    #expect(Array(theirs.utf8).withUnsafeBytes { ClientSide.wardenRequestState($0) } == nil)
  }
}
