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

  @Test func aServerCanPinItsAgentManifestModeAndUngrantedPolicy() throws {
    let text = """
      servers:
        db-prod:
          agent: claude-code
          manifest: manifests/db.yaml
          mode: enforce
          ungranted: deny
          context: {env: production}
        "odd name":
          manifest: /etc/warden/odd.yaml
      """
    let servers = try WardenConfiguration.parse(text, file: "c").servers
    #expect(
      servers["db-prod"]
        == WardenConfiguration.ServerSettings(
          context: ["env": "production"], agent: "claude-code", manifest: "manifests/db.yaml", mode: .enforce,
          ungranted: .deny))
    #expect(servers["db-prod"]?.manifestPath(home: "/h") == "/h/manifests/db.yaml")
    #expect(servers["odd name"]?.manifestPath(home: "/h") == "/etc/warden/odd.yaml")
  }

  @Test(arguments: [
    "servers: {a: {agents: x}}", "servers: {a: {mode: audit}}", "servers: {a: {mode: [enforce]}}",
    "servers: {a: {ungranted: allow}}", "servers: {a: {agent: 'two words'}}", "servers: {a: {agent: ~}}",
    "servers: {a: {agent: ''}}", "servers: {a: {manifest: ''}}", "servers: {a: {manifest: {}}}",
    "servers: {a: {agent: x, agent: y}}", "servers: {a: 5}",
  ])
  func aPinThatCannotBeReadIsAnError(_ text: String) {
    #expect(throws: ConfigurationError.self) { try WardenConfiguration.parse(text, file: "c") }
  }

  @Test func aPinErrorIsOneLineNamingTheSetting() {
    do {
      _ = try WardenConfiguration.parse("servers:\n  db:\n    mode: audit\n", file: "/h/config.yaml")
      Issue.record("no error")
    } catch {
      #expect(error.message == "/h/config.yaml: 'servers.db.mode' must be enforce or report")
    }
  }

  @Test func pinnedValuesWinOverTheCommandLineAndNameWhatTheyReplaced() {
    let pin = WardenConfiguration.ServerSettings(
      context: ["env": "production"], agent: "claude-code", manifest: "manifests/db.yaml", mode: .enforce,
      ungranted: .deny)
    let given = LaunchOptions(
      agent: "other", manifest: "/tmp/mine.yaml", mode: .report, ungranted: .confirm,
      context: ["env": "dev", "region": "eu"])
    let (options, ignored) = given.pinned(by: pin, home: "/h")
    #expect(
      options
        == LaunchOptions(
          agent: "claude-code", manifest: "/h/manifests/db.yaml", mode: .enforce, ungranted: .deny,
          context: ["env": "production", "region": "eu"]))
    #expect(
      ignored.map(\.given) == [
        "--agent other", "--manifest /tmp/mine.yaml", "--mode report", "--ungranted confirm",
        "--context env=...",
      ])
  }

  @Test func aCommandLineThatAgreesOrSaysNothingDrawsNoWarning() {
    let pin = WardenConfiguration.ServerSettings(agent: "claude-code", mode: .enforce)
    let (silent, none) = LaunchOptions().pinned(by: pin, home: "/h")
    #expect(none.isEmpty)
    #expect(silent.agent == "claude-code" && silent.mode == .enforce && silent.ungranted == nil)
    let (_, agreeing) = LaunchOptions(agent: "claude-code", mode: .enforce).pinned(by: pin, home: "/h")
    #expect(agreeing.isEmpty)
  }

  @Test func withoutPinsTheCommandLineStands() {
    let given = LaunchOptions(agent: "a", manifest: "m.yaml", mode: .report, ungranted: .confirm)
    let (options, ignored) = given.pinned(by: nil, home: "/h")
    #expect(options == given && ignored.isEmpty)
    let (unpinned, none) = given.pinned(by: WardenConfiguration.ServerSettings(), home: "/h")
    #expect(unpinned == given && none.isEmpty)
  }
}
