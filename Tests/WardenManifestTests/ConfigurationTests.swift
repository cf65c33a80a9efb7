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

  @Test func byDefaultTheClientsAnswerNeedsTheCodeAndScriptsCannotApprove() throws {
    let defaults = try WardenConfiguration.parse("", file: "c")
    #expect(!defaults.trustsClientAnswers)
    #expect(!defaults.allowsScripted)
  }

  @Test func listingElicitationTrustsTheClientsAnswer() throws {
    let listed = try WardenConfiguration.parse("confirm:\n  channels: [elicitation, terminal]\n", file: "c")
    #expect(listed.trustsClientAnswers)
    #expect(
      !(try WardenConfiguration.parse("confirm:\n  channels: [terminal]\n", file: "c")).trustsClientAnswers)
  }

  @Test func scriptsAreAllowedOnlyWhenSaidSo() throws {
    #expect(try WardenConfiguration.parse("scripted: allow\n", file: "c").allowsScripted)
    #expect(!(try WardenConfiguration.parse("scripted: deny\n", file: "c")).allowsScripted)
  }

  @Test(arguments: [
    "confirm:\n  chanels: [terminal]\n", "confim: {}\n", "confirm:\n  channels: [email]\n", "- a\n",
    "scripted: yes\n", "scripted: [allow]\n",
  ])
  func mistakesAreErrors(_ text: String) {
    #expect(throws: ConfigurationError.self) { try WardenConfiguration.parse(text, file: "c") }
  }
}
