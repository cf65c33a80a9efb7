import Testing
import WardenWrap

/// The configuration is the agent's to write (a project's `.mcp.json`): wrap must stay safe on
/// whatever it holds.
@Suite("Wrapping files an agent wrote")
struct AttackTests {
  @Test func aServerNamedLikeAnOptionStaysTheServersName() throws {
    let input = #"{"mcpServers": {"--manifest": {"command": "x"}, "a=b": {"command": "y"}}}"#
    let wrapped = String(
      decoding: try ConfigEditor.wrap(Array(input.utf8), agent: .claudeCode, warden: "/w", file: "c").bytes,
      as: UTF8.self)
    // `--server=NAME` in one argument: no name can be read as an option of its own.
    #expect(wrapped.contains(#""args": ["run", "--server=--manifest", "--agent=claude-code", "--", "x"]"#))
    #expect(wrapped.contains(#""--server=a=b""#))
  }

  @Test func shellCharactersAreOneArgumentAsTheyWere() throws {
    let input =
      #"{"mcpServers": {"$(touch /tmp/p); `id` | x": {"command": "sh -c 'evil'", "args": ["&& rm", "\n"]}}}"#
    let result = try ConfigEditor.wrap(Array(input.utf8), agent: .cursor, warden: "/w", file: "c")
    #expect(result.servers.map(\.status) == [.wrapped])
    let back = try ConfigEditor.unwrap(result.bytes, agent: .cursor, file: "c")
    #expect(back.bytes == Array(input.utf8))
  }

  @Test(arguments: [
    #"{"mcpServers": {"a\nb": {"command": "x"}}}"#, #"{"mcpServers": {"a\u0000b": {"command": "x"}}}"#,
    #"{"mcpServers": {"": {"command": "x"}}}"#, #"{"mcpServers": {"a\u202Eb": {"command": "x"}}}"#,
  ])
  func aServerNameWithControlCharactersIsRefusedAndNothingIsWritten(_ input: String) {
    #expect {
      try ConfigEditor.wrap(Array(input.utf8), agent: .cursor, warden: "/w", file: "c")
    } throws: { error in
      (error as? WrapError)?.message.contains("rename it first") == true
    }
  }

  @Test func aHeaderInsideAMultiLineStringIsText() throws {
    let input = """
      [mcp_servers.a]
      command = "uvx"
      note = \"\"\"
      [mcp_servers.b]
      command = "rm"
      args = ["-rf", "/"]
      \"\"\"
      literal = '''
      command = "also text"
      '''

      """
    let result = try ConfigEditor.wrap(Array(input.utf8), agent: .codex, warden: "/w", file: "c")
    #expect(result.servers.map(\.name) == ["a"])
    let wrapped = String(decoding: result.bytes, as: UTF8.self)
    #expect(
      wrapped.contains(
        "command = \"/w\"\nargs = [\"run\", \"--server=a\", \"--agent=codex\", \"--\", \"uvx\"]\n"))
    #expect(wrapped.contains("[mcp_servers.b]\ncommand = \"rm\""))
    #expect(try ConfigEditor.unwrap(result.bytes, agent: .codex, file: "c").bytes == Array(input.utf8))
  }

  @Test func anInlineTableServerIsRefusedClearly() {
    let input = "[mcp_servers]\ndocs = { command = \"npx\", args = [\"-y\", \"x\"] }\n"
    #expect {
      try ConfigEditor.wrap(Array(input.utf8), agent: .codex, warden: "/w", file: "c")
    } throws: { error in
      (error as? WrapError)?.message.contains("written in a form warden does not edit") == true
    }
  }

  @Test func dottedKeysAreEditedWhereTheyAre() throws {
    let input = "mcp_servers.docs.command = \"npx\" # here\nmcp_servers.docs.args = [\"-y\"]\n"
    let result = try ConfigEditor.wrap(Array(input.utf8), agent: .codex, warden: "/w", file: "c")
    #expect(
      String(decoding: result.bytes, as: UTF8.self)
        == "mcp_servers.docs.command = \"/w\" # here\nmcp_servers.docs.args = [\"run\", \"--server=docs\", \"--agent=codex\", \"--\", \"npx\", \"-y\"]\n"
    )
    #expect(try ConfigEditor.unwrap(result.bytes, agent: .codex, file: "c").bytes == Array(input.utf8))
  }

  @Test func aTOMLNameWithQuotesAndEscapesIsQuotedBack() throws {
    let input = "[mcp_servers.\"we\\\"ird \\u00e9\"]\ncommand = \"x\"\n"
    let result = try ConfigEditor.wrap(Array(input.utf8), agent: .codex, warden: "/w", file: "c")
    #expect(String(decoding: result.bytes, as: UTF8.self).contains(#""--server=we\"ird é""#))
  }

  @Test func argsThatAreNotStringsLeaveTheServerAsItIsWithANote() throws {
    let input = #"{"mcpServers": {"a": {"command": "x", "args": [1]}, "b": {"args": ["y"]}}}"#
    let result = try ConfigEditor.wrap(Array(input.utf8), agent: .cursor, warden: "/w", file: "c")
    #expect(result.servers.map(\.status) == [.skipped, .skipped])
    #expect(result.bytes == Array(input.utf8))
  }

  @Test func aFileLargerThanTheLimitIsRefused() {
    let huge = [UInt8](repeating: 0x20, count: ConfigEditor.maximumSize + 1)
    #expect(throws: WrapError.self) { try ConfigEditor.wrap(huge, agent: .cursor, warden: "/w", file: "c") }
  }

  @Test func agentsAreToldByTheFilesNameAndFolder() {
    #expect(AgentKind.detect(path: "/home/me/.config/Claude/claude_desktop_config.json") == .claudeDesktop)
    #expect(AgentKind.detect(path: "/home/me/.claude.json") == .claudeCode)
    #expect(AgentKind.detect(path: "/src/app/.mcp.json") == .claudeCode)
    #expect(AgentKind.detect(path: "/home/me/.cursor/mcp.json") == .cursor)
    #expect(AgentKind.detect(path: "/src/app/.vscode/mcp.json") == .vscode)
    #expect(AgentKind.detect(path: "/home/me/.codex/config.toml") == .codex)
    #expect(AgentKind.detect(path: "/src/app/mcp.json") == nil)
  }

  @Test func theDiffShowsTheChangedLines() {
    let diff = LineDiff.unified(
      old: Array("a\nb\nc\n".utf8), new: Array("a\nB\nc\n".utf8), oldName: "x", newName: "x")
    #expect(diff == "--- x\n+++ x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n")
    #expect(LineDiff.unified(old: [], new: [], oldName: "x", newName: "x") == "")
  }
}
