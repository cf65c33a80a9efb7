import Testing
import WardenCore
import WardenDoctor
import WardenManifest

/// A private home of user 1000 with a current store: what `warden grants` leaves.
func cleanDeployment(agentConfigs: [AgentConfigFacts] = [], configuration: ConfigurationState = .absent)
  -> DeploymentFacts
{
  let home = "/home/me/.local/state/warden"
  return DeploymentFacts(
    userID: 1000, userName: "me", home: home,
    homeFile: FileFacts(path: home, kind: .directory, ownerID: 1000, mode: 0o700),
    homeEntries: [FileFacts(path: home + "/warden.db", kind: .regularFile, ownerID: 1000, mode: 0o600)],
    store: .current(migrations: 8), configuration: configuration, agentConfigs: agentConfigs)
}

/// An agent configuration with one server launched by `commandLine`.
func config(_ name: String, _ commandLine: [String], wrapped: Bool = true) -> AgentConfigFacts {
  AgentConfigFacts(
    path: "/home/me/app/.mcp.json", wrapped: wrapped,
    state: .read(
      agent: "claude-code",
      servers: [
        ConfiguredServer(
          name: name, commandLine: commandLine, behindWarden: commandLine.first?.hasSuffix("warden") == true)
      ]))
}

/// The one element of `list`; nil (and a failed expectation) when there are more or none.
func only(_ list: [Finding]) -> Finding? {
  #expect(list.count == 1, "\(list)")
  return list.count == 1 ? list[0] : nil
}

func findings(_ facts: DeploymentFacts, check: String) -> [Finding] {
  Doctor.report(facts).findings.filter { $0.check == check }
}

@Suite struct HomeAndStoreTests {
  @Test func aCleanHomeHasNoProblem() {
    let report = Doctor.report(cleanDeployment())
    #expect(report.exitStatus == 0)
    #expect(report.findings.filter { $0.severity == .problem }.isEmpty)
    #expect(findings(cleanDeployment(), check: "store").first?.severity == .ok)
  }

  @Test func aHomeOthersCanReachIsAProblemWithTheChmod() throws {
    var facts = cleanDeployment()
    facts.homeFile.mode = 0o755
    let home = try #require(only(findings(facts, check: "home")))
    #expect(home.severity == .problem)
    #expect(home.fix == "chmod 700 /home/me/.local/state/warden")
    #expect(Doctor.report(facts).exitStatus == 1)
  }

  @Test func aStoreOthersCanReadIsAProblemAConfigOnlyAWarning() {
    var facts = cleanDeployment()
    facts.homeEntries = [
      FileFacts(path: facts.home + "/warden.db", kind: .regularFile, ownerID: 1000, mode: 0o644),
      FileFacts(path: facts.home + "/config.yaml", kind: .regularFile, ownerID: 1000, mode: 0o644),
    ]
    let found = findings(facts, check: "permissions")
    #expect(found.map(\.severity) == [.problem, .warning])
    #expect(found.map(\.fix) == ["chmod 600 \(facts.home)/warden.db", "chmod 600 \(facts.home)/config.yaml"])
  }

  @Test func aFileOthersCanWriteIsAProblem() {
    var facts = cleanDeployment()
    facts.homeEntries = [
      FileFacts(path: facts.home + "/manifests", kind: .directory, ownerID: 1000, mode: 0o777)
    ]
    #expect(findings(facts, check: "permissions").map(\.severity) == [.problem])
  }

  @Test func anotherUsersHomeIsAProblemAndNoSameUserWarning() {
    var facts = cleanDeployment()
    facts.homeFile.ownerID = 0
    #expect(findings(facts, check: "home").map(\.severity) == [.problem])
    #expect(findings(facts, check: "same-user").isEmpty)
  }

  @Test func aMissingHomeIsAWarningOnly() {
    var facts = cleanDeployment()
    facts.homeFile = .missing(facts.home)
    facts.homeEntries = []
    #expect(Doctor.report(facts).exitStatus == 0)
    #expect(findings(facts, check: "home").map(\.severity) == [.warning])
  }

  @Test(arguments: [
    (StoreState.newer(unknown: ["v99"]), Severity.problem), (.unreadable("file is not a database"), .problem),
    (.outdated(missing: ["v8-tool-pins"]), .warning), (.missing, .ok),
  ])
  func storeStates(state: StoreState, severity: Severity) {
    var facts = cleanDeployment()
    facts.store = state
    #expect(findings(facts, check: "store").map(\.severity) == [severity])
  }
}

@Suite struct WhoCanApproveTests {
  @Test func theStoresOwnerIsWarnedAboutTheThreatModel() throws {
    let finding = try #require(only(findings(cleanDeployment(), check: "same-user")))
    #expect(finding.severity == .warning)
    #expect(finding.message.contains("approve its own calls"))
    #expect(finding.message.contains("speed bump"))
  }

  @Test func trustingTheClientsAnswerIsAWarning() throws {
    var settings = WardenConfiguration()
    settings.trustsClientAnswers = true
    let finding = try #require(
      only(findings(cleanDeployment(configuration: .valid(settings)), check: "channels")))
    #expect(finding.severity == .warning)
    #expect(finding.fix?.contains("channels: [terminal]") == true)
  }

  @Test func noNotifySendAndNoTerminalAreWarnings() {
    var facts = cleanDeployment()
    facts.notifySend = nil
    facts.atTerminal = false
    #expect(findings(facts, check: "notify-send").map(\.severity) == [.warning])
    #expect(findings(facts, check: "terminal").map(\.severity) == [.warning])
    #expect(Doctor.report(facts).exitStatus == 0)
  }

  @Test func scriptedAllowIsAWarning() {
    var settings = WardenConfiguration()
    settings.allowsScripted = true
    #expect(
      findings(cleanDeployment(configuration: .valid(settings)), check: "scripted").first?.fix
        == "scripted: deny")
  }

  @Test func anInvalidConfigIsAProblem() {
    let facts = cleanDeployment(configuration: .invalid("config.yaml: unknown key 'x'"))
    #expect(findings(facts, check: "config").map(\.severity) == [.problem])
  }
}

@Suite struct AgentConfigTests {
  @Test func aServerWithoutAManifestIsAProblemNamingManifestInit() throws {
    let facts = cleanDeployment(agentConfigs: [
      config(
        "notes",
        [
          "warden", "run", "--server=notes", "--agent=claude-code", "--", "python3", "notes.py", "--db",
          "a b",
        ])
    ])
    let finding = try #require(only(findings(facts, check: "manifest")))
    #expect(finding.severity == .problem)
    #expect(finding.server == "notes")
    #expect(
      finding.fix?.hasPrefix("warden manifest init --server notes -- python3 notes.py --db 'a b'") == true)
    #expect(Doctor.report(facts).exitStatus == 1)
  }

  @Test func aBuiltInManifestIsFoundByTheCommandsName() throws {
    let facts = cleanDeployment(agentConfigs: [
      config("clock", ["/usr/local/bin/warden", "run", "--server=clock", "--", "uvx", "mcp-server-time"])
    ])
    let finding = try #require(only(findings(facts, check: "manifest")))
    #expect(finding.severity == .ok, "\(finding.message)")
    #expect(finding.message.contains("built-in manifest 'time'"))
  }

  @Test func aServerNotBehindWardenIsAWarningWithWrap() throws {
    let facts = cleanDeployment(agentConfigs: [config("time", ["uvx", "mcp-server-time"], wrapped: false)])
    let finding = try #require(only(findings(facts, check: "not-wrapped")))
    #expect(finding.severity == .warning)
    #expect(finding.fix == "warden wrap /home/me/app/.mcp.json")
  }

  @Test func modeReportOnlyOnTheCommandLineIsAWarningWithThePin() throws {
    let line = ["warden", "run", "--server=time", "--mode", "report", "--", "uvx", "mcp-server-time"]
    let finding = try #require(
      only(findings(cleanDeployment(agentConfigs: [config("time", line)]), check: "unpinned-option")))
    #expect(finding.severity == .warning)
    #expect(finding.fix?.hasPrefix("servers:\n  time:\n    mode: report") == true)
    var settings = WardenConfiguration()
    settings.servers["time"] = .init(mode: .report)
    let pinned = cleanDeployment(agentConfigs: [config("time", line)], configuration: .valid(settings))
    #expect(findings(pinned, check: "unpinned-option").isEmpty)
  }

  @Test func ungrantedConfirmAndAgentUnpinnedAreWarnings() {
    let line = [
      "warden", "run", "--server=time", "--agent=x", "--ungranted=confirm", "--", "uvx", "mcp-server-time",
    ]
    let found = findings(cleanDeployment(agentConfigs: [config("time", line)]), check: "unpinned-option")
    #expect(found.count == 2)
    #expect(found.contains { $0.fix?.contains("ungranted: confirm") == true })
    #expect(found.contains { $0.fix?.contains("agent: x") == true })
  }

  @Test func aWritableManifestOutsideTheHomeIsAWarning() throws {
    let path = "/home/me/app/notes.yaml"
    let manifest = BuiltinManifests.builtin(named: "time")!
    let line = ["warden", "run", "--server=notes", "--manifest", path, "--", "python3", "notes.py"]
    var facts = cleanDeployment(agentConfigs: [config("notes", line)])
    facts.manifestFiles[path] = .loaded(manifest)
    facts.writableManifests = [path]
    let finding = try #require(only(findings(facts, check: "unpinned-option")))
    #expect(finding.fix?.contains("manifest: manifests/notes.yaml") == true)
    facts.writableManifests = []
    #expect(findings(facts, check: "unpinned-option").isEmpty)
    #expect(findings(facts, check: "manifest").map(\.severity) == [.ok])
  }

  @Test func aMissingManifestFileIsAProblem() throws {
    let line = ["warden", "run", "--server=notes", "--manifest=/nowhere.yaml", "--", "python3", "notes.py"]
    var facts = cleanDeployment(agentConfigs: [config("notes", line)])
    facts.manifestFiles["/nowhere.yaml"] = .missing
    let finding = try #require(only(findings(facts, check: "manifest")))
    #expect(finding.severity == .problem)
    #expect(finding.message.contains("/nowhere.yaml does not exist"))
  }

  @Test func aGoneConfigIsAWarningWithTheRecordsToRemove() throws {
    let gone = AgentConfigFacts(
      path: "/gone/.mcp.json", wrapped: true, state: .missing(records: ["/h/wrapped/a.json"]))
    let finding = try #require(only(findings(cleanDeployment(agentConfigs: [gone]), check: "agent-config")))
    #expect(finding.severity == .warning)
    #expect(finding.fix == "rm /h/wrapped/a.json")
  }
}

@Suite struct RenderingTests {
  @Test func runArguments() {
    let run = RunArguments.parse([
      "run", "--server", "a", "--mode=report", "--hide-undelegated", "--", "x", "--mode",
    ])
    #expect(run?.server == "a")
    #expect(run?.options.mode == .report)
    #expect(run?.command == ["x", "--mode"])
    #expect(RunArguments.parse(["run", "--server=a"]) == nil)
  }

  @Test func jsonHasTheStableKeys() throws {
    let report = Doctor.report(cleanDeployment())
    let text = report.json
    for key in ["\"check\"", "\"severity\"", "\"message\"", "\"fix\"", "\"findings\"", "\"summary\""] {
      #expect(text.contains(key))
    }
  }

  @Test func textEscapesWhatTheAgentWrote() {
    let facts = cleanDeployment(agentConfigs: [
      config("evil\u{1B}[2J", ["uvx", "mcp-server-time"], wrapped: false)
    ])
    let text = Doctor.report(facts).text
    #expect(!text.contains("\u{1B}"))
    #expect(text.contains("evil\\e[2J"))
  }
}

@Suite struct ServerEdgeTests {
  @Test func secretsInTheCommandLineAreNotRepeated() throws {
    let line = [
      "warden", "run", "--server=db", "--", "npx", "pg-mcp", "--api-key", "sk-123", "--token=abc",
      "postgresql://me:hunter2@db/prod",
    ]
    let finding = try #require(
      only(findings(cleanDeployment(agentConfigs: [config("db", line)]), check: "manifest")))
    let fix = try #require(finding.fix)
    #expect(fix.contains("--api-key '***' '--token=***' 'postgresql://me:***@db/prod'"), "\(fix)")
    for secret in ["sk-123", "abc", "hunter2"] { #expect(!fix.contains(secret)) }
  }

  @Test func anInvalidConfigStopsEveryWrappedServer() throws {
    let line = ["warden", "run", "--server=time", "--", "uvx", "mcp-server-time"]
    let facts = cleanDeployment(agentConfigs: [config("time", line)], configuration: .invalid("bad"))
    let finding = try #require(only(findings(facts, check: "manifest")))
    #expect(finding.severity == .problem)
    #expect(finding.message.contains("78"))
  }

  @Test func noConfigurationAtAllIsAWarning() throws {
    let finding = try #require(only(findings(cleanDeployment(), check: "agent-config")))
    #expect(finding.severity == .warning)
  }

  @Test func anUnpinnedContextIsAWarningAPinnedOneIsNot() throws {
    let line = [
      "warden", "run", "--server=db-prod", "--context", "env=dev", "--", "uvx", "mcp-server-sqlite",
    ]
    let finding = try #require(
      only(findings(cleanDeployment(agentConfigs: [config("db-prod", line)]), check: "unpinned-option")))
    #expect(finding.fix == "servers:\n  db-prod:\n    context: {env: dev}")
    var settings = WardenConfiguration()
    settings.servers["db-prod"] = .init(context: ["env": "production"])
    let pinned = cleanDeployment(agentConfigs: [config("db-prod", line)], configuration: .valid(settings))
    #expect(findings(pinned, check: "unpinned-option").isEmpty)
  }
}

@Suite struct SharedStoreTests {
  @Test(arguments: [
    (SharedStoreFacts.State.current(version: 1), Severity.ok), (.empty, .problem),
    (.outdated(missing: [2]), .problem),
    (.newer(unknown: [9]), .problem), (.unavailable("cannot connect"), .problem),
  ])
  func states(state: SharedStoreFacts.State, severity: Severity) {
    var facts = cleanDeployment()
    facts.sharedStore = SharedStoreFacts(
      location: "postgres://w@db:5432/w?sslmode=verify-full", source: .configuration, state: state)
    #expect(findings(facts, check: "store").map(\.severity) == [severity])
    #expect(findings(facts, check: "store-pin").isEmpty)
  }

  @Test func aStoreChosenByTheEnvironmentIsAWarning() throws {
    var facts = cleanDeployment()
    facts.sharedStore = SharedStoreFacts(
      location: "postgres://w@db:5432/w?sslmode=verify-full", source: .environment,
      state: .current(version: 1))
    let pin = try #require(only(findings(facts, check: "store-pin")))
    #expect(pin.severity == .warning && pin.fix?.contains("config.yaml") == true)
  }
}
