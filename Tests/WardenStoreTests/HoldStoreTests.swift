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
  @Test(arguments: Backend.all) func roundTripOfEveryField(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      let hold = makeHold("h_1")
      try store.createHold(hold)
      #expect(try store.hold(id: "h_1") == hold)
      #expect(try store.hold(id: "h_missing") == nil)
      #expect(try store.holdStates(ids: ["h_1", "h_missing"]) == ["h_1": .pending])
    }
  }

  @Test(arguments: Backend.all) func pendingHoldsLeaveOutDecidedAndOverdueOnes(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_a", createdAt: 1_000, deadline: 5_000))
      try store.createHold(makeHold("h_b", createdAt: 2_000, deadline: 9_000))
      try store.createHold(makeHold("h_c", createdAt: 3_000, deadline: 9_000))
      try store.decide(holdID: "h_c", state: .rejected, by: "ann", channel: "cli", at: 3_500)
      #expect(try store.pendingHolds(now: 4_000).map(\.id) == ["h_a", "h_b"])
      #expect(try store.pendingHolds(now: 5_000).map(\.id) == ["h_b"])
      #expect(try store.recentHolds(limit: 2).map(\.id) == ["h_c", "h_b"])
    }
  }

  @Test(arguments: Backend.all) func theFirstDecisionWins(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
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

  @Test(arguments: Backend.all) func pastTheDeadlineOnlyExpiryIsRecorded(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1", deadline: 5_000))
      let late = try store.decide(holdID: "h_1", state: .approved, by: "ann", channel: "cli", at: 5_000)
      #expect(late.state == .pending)
      let expired = try store.decide(
        holdID: "h_1", state: .expired, by: "warden", channel: "timeout", at: 5_001)
      #expect(expired.state == .expired)
    }
  }

  @Test(arguments: Backend.all) func aDecidedHoldCannotBeChangedEvenBehindTheStoresBack(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1"))
      try store.decide(holdID: "h_1", state: .rejected, by: "ann", channel: "cli", at: 2_000)
      let result = try fixture.sql(
        "UPDATE holds SET state = 'approved' WHERE id = 'h_1';")
      #expect(result.status != 0)
      #expect(try store.hold(id: "h_1")?.state == .rejected)
    }
  }

  @Test(arguments: Backend.all) func decidingAnUnknownHoldFails(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      #expect(
        storeError { try store.decide(holdID: "h_x", state: .approved, by: "a", channel: "cli", at: 1) }?.code
          == .notFound)
    }
  }
}

/// A hold unlike `makeHold`'s in every field: no grant, several resources, non-ASCII arguments.
func unusualHold() -> Hold {
  Hold(
    id: "h_0123456789abcdef", server: "mailbox", agent: "agent \"quoted\"", tool: "delete_message",
    arguments: #"{"id":"msg-ü","tags":["a","b"]}"#,
    digest: String(repeating: "f", count: 64), action: "mail.delete",
    resources: ["message:msg-ü", "folder:inbox"], reason: "not-delegated",
    explanation: "no grant covers it, so a human is asked", grantID: nil, purpose: nil,
    holderPID: 65_432, createdAt: 1_700_000_000_123, deadline: 1_700_000_120_123, approvalCode: "042917")
}

/// Every field, every state.
extension HoldStoreTests {

  @Test(arguments: Backend.all) func aDecidedHoldReadsBackWithEveryFieldAndNothingElseChanged(
    _ backend: Backend
  ) throws {
    try withStore(backend) { (store, fixture) throws in
      var hold = unusualHold()
      try store.createHold(hold)
      #expect(try store.hold(id: hold.id) == hold)
      let decided = try store.decide(
        holdID: hold.id, state: .rejected, by: "Zoë", channel: "terminal", note: "not that one",
        at: 1_700_000_005_000, attestation: .terminalPrompt)
      hold.attestation = "terminal-prompt"
      hold.state = .rejected
      hold.decidedBy = "Zoë"
      hold.channel = "terminal"
      hold.decidedAt = 1_700_000_005_000
      hold.note = "not that one"
      #expect(decided == hold)
      // A second process sees the same row.
      #expect(try fixture.open().hold(id: hold.id) == hold)
      #expect(try store.recentHolds(limit: 10) == [hold])
      #expect(try store.pendingHolds(now: 1_700_000_006_000).isEmpty)
    }
  }

  @Test(arguments: Backend.all) func holdStatesReportsEveryStateAndLeavesOutUnknownIDs(_ backend: Backend)
    throws
  {
    try withStore(backend) { (store, fixture) throws in
      let decided: [(String, Hold.State)] = [
        ("h_approved", .approved), ("h_rejected", .rejected), ("h_expired", .expired),
        ("h_cancelled", .cancelled),
      ]
      try store.createHold(makeHold("h_pending"))
      for (id, state) in decided {
        try store.createHold(makeHold(id))
        try store.decide(holdID: id, state: state, by: "x", channel: "cli", at: 2_000)
      }
      let ids = ["h_pending", "h_unknown"] + decided.map(\.0)
      var expected: [String: Hold.State] = ["h_pending": .pending]
      for (id, state) in decided { expected[id] = state }
      #expect(try store.holdStates(ids: ids) == expected)
      #expect(try store.holdStates(ids: []) == [:])
      #expect(try store.holdStates(ids: ["h_unknown"]) == [:])
      #expect(try store.pendingHolds(now: 2_000).map(\.id) == ["h_pending"])
    }
  }

  @Test(arguments: Backend.all, [Hold.State.approved, .rejected, .cancelled])
  func atOrAfterTheDeadlineOnlyExpiryIsTaken(_ backend: Backend, _ state: Hold.State) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1", deadline: 5_000))
      for at: Int64 in [5_000, 5_001, 99_999] {
        let late = try store.decide(holdID: "h_1", state: state, by: "ann", channel: "cli", at: at)
        #expect(late.state == .pending && late.decidedBy == nil && late.decidedAt == nil)
      }
      // Still pending in the store (but no longer offered: its deadline has passed).
      #expect(try store.holdStates(ids: ["h_1"]) == ["h_1": .pending])
      #expect(try store.pendingHolds(now: 4_999).map(\.id) == ["h_1"])
      #expect(try store.pendingHolds(now: 5_000).isEmpty)
      let expired = try store.decide(
        holdID: "h_1", state: .expired, by: "warden", channel: "timeout", at: 5_002)
      #expect(expired.state == .expired && expired.channel == "timeout" && expired.decidedAt == 5_002)
      // Just before the deadline the same decision is taken.
      try store.createHold(makeHold("h_2", deadline: 5_000))
      #expect(
        try store.decide(holdID: "h_2", state: state, by: "ann", channel: "cli", at: 4_999).state == state)
    }
  }

  @Test(arguments: Backend.all, [Hold.State.approved, .rejected, .expired, .cancelled])
  func theFirstDecisionWinsOverEveryOtherKind(_ backend: Backend, _ first: Hold.State) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1", deadline: 5_000))
      let taken = try store.decide(
        holdID: "h_1", state: first, by: "first", channel: "cli", note: "n1", at: 2_000)
      for other in Hold.State.allCases where other != .pending {
        // Later decisions of any kind, from another store handle (another process), change nothing.
        let again = try fixture.open().decide(
          holdID: "h_1", state: other, by: "second", channel: "terminal", note: "n2", at: 2_001)
        #expect(again == taken)
      }
      #expect(try store.hold(id: "h_1") == taken)
    }
  }

  @Test(arguments: Backend.all, [Hold.State.approved, .rejected, .expired, .cancelled])
  func theTriggerRefusesEveryRawUpdateOfADecidedHold(_ backend: Backend, _ state: Hold.State) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1"))
      try store.createHold(makeHold("h_2"))
      let decided = try store.decide(holdID: "h_1", state: state, by: "ann", channel: "cli", at: 2_000)
      for assignment in [
        "state = 'pending'", "state = 'approved', decided_by = 'mallory'", "decided_by = 'mallory'",
        "note = 'edited'", "deadline = deadline + 1000000", "arguments = '{}'", "digest = 'x'",
      ] {
        let result = try fixture.sql("UPDATE holds SET \(assignment) WHERE id = 'h_1';")
        #expect(result.status != 0, "UPDATE SET \(assignment) was accepted")
        #expect(result.error.contains("hold already decided"), "\(result.error)")
      }
      #expect(try store.hold(id: "h_1") == decided)
      // The same raw update of a pending hold goes through: the trigger, not sqlite3, refused above.
      try fixture.sqlSucceeding("UPDATE holds SET note = 'raw' WHERE id = 'h_2';")
      #expect(try store.hold(id: "h_2")?.note == "raw")
    }
  }
}

@Suite("Holds are never deleted")
struct HoldDeletionTests {
  @Test(arguments: Backend.all) func deletingAHoldIsRefused(_ backend: Backend) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_1"))
      let result = try fixture.sql("DELETE FROM holds WHERE id = 'h_1';")
      #expect(result.status != 0 && result.error.contains("holds are never deleted"), "\(result)")
      #expect(try store.hold(id: "h_1") != nil)
    }
  }
}

@Suite("Bulk decisions in the store")
struct BulkHoldStoreTests {
  @Test(arguments: Backend.all) func exactlyTheIdsGivenAreDecidedAndEachSaysWhetherItWasThisDecision(
    _ backend: Backend
  ) throws {
    try withStore(backend) { (store, fixture) throws in
      try store.createHold(makeHold("h_a"))
      try store.createHold(makeHold("h_b"))
      try store.createHold(makeHold("h_c", deadline: 2_500))
      try store.createHold(makeHold("h_done"))
      try store.decide(holdID: "h_done", state: .rejected, by: "bob", channel: "terminal", at: 1_500)
      // Listed: a, b, c, done and an unknown id. Held after the listing: late.
      try store.createHold(makeHold("h_late", createdAt: 2_900))
      let results = try store.decide(
        holdIDs: ["h_a", "h_b", "h_c", "h_done", "h_unknown"], state: .approved, by: "ann", channel: "cli",
        note: nil, at: 3_000, attestation: .cliTerminal)
      #expect(results.map(\.id) == ["h_a", "h_b", "h_c", "h_done", "h_unknown"])
      #expect(results.map(\.taken) == [true, true, false, false, false])
      #expect(results[0].hold?.state == .approved && results[0].hold?.attestation == "cli-terminal")
      #expect(results[2].hold?.state == .pending)  // past its deadline: left for its holder to expire
      #expect(results[3].hold?.decidedBy == "bob")
      #expect(results[4].hold == nil)
      #expect(try store.hold(id: "h_late")?.state == .pending)
      #expect(try store.pendingHolds(now: 3_000).map(\.id) == ["h_late"])
    }
  }
}
