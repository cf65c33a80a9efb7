import ArgumentParser
import WardenCore
import WardenJSON
import WardenStore

extension Warden {
  struct GrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "grant",
      abstract: "Delegate actions on resources to an agent, for a purpose and a limited time.",
      discussion: """
        Prints the new grant's id (with --json, the whole grant). Every grant expires: after --for, at --until, or after 8 hours when neither is given.

        Globs: in actions, * matches within one dotted segment and ** across them (git.* covers git.read, not git.remote.push); in resources, * matches within one path component and ** across them (file:/srv/** covers /srv and everything under it). Matching is byte for byte.

        A grant widens what an agent may do, so it must be typed at a terminal: run without one (an agent's shell tool, a script) it is refused with exit status 77, unless $WARDEN_HOME/config.yaml says `scripted: allow`. The grant records which it was (attestation cli-terminal or cli-scripted).

        Examples:
          warden grant --server git --agent claude-code --allow git.read \\
            --on 'repo:/home/me/app' --for 2h --purpose 'review the open branch'
          warden grant --server mailbox --allow mail.read,mail.archive \\
            --confirm mail.archive --max-calls 50/1h --purpose 'triage the inbox'
          warden grant --parent g_abc123 --allow git.read \\
            --on 'repo:/home/me/app' --for 30m --purpose 'narrower, for a sub-agent'

        A grant with --parent may only narrow its parent (actions, resources, agent, server, expiry, confirmations, rate limit); anything wider is refused with the reason. What it does not set it takes from the parent (resources, agent, server, confirmations, rate limit, and an expiry no later than the parent's). Revoking the parent revokes it.

        --reviewed names a resource exactly as warden computes it (as `warden holds` and `warden check` show it, e.g. message:msg-20261117-0a1f9c42) that the human has already reviewed: a destructive call this grant covers whose every resource is a reviewed one, byte for byte, runs without a hold (recorded with reason `reviewed`). Globs (*, **, ?, [) are refused, and so is a resource outside the grant's --on patterns. An action in the grant's --confirm list is still held. Reviewed resources are not inherited: a grant with --parent may list only resources its parent lists as reviewed. Revoked or expired, the grant and its reviewed resources no longer apply.
        """
    )

    @Option(
      name: .long, parsing: .singleValue,
      help: ArgumentHelp("Actions to allow, comma-separated or repeated (globs).", valueName: "actions"))
    var allow: [String] = []

    @OptionGroup var scope: ScopeOptions

    @Option(
      name: .long, parsing: .singleValue,
      help: ArgumentHelp("Actions that still need a human's confirmation on each call.", valueName: "actions")
    )
    var confirm: [String] = []

    @Option(
      name: .long, parsing: .singleValue,
      help: ArgumentHelp(
        "An exact resource the human already reviewed (no globs); destructive calls on exactly such resources are not held. Repeat for more.",
        valueName: "resource"))
    var reviewed: [String] = []

    @Option(
      name: .long, help: ArgumentHelp("At most N calls per period, e.g. 100/1h.", valueName: "N/period"))
    var maxCalls: String?

    @Option(name: .long, help: ArgumentHelp("The grant this one narrows.", valueName: "grant"))
    var parent: String?

    func run() throws {
      try reportingFailures {
        // Widening the delegation needs a human at a terminal (or `scripted: allow`).
        let attestation = try CommandEnvironment.requireHuman("issue a grant")
        let now = CommandEnvironment.now()
        let actions = try GrantInput.actions(allow, option: "--allow")
        let store = try CommandEnvironment.openStore()
        // A narrowed grant inherits what it does not restrict further from its parent.
        var parentGrant: Grant?
        if let parentID = parent {
          guard let found = try? store.grant(id: parentID) else {
            throw CommandFailure("warden: no grant '\(parentID)' to narrow")
          }
          parentGrant = found
        }
        var expiresAt = try GrantInput.expiry(
          duration: scope.duration, until: scope.until, now: now, defaultMilliseconds: 8 * 3_600_000)
        if scope.duration == nil, scope.until == nil, let parentExpiry = parentGrant?.expiresAt {
          expiresAt = min(expiresAt ?? parentExpiry, parentExpiry)
        }
        let confirmed = confirm.isEmpty ? [] : try GrantInput.actions(confirm, option: "--confirm")
        let grant = Grant(
          id: GrantInput.newID(prefix: "g"), effect: .allow, actions: actions,
          resources: scope.on.isEmpty ? parentGrant?.resources ?? [] : try GrantInput.resources(scope.on),
          agent: try GrantInput.name(scope.agent ?? parentGrant?.agent ?? "*", option: "--agent"),
          server: try GrantInput.name(scope.server ?? parentGrant?.server ?? "*", option: "--server"),
          confirm: confirmed + (parentGrant?.confirm ?? []).filter { !confirmed.contains($0) },
          reviewed: ReviewedResources.distinct(reviewed),
          purpose: try GrantInput.purpose(scope.purpose), issuedBy: scope.by ?? CommandEnvironment.userName,
          issuedAt: now, expiresAt: expiresAt,
          rateLimit: try maxCalls.map(GrantInput.rateLimit) ?? parentGrant?.rateLimit, parentID: parent,
          attestation: attestation.rawValue)
        let reviewedProblems = ReviewedResources.problems(
          reviewed: grant.reviewed, resources: grant.resources)
        if !reviewedProblems.isEmpty {
          throw CommandFailure(reviewedProblems.map { "warden: refused: \($0)" }.joined(separator: "\n"))
        }
        if let parentGrant {
          let problems = Narrowing.problems(child: grant, parent: parentGrant, now: now)
          if !problems.isEmpty {
            throw CommandFailure(
              "warden: refused: a grant with --parent may only narrow \(parentGrant.id):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n"))
          }
        }
        do { try store.insert(grant) } catch {
          throw CommandFailure("warden: could not save the grant: \(error)")
        }
        printLine(scope.json ? GrantFormatting.json(grant, now: now).text(pretty: true) : grant.id)
      }
    }
  }

  struct Deny: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "deny",
      abstract: "Forbid actions on resources; a forbid beats every grant.",
      discussion: """
        Prints the new forbid's id. Without --for or --until a forbid lasts until revoked.

        Example:
          warden deny --action '**' --on 'repo:/srv/prod/**' \\
            --purpose 'stay out of production'
        """
    )

    @Option(
      name: .long, parsing: .singleValue,
      help: ArgumentHelp("Actions to forbid, comma-separated or repeated (globs).", valueName: "actions"))
    var action: [String] = []

    @OptionGroup var scope: ScopeOptions

    func run() throws {
      try reportingFailures {
        let now = CommandEnvironment.now()
        let forbid = Grant(
          id: GrantInput.newID(prefix: "f"), effect: .forbid,
          actions: try GrantInput.actions(action, option: "--action"),
          resources: try GrantInput.resources(scope.on),
          agent: try GrantInput.name(scope.agent ?? "*", option: "--agent"),
          server: try GrantInput.name(scope.server ?? "*", option: "--server"),
          purpose: try GrantInput.purpose(scope.purpose),
          issuedBy: scope.by ?? CommandEnvironment.userName, issuedAt: now,
          expiresAt: try GrantInput.expiry(
            duration: scope.duration, until: scope.until, now: now, defaultMilliseconds: nil))
        let store = try CommandEnvironment.openStore()
        do { try store.insert(forbid) } catch {
          throw CommandFailure("warden: could not save the forbid: \(error)")
        }
        printLine(scope.json ? GrantFormatting.json(forbid, now: now).text(pretty: true) : forbid.id)
      }
    }
  }
}

/// What grants and forbids share: where they apply, how long, why, and who says so.
struct ScopeOptions: ParsableArguments {
  @Option(
    name: .long, parsing: .singleValue,
    help: ArgumentHelp(
      "A resource it covers (a glob); repeat for more. Omitted: every resource.", valueName: "resource"))
  var on: [String] = []

  @Option(name: .long, help: "The agent it is for (a glob; default: any agent, or the parent's).")
  var agent: String?

  @Option(name: .long, help: "The server it is for (a glob; default: any server, or the parent's).")
  var server: String?

  @Option(
    name: .customLong("for"),
    help: ArgumentHelp(
      "How long it lasts: 90s, 30m, 8h, 2d, 1h30m (a grant: 8h by default; a forbid: until revoked).",
      valueName: "duration"))
  var duration: String?

  @Option(
    name: .long,
    help: ArgumentHelp("When it ends: 2026-11-24T18:00 (UTC unless an offset is given).", valueName: "time"))
  var until: String?

  @Option(name: .long, help: "Why: kept with it and shown to the agent.")
  var purpose: String

  @Option(name: .long, help: "Who issues it (default: the OS user).")
  var by: String?

  @Flag(name: .long, help: "Print it whole, as JSON.")
  var json = false
}
