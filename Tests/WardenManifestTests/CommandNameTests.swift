import Testing
import WardenManifest

@Suite struct CommandNameTests {
  @Test(arguments: [
    // A program: its basename (a script's without its extension).
    (["mcp-server-git"], "mcp-server-git"),
    (["/opt/bin/mcp-server-git", "--repository", "/srv/app"], "mcp-server-git"),
    (["./server.py"], "server"),
    (["/srv/tools/bin/run.sh"], "run.sh"),
    // Python: the script, or the module after -m; -c runs no named script.
    (["python", "server.py"], "server"),
    (["python3", "path/to/server.py", "-m", "other"], "server"),
    (["/usr/bin/python3.12", "-u", "-X", "dev", "-W", "ignore", "mcp_weather.py"], "mcp_weather"),
    (["python3", "-m", "mcp_server_time"], "mcp_server_time"),
    (["python", "-u", "-m", "pkg.server", "--port", "1"], "pkg.server"),
    (["python", "-um", "mcp_server_git"], "mcp_server_git"),
    (["python", "-mmcp_server_git"], "mcp_server_git"),
    (["python", "-c", "import x"], "python"),
    (["python3"], "python3"),
    (["pypy3", "-B", "server.py"], "server"),
    (["pythonw", "--", "tool.pyw"], "tool"),
    // uv run: what it runs, named as if it were run alone.
    (["uv", "run", "server.py"], "server"),
    (["uv", "run", "--with", "mcp", "--directory", "/srv/x", "weather.py"], "weather"),
    (["uv", "run", "python", "-m", "pkg_mod"], "pkg_mod"),
    (["uv", "run", "-m", "pkg_mod"], "pkg_mod"),
    (["uv", "run", "--module=pkg_mod"], "pkg_mod"),
    (["uv", "run", "mcp-server-sqlite", "--db-path", "x.db"], "mcp-server-sqlite"),
    (["uv", "run", "--", "node", "index.js"], "index"),
    (["uv", "tool", "run", "mcp-server-time"], "mcp-server-time"),
    (["uv", "sync"], "uv"),
    // Package runners: the package or command, without version, scope or extras.
    (["uvx", "mcp-server-sqlite", "--db-path", "prod.db"], "mcp-server-sqlite"),
    (["uvx", "--with", "extra-dep", "mcp-server-git"], "mcp-server-git"),
    (["uvx", "--from", "mcp-server-git==2025.1.1", "mcp-server-git"], "mcp-server-git"),
    (["uvx", "--python=3.12", "mcp-server-fetch@2025.4.7"], "mcp-server-fetch"),
    (["uvx", "mcp-server-git[cli]"], "mcp-server-git"),
    (["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv"], "server-filesystem"),
    (["npx", "--yes", "some-server@1.2.3"], "some-server"),
    (["npx", "-p", "@scope/pkg", "pkg-cli"], "pkg-cli"),
    (["npx", "-y", "--", "mcp-remote", "https://x"], "mcp-remote"),
    (["npm", "exec", "--yes", "mcp-thing"], "mcp-thing"),
    (["bunx", "mcp-thing@latest"], "mcp-thing"),
    (["pnpm", "dlx", "mcp-thing"], "mcp-thing"),
    (["pipx", "run", "mcp-server-time"], "mcp-server-time"),
    (["pipx", "run", "--spec", "mcp-server-time==1", "mcp-server-time"], "mcp-server-time"),
    (["pipx", "list"], "pipx"),
    // JavaScript runtimes: the script without its extension; npm:/jsr: specifiers are packages.
    (["node", "build/index.js"], "index"),
    (["node", "--require", "./hook.cjs", "--enable-source-maps", "/srv/mcp/weather.mjs"], "weather"),
    (["node", "-e", "console.log(1)"], "node"),
    (["deno", "run", "-A", "--config", "deno.json", "server.ts"], "server"),
    (["deno", "run", "--allow-net=example.com", "npm:@scope/mcp-thing@1"], "mcp-thing"),
    (["deno", "run", "https://example.com/mcp/main.ts"], "main"),
    (["deno", "task", "start"], "deno"),
    (["bun", "server.ts"], "server"),
    (["bun", "run", "--cwd", "/srv", "index.tsx"], "index"),
    (["bun", "x", "mcp-thing"], "mcp-thing"),
  ])
  func namesTheServer(command: [String], expected: String) {
    #expect(CommandName.name(for: command) == expected)
  }
}
