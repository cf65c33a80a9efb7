import Testing
import WardenManifest

@Suite("Pinning a server's agent in config.yaml")
struct ConfigurationPinningTests {
  @Test func withoutAFileTheBlockIsWritten() {
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "time", in: nil)
        == .edited("servers:\n  time:\n    agent: cursor\n"))
  }

  @Test func theUsersLinesAndCommentsStay() {
    let text = "# who may approve\nscripted: allow   # CI scripts\n"
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "time", in: text)
        == .edited(text + "servers:\n  time:\n    agent: cursor\n"))
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "time", in: "scripted: allow")
        == .edited("scripted: allow\nservers:\n  time:\n    agent: cursor\n"))
  }

  @Test func aServerIsAddedToAnExistingBlockAndAnAgentToAnExistingServer() {
    let text = """
      servers:
        # production
        db-prod:
          context: {env: production}   # keep
      breaker: {calls: 100/10s}

      """
    #expect(
      ConfigurationPinning.pin(agent: "codex", server: "time", in: text)
        == .edited(
          """
          servers:
            # production
            time:
              agent: codex
            db-prod:
              context: {env: production}   # keep
          breaker: {calls: 100/10s}

          """))
    #expect(
      ConfigurationPinning.pin(agent: "codex", server: "db-prod", in: text)
        == .edited(
          """
          servers:
            # production
            db-prod:
              agent: codex
              context: {env: production}   # keep
          breaker: {calls: 100/10s}

          """))
  }

  @Test func aPinAlreadyThereIsLeftAndAnotherAgentsPinIsAConflict() {
    let text = "servers:\n  time:\n    agent: cursor\n"
    #expect(ConfigurationPinning.pin(agent: "cursor", server: "time", in: text) == .unchanged)
    #expect(ConfigurationPinning.pin(agent: "codex", server: "time", in: text) == .conflict(pinned: "cursor"))
  }

  @Test func oddNamesAreQuoted() {
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "true", in: nil)
        == .edited("servers:\n  \"true\":\n    agent: cursor\n"))
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "a: b # c", in: nil)
        == .edited("servers:\n  \"a: b # c\":\n    agent: cursor\n"))
  }

  @Test(arguments: ["servers: {db: {context: {env: x}}}\n", "{scripted: allow}\n", "servers:\n"])
  func aShapeThatCannotBeEditedSafelyGivesTheLinesToAdd(_ text: String) {
    #expect(
      ConfigurationPinning.pin(agent: "cursor", server: "time", in: text)
        == .cannotEdit("  time:\n    agent: cursor\n"))
  }
}
