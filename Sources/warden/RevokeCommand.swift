import ArgumentParser
import WardenCore
import WardenJSON
import WardenManifest
import WardenStore

extension Warden {
  struct Grants: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "grants",
      abstract: "List the grants and forbids in force (--all: also revoked and expired ones).",
      discussion: """
        With --check, checks the grants in force against the installed manifests (built in, and those in $WARDEN_HOME/manifests) instead of listing them: actions no manifest of the grant's server declares, resource patterns no template of the tools those actions reach can produce, grants narrowed from a grant that is revoked or expired (they allow nothing), and forbids that deny everything a grant allows. Exit status: 0 when nothing was found, 1 when something was.

        Examples:
          warden grants
          warden grants --all --json
          warden grants --check
        """)

    @Flag(name: .long, help: "Include revoked and expired grants and forbids.")
    var all = false

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    @Flag(
      name: .long, help: "Check the grants in force against the installed manifests (exit 1 on findings).")
    var check = false

    func run() throws {
      if check { return try runCheck() }
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

}

extension Warden.Grants {
  fileprivate func runCheck() throws {
    var found = false
    try reportingFailures {
      let now = CommandEnvironment.now()
      let store = try CommandEnvironment.openStore()
      let grants: [Grant]
      do { grants = try store.allGrants() } catch {
        throw CommandFailure("warden: cannot read the delegation store: \(error)")
      }
      let directory = try CommandEnvironment.home() + "/manifests"
      var catalog = ManifestCatalog(files: [])
      do throws(ManifestLookupError) {
        catalog = try ManifestCatalog.load(directory: directory)
      } catch {
        throw CommandFailure("warden: \(error)", status: 78)
      }
      let findings = GrantCheck.findings(grants: grants, manifests: catalog.entries.map(\.manifest), now: now)
      found = !findings.isEmpty
      if json {
        printLine(
          JSONValue.array(
            findings.map { finding in
              .object([
                ("grant", .string(finding.grant)), ("kind", .string(finding.kind.rawValue)),
                ("message", .string(finding.message)),
              ])
            }
          ).text(pretty: true))
      } else if findings.isEmpty {
        printLine("no problems found in the grants in force")
      } else {
        for finding in findings {
          printLine("\(finding.kind.rawValue): \(HumanText.escaped(finding.message))")
        }
      }
    }
    if found { throw ExitCode(1) }
  }
}

extension Warden {
  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "revoke",
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
