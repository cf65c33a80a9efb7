import Testing
import WardenCore
import WardenJSON

/// `warden grant --reviewed`: destructive calls on exactly the resources a human reviewed are not held.
@Suite("Reviewed resources")
struct ReviewedResourceTests {
  static let manifest = Manifest(
    server: "mailbox", undeclared: .annotations,
    tools: [
      "delete_message": ToolRule(
        action: "mail.delete", resources: [try! ResourceTemplate("message:{id}")], destructive: true),
      "move_message": ToolRule(
        action: "mail.move",
        resources: [try! ResourceTemplate("message:{id}"), try! ResourceTemplate("folder:{folder}")],
        destructive: true),
      "archive_message": ToolRule(action: "mail.archive", resources: [try! ResourceTemplate("message:{id}")]),
      "purge": ToolRule(action: "mail.delete", destructive: true),
    ])
  static let policy = CallPolicy(manifest: manifest, serverName: "mailbox", protectedPaths: [])

  static func grant(
    _ id: String = "g_reviewed", actions: [String] = ["mail.**"], resources: [String] = [],
    reviewed: [String],
    confirm: [String] = [], expiresAt: Int64 = 10_000, revokedAt: Int64? = nil, rateLimit: RateLimit? = nil
  ) -> Grant {
    Grant(
      id: id, effect: .allow, actions: actions, resources: resources, server: "mailbox", confirm: confirm,
      reviewed: reviewed, purpose: "clear out what I read", issuedBy: "ann", issuedAt: 0,
      expiresAt: expiresAt,
      rateLimit: rateLimit, revokedAt: revokedAt)
  }

  static func decide(
    _ arguments: [(String, String)], tool: String = "delete_message", grants: [Grant], now: Int64 = 1,
    usage: [String: Int] = [:], trip: BreakerTrip? = nil, annotations: ToolAnnotations? = nil
  ) -> Authorization {
    policy.decide(
      tool: tool, arguments: .object(arguments.map { JSON.Member($0.0, .string($0.1)) }), agent: "claude",
      grants: GrantSet(grants), now: now, usage: usage, annotations: annotations, trip: trip
    ).1
  }

  @Test func aDestructiveCallOnAReviewedResourceRunsWithoutAHold() {
    let grant = Self.grant(reviewed: ["message:m1", "message:m2"])
    let decision = Self.decide([("id", "m1")], grants: [grant])
    #expect(decision.verdict == .allow)
    #expect(decision.reason == .reviewed)
    #expect(decision.grants.map(\.id) == ["g_reviewed"])
    #expect(decision.explanation.contains("g_reviewed"))
    #expect(decision.explanation.contains("message:m1"))
  }

  @Test(arguments: [
    "m3",  // not reviewed at all
    "m1 ",  // a trailing space
    "M1",  // another case
    "m",  // a prefix of a reviewed one
    "m10",  // a reviewed one is its prefix
  ])
  func aResourceNotExactlyReviewedIsStillHeld(_ id: String) {
    let decision = Self.decide([("id", id)], grants: [Self.grant(reviewed: ["message:m1"])])
    #expect(decision.verdict == .confirm)
    #expect(decision.reason == .destructive)
  }

  @Test func reviewedIsCompareedAsBytesNotUnicodeEquivalence() {
    let composed = "message:caf\u{E9}"
    let decomposed = "message:cafe\u{301}"
    #expect(composed == decomposed)  // Swift's String equality would let it through
    let grant = Self.grant(reviewed: [composed])
    #expect(Self.decide([("id", "caf\u{E9}")], grants: [grant]).reason == .reviewed)
    let other = Self.decide([("id", "cafe\u{301}")], grants: [grant])
    #expect(other.verdict == .confirm)
    #expect(other.reason == .destructive)
    // The Kelvin sign is not K either.
    let kelvin = Self.decide([("id", "\u{212A}")], grants: [Self.grant(reviewed: ["message:K"])])
    #expect(kelvin.verdict == .confirm)
  }

  @Test func everyResourceOfTheCallMustBeReviewed() {
    let grant = Self.grant(reviewed: ["message:m1"])
    let partly = Self.decide([("id", "m1"), ("folder", "trash")], tool: "move_message", grants: [grant])
    #expect(partly.verdict == .confirm)
    let both = Self.grant(reviewed: ["message:m1", "folder:trash"])
    #expect(
      Self.decide([("id", "m1"), ("folder", "trash")], tool: "move_message", grants: [both]).reason
        == .reviewed)
  }

  @Test func aCallWithoutResourcesIsStillHeld() {
    let decision = Self.decide([], tool: "purge", grants: [Self.grant(reviewed: ["message:m1"])])
    #expect(decision.verdict == .confirm)
  }

  @Test func aForbidStillDenies() {
    let forbid = Grant(
      id: "f_keep", effect: .forbid, actions: ["mail.delete"], resources: ["message:m1"], server: "mailbox",
      purpose: "keep it", issuedBy: "ann", issuedAt: 0, expiresAt: nil)
    let decision = Self.decide([("id", "m1")], grants: [Self.grant(reviewed: ["message:m1"]), forbid])
    #expect(decision.verdict == .deny)
    #expect(decision.reason == .forbidden)
  }

  @Test(arguments: [BreakerRule.Then.deny, .hold])
  func aTrippedBreakerStillApplies(_ then: BreakerRule.Then) {
    let trip = BreakerTrip(agent: "claude", at: 0, reason: "too many calls", then: then)
    let decision = Self.decide([("id", "m1")], grants: [Self.grant(reviewed: ["message:m1"])], trip: trip)
    #expect(decision.reason == .breakerTripped)
    #expect(decision.verdict == (then == .deny ? .deny : .confirm))
  }

  @Test func theGrantsOwnConfirmListStillHolds() {
    // `--confirm mail.delete` asks for every deletion under this grant; reviewing does not lift it.
    let grant = Self.grant(reviewed: ["message:m1"], confirm: ["mail.delete"])
    let decision = Self.decide([("id", "m1")], grants: [grant])
    #expect(decision.verdict == .confirm)
    // Nor a confirm-listed action that is not destructive.
    let archive = Self.decide(
      [("id", "m1")], tool: "archive_message",
      grants: [Self.grant(reviewed: ["message:m1"], confirm: ["mail.archive"])])
    #expect(archive.verdict == .confirm)
    #expect(archive.reason == .confirmRequired)
  }

  @Test func aRevokedExpiredOrExhaustedGrantsReviewNoLongerApplies() {
    let plain = Self.grant("g_plain", reviewed: [])
    let revoked = Self.grant(reviewed: ["message:m1"], revokedAt: 0)
    #expect(Self.decide([("id", "m1")], grants: [plain, revoked]).verdict == .confirm)
    let expiring = Self.grant(reviewed: ["message:m1"], expiresAt: 100)
    #expect(Self.decide([("id", "m1")], grants: [plain, expiring], now: 99).reason == .reviewed)
    #expect(Self.decide([("id", "m1")], grants: [plain, expiring], now: 100).verdict == .confirm)
    let limited = Self.grant(
      reviewed: ["message:m1"], rateLimit: RateLimit(count: 2, periodMilliseconds: 60_000))
    #expect(
      Self.decide([("id", "m1")], grants: [plain, limited], usage: ["g_reviewed": 1]).reason == .reviewed)
    #expect(
      Self.decide([("id", "m1")], grants: [plain, limited], usage: ["g_reviewed": 2]).verdict == .confirm)
  }

  @Test func theReviewingGrantMustCoverTheCall() {
    // A grant of other actions, or other resources, reviews nothing for this call.
    let otherAction = Self.grant(actions: ["mail.read"], reviewed: ["message:m1"])
    let plain = Self.grant("g_plain", reviewed: [])
    #expect(Self.decide([("id", "m1")], grants: [plain, otherAction]).verdict == .confirm)
    let otherResources = Self.grant(resources: ["message:x*"], reviewed: ["message:m1"])
    #expect(Self.decide([("id", "m1")], grants: [plain, otherResources]).verdict == .confirm)
  }

  @Test func anotherGrantsReviewCounts() {
    // A broad grant holds the deletion; a second one that reviewed the message lets it run, and
    // is the one the decision names first.
    let broad = Self.grant("g_broad", reviewed: [])
    let reviewing = Self.grant("g_later", actions: ["mail.delete"], reviewed: ["message:m1"])
    let decision = Self.decide([("id", "m1")], grants: [broad, reviewing])
    #expect(decision.reason == .reviewed)
    #expect(decision.grants.map(\.id) == ["g_later", "g_broad"])
  }

  @Test func callsJudgedByTheServersAnnotationsAreNeverReviewed() {
    let grant = Self.grant(actions: ["mailbox.*"], reviewed: ["tool:wipe"])
    let decision = Self.decide(
      [], tool: "wipe", grants: [grant], annotations: ToolAnnotations(readOnly: false, destructive: true))
    #expect(decision.verdict == .confirm)
  }

  @Test func aCallThatIsNotDestructiveIsUnaffected() {
    let decision = Self.decide(
      [("id", "m1")], tool: "archive_message", grants: [Self.grant(reviewed: ["message:m1"])])
    #expect(decision.verdict == .allow)
    #expect(decision.reason == .allowed)
  }

  // MARK: What `warden grant --reviewed` accepts

  @Test(arguments: ["message:*", "message:**", "message:m?", "message:[m]1", "**"])
  func globsAreRefusedNamingTheOption(_ resource: String) {
    let problems = ReviewedResources.problems(reviewed: [resource], resources: [])
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("--reviewed: ") == true)
    #expect(problems.first?.contains("glob") == true)
  }

  @Test func emptyAndControlCharactersAreRefused() {
    #expect(ReviewedResources.problems(reviewed: [""], resources: []).count == 1)
    #expect(ReviewedResources.problems(reviewed: ["message:a\u{1B}[2J"], resources: []).count == 1)
    #expect(ReviewedResources.problems(reviewed: ["message:\u{202E}1m"], resources: []).count == 1)
  }

  @Test func reviewedResourcesMustBeWithinTheGrantsOwn() {
    #expect(ReviewedResources.problems(reviewed: ["message:m1"], resources: ["message:m*"]).isEmpty)
    #expect(ReviewedResources.problems(reviewed: ["message:m1"], resources: []).isEmpty)
    let outside = ReviewedResources.problems(reviewed: ["message:x1"], resources: ["message:m*"])
    #expect(outside.count == 1)
    #expect(outside.first?.contains("not covered") == true)
  }

  @Test func repeatsAreDroppedByBytes() {
    #expect(ReviewedResources.distinct(["a", "b", "a"]) == ["a", "b"])
    #expect(ReviewedResources.distinct(["caf\u{E9}", "cafe\u{301}"]).count == 2)
  }

  // MARK: Narrowing

  @Test func aChildMayListOnlyWhatItsParentReviewed() {
    let parent = Self.grant("g_parent", reviewed: ["message:m1", "message:m2"])
    var child = Self.grant("g_child", reviewed: ["message:m1"])
    child.parentID = parent.id
    #expect(Narrowing.problems(child: child, parent: parent, now: 1).isEmpty)
    child.reviewed = ["message:m1", "message:m3"]
    let problems = Narrowing.problems(child: child, parent: parent, now: 1)
    #expect(problems == ["reviewed resource 'message:m3' is not among the parent's reviewed resources"])
    child.reviewed = ["message:cafe\u{301}"]
    let unicode = Narrowing.problems(
      child: child, parent: Self.grant("g_parent", reviewed: ["message:caf\u{E9}"]), now: 1)
    #expect(unicode.count == 1)
  }

  @Test func aChildWithoutReviewedResourcesInheritsNone() {
    let parent = Self.grant("g_parent", reviewed: ["message:m1"])
    var child = Self.grant("g_child", reviewed: [])
    child.parentID = parent.id
    #expect(Narrowing.problems(child: child, parent: parent, now: 1).isEmpty)
    // Where the child alone decides (here the parent is at its rate limit), the deletion the
    // parent's human reviewed is held again.
    var limitedParent = parent
    limitedParent.rateLimit = RateLimit(count: 1, periodMilliseconds: 60_000)
    child.rateLimit = limitedParent.rateLimit
    let underChild = Self.decide([("id", "m1")], grants: [limitedParent, child], usage: ["g_parent": 1])
    #expect(underChild.verdict == .confirm)
    #expect(underChild.grants.map(\.id) == ["g_child"])
    #expect(Self.decide([("id", "m1")], grants: [limitedParent, child]).reason == .reviewed)
  }

  @Test func aChildsReviewDiesWithItsParent() {
    let parent = Self.grant("g_parent", reviewed: ["message:m1"], revokedAt: 0)
    var child = Self.grant("g_child", reviewed: ["message:m1"])
    child.parentID = parent.id
    #expect(Self.decide([("id", "m1")], grants: [parent, child]).verdict == .deny)
  }
}

@Suite("Bulk hold selection")
struct HoldSelectionTests {
  static func hold(
    _ id: String, server: String = "mailbox", agent: String = "claude", tool: String = "delete_message"
  )
    -> Hold
  {
    Hold(
      id: id, server: server, agent: agent, tool: tool, arguments: "{}", digest: "d", action: "mail.delete",
      resources: [], reason: "destructive", explanation: "", grantID: nil, purpose: nil, holderPID: 1,
      createdAt: 0, deadline: 1000)
  }

  @Test func everyFilterGivenMustMatchAsBytes() {
    let filter = HoldFilter(server: "mailbox", tool: "delete_message")
    #expect(filter.matches(Self.hold("h1")))
    #expect(!filter.matches(Self.hold("h2", server: "git")))
    #expect(!filter.matches(Self.hold("h3", tool: "read_message")))
    #expect(HoldFilter(agent: "caf\u{E9}").matches(Self.hold("h4", agent: "caf\u{E9}")))
    #expect(!HoldFilter(agent: "caf\u{E9}").matches(Self.hold("h5", agent: "cafe\u{301}")))
    #expect(!HoldFilter(server: "mail*").matches(Self.hold("h6")))
    #expect(HoldFilter().isEmpty && !filter.isEmpty)
    #expect(filter.options == "--server mailbox --tool delete_message")
  }

  @Test func outcomesSayWhetherThisDecisionWasTheOneTaken() {
    var approved = Self.hold("h1")
    approved.state = .approved
    approved.decidedBy = "bob"
    approved.channel = "terminal"
    #expect(HoldDecisionOutcome.of(approved, asked: .approved, taken: true) == .decided(.approved))
    // Approved, but by someone else first: not this decision.
    let other = HoldDecisionOutcome.of(approved, asked: .approved, taken: false)
    #expect(other == .alreadyDecided(.approved, by: "bob", channel: "terminal"))
    #expect(!other.succeeded && other.name == "already-decided")
    #expect(other.describe(id: "h1", hold: approved) == "h1 was already approved by bob via terminal")
    #expect(HoldDecisionOutcome.of(Self.hold("h2"), asked: .rejected, taken: false) == .pastDeadline)
    #expect(HoldDecisionOutcome.of(nil, asked: .approved, taken: false) == .unknown)
  }
}
