import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden {
  struct Grants: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the grants and forbids in force (--all: also revoked and expired ones).")

    @Flag(name: .long, help: "Include revoked and expired grants and forbids.")
    var all = false

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    func run() throws {
      try reportingFailures {
        let now = CommandEnvironment.now()
        let store = try CommandEnvironment.openStore()
        let grants: [Grant]
        do { grants = all ? try store.allGrants() : try store.liveGrants(now: now) } catch {
          throw CommandFailure("warden: cannot read the delegation store: \(error)")
        }
        if json {
          printLine(JSONValue.array(grants.map { GrantFormatting.json($0, now: now) }).text(pretty: true))
        } else if grants.isEmpty {
          printLine(all ? "no grants or forbids have been issued" : "no grants or forbids are in force")
        } else {
          printLine(GrantFormatting.table(grants, now: now, showStatus: all))
        }
      }
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke grants and forbids; running wardens enforce it on their next call.",
      discussion: """
        Revoking a grant also revokes every grant narrowed from it (--parent). Prints the ids revoked.

        Examples:
          warden revoke g_4k2mx9q8w7e6r5t3
          warden revoke --agent claude-code     every grant and forbid for that agent
          warden revoke --all                   the kill switch: everything
        """
    )

    @Argument(help: "Ids of grants or forbids to revoke.")
    var ids: [String] = []

    @Option(name: .long, help: "Revoke everything issued for this agent.")
    var agent: String?

    @Flag(name: .long, help: "Revoke every grant and forbid (the kill switch).")
    var all = false

    @Option(name: .long, help: "Who revokes (default: the OS user).")
    var by: String?

    @Flag(name: .long, help: "Print the revoked ids as a JSON array.")
    var json = false

    func validate() throws {
      let ways = (ids.isEmpty ? 0 : 1) + (agent == nil ? 0 : 1) + (all ? 1 : 0)
      guard ways == 1 else {
        throw ValidationError("give grant ids, or --agent ID, or --all (exactly one of them)")
      }
    }

    func run() throws {
      try reportingFailures {
        let store = try CommandEnvironment.openStore()
        let who = by ?? CommandEnvironment.userName
        let now = CommandEnvironment.now()
        let revoked: [String]
        do {
          if all {
            revoked = try store.revokeAll(by: who, at: now)
          } else if let agent {
            revoked = try store.revoke(agent: agent, by: who, at: now)
          } else {
            revoked = try store.revoke(ids: ids, by: who, at: now)
          }
        } catch {
          throw CommandFailure("warden: nothing was revoked: \(error)")
        }
        if json {
          printLine(JSONValue.array(revoked.map { .string($0) }).text())
        } else if revoked.isEmpty {
          printToStandardError("warden: nothing to revoke (already revoked)")
        } else {
          revoked.forEach(printLine)
        }
      }
    }
  }
}
