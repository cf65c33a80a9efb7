import Testing
import WardenCore
import WardenJSON

@Suite("Reading a tools/call for a decision")
struct ToolCallReadingTests {
  static func read(_ params: String, wanted: Set<String> = ["repo_path"]) -> Result<
    ToolCallReading, ToolCallReading.Problem
  > {
    Array(params.utf8).withUnsafeBytes { ToolCallReading.read($0, wanted: { _ in wanted }) }
  }

  @Test func onlyTheArgumentsTheManifestReadsAreParsed() throws {
    let params = #"{"name":"git_status","arguments":{"repo_path":"/srv/app","huge":[1,2,3]}}"#
    let reading = try Self.read(params).get()
    #expect(reading.tool == "git_status")
    #expect(reading.arguments == .object([.init("repo_path", .string("/srv/app"))]))
    let range = try #require(reading.argumentsRange)
    #expect(
      String(decoding: Array(params.utf8)[range], as: UTF8.self)
        == #"{"repo_path":"/srv/app","huge":[1,2,3]}"#)
  }

  @Test func argumentBytesAreExactAndNullIsNone() {
    let params = #"{"name":"t","arguments":{ "a" : 1.0 }}"#
    #expect(
      Array(params.utf8).withUnsafeBytes { ToolCallReading.argumentBytes($0) }
        == Array(#"{ "a" : 1.0 }"#.utf8))
    #expect(
      Array(#"{"name":"t","arguments":null}"#.utf8).withUnsafeBytes { ToolCallReading.argumentBytes($0) }
        .isEmpty)
    #expect(Array(#"{"name":"t"}"#.utf8).withUnsafeBytes { ToolCallReading.argumentBytes($0) }.isEmpty)
  }

  static let refused: [String] = [
    #"{"arguments":{}}"#,
    #"{"name":"","arguments":{}}"#,
    #"{"name":7}"#,
    #"{"name":"t","arguments":[1]}"#,
    #"{"name":"t","arguments":"x"}"#,
    #"{"name":"t","name":"u"}"#,
    #"{"name":"t","arguments":{"repo_path":"a","repo_path":"b"}}"#,
    #"{"name":"t","arguments":{"other":{"x":1,"x":2}}}"#,
    #"{"name":"t","arguments":{"n":1e999}}"#,
  ]

  @Test(arguments: refused)
  func anythingUncertainIsRefused(_ params: String) {
    if case .success(let reading) = Self.read(params) { Issue.record("read \(params) as \(reading)") }
  }

  @Test func noParamsIsRefused() {
    if case .success = ToolCallReading.read(nil, wanted: { _ in [] }) { Issue.record("read nil params") }
  }
}
