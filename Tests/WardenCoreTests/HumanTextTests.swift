import Testing
import WardenCore

@Suite("What a human reads")
struct HumanTextTests {
  @Test func plainTextIsUnchanged() {
    #expect(HumanText.escaped("git_reset on repo:/srv/app") == "git_reset on repo:/srv/app")
    #expect(HumanText.escaped("café ✓ 日本") == "café ✓ 日本")
  }

  static let hostile: [(String, String)] = [
    ("evil\n  tool:      git_status", "evil\\n  tool:      git_status"),
    ("a\rb", "a\\rb"),
    ("\u{1B}[8mhidden\u{1B}[0m", "\\e[8mhidden\\e[0m"),
    ("\u{1B}[2K", "\\e[2K"),
    ("abc\u{202E}gnp.exe", "abc\\u{202E}gnp.exe"),
    ("x\u{2028}y\u{2029}z", "x\\u{2028}y\\u{2029}z"),
    ("bell\u{07}", "bell\\u{7}"),
    ("c1\u{9B}31m", "c1\\u{9B}31m"),
    ("zero\u{200B}width", "zero\\u{200B}width"),
    ("back\\slash", "back\\\\slash"),
  ]

  @Test(arguments: hostile)
  func controlAndBidiCharactersAreShownAsEscapes(_ text: String, _ expected: String) {
    let shown = HumanText.escaped(text)
    #expect(shown == expected)
    #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
  }

  @Test func longTextIsCutWithItsLength() {
    let shown = HumanText.shortened(String(repeating: "a", count: 50), limit: 10, rest: "see more")
    #expect(shown == "aaaaaaaaaa… (50 bytes in all; see more)")
  }

  static let names: [(String, Bool)] = [
    ("claude-code", true), ("cursor", true), ("team/bot@host:1.2+x_y", true),
    ("", false), (String(repeating: "a", count: 65), false), ("evil\nname", false), ("\u{1B}[8m", false),
    ("name with space", false), ("caf\u{E9}", false), ("K\u{212A}", false),
  ]

  @Test(arguments: names)
  func clientNamesAreIdentitiesOnlyWhenPlain(_ name: String, _ accepted: Bool) {
    if case .success = ClientName.validated(name) { #expect(accepted) } else { #expect(!accepted) }
  }

  @Test func aRejectedNameLeavesTheAgentUnknown() {
    var session = RelaySession(nonce: "n")
    session.noteClient(name: "evil\n\u{1B}[8m", protocolVersion: "2025-11-25", perRequest: false)
    #expect(session.clientName == nil)
    #expect(session.clientNameRejection != nil)
    #expect(!session.needsClientDetails)
    // A later, plain name does not replace the verdict on the first.
    session.noteClient(name: "claude-code", protocolVersion: "2025-11-25", perRequest: false)
    #expect(session.clientName == nil)
  }
}
