import Glibc
import Testing
import WardenWrap

/// Reads a fixture under Fixtures/ next to this file.
func fixture(_ name: String) throws -> [UInt8] {
  let folder = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!))
  let path = folder + "/Fixtures/" + name
  guard let file = fopen(path, "rb") else { throw FixtureMissing(path: path) }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = fread(&buffer, 1, buffer.count, file)
    if count == 0 { break }
    bytes += buffer[0..<count]
  }
  return bytes
}

struct FixtureMissing: Error {
  var path: String
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

let warden = "/usr/local/bin/warden"

struct AgentFixture: Sendable, CustomStringConvertible {
  var file: String
  var agent: AgentKind
  /// Each server's status after wrap, in the file's order.
  var statuses: [String: ServerOutcome.Status]
  var description: String { file }
}

let agentFixtures = [
  AgentFixture(
    file: "claude-desktop/claude_desktop_config.json", agent: .claudeDesktop,
    statuses: ["filesystem": .wrapped, "time": .wrapped, "github": .wrapped]),
  AgentFixture(
    file: "claude-code/.mcp.json", agent: .claudeCode,
    statuses: [
      "shared-server": .wrapped, "api-server": .wrapped, "sentry": .remote, "linear": .remote,
      "airtable": .wrapped,
    ]),
  AgentFixture(
    file: "claude-code/claude.json", agent: .claudeCode,
    statuses: ["my-server": .wrapped, "stripe": .remote, "postgres": .wrapped]),
  AgentFixture(
    file: "cursor/mcp.json", agent: .cursor,
    statuses: ["server-name": .wrapped, "python-server": .wrapped, "remote-server": .remote]),
  AgentFixture(
    file: "vscode/mcp.json", agent: .vscode,
    statuses: ["Perplexity": .wrapped, "fetch": .wrapped, "memory": .wrapped, "github": .remote]),
  AgentFixture(
    file: "codex/config.toml", agent: .codex,
    statuses: ["docs": .wrapped, "figma": .remote, "context7": .wrapped, "time server": .wrapped]),
]

@Suite("Wrapping agents' MCP configurations as text")
struct ConfigEditorTests {
  @Test(arguments: agentFixtures)
  func wrapThenUnwrapGivesTheFileBackByteForByte(_ fixture: AgentFixture) throws {
    let original = try WardenWrapTests.fixture(fixture.file)
    let wrapped = try ConfigEditor.wrap(original, agent: fixture.agent, warden: warden, file: fixture.file)
    #expect(wrapped.bytes != original)
    #expect(
      Dictionary(uniqueKeysWithValues: wrapped.servers.map { ($0.name, $0.status) }) == fixture.statuses)
    // Unwrapping the text (not restoring a copy) gives every byte back: comments, unknown keys,
    // remote servers, layout.
    let unwrapped = try ConfigEditor.unwrap(wrapped.bytes, agent: fixture.agent, file: fixture.file)
    #expect(text(unwrapped.bytes) == text(original))
    #expect(unwrapped.bytes == original)
  }

  @Test(arguments: agentFixtures)
  func wrappingTwiceChangesNothing(_ fixture: AgentFixture) throws {
    let original = try WardenWrapTests.fixture(fixture.file)
    let once = try ConfigEditor.wrap(original, agent: fixture.agent, warden: warden, file: fixture.file)
    let twice = try ConfigEditor.wrap(once.bytes, agent: fixture.agent, warden: warden, file: fixture.file)
    #expect(twice.bytes == once.bytes)
    #expect(!twice.changed)
    #expect(twice.servers.allSatisfy { $0.status == .alreadyWrapped || $0.status == .remote })
  }

  @Test(arguments: agentFixtures)
  func onlyCommandAndArgsLinesChange(_ fixture: AgentFixture) throws {
    let original = try WardenWrapTests.fixture(fixture.file)
    let wrapped = try ConfigEditor.wrap(original, agent: fixture.agent, warden: warden, file: fixture.file)
    let diff = LineDiff.unified(old: original, new: wrapped.bytes, oldName: "a", newName: "b")
    for line in diff.split(separator: "\n") where line.hasPrefix("+") && !line.hasPrefix("+++") {
      #expect(line.contains("warden") || line.contains("--agent=") || line.contains("args"), "\(line)")
    }
    #expect(!diff.isEmpty)
  }

  @Test func aClaudeDesktopServerIsLaunchedThroughWardenWithItsNameAndAgent() throws {
    let original = try fixture("claude-desktop/claude_desktop_config.json")
    let wrapped = text(
      try ConfigEditor.wrap(original, agent: .claudeDesktop, warden: warden, file: "c").bytes)
    #expect(
      wrapped.contains(
        """
              "command": "/usr/local/bin/warden",
              "args": ["run", "--server=time", "--agent=claude-desktop", "--", "uvx", "mcp-server-time", "--local-timezone=Europe/Paris"]
        """))
    #expect(
      wrapped.contains(
        """
              "args": ["run", "--server=filesystem", "--agent=claude-desktop", "--", "npx",
                "-y",
        """))
    // env and unknown keys stay as they were.
    #expect(wrapped.contains("\"GITHUB_PERSONAL_ACCESS_TOKEN\": \"<YOUR_TOKEN>\""))
    #expect(wrapped.contains("\"globalShortcut\": \"Ctrl+Space\""))
  }

  @Test func aCodexServerWithoutArgsGetsAnArgsLineAndUnwrapRemovesIt() throws {
    let original = try fixture("codex/config.toml")
    let wrapped = text(try ConfigEditor.wrap(original, agent: .codex, warden: warden, file: "c").bytes)
    #expect(
      wrapped.contains(
        """
        [mcp_servers."time server"]
        command = "/usr/local/bin/warden"
        args = ["run", "--server=time server", "--agent=codex", "--", "uvx"]
        enabled_tools = ["get_current_time"]
        """))
    #expect(wrapped.contains("command = \"/usr/local/bin/warden\"   # a literal string"))
    #expect(
      wrapped.contains("args = [\"run\", \"--server=context7\", \"--agent=codex\", \"--\", 'npx',\n  \"-y\",")
    )
  }

  @Test func claudeCodesProjectServersAreWrappedWhereTheyAre() throws {
    let original = try fixture("claude-code/claude.json")
    let wrapped = try ConfigEditor.wrap(original, agent: .claudeCode, warden: warden, file: "c")
    let postgres = wrapped.servers.first { $0.name == "postgres" }
    #expect(postgres?.location == "projects[\"/home/me/app\"].mcpServers")
    #expect(
      text(wrapped.bytes).contains("\"--server=postgres\", \"--agent=claude-code\", \"--\", \"npx\", \"-y\""))
  }

  @Test func unwrapAfterTheFileChangedKeepsTheChangesAndTakesOutWardensPart() throws {
    let original = text(try fixture("claude-desktop/claude_desktop_config.json"))
    var edited = text(
      try ConfigEditor.wrap(bytes(original), agent: .claudeDesktop, warden: warden, file: "c").bytes)
    // The human (or the agent) changes a value and adds a server after wrap.
    edited = edited.replacingOccurrences("<YOUR_TOKEN>", "ghp_new")
    edited = edited.replacingOccurrences(
      "\"mcpServers\": {", "\"mcpServers\": {\n    \"new\": {\"command\": \"new-server\"},")
    let unwrapped = try ConfigEditor.unwrap(bytes(edited), agent: .claudeDesktop, file: "c")
    var expected = original.replacingOccurrences("<YOUR_TOKEN>", "ghp_new")
    expected = expected.replacingOccurrences(
      "\"mcpServers\": {", "\"mcpServers\": {\n    \"new\": {\"command\": \"new-server\"},")
    #expect(text(unwrapped.bytes) == expected)
    #expect(unwrapped.servers.first { $0.name == "new" }?.status == .notWrapped)
  }

  @Test func aReformattedWrappedEntryIsStillUnwrapped() throws {
    let wrapped = """
      {"mcpServers": {"time": {"command": "/opt/warden",
        "args": [
          "run",
          "--server=time",
          "--agent=cursor",
          "--",
          "uvx",
          "mcp-server-time"
        ], "env": {"TZ": "UTC"}}}}
      """
    let unwrapped = text(try ConfigEditor.unwrap(bytes(wrapped), agent: .cursor, file: "c").bytes)
    #expect(unwrapped.contains("\"command\": \"uvx\""))
    #expect(unwrapped.contains("\"env\": {\"TZ\": \"UTC\"}"))
    let servers = try ConfigEditor.servers(bytes(unwrapped), agent: .cursor, file: "c")
    #expect(servers.map(\.status) == [.notWrapped])
    #expect(!unwrapped.contains("--server"))
  }

  @Test(arguments: [
    ("{\"mcpServers\": {\"a\": {\"command\": \"x\"}}", "c:1: not valid JSON: unterminated object"),
    ("{\"mcpServers\": {}, \"mcpServers\": {}}", "appears twice"),
    ("{\n  // a comment\n  \"mcpServers\": {}\n}", "c:2: not valid JSON: comments are not JSON"),
    ("[1, 2]", "the top level is not an object"),
    ("{\"mcpServers\": []}", "'mcpServers' is not an object"),
    ("{\"mcpServers\": {\"a\": {\"command\": \"x\",}}}", "c:1: not valid JSON"),
    ("{\"servers\": {\"a\": {\"command\": \"x\"}}}", "VS Code's? then give --agent vscode"),
    ("{\"a\": \"\u{01}\"}", "a control character"),
  ])
  func aBrokenOrUnknownJSONFileIsAnErrorNamingTheFileAndLine(_ input: String, _ message: String) {
    #expect {
      try ConfigEditor.wrap(bytes(input), agent: .claudeDesktop, warden: warden, file: "c")
    } throws: { error in
      (error as? WrapError)?.message.contains(message) == true
    }
  }

  @Test(arguments: [
    ("[mcp_servers.a]\ncommand = \"x\"\ncommand = \"y\"\n", "c:3: not valid TOML"),
    ("[mcp_servers.a\ncommand = \"x\"\n", "not valid TOML"),
    ("mcp_servers = 5\n", "'mcp_servers' is not a table"),
    ("a = \"\0\"\n", "a NUL byte"),
  ])
  func aBrokenTOMLFileIsAnError(_ input: String, _ message: String) {
    #expect {
      try ConfigEditor.wrap(bytes(input), agent: .codex, warden: warden, file: "c")
    } throws: { error in
      (error as? WrapError)?.message.contains(message) == true
    }
  }

  @Test func deepNestingIsRefusedNotRecursedInto() {
    let deep =
      "{\"x\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
    #expect(throws: WrapError.self) {
      try ConfigEditor.wrap(bytes(deep), agent: .cursor, warden: warden, file: "c")
    }
  }
}

extension String {
  func replacingOccurrences(_ target: String, _ replacement: String) -> String {
    var result = ""
    var rest = Substring(self)
    while let range = rest.firstRange(of: target) {
      result += rest[..<range.lowerBound] + replacement
      rest = rest[range.upperBound...]
    }
    return result + rest
  }
}
