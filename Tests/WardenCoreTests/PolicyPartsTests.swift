import Testing
import WardenCore
import WardenJSON

@Suite("Globs")
struct GlobTests {
  static let matching: [(String, String, Bool)] = [
    ("git.read", "git.read", true), ("git.read", "git.reads", false), ("git.*", "git.read", true),
    ("git.*", "git.remote.push", false), ("git.**", "git.remote.push", true), ("*", "git", true),
    ("*", "git.read", false), ("**", "anything.at.all", true), ("git.*.push", "git.remote.push", true),
    ("git.*.push", "git.push", false), ("*.read", "mail.read", true), ("Git.read", "git.read", false),
    ("", "", true), ("", "x", false), ("git.***", "git.a.b", true),
  ]

  @Test(arguments: matching)
  func actions(_ pattern: String, _ text: String, _ expected: Bool) {
    #expect(Glob.action(pattern).matches(text) == expected, "\(pattern) vs \(text)")
  }

  @Test func resources() {
    #expect(Glob.resource("file:/srv/*").matches("file:/srv/a"))
    #expect(!Glob.resource("file:/srv/*").matches("file:/srv/a/b"))
    #expect(Glob.resource("file:/srv/**").matches("file:/srv/a/b"))
    #expect(Glob.resource("file:/srv/**").matches("file:/srv/"))
    // A tree's root is in the tree: a forbid on repo:/srv/prod/** must cover repo:/srv/prod.
    #expect(Glob.resource("file:/srv/**").matches("file:/srv"))
    #expect(!Glob.resource("file:/srv/**").matches("file:/srvx"))
    #expect(Glob.resource("repo:*").matches("repo:app"))
    #expect(!Glob.resource("repo:*").matches("repo:/srv/app"))
  }

  static let covering: [(String, String, Bool)] = [
    ("git.*", "git.read", true), ("git.*", "git.*", true), ("git.*", "git.**", false),
    ("git.**", "git.*", true),
    ("git.**", "git.a.*.b", true), ("git.read", "git.*", false), ("**", "anything.**", true),
    ("git.*", "mail.read", false), ("*.read", "git.read", true), ("*.read", "*.*", false),
  ]

  /// Found by fuzzing: a pattern with a wildcard before its trailing `/**` must cover itself.
  @Test(arguments: ["a/*/**", "*/**", "repo:/home/*/**", "a/**", "repo:/srv/**/x/**"])
  func everyResourceGlobCoversItself(_ pattern: String) {
    #expect(Glob.resource(pattern).covers(Glob.resource(pattern)))
  }

  @Test(arguments: covering)
  func covers(_ wide: String, _ narrow: String, _ expected: Bool) {
    #expect(Glob.action(wide).covers(Glob.action(narrow)) == expected, "\(wide) covers \(narrow)")
  }
}

@Suite("Durations and timestamps")
struct TimeTests {
  @Test func durations() {
    #expect(Durations.parse("8h") == Int64(28_800_000))
    #expect(Durations.parse("1h30m") == 5_400_000)
    #expect(Durations.parse("2d") == 172_800_000)
    #expect(Durations.parse("90s") == 90_000)
    #expect(Durations.parse("1w") == 604_800_000)
    #expect(Durations.parse("5200w") == Int64(5200) * Int64(604_800_000))
    for bad in ["", "h", "8", "-1h", "0h", "1.5h", "1y", "99999999999999999w", "15250284452w", "5300w"] {
      #expect(Durations.parse(bad) == nil, "\(bad)")
    }
    #expect(Durations.describe(5_400_000) == "1h30m")
    #expect(Durations.describe(86_400_000) == "1d")
  }

  @Test func timestamps() {
    #expect(Timestamps.format(0) == "1970-01-01T00:00:00Z")
    #expect(Timestamps.format(1_795_000_000_000) == "2026-11-18T11:06:40Z")
    #expect(Timestamps.parse("2026-11-18T11:06:40Z") == 1_795_000_000_000)
    #expect(Timestamps.parse("2026-11-18T13:06:40+02:00") == 1_795_000_000_000)
    #expect(Timestamps.parse("2026-11-18 11:06:40") == 1_795_000_000_000)
    let midnight: Int64 = 1_794_960_000_000  // 2026-11-18T00:00:00Z
    #expect(Timestamps.parse("2026-11-18") == midnight)
    #expect(Timestamps.parse("2024-02-29T00:00Z") != nil)
    for bad in ["2026-02-30", "2026-13-01", "tomorrow", "2026-11-18T25:00", "2026-11-18T08:26:40Q"] {
      #expect(Timestamps.parse(bad) == nil, "\(bad)")
    }
  }
}

@Suite("Narrowing a parent grant")
struct NarrowingTests {
  static let now: Int64 = 1_795_000_000_000
  static let parent = Grant(
    id: "g_p", effect: .allow, actions: ["git.*"], resources: ["repo:/srv/**"], agent: "*", server: "git",
    confirm: ["git.write"], purpose: "p", issuedBy: "me", issuedAt: now, expiresAt: now + 3_600_000,
    rateLimit: RateLimit(count: 100, periodMilliseconds: 3_600_000))

  func child(_ change: (inout Grant) -> Void) -> Grant {
    var grant = Self.parent
    grant.id = "g_c"
    grant.parentID = "g_p"
    grant.actions = ["git.read"]
    grant.resources = ["repo:/srv/app"]
    grant.agent = "claude"
    grant.expiresAt = Self.now + 1_800_000
    change(&grant)
    return grant
  }

  @Test func aNarrowerChildIsAccepted() {
    #expect(Narrowing.problems(child: child { _ in }, parent: Self.parent, now: Self.now).isEmpty)
  }

  @Test func everyWideningIsRefused() {
    let cases: [(String, (inout Grant) -> Void)] = [
      ("action", { $0.actions = ["mail.read"] }),
      ("action glob", { $0.actions = ["git.**"] }),
      ("resource", { $0.resources = ["repo:/etc"] }),
      ("any resource", { $0.resources = [] }),
      ("server", { $0.server = "*" }),
      ("expiry", { $0.expiresAt = Self.now + 7_200_000 }),
      ("no expiry", { $0.expiresAt = nil }),
      ("confirm dropped", { $0.confirm = [] }),
      ("rate limit dropped", { $0.rateLimit = nil }),
      ("rate limit looser", { $0.rateLimit = RateLimit(count: 1000, periodMilliseconds: 3_600_000) }),
    ]
    for (name, change) in cases {
      #expect(
        !Narrowing.problems(child: child(change), parent: Self.parent, now: Self.now).isEmpty, "\(name)")
    }
    var revoked = Self.parent
    revoked.revokedAt = Self.now
    #expect(!Narrowing.problems(child: child { _ in }, parent: revoked, now: Self.now).isEmpty)
  }
}

@Suite("What warden tells the agent")
struct DelegationTextTests {
  @Test func shellQuoting() {
    #expect(DelegationText.shellQuoted("git.read") == "git.read")
    #expect(DelegationText.shellQuoted("repo:/srv/app") == "repo:/srv/app")
    #expect(DelegationText.shellQuoted("it's") == #"'it'\''s'"#)
    #expect(DelegationText.shellQuoted("a b") == "'a b'")
    #expect(DelegationText.shellQuoted("") == "''")
  }

  @Test func aDenialSaysWhatWhyAndHowToGrantIt() throws {
    let manifest = Manifest(
      server: "git",
      tools: [
        "git_commit": ToolRule(
          action: "git.write", resources: [try ResourceTemplate("repo:{repo_path|path}")])
      ])
    let call = ToolCall(
      server: "git", agent: "claude", tool: "git_commit",
      arguments: .object([.init("repo_path", .string("/srv/app"))]))
    let read = Grant(
      id: "g_r", effect: .allow, actions: ["git.read"], resources: ["repo:/srv/app"], server: "git",
      purpose: "review the code", issuedBy: "ann", issuedAt: 0, expiresAt: 10_000)
    let decision = Authorizer.authorize(
      call: call, scopes: manifest.scopes(for: call, annotations: nil), grants: [read], now: 1)
    let text = DelegationText.denial(for: call, authorization: decision, liveGrants: [read])
    #expect(text.contains("no delegation covers git.write on repo:/srv/app"))
    #expect(text.contains("review the code"))
    // What the human would have to delegate, never a command an agent with a shell could run.
    #expect(text.contains("would have to delegate 'git.write' on repo:/srv/app to agent 'claude'"))
    #expect(!text.contains("warden grant"))
    // The command itself is for the human's channels.
    #expect(
      DelegationText.suggestedGrant(for: call, authorization: decision)?.contains(
        "warden grant --server git --agent claude --allow git.write --on repo:/srv/app --for 1h") == true)
  }
}
