"""Setting warden up as a new user would: user manifests found by name and alias, an instance named by
`--server` running the manifest its command selects (grants written for the instance), servers named
after their script, a home `mkdir -p` left 0755 fixed (and any other refused with the chmod to run),
and what an agent that can edit its MCP config, but not $WARDEN_HOME, can and cannot do with names.
The calls go through the official SDK client to the real mcp-server-time.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from conftest import warden_cli
from sdk_support import (
    TAP,
    assert_allowed,
    assert_denied,
    call,
    calls_seen_by_server,
    run_async,
    session,
)

NOW = ("get_current_time", {"timezone": "Europe/Warsaw"})
CONVERT = ("convert_time", {"source_timezone": "Europe/Warsaw", "time": "14:30", "target_timezone": "Asia/Tokyo"})


def run_calls(argv: list, calls: list) -> list[dict]:
    async def scenario():
        async with session(argv) as client:
            return [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


def named_command(tmp_path: Path, name: str, command: list, record: Path) -> Path:
    """An executable called `name` that runs `command` behind the byte tap (so its calls are recorded):
    the server's command line as a user's MCP config gives it, named as warden will name it."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    path = directory / name
    quoted = " ".join(json.dumps(str(part)) for part in command)
    path.write_text(f'#!/bin/sh\nexec {json.dumps(sys.executable)} {json.dumps(str(TAP))} {json.dumps(str(record))} -- {quoted} "$@"\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def time_command(tmp_path, time_server_bin):
    """`mcp-server-time` (a wrapper of the real one, behind a tap recording to tmp_path/inner)."""
    return [named_command(tmp_path, "mcp-server-time", [time_server_bin, "--local-timezone", "UTC"], tmp_path / "inner")]


def user_manifest(home: Path, file: str, text: str) -> Path:
    directory = home / "manifests"
    directory.mkdir(exist_ok=True)
    path = directory / file
    path.write_text(text)
    return path


CLOCK = """\
server: clock
aliases: [mcp-server-time, clock-mcp]
tools:
  get_current_time:
    action: clock.read
"""


# --------------------------------------------------------------------------------------------------
# User manifests: found by name and by alias


def test_a_user_manifest_is_found_by_its_alias(warden_bin, warden_home, time_command, grant, tmp_path):
    user_manifest(warden_home, "my-clock.yaml", CLOCK)  # the file's own name does not matter
    grant("--server", "clock", "--allow", "clock.read", purpose="tell the time")
    now, convert = run_calls([warden_bin, "run", "--", *time_command], [NOW, CONVERT])
    assert assert_allowed(now)["structuredContent"]["timezone"] == "Europe/Warsaw"
    assert assert_denied(convert, "undeclared")["server"] == "clock"  # the user's manifest, not the built-in one
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["get_current_time"]
    # --server with an alias: the same manifest, grants for its name.
    result = warden_cli(warden_bin, "check", "--server", "clock-mcp", "get_current_time", "{}", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["server"] == "clock"
    assert json.loads(result.stdout)["manifest"].endswith("my-clock.yaml")


def test_two_manifests_claiming_a_name_stop_warden_naming_both(warden, warden_home, time_command, tmp_path):
    first = user_manifest(warden_home, "a.yaml", CLOCK)
    second = user_manifest(warden_home, "b.yml", "server: other-clock\naliases: [mcp-server-time]\ntools: {}\n")
    proc = warden([], time_command)
    assert proc.wait(timeout=10) == 78
    stderr = proc.wait_stderr_closed()
    assert f"{first} and {second} both claim the name 'mcp-server-time'" in stderr, stderr
    assert not (tmp_path / "inner.c2s").exists(), "the server was started"


def test_a_broken_manifest_breaks_the_servers_it_may_be_for(warden_bin, warden_home, time_command, grant, tmp_path):
    grant("--server", "time", "--allow", "time.read", purpose="tell the time")
    # Its names can be read: it breaks 'shell' only, and the time server runs.
    broken = user_manifest(warden_home, "shell.yaml", "server: shell\ntools:\n  run:\n    acton: shell.run\n")
    (now,) = run_calls([warden_bin, "run", "--", *time_command], [NOW])
    assert_allowed(now)
    result = warden_cli(warden_bin, "check", "--server", "shell", "run", "{}")
    assert result.returncode == 78 and f"the manifest {broken} claims the name 'shell' and is invalid" in result.stderr
    # Its names cannot be read: it might be any server's, so every lookup fails, naming the file.
    broken.write_text("server: shell\ntools: [\n")
    result = warden_cli(warden_bin, "run", "--", *time_command)
    assert result.returncode == 78, result.stderr
    assert f"the manifest {broken} is invalid, and which servers it is for cannot be read" in result.stderr
    assert f"{broken}:" in result.stderr


# --------------------------------------------------------------------------------------------------
# --server names the instance; the command selects the manifest


def test_an_instance_runs_the_manifest_its_command_selects_with_grants_for_the_instance(
        warden_bin, time_command, grant, tmp_path):
    argv = [warden_bin, "run", "--server", "time-prod", "--", *time_command]
    grant("--server", "time", "--allow", "time.read", purpose="the time server's name, not this instance's")
    (denied,) = run_calls(argv, [NOW])
    decision = assert_denied(denied, "not-delegated")
    assert decision["server"] == "time-prod" and decision["action"] == "time.read"
    assert calls_seen_by_server(tmp_path / "inner") == []
    check = ["check", "--server", "time-prod", "get_current_time", json.dumps(NOW[1]), "--json", "--", *time_command]
    result = warden_cli(warden_bin, *check)
    assert result.returncode == 2 and json.loads(result.stdout)["server"] == "time-prod", result.stdout

    grant("--server", "time-prod", "--allow", "time.read", purpose="this instance")
    now, convert = run_calls(argv, [NOW, CONVERT])
    assert_allowed(now)
    assert_allowed(convert)
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["get_current_time", "convert_time"]
    result = warden_cli(warden_bin, *check)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matched by the command's name 'mcp-server-time'" in json.loads(result.stdout)["manifest"]


def test_a_manifest_shared_by_two_instances_draws_no_warning(warden, time_command):
    for instance in ("time-dev", "time-prod"):
        proc = warden(["--server", instance, "--log-level", "info"], time_command)
        proc.close_stdin()
        proc.wait(timeout=10)
        stderr = proc.wait_stderr_closed()
        assert "warning" not in stderr, stderr
        assert f"server '{instance}': manifest built-in manifest 'time'" in stderr, stderr


def test_python_and_a_script_path_are_named_after_the_script(warden_bin, warden_home, grant, tmp_path):
    script = tmp_path / "path" / "to" / "clock.py"
    script.parent.mkdir(parents=True)
    script.write_text("import sys\nfrom mcp_server_time import main\nsys.exit(main())\n")
    user_manifest(warden_home, "clock.yaml", "server: clock\ntools:\n  get_current_time:\n    action: clock.read\n")
    grant("--server", "clock", "--allow", "clock.read", purpose="tell the time")
    (now,) = run_calls([warden_bin, "run", "--", sys.executable, script, "--local-timezone", "UTC"], [NOW])
    assert assert_allowed(now)["structuredContent"]["timezone"] == "Europe/Warsaw"
    (now,) = run_calls([warden_bin, "run", "--", sys.executable, "-u", "-m", "mcp_server_time"], [NOW])
    assert assert_denied(now, "not-delegated")["server"] == "time"  # mcp_server_time: the built-in manifest


# --------------------------------------------------------------------------------------------------
# The agent edits its MCP config (the command line), not $WARDEN_HOME


SHELL_PROD = """\
server: shell-prod
tools:
  get_current_time:
    action: shell.read
"""


def test_a_manifest_named_after_the_instance_beats_whatever_the_command_is_named(
        warden_bin, warden_home, time_command, grant, tmp_path):
    # The human's manifest for the instance declares one tool; the agent points the instance at a
    # command named after a server whose built-in manifest declares more: the human's still decides.
    user_manifest(warden_home, "shell-prod.yaml", SHELL_PROD)
    grant("--server", "shell-prod", "--allow", "shell.read,time.read", purpose="the instance")
    now, convert = run_calls([warden_bin, "run", "--server", "shell-prod", "--", *time_command], [NOW, CONVERT])
    assert_allowed(now)
    assert assert_denied(convert, "undeclared")["server"] == "shell-prod"
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["get_current_time"]


def test_grants_for_a_manifest_do_not_follow_a_renamed_command_to_another_instance(
        warden_bin, time_command, grant, tmp_path):
    # Grants written for the time server do not cover another instance whose command the agent renamed
    # after it: the instance keeps its name, and no grant names it.
    grant("--server", "time", "--allow", "time.read", purpose="the time server")
    grant("--server", "notes", "--allow", "notes.read", purpose="the notes server")
    (now,) = run_calls([warden_bin, "run", "--server", "notes", "--", *time_command], [NOW])
    assert assert_denied(now, "not-delegated")["server"] == "notes"
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_a_user_manifest_cannot_be_bypassed_through_a_built_in_alias(warden_bin, warden_home, time_command, grant, tmp_path):
    # The human replaced the built-in time manifest with a narrower one (no aliases). Reaching for the
    # built-in one through its other name, as --server or as the command's name, finds nothing.
    user_manifest(warden_home, "time.yaml", "server: time\ntools:\n  get_current_time:\n    action: time.read\n")
    grant("--server", "time", "--allow", "time.read", purpose="tell the time")
    for options in ([], ["--server", "mcp-server-time"]):
        (convert,) = run_calls([warden_bin, "run", *options, "--", *time_command], [CONVERT])
        assert_denied(convert, "no-manifest")
    assert calls_seen_by_server(tmp_path / "inner") == []
    (convert,) = run_calls([warden_bin, "run", "--server", "time", "--", *time_command], [CONVERT])
    assert_denied(convert, "undeclared")


# --------------------------------------------------------------------------------------------------
# Warden's home


def test_a_home_left_0755_by_mkdir_is_set_to_0700(warden_bin, warden_home, time_command, grant, tmp_path):
    (warden_home / "manifests").mkdir(mode=0o755)
    warden_home.chmod(0o755)
    result = warden_cli(warden_bin, "grant", "--server", "time", "--allow", "time.read", "--purpose", "t")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"warden: set warden's home {warden_home} to mode 0700 (it was 0755, which let other users read the delegations; it held only warden's files)\n"
    assert stat.S_IMODE(warden_home.stat().st_mode) == 0o700
    # warden run does the same before it opens the store.
    warden_home.chmod(0o755)
    (now,) = run_calls([warden_bin, "run", "--", *time_command], [NOW])
    assert_allowed(now)
    assert stat.S_IMODE(warden_home.stat().st_mode) == 0o700


def test_a_home_holding_other_files_is_refused_with_the_chmod_to_run(warden_bin, warden_home, time_command, grant,
                                                                       tmp_path):
    grant("--server", "time", "--allow", "time.read", purpose="tell the time")
    (warden_home / "notes.txt").write_text("mine\n")
    warden_home.chmod(0o755)
    result = warden_cli(warden_bin, "grants")
    assert result.returncode == 1
    assert "it also holds 'notes.txt'" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith(f"run: chmod 700 '{warden_home}'"), result.stderr
    assert stat.S_IMODE(warden_home.stat().st_mode) == 0o755
    (now,) = run_calls([warden_bin, "run", "--", *time_command], [NOW])
    assert_denied(now, "store-unavailable")
    assert calls_seen_by_server(tmp_path / "inner") == []
    os.chmod(warden_home, 0o700)
