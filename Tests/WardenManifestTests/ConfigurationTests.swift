import Testing
import WardenManifest

@Suite("Warden's configuration file")
struct ConfigurationTests {
  @Test func defaultsAllowBothChannels() throws {
    #expect(try WardenConfiguration.parse("", file: "c").confirmChannels == [.elicitation, .terminal])
    #expect(
      try WardenConfiguration.parse("confirm: {}", file: "c").confirmChannels == [.elicitation, .terminal])
  }

  @Test func channelsCanBeNarrowed() throws {
    #expect(
      try WardenConfiguration.parse("confirm:\n  channels: [terminal]\n", file: "c").confirmChannels == [
        .terminal
      ])
    #expect(try WardenConfiguration.parse("confirm:\n  channels: []\n", file: "c").confirmChannels == [])
  }

  @Test(arguments: [
    "confirm:\n  chanels: [terminal]\n", "confim: {}\n", "confirm:\n  channels: [email]\n", "- a\n",
  ])
  func mistakesAreErrors(_ text: String) {
    #expect(throws: ConfigurationError.self) { try WardenConfiguration.parse(text, file: "c") }
  }
}
