import Testing
import WardenCore
import WardenJSON

/// Issue 14, finding 2: a resource built from an argument is shown to the human who decides, so an
/// argument that could draw on their screen yields no resource, and the call is denied.
@Suite("Templates refuse what draws on a screen")
struct TemplateControlCharacterTests {
  @Test(arguments: [
    "prod-db\r\u{1B}[2Kmeans: liar.read on db:harmless", "a\nheld: read-only cleanup", "tab\there",
    "del\u{7F}",
    "c1\u{85}", "bidi\u{202E}txt", "isolate\u{2066}x",
  ])
  func aControlCharacterInAnArgumentYieldsNoResource(_ value: String) throws {
    let template = try ResourceTemplate("db:{id}")
    #expect(throws: ScopeError.self) {
      _ = try template.resources(for: .object([JSON.Member("id", .string(value))]), base: nil)
    }
  }

  @Test func ordinaryNamesStillWork() throws {
    let template = try ResourceTemplate("db:{id}")
    let resources = try template.resources(
      for: .object([JSON.Member("id", .string("prod-db é ✓"))]), base: nil)
    #expect(resources.map(\.text) == ["db:prod-db é ✓"])
  }
}
