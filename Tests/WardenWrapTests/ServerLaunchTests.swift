import Testing
import WardenWrap

/// `ConfigEditor.launches` reads each server as the agent would launch it, for `warden doctor`.
@Suite struct ServerLaunchTests {
  @Test func launchesOfAJSONConfiguration() throws {
    let text = """
      {"mcpServers": {
        "time": {"command": "/usr/local/bin/warden", "args": ["run", "--server=time", "--", "uvx", "mcp-server-time"]},
        "git": {"command": "uvx", "args": ["mcp-server-git"]},
        "web": {"type": "http", "url": "https://example.com/mcp"}
      }}
      """
    let launches = try ConfigEditor.launches(Array(text.utf8), agent: .claudeCode, file: ".mcp.json")
    #expect(launches.map(\.name) == ["time", "git", "web"])
    #expect(launches.map(\.isBehindWarden) == [true, false, false])
    #expect(launches[0].arguments == ["run", "--server=time", "--", "uvx", "mcp-server-time"])
    #expect(launches[1].command == "uvx")
    #expect(launches[2].remote != nil)
  }

  @Test func launchesOfACodexConfiguration() throws {
    let text = """
      [mcp_servers.time]
      command = "warden"
      args = ["run", "--server=time", "--agent=codex", "--", "uvx", "mcp-server-time"]
      """
    let launches = try ConfigEditor.launches(Array(text.utf8), agent: .codex, file: "config.toml")
    #expect(launches.map(\.isBehindWarden) == [true])
  }
}
