import Testing
import WardenCore
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

  @Test func aBreakerIsReadWithItsLimitsAndAgents() throws {
    let breaker = try WardenConfiguration.parse(
      "breaker: {calls: 100/10s, denials: 5/1m, then: hold, agents: [ci-*, bot]}", file: "c"
    ).breaker
    #expect(
      breaker
        == BreakerRule(
          calls: RateLimit(count: 100, periodMilliseconds: 10_000),
          denials: RateLimit(count: 5, periodMilliseconds: 60_000), then: .hold, agents: ["ci-*", "bot"]))
    #expect(try WardenConfiguration.parse("", file: "c").breaker == nil)
  }

  @Test(arguments: [
    "breaker: {}", "breaker: {calls: lots}", "breaker: {calls: 0/1s}", "breaker: {calls: 5/1s, then: stop}",
    "breaker: {calls: 5/1s, agent: x}", "breaker: {calls: 5/1s, agents: []}", "breaker: 5",
  ])
  func aBreakerThatCannotBeReadIsAnError(_ text: String) {
    #expect(throws: ConfigurationError.self) { try WardenConfiguration.parse(text, file: "c") }
  }
}
