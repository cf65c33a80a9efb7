import Testing
import WardenCore
import WardenStore

func makeHold(_ id: String, createdAt: Int64 = 1_000, deadline: Int64 = 5_000) -> Hold {
  Hold(
    id: id, server: "git", agent: "claude", tool: "git_reset", arguments: #"{"repo_path":"/r"}"#,
    digest: "abc",
    action: "git.reset", resources: ["repo:/r"], reason: "destructive",
    explanation: "git.reset is destructive",
    grantID: "g_1", purpose: "tidy", holderPID: 42, createdAt: createdAt, deadline: deadline)
}

@Suite("Holds in the store")
struct HoldStoreTests {
  @Test func roundTripOfEveryField() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      let hold = makeHold("h_1")
      try store.createHold(hold)
      #expect(try store.hold(id: "h_1") == hold)
      #expect(try store.hold(id: "h_missing") == nil)
      #expect(try store.holdStates(ids: ["h_1", "h_missing"]) == ["h_1": .pending])
    }
  }

  @Test func pendingHoldsLeaveOutDecidedAndOverdueOnes() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try store.createHold(makeHold("h_a", createdAt: 1_000, deadline: 5_000))
      try store.createHold(makeHold("h_b", createdAt: 2_000, deadline: 9_000))
      try store.createHold(makeHold("h_c", createdAt: 3_000, deadline: 9_000))
      try store.decide(holdID: "h_c", state: .rejected, by: "ann", channel: "cli", at: 3_500)
      #expect(try store.pendingHolds(now: 4_000).map(\.id) == ["h_a", "h_b"])
      #expect(try store.pendingHolds(now: 5_000).map(\.id) == ["h_b"])
      #expect(try store.recentHolds(limit: 2).map(\.id) == ["h_c", "h_b"])
    }
  }

  @Test func theFirstDecisionWins() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try store.createHold(makeHold("h_1"))
      let first = try store.decide(
        holdID: "h_1", state: .approved, by: "ann", channel: "terminal", note: "ok", at: 2_000)
      #expect(
        first.state == .approved && first.decidedBy == "ann" && first.channel == "terminal"
          && first.decidedAt == 2_000)
      let second = try store.decide(holdID: "h_1", state: .rejected, by: "bob", channel: "cli", at: 2_100)
      #expect(second == first)
    }
  }

  @Test func pastTheDeadlineOnlyExpiryIsRecorded() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try store.createHold(makeHold("h_1", deadline: 5_000))
      let late = try store.decide(holdID: "h_1", state: .approved, by: "ann", channel: "cli", at: 5_000)
      #expect(late.state == .pending)
      let expired = try store.decide(
        holdID: "h_1", state: .expired, by: "warden", channel: "timeout", at: 5_001)
      #expect(expired.state == .expired)
    }
  }

  @Test func aDecidedHoldCannotBeChangedEvenBehindTheStoresBack() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      try store.createHold(makeHold("h_1"))
      try store.decide(holdID: "h_1", state: .rejected, by: "ann", channel: "cli", at: 2_000)
      let result = try sqlite3Output(
        store.databasePath, "UPDATE holds SET state = 'approved' WHERE id = 'h_1';")
      #expect(result.status != 0)
      #expect(try store.hold(id: "h_1")?.state == .rejected)
    }
  }

  @Test func decidingAnUnknownHoldFails() throws {
    try withTemporaryHome { home in
      let store = try GrantStore.open(home: home)
      #expect(
        storeError { try store.decide(holdID: "h_x", state: .approved, by: "a", channel: "cli", at: 1) }?.code
          == .notFound)
    }
  }
}
