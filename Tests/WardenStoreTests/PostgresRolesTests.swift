import Foundation
import Testing
import WardenCore
import WardenPostgres
import WardenStore

/// SPEC's GRANT statements, run as they are written there (with this test's names), and each role
/// doing what its user does and refused what it must not.
@Suite("Least privilege on PostgreSQL")
struct PostgresRolesTests {
  /// The ```sql block under "**Least privilege.**" in SPEC.md, split where the owner takes over.
  static func specStatements(prefix: String) throws -> (superuser: String, owner: String) {
    let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("SPEC.md")
    let text = try String(contentsOf: spec, encoding: .utf8)
    guard let section = text.range(of: "**Least privilege.**"),
      let start = text.range(of: "```sql\n", range: section.upperBound..<text.endIndex),
      let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
    else { throw TestSetupError("SPEC.md has no sql block under **Least privilege.**") }
    var sql = String(text[start.upperBound..<end.lowerBound])
    sql = sql.replacingOccurrences(
      of: #"\bwarden_(owner|run|approve|admin)\b"#, with: prefix + "_$1", options: .regularExpression)
    sql = sql.replacingOccurrences(of: #"\bwarden\b"#, with: prefix, options: .regularExpression)
    guard let split = sql.range(of: "-- as \(prefix)_owner") else {
      throw TestSetupError("SPEC.md's block does not say where the owner takes over")
    }
    return (String(sql[..<split.lowerBound]), String(sql[split.lowerBound...]))
  }

  @Test(.enabled(if: PostgresStoreTests.enabled)) func eachRoleDoesItsJobAndNothingMore() throws {
    let environment = ProcessInfo.processInfo.environment
    let server = try PostgresURL.parse(environment["WARDEN_TEST_POSTGRES"] ?? "")
    let superPassword = environment["WARDEN_TEST_POSTGRES_PASSWORD"]
    let prefix = "r_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    let (asSuperuser, asOwner) = try Self.specStatements(prefix: prefix)
    let password = "pw-" + UUID().uuidString
    let roles = ["owner", "run", "approve", "admin"].map { "\(prefix)_\($0)" }
    defer {
      _ = try? psql(
        server, password: superPassword,
        "DROP SCHEMA IF EXISTS \(prefix) CASCADE; DROP ROLE IF EXISTS \(roles.reversed().joined(separator: ", "))"
      )
    }
    let created = try psql(
      server, password: superPassword,
      asSuperuser + roles.map { "ALTER ROLE \($0) PASSWORD '\(password)';" }.joined(separator: "\n"))
    try #require(created.status == 0, "\(created.error)")
    func url(_ role: String) -> PostgresURL {
      var url = server
      url.user = "\(prefix)_\(role)"
      url.schema = prefix
      return url
    }
    #expect(try PostgresStore.migrate(url: url("owner"), password: password) == [1])
    let granted = try psql(url("owner"), password: password, asOwner)
    try #require(granted.status == 0, "\(granted.error)")

    try withTemporaryHome { home in
      func open(_ role: String) throws -> PostgresStore {
        try PostgresStore.open(url: url(role), password: password, home: home + "-" + role)
      }
      func refused(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = storeError(body)
        #expect(
          error?.code == .cannotOpen && error?.description.contains("permission denied") == true,
          "\(String(describing: error))", sourceLocation: sourceLocation)
      }
      let admin = try open("admin")
      let run = try open("run")
      let approve = try open("approve")

      // The administrator issues and revokes.
      var limited = makeGrant("g_limited", expiresAt: 9_000)
      limited.rateLimit = RateLimit(count: 5, periodMilliseconds: 1_000)
      try admin.insert(limited)
      try admin.insert(makeGrant("g_other"))
      #expect(try admin.revoke(ids: ["g_other"], by: "ann", at: 2) == ["g_other"])

      // A running warden does everything a session does.
      _ = try run.changeToken()
      #expect(try run.liveGrants(now: 0, server: "git").map(\.id) == ["g_limited"])
      try run.recordUse(grantID: "g_limited", at: 10)
      #expect(try run.useCount(grantID: "g_limited", since: 0) == 1)
      try run.createHold(makeHold("h_expires", deadline: 5_000))
      try run.createHold(makeHold("h_approved", deadline: 9_000))
      #expect(
        try run.decide(holdID: "h_expires", state: .expired, by: "warden", channel: "timeout", at: 5_001)
          .state == .expired)
      #expect(
        try run.tripBreaker(BreakerTrip(agent: "claude", at: 3, reason: "burst", then: .deny), session: "s"))
      _ = try run.observeTools(server: "notes", command: "n", definitions: [("a", "1")], pinNew: false, at: 1)
      _ = try run.observeTools(server: "notes", command: "n", definitions: [("a", "2")], pinNew: false, at: 2)
      #expect(try run.driftedTools(server: "notes", command: "n") == ["a": .changed])
      try run.appendAudit([AuditRecord(json: AuditChainTests.record(1))!], journal: ("s1", 1))
      try run.finishAuditJournal(session: "s1")
      #expect(try run.auditDigestKey().count == 32)
      // ...and nothing a human decides.
      refused { try run.insert(makeGrant("g_self")) }
      refused { _ = try run.revokeAll(by: "agent", at: 3) }
      refused { _ = try run.resetBreaker(agent: "claude") }
      refused { _ = try run.acceptTools(server: "notes", tool: nil, by: "agent", at: 3) }
      let (rows, _) = try run.auditChainForVerification()
      let plan = try #require(AuditPrune.plan(rows, before: Int64.max))
      let prune = AuditPrune.record(plan, before: Int64.max, at: 4, by: "agent", attestation: "cli-scripted")
      do throws(AuditPruneError) {
        _ = try run.pruneAudit(plan, record: prune)
        Issue.record("a running warden pruned the trail")
      } catch {
        #expect(error.pruneRecord != nil && error.cause.description.contains("permission denied"))
      }

      // An approver decides holds and nothing else.
      #expect(
        try approve.decide(holdID: "h_approved", state: .approved, by: "bob", channel: "terminal", at: 3)
          .state
          == .approved)
      refused { try approve.insert(makeGrant("g_approver")) }
      refused { try approve.recordUse(grantID: "g_limited", at: 11) }
      refused { try approve.appendAudit([AuditChainTests.record(2)]) }

      // The administrator resets, accepts, prunes (and may approve).
      #expect(try admin.resetBreaker(agent: "claude") != nil)
      #expect(try admin.acceptTools(server: "notes", tool: nil, by: "ann", at: 5).count == 1)
      #expect(
        try admin.decide(holdID: "h_approved", state: .rejected, by: "ann", channel: "terminal", at: 6).state
          == .approved)
    }
  }
}
