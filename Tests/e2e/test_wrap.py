"""Issue 17: settings pinned in $WARDEN_HOME/config.yaml win over the command line an agent can edit,
and `warden wrap` / `unwrap` on agents' MCP configurations: the wrapped entry is started exactly as
the agent would start it (command, args and env read back from the file) with the official SDK
client against the real mcp-server-time, and every call is decided by warden for the pinned agent.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SCRIPTED_CONFIG, child_env, warden_cli
from sdk_support import assert_allowed, assert_denied, call, run_async, session

FIXTURES = REPO_ROOT / "Tests" / "WardenWrapTests" / "Fixtures"
NOW = ("get_current_time", {"timezone": "Europe/Warsaw"})


def run_calls(argv: list, calls: list, env: dict | None = None) -> list[dict]:
    async def scenario():
        async with session(argv, env=env) as client:
            return [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


def stderr_of_run(warden_bin, options: list, command: list) -> str:
    """What `warden run OPTIONS -- COMMAND` logs at start, for a client that closes at once."""
    import subprocess

    result = subprocess.run(
        [str(warden_bin), "run", *options, "--", *command],
        input=b"",
        capture_output=True,
        timeout=30,
        env=child_env(),
    )
    return result.stderr.decode()


# --------------------------------------------------------------------------------------------------
# Pinned settings


def test_a_pinned_mode_enforce_beats_mode_report(warden_bin, warden_home, time_server_bin):
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + "servers:\n  time:\n    mode: enforce\n")
    argv = [warden_bin, "run", "--server", "time", "--mode", "report", "--", time_server_bin]
    [result] = run_calls(argv, [NOW])
    # Report mode would have forwarded the call; the pinned mode denies it.
    assert_denied(result, "not-delegated")
    log = stderr_of_run(warden_bin, ["--server", "time", "--mode", "report"], [time_server_bin])
    assert "--mode report is ignored: $WARDEN_HOME/config.yaml pins servers.time.mode" in log, log
    assert "report" not in log.replace("--mode report is ignored", ""), log


def test_without_a_pin_mode_report_forwards(warden_bin, time_server_bin):
    argv = [warden_bin, "run", "--server", "time", "--mode", "report", "--", time_server_bin]
    [result] = run_calls(argv, [NOW])
    assert_allowed(result)


def test_a_pinned_agent_beats_agent(warden_bin, warden_home, time_server_bin, grant):
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + "servers:\n  time:\n    agent: claude-code\n")
    grant("--server", "time", "--agent", "intruder", "--allow", "time.read", purpose="not the pinned agent")
    argv = [warden_bin, "run", "--server", "time", "--agent", "intruder", "--", time_server_bin]
    [denied] = run_calls(argv, [NOW])
    decision = assert_denied(denied, "not-delegated")
    assert decision["agent"] == "claude-code", decision
    grant("--server", "time", "--agent", "claude-code", "--allow", "time.read", purpose="the pinned agent")
    [allowed] = run_calls(argv, [NOW])
    assert_allowed(allowed)


def test_an_invalid_pin_stops_warden_with_78(warden_bin, warden_home, time_server_bin):
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + "servers:\n  time:\n    ungranted: allow\n")
    import subprocess

    result = subprocess.run(
        [str(warden_bin), "run", "--server", "time", "--", time_server_bin],
        input=b"", capture_output=True, timeout=30, env=child_env(),
    )
    assert result.returncode == 78
    assert result.stderr.decode().strip().endswith("'servers.time.ungranted' must be deny or confirm"), result.stderr


# --------------------------------------------------------------------------------------------------
# warden wrap / unwrap


@pytest.fixture
def cli(warden_bin):
    def run(*args, **kwargs):
        return warden_cli(warden_bin, *args, **kwargs)

    return run


def test_a_wrapped_claude_desktop_server_is_decided_by_warden_for_the_pinned_agent(
    cli, warden_bin, warden_home, time_server_bin, grant, tmp_path
):
    config = tmp_path / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir()
    original = json.dumps(
        {"mcpServers": {"time": {"command": time_server_bin, "args": ["--local-timezone", "UTC"], "env": {"TZ": "UTC"}}},
         "globalShortcut": ""},
        indent=2,
    ) + "\n"
    config.write_text(original)
    result = cli("wrap", config, "--warden", warden_bin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "wrapped time (mcpServers) as agent claude-desktop"
    assert (tmp_path / "Claude" / "claude_desktop_config.json.warden-backup").read_text() == original
    assert "servers:\n  time:\n    agent: claude-desktop\n" in (warden_home / "config.yaml").read_text()

    # Started exactly as Claude Desktop would: command, args and env read back from the file.
    entry = json.loads(config.read_text())["mcpServers"]["time"]
    assert entry["command"] == str(warden_bin)
    assert entry["args"] == ["run", "--server=time", "--agent=claude-desktop", "--", time_server_bin, "--local-timezone", "UTC"]
    argv = [entry["command"], *entry["args"]]
    env = child_env(**entry["env"])
    [denied] = run_calls(argv, [NOW], env=env)
    decision = assert_denied(denied, "not-delegated")
    assert decision["agent"] == "claude-desktop" and decision["server"] == "time", decision

    grant("--server", "time", "--agent", "claude-desktop", "--allow", "time.read", purpose="tell the time")
    [allowed] = run_calls(argv, [NOW], env=env)
    assert_allowed(allowed)
    assert "Europe/Warsaw" in json.dumps(allowed)

    # An agent that edits its entry to claim another identity is still decided as claude-desktop.
    edited = [entry["command"], "run", "--server=time", "--agent=claude-code", "--", time_server_bin]
    grant("--server", "time", "--agent", "claude-code", "--allow", "time.read", purpose="another agent")
    cli("revoke", "--agent", "claude-desktop", check=True)
    [still_denied] = run_calls(edited, [NOW], env=env)
    assert assert_denied(still_denied, "not-delegated")["agent"] == "claude-desktop"

    # Wrapping again changes nothing; unwrap gives the file back byte for byte.
    again = cli("wrap", config, "--warden", warden_bin)
    assert again.returncode == 0 and "nothing to change" in again.stdout, again
    back = cli("unwrap", config)
    assert back.returncode == 0, back.stderr
    assert config.read_text() == original
    assert not (tmp_path / "Claude" / "claude_desktop_config.json.warden-backup").exists()


AGENT_FILES = [
    ("claude-desktop/claude_desktop_config.json", "Claude/claude_desktop_config.json"),
    ("claude-code/.mcp.json", "app/.mcp.json"),
    ("claude-code/claude.json", "me/.claude.json"),
    ("cursor/mcp.json", "me/.cursor/mcp.json"),
    ("vscode/mcp.json", "app/.vscode/mcp.json"),
    ("codex/config.toml", "me/.codex/config.toml"),
]


@pytest.mark.parametrize(("fixture", "place"), AGENT_FILES, ids=[f[0] for f in AGENT_FILES])
def test_wrap_then_unwrap_is_byte_identical_for_each_agent(cli, tmp_path, fixture, place):
    path = tmp_path / place
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / fixture, path)
    path.chmod(0o640)
    original = path.read_bytes()
    dry = cli("wrap", "--dry-run", path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"--- {path}\n+++ {path}\n@@ "), dry.stdout
    assert path.read_bytes() == original  # --dry-run changes nothing
    wrapped = cli("wrap", "--json", path, "--warden", "/opt/warden/bin/warden")
    assert wrapped.returncode == 0, wrapped.stderr
    report = json.loads(wrapped.stdout)
    assert report["changed"] is True
    assert {s["status"] for s in report["servers"]} <= {"wrapped", "remote"}
    assert path.read_bytes() != original
    assert os.stat(path).st_mode & 0o777 == 0o640  # the file keeps its mode
    # The file changed since: the text is unwrapped (not restored), and still comes back byte for byte.
    unwrapped_text = cli("unwrap", "--dry-run", path)
    assert unwrapped_text.returncode == 0
    back = cli("unwrap", path)
    assert back.returncode == 0, back.stderr
    assert "restored as it was before warden wrap, byte for byte" in back.stdout
    assert path.read_bytes() == original


def test_unwrap_after_the_file_changed_takes_out_only_wardens_part(cli, tmp_path):
    path = tmp_path / "me" / ".cursor" / "mcp.json"
    path.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "cursor" / "mcp.json", path)
    original = path.read_text()
    assert cli("wrap", path, "--warden", "/usr/bin/warden").returncode == 0
    path.write_text(path.read_text().replace('"API_KEY": "value"', '"API_KEY": "rotated"', 1))
    back = cli("unwrap", path)
    assert back.returncode == 0, back.stderr
    assert "unwrapped server-name (mcpServers)" in back.stdout
    assert path.read_text() == original.replace('"API_KEY": "value"', '"API_KEY": "rotated"', 1)


def test_a_broken_file_is_left_untouched(cli, tmp_path, warden_home):
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir()
    broken = b'{\n  "mcpServers": {\n    "time": {"command": "uvx", "args": ["mcp-server-time"]\n  }\n'
    path.write_bytes(broken)
    result = cli("wrap", path)
    assert result.returncode == 65
    assert result.stderr.startswith(f"warden: {path}:"), result.stderr
    assert "not valid JSON" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert path.read_bytes() == broken
    assert sorted(p.name for p in path.parent.iterdir()) == ["claude_desktop_config.json"]
    assert "servers" not in (warden_home / "config.yaml").read_text()


def test_a_symbolic_link_is_refused(cli, tmp_path):
    real = tmp_path / "real.json"
    real.write_text('{"mcpServers": {"a": {"command": "x"}}}')
    link = tmp_path / ".mcp.json"
    link.symlink_to(real)
    result = cli("wrap", link)
    assert result.returncode == 65 and "symbolic link" in result.stderr, result
    assert real.read_text() == '{"mcpServers": {"a": {"command": "x"}}}'


def test_without_config_and_terminal_it_lists_what_it_found(warden_bin, tmp_path):
    import subprocess

    home = tmp_path / "user"
    (home / ".cursor").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "cursor" / "mcp.json", home / ".cursor" / "mcp.json")
    env = child_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    result = subprocess.run(
        [str(warden_bin), "wrap"], capture_output=True, text=True, timeout=20, env=env,
        stdin=subprocess.DEVNULL, cwd=tmp_path,
    )
    assert result.returncode == 64, result
    assert f"{home}/.cursor/mcp.json  (cursor)" in result.stderr, result.stderr
    assert (home / ".cursor" / "mcp.json").read_bytes() == (FIXTURES / "cursor" / "mcp.json").read_bytes()


def test_an_unknown_file_name_needs_agent(cli, tmp_path):
    path = tmp_path / "servers.json"
    path.write_text('{"mcpServers": {}}')
    result = cli("wrap", path)
    assert result.returncode == 64 and "give --agent" in result.stderr, result
    assert cli("wrap", "--agent", "cursor", path).returncode == 0


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_without_config_at_a_terminal_it_asks_which_and_wraps_only_that_one(warden_bin, warden_home, tmp_path):
    from test_confirm_terminal import Tmux, shell_quote

    home = tmp_path / "user"
    (home / ".cursor").mkdir(parents=True)
    (home / ".codex").mkdir()
    cursor = home / ".cursor" / "mcp.json"
    codex = home / ".codex" / "config.toml"
    shutil.copyfile(FIXTURES / "cursor" / "mcp.json", cursor)
    shutil.copyfile(FIXTURES / "codex" / "config.toml", codex)
    work = tmp_path / "work"
    work.mkdir()

    def at_terminal(answer: str) -> str:
        script = (
            f"cd {shell_quote(work)} && env XDG_CONFIG_HOME={shell_quote(home / '.config')} "
            f"CODEX_HOME={shell_quote(home / '.codex')} {shell_quote(warden_bin)} wrap --warden warden; "
            "echo EXIT=$?"
        )
        terminal = Tmux(["sh", "-c", script], env=child_env(HOME=str(home), WARDEN_HOME=str(warden_home)))
        try:
            screen = terminal.wait_for("Which one to wrap? [1-2]")
            assert f"1. {cursor}  (cursor)" in screen and f"2. {codex}  (codex)" in screen, screen
            terminal.keys(answer, "Enter")
            return terminal.wait_for("EXIT=")
        finally:
            terminal.close()

    # A wrong answer changes nothing.
    screen = at_terminal("7")
    assert "no configuration chosen; nothing changed" in screen and "EXIT=64" in screen, screen
    assert codex.read_bytes() == (FIXTURES / "codex" / "config.toml").read_bytes()
    # The second one: Codex's file is wrapped, Cursor's is left as it was.
    screen = at_terminal("2")
    assert "EXIT=0" in screen, screen
    assert '"run", "--server=' in codex.read_text() and "--agent=codex" in codex.read_text()
    assert cursor.read_bytes() == (FIXTURES / "cursor" / "mcp.json").read_bytes()
