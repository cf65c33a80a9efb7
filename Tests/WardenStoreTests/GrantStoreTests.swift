import Testing
import WardenCore
import WardenStore

@Suite struct GrantStoreTests {
  @Test(arguments: Backend.all) func roundTripsEveryField(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let parent = makeGrant("g_parent", issuedAt: 5)
      let full = Grant(
        id: "g_full", effect: .allow, actions: ["git.read", "mail.**", "quote\"back\\slash"],
        resources: ["repo:/srv/app", "file:/srv/app/**", "tab\tnew\nline \u{1} é 🚀"], agent: "claude-*",
        server: "git", confirm: ["git.write"], purpose: "fix the build, \"carefully\"", issuedBy: "bob",
        issuedAt: 1_700_000_000_123, expiresAt: 1_700_000_900_000,
        rateLimit: RateLimit(count: 10, periodMilliseconds: 60_000), parentID: "g_parent",
        revokedAt: 1_700_000_100_000, revokedBy: "carol")
      let forbid = Grant(
        id: "f_prod", effect: .forbid, actions: ["**"], resources: ["host:prod.example.com"],
        purpose: "stay out of production", issuedBy: "alice", issuedAt: 7, expiresAt: nil)
      try store.insert(parent)
      try store.insert(full)
      try store.insert(forbid)
      #expect(try store.grant(id: "g_full") == full)
      #expect(try store.grant(id: "f_prod") == forbid)
      #expect(try store.grant(id: "g_none") == nil)
      // A second open reads the same.
      #expect(try fixture.open().allGrants() == [parent, forbid, full])
    }
  }

  @Test(arguments: Backend.all) func ordersByIssuedAtThenID(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      for (id, issuedAt) in [("g_c", 2), ("g_b", 1), ("g_a", 2), ("g_d", 0)] as [(String, Int64)] {
        try store.insert(makeGrant(id, issuedAt: issuedAt))
      }
      #expect(try store.allGrants().map(\.id) == ["g_d", "g_b", "g_a", "g_c"])
      #expect(try store.liveGrants(now: 0).map(\.id) == ["g_d", "g_b", "g_a", "g_c"])
    }
  }

  @Test(arguments: Backend.all) func liveGrantsExcludeExpiredAtTheBoundaryAndRevoked(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      try store.insert(makeGrant("g_ends", expiresAt: 5_000))
      try store.insert(makeGrant("f_forever", effect: .forbid, expiresAt: nil))
      try store.insert(makeGrant("g_revoked", expiresAt: 9_000))
      _ = try store.revoke(ids: ["g_revoked"], by: "alice", at: 2_000)
      #expect(try store.liveGrants(now: 4_999).map(\.id) == ["f_forever", "g_ends"])
      #expect(try store.liveGrants(now: 5_000).map(\.id) == ["f_forever"])
      #expect(try store.liveGrants(now: 5_001).map(\.id) == ["f_forever"])
      #expect(try store.allGrants().count == 3)
      for grant in try store.allGrants() {
        #expect(try store.liveGrants(now: 5_000).contains(grant) == grant.isLive(at: 5_000))
      }
    }
  }

  @Test(arguments: Backend.all) func refusesDuplicatesMissingParentsAndBrokenInvariants(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      try store.insert(makeGrant("g_one"))
      #expect(storeError { try store.insert(makeGrant("g_one", issuedAt: 3)) }?.code == .invalid)
      #expect(storeError { try store.insert(makeGrant("g_child", parentID: "g_none")) }?.code == .notFound)
      var noExpiry = makeGrant("g_forever")
      noExpiry.expiresAt = nil
      let expiryError = storeError { try store.insert(noExpiry) }
      #expect(expiryError?.code == .invalid)
      #expect(expiryError?.description.contains("allow_expires") == true)
      #expect(storeError { try store.insert(makeGrant("")) }?.code == .invalid)
      var noActions = makeGrant("g_nothing")
      noActions.actions = []
      #expect(storeError { try store.insert(noActions) }?.code == .invalid)
      var badRate = makeGrant("g_rate")
      badRate.rateLimit = RateLimit(count: 0, periodMilliseconds: 1_000)
      #expect(storeError { try store.insert(badRate) }?.code == .invalid)
      #expect(try store.allGrants().map(\.id) == ["g_one"])
    }
  }

  @Test func readsArraysWrittenByOtherJSONWriters() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try sqlite3(
        store.databasePath,
        """
        INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by,
          issued_at, expires_at)
        VALUES ('g_cli', 'allow', '[ "git.read" , "a\\u00e9\\ud83d\\ude80\\n" ]', '[]', '*', '*',
          json_array('x"y', 'z'), 'p', 'cli', 1, 2)
        """)
      let grant = try #require(try store.grant(id: "g_cli"))
      #expect(grant.actions == ["git.read", "aé🚀\n"])
      #expect(grant.resources == [])
      #expect(grant.confirm == ["x\"y", "z"])
    }
  }

  @Test(arguments: Backend.all) func recordsAndCountsUses(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      var limited = makeGrant("g_limited")
      limited.rateLimit = RateLimit(count: 3, periodMilliseconds: 1_000)
      try store.insert(limited)
      for at: Int64 in [100, 200, 300] { try store.recordUse(grantID: "g_limited", at: at) }
      #expect(try store.useCount(grantID: "g_limited", since: 100) == 3)
      #expect(try store.useCount(grantID: "g_limited", since: 101) == 2)
      #expect(try store.useCount(grantID: "g_other", since: 0) == 0)
      // Recording at 1,200 prunes the use at 100 (older than the period) but keeps 200 (exactly it).
      try store.recordUse(grantID: "g_limited", at: 1_200)
      #expect(try store.useCount(grantID: "g_limited", since: 0) == 3)
      #expect(try store.useCount(grantID: "g_limited", since: 200) == 3)
      #expect(storeError { try store.recordUse(grantID: "g_none", at: 1) }?.code == .notFound)
    }
  }
}

@Suite("Reviewed resources in the store")
struct ReviewedStoreTests {
  @Test(arguments: Backend.all) func reviewedResourcesRoundTripAsBytesAndNeverChange(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      let grant = Grant(
        id: "g_rev", effect: .allow, actions: ["mail.delete"], server: "mailbox",
        reviewed: ["message:caf\u{E9}", "message:cafe\u{301}", "message:\"q\""], purpose: "read them",
        issuedBy: "ann", issuedAt: 1, expiresAt: 100)
      try store.insert(grant)
      let read = try #require(try store.grant(id: "g_rev"))
      #expect(read.reviewed.map { Array($0.utf8) } == grant.reviewed.map { Array($0.utf8) })
      #expect(read.reviewed.count == 3)
      // Immutable like the rest of a grant, and a JSON array or nothing.
      let update = try fixture.sql(
        "UPDATE grants SET reviewed = '[\"message:*\"]' WHERE id = 'g_rev'")
      #expect(update.status != 0 && update.error.contains("immutable"))
      let bad = try fixture.sql(
        "INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by, issued_at, expires_at, reviewed) VALUES ('g_bad', 'allow', '[\"a\"]', '[]', '*', '*', '[]', 'p', 'x', 1, 2, 'message:1')"
      )
      #expect(bad.status != 0)
    }
  }

  @Test(arguments: Backend.all) func grantsIssuedBeforeTheMigrationHaveNone(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try fixture.sqlSucceeding(
        "INSERT INTO grants (id, effect, actions, resources, agent, server, confirm, purpose, issued_by, issued_at, expires_at) VALUES ('g_old', 'allow', '[\"a\"]', '[]', '*', '*', '[]', 'p', 'x', 1, 2)"
      )
      #expect(try store.grant(id: "g_old")?.reviewed == [])
    }
  }
}
