import Testing
import WardenCore
import WardenManifest

@Suite struct GrantCheckTests {
  static let manifests = ManifestCatalog(files: []).entries.map(\.manifest)

  func grant(
    _ id: String, _ actions: [String], on resources: [String] = [], server: String = "git",
    effect: Grant.Effect = .allow, parent: String? = nil, expires: Int64? = 100, revoked: Int64? = nil
  ) -> Grant {
    Grant(
      id: id, effect: effect, actions: actions, resources: resources, server: server, purpose: "p",
      issuedBy: "me",
      issuedAt: 0, expiresAt: expires, parentID: parent, revokedAt: revoked)
  }

  func kinds(_ grants: [Grant]) -> [String] {
    GrantCheck.findings(grants: grants, manifests: Self.manifests, now: 50).map {
      "\($0.grant) \($0.kind.rawValue)"
    }
  }

  @Test func soundGrantsHaveNoFindings() {
    #expect(
      kinds([
        grant("g1", ["git.read", "git.write"], on: ["repo:/srv/**", "file:/srv/**"]),
        grant("g2", ["git.*"]), grant("g3", ["time.read"], on: ["anything"], server: "time"),
        grant("g4", ["mail.send"], on: ["domain:example.com"], server: "mailbox"),
        grant("g5", ["git.read"], server: "*"),
      ]).isEmpty)
  }

  @Test func findings() {
    let found = kinds([
      grant("g1", ["git.wirte"]),
      grant("g2", ["git.read"], on: ["file:/srv/**"]),
      grant("g3", ["sqlite.read"], server: "db-prod"),
      grant("p1", ["git.*"], expires: 10),
      grant("g4", ["git.read"], parent: "p1"),
      grant("p2", ["git.*"], revoked: 5),
      grant("g5", ["git.read"], parent: "p2"),
      grant("g6", ["mail.delete"], on: ["message:1"], server: "mailbox"),
      grant("f1", ["mail.*"], server: "mailbox", effect: .forbid),
      grant("g7", ["git.read"], on: ["repo:/srv/a"]),
      grant("f2", ["git.read"], on: ["repo:/srv/*"], effect: .forbid),
      grant("g8", ["git.read"]),
      grant("f3", ["git.read"], on: ["repo:/srv/*"], server: "git", effect: .forbid),
    ])
    #expect(
      found == [
        "g1 unknown-action", "g2 unreachable-resource", "g3 unknown-server", "g4 dead-parent",
        "g5 dead-parent",
        "g6 shadowed", "g7 shadowed",
      ])
    let message = GrantCheck.findings(
      grants: [grant("g1", ["git.wirte"])], manifests: Self.manifests, now: 50)[0]
    #expect(message.message.contains("did you mean 'git.write'?"))
  }

  @Test func templatedActions() throws {
    let manifest = try ManifestLoader.parse(
      """
      server: db
      tools:
        q:
          sql: sqlite
          action: "db.{query|sql-kind}"
          resource: "table:{query|sql-table}"
        c:
          action: "cloud.{ctx.env}.delete"
          resource: "env:{ctx.env}/volume:{id}"
      """, file: "m.yaml")
    func found(_ grant: Grant) -> [String] {
      GrantCheck.findings(grants: [grant], manifests: [manifest], now: 50).map(\.kind.rawValue)
    }
    #expect(found(grant("g", ["db.insert", "db.read"], on: ["table:notes"], server: "db")).isEmpty)
    #expect(found(grant("g", ["db.insrt"], server: "db")) == ["unknown-action"])
    #expect(found(grant("g", ["cloud.prod.delete"], on: ["env:prod/**"], server: "db")).isEmpty)
    #expect(found(grant("g", ["db.read"], on: ["tables:x"], server: "db")) == ["unreachable-resource"])
  }
}
