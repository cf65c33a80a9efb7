import Testing
import WardenCore
import WardenStore

@Suite struct RevocationTests {
  /// g_root > g_child > g_grandchild, g_root > g_sibling; g_other and f_forbid apart.
  private func family(_ store: any DelegationStore) throws {
    try store.insert(makeGrant("g_root", agent: "claude", issuedAt: 1))
    try store.insert(makeGrant("g_child", agent: "claude", issuedAt: 2, parentID: "g_root"))
    try store.insert(makeGrant("g_grandchild", agent: "codex", issuedAt: 3, parentID: "g_child"))
    try store.insert(makeGrant("g_sibling", agent: "codex", issuedAt: 4, parentID: "g_root"))
    try store.insert(makeGrant("g_other", agent: "claude", issuedAt: 5))
    try store.insert(makeGrant("f_forbid", effect: .forbid, agent: "claude", issuedAt: 6, expiresAt: nil))
  }

  @Test(arguments: Backend.all) func revokesByIDWithDescendants(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try family(store)
      #expect(try store.revoke(ids: ["g_child"], by: "bob", at: 50) == ["g_child", "g_grandchild"])
      #expect(try store.revoke(ids: ["g_root"], by: "carol", at: 60) == ["g_root", "g_sibling"])
      #expect(try store.revoke(ids: ["g_root", "g_child"], by: "dave", at: 70) == [])
      let grandchild = try #require(try store.grant(id: "g_grandchild"))
      #expect(grandchild.revokedAt == 50 && grandchild.revokedBy == "bob")
      #expect(try store.grant(id: "g_sibling")?.revokedBy == "carol")
      #expect(try store.liveGrants(now: 100).map(\.id) == ["g_other", "f_forbid"])
    }
  }

  @Test(arguments: Backend.all) func unknownIDChangesNothing(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try family(store)
      let before = try store.allGrants()
      let token = try store.changeToken()
      let error = storeError { _ = try store.revoke(ids: ["g_root", "g_missing"], by: "bob", at: 50) }
      #expect(error?.code == .notFound)
      #expect(error?.message.contains("g_missing") == true)
      #expect(try store.allGrants() == before)
      #expect(try store.changeToken() == token)
    }
  }

  @Test(arguments: Backend.all) func revokesByAgentExactlyWithDescendants(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try family(store)
      try store.insert(makeGrant("g_expired", agent: "claude", issuedAt: 7, expiresAt: 40))
      try store.insert(makeGrant("g_glob", agent: "claude*", issuedAt: 8))
      #expect(
        try store.revoke(agent: "claude", by: "bob", at: 50)
          == ["g_root", "g_child", "g_grandchild", "g_sibling", "g_other", "f_forbid"])
      #expect(try store.grant(id: "g_expired")?.revokedAt == nil)
      #expect(try store.liveGrants(now: 50).map(\.id) == ["g_glob"])
      #expect(try store.revoke(agent: "nobody", by: "bob", at: 50) == [])
    }
  }

  @Test(arguments: Backend.all) func revokeAllIsTheKillSwitch(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try family(store)
      try store.insert(makeGrant("g_expired", issuedAt: 7, expiresAt: 40))
      _ = try store.revoke(ids: ["g_other"], by: "bob", at: 45)
      #expect(
        try store.revokeAll(by: "root", at: 50)
          == ["g_root", "g_child", "g_grandchild", "g_sibling", "f_forbid", "g_expired"])
      #expect(try store.liveGrants(now: 0) == [])
      #expect(try store.grant(id: "g_other")?.revokedBy == "bob")
      #expect(try store.revokeAll(by: "root", at: 60) == [])
    }
  }

  @Test(arguments: Backend.all) func revocationIsFinal(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.insert(makeGrant("g_one"))
      _ = try store.revoke(ids: ["g_one"], by: "bob", at: 5)
      // Even by hand, a revoked grant cannot come back nor a grant change its scope.
      let process = try failing(
        fixture, "UPDATE grants SET revoked_at = NULL, revoked_by = NULL")
      #expect(process.contains("stays revoked"))
      #expect(try store.grant(id: "g_one")?.revokedAt == 5)
    }
  }

  private func failing(_ fixture: StoreFixture, _ sql: String) throws -> String {
    let output = try fixture.sql(sql)
    #expect(output.status != 0)
    return output.error
  }
}
