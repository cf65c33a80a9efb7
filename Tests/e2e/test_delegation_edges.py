"""Delegation at its edges: no manifest, an invalid one, one from $WARDEN_HOME/manifests, an unreadable
store, path normalization, warden's own home, and tools/call params warden cannot read unambiguously.
Nothing here is ever a silent allow, and a denied call never reaches the server.
"""

from __future__ import annotations

import base64
import re
import sqlite3

import pytest

from conftest import ECHO_MANIFEST, ECHO_RAW, LIFECYCLE, log_events, python_server, recorded_lines, wait_for
from sdk_support import (
    assert_allowed,
    assert_denied,
    call,
    calls_seen_by_server,
    decision_of,
    run_async,
    session,
    tapped,
    text_of,
)


@pytest.fixture
def git_argv(warden_bin, git_server_bin, git_repo, tmp_path):
    def argv(*options, server: str = "git") -> list:
        command = [git_server_bin, "--repository", git_repo]
        return [warden_bin, "run", "--server", server, *options, "--", *tapped(tmp_path / "inner", command)]

    return argv


def git_calls(argv: list, calls: list[tuple[str, dict]], mode: str = "legacy") -> list[dict]:
    async def scenario():
        async with session(argv, mode=mode) as client:
            return [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


# --------------------------------------------------------------------------------------------------
# Manifests


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_without_a_manifest_every_call_is_denied_with_how_to_write_one(git_argv, git_repo, tmp_path, grant, mode):
    grant("--allow", "**", purpose="everything, everywhere")  # even the widest grant cannot help
    argv = git_argv(server="no-such-server")
    results = git_calls(argv, [("git_status", {"repo_path": str(git_repo)}), ("anything", {})], mode)
    for result in results:
        decision = assert_denied(result, "no-manifest")
        assert "manifest" in decision["explanation"] and "no-such-server" in decision["explanation"]
        message = text_of(result)
        assert "warden manifest show" in message and "$WARDEN_HOME/manifests/" in message, message
        assert "suggestedGrant" not in decision
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_without_a_manifest_warden_says_so_on_stderr_at_start(warden, tmp_path):
    log = tmp_path / "server.log"
    proc = warden(["--server", "mystery"], python_server(LIFECYCLE, "--log", log))
    wait_for(lambda: any(e.startswith("start") for e in log_events(log)), timeout=10, what="the server to start")
    proc.close_stdin()
    assert proc.wait(timeout=10) == 0
    stderr = proc.wait_stderr_closed()
    assert "no manifest for server 'mystery'" in stderr, stderr
    assert "--manifest" in stderr and "mystery.yaml" in stderr, stderr


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("server: broken\ntools:\n  a:\n    acton: x.read\n", 4, 5, "acton"),
        ("server: broken\ntools:\n  a:\n    action: x.read\n    destructive: maybe\n", 5, 18, "destructive"),
        ("server: broken\ntools:\n  a:\n    action: x.read\n    resource: \"repo:{repo_path|nosuch}\"\n", 5, None, "nosuch"),
        ("server: broken\ntools: [\n", None, None, None),
    ],
    ids=["unknown-key", "bad-destructive", "unknown-filter", "yaml-syntax"],
)
def test_an_invalid_manifest_stops_warden_with_78_and_file_line_column(warden, tmp_path, text, line, column, words):
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(text)
    log = tmp_path / "server.log"
    proc = warden(["--manifest", manifest], python_server(LIFECYCLE, "--log", log))
    assert proc.wait(timeout=10) == 78
    assert proc.read_to_eof() == []
    stderr = proc.wait_stderr_closed()
    found = re.findall(rf"{re.escape(str(manifest))}:(\d+):(\d+): ", stderr)
    assert found, f"no {manifest}:LINE:COLUMN in stderr: {stderr!r}"
    if line is not None:
        assert str(line) in [found_line for found_line, _ in found], stderr
    if column is not None:
        assert (str(line), str(column)) in found, stderr
    if words is not None:
        assert words in stderr, stderr
    assert not log.exists(), "the server was started despite the invalid manifest"


def test_a_manifest_in_warden_home_replaces_the_builtin_one(git_argv, git_repo, warden_home, grant, tmp_path):
    """$WARDEN_HOME/manifests/git.yaml wins over the built-in manifest for server 'git'."""
    (warden_home / "manifests").mkdir()
    (warden_home / "manifests" / "git.yaml").write_text(
        "server: git\nundeclared: deny\ntools:\n  git_status:\n    action: custom.look\n"
        '    resource: "repo:{repo_path|path}"\n'
    )
    grant("--server", "git", "--allow", "git.read,custom.look", purpose="custom manifest")
    status, log = git_calls(
        git_argv(), [("git_status", {"repo_path": str(git_repo)}), ("git_log", {"repo_path": str(git_repo)})]
    )
    assert_allowed(status)
    assert assert_denied(log, "undeclared")["tool"] == "git_log"  # not in the custom manifest
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["git_status"]


# --------------------------------------------------------------------------------------------------
# An unreadable store: nothing is allowed


def _store_unavailable_session(git_argv, git_repo, tmp_path):
    results = git_calls(git_argv(), [("git_status", {"repo_path": str(git_repo)}), ("git_log", {"repo_path": str(git_repo)})])
    for result in results:
        decision = assert_denied(result, "store-unavailable")
        assert "delegation store" in decision["explanation"], decision
        assert "tell the human" in text_of(result)
    assert calls_seen_by_server(tmp_path / "inner") == []


@pytest.mark.sqlite_only
def test_garbage_in_the_store_denies_every_call(git_argv, git_repo, warden_home, grant, tmp_path):
    grant("--server", "git", "--allow", "git.**", purpose="would allow everything")
    for suffix in ("-wal", "-shm"):
        (warden_home / f"warden.db{suffix}").unlink(missing_ok=True)
    (warden_home / "warden.db").write_bytes(b"this is not an SQLite database\n" * 200)
    _store_unavailable_session(git_argv, git_repo, tmp_path)


def test_warden_home_that_is_a_file_denies_every_call(git_argv, git_repo, tmp_path, monkeypatch):
    not_a_directory = tmp_path / "home-file"
    not_a_directory.write_text("a file, not a directory\n")
    monkeypatch.setenv("WARDEN_HOME", str(not_a_directory))
    _store_unavailable_session(git_argv, git_repo, tmp_path)


@pytest.mark.sqlite_only
def test_a_store_that_breaks_mid_session_denies_from_then_on(git_argv, git_repo, warden_home, grant, tmp_path):
    grant("--server", "git", "--allow", "git.read", purpose="until the store breaks")

    async def scenario():
        async with session(git_argv()) as client:
            arguments = {"repo_path": str(git_repo)}
            before = await call(client, "git_status", arguments)
            # Another process wrecks the schema: the grants table is gone.
            database = sqlite3.connect(warden_home / "warden.db", timeout=10)
            tables = [row[0] for row in database.execute("select name from sqlite_master where type='table'")]
            for table in tables:
                database.execute(f'drop table "{table}"')
            database.commit()
            database.close()
            return before, await call(client, "git_status", arguments), tables

    before, after, tables = run_async(scenario)
    assert tables, "the store had no tables"
    assert_allowed(before)
    decision = decision_of(after)
    assert decision is not None and after["isError"] is True, f"a call was allowed by a broken store: {after}"
    assert decision["reason"] == "store-unavailable", decision
    assert len(calls_seen_by_server(tmp_path / "inner")) == 1


# --------------------------------------------------------------------------------------------------
# Paths: normalized, and warden's own home is off limits


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_path_arguments_are_judged_on_their_normalized_path(git_argv, git_repo, grant, tmp_path, mode):
    grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", purpose="this repository only")
    sibling = git_repo.parent / "sibling"
    calls = [
        # Spelled differently, the granted repository: allowed.
        ("git_status", {"repo_path": f"{git_repo}/../{git_repo.name}/."}),
        ("git_status", {"repo_path": f"{git_repo}//"}),
        # Escaping it with .. : denied, and the resource named is the normalized path.
        ("git_status", {"repo_path": f"{git_repo}/../sibling"}),
        ("git_status", {"repo_path": f"{git_repo}/../../../../../../../../etc"}),
    ]
    inside, slashes, escaped, etc = git_calls(git_argv(), calls, mode)
    assert_allowed(inside)
    assert_allowed(slashes)
    assert assert_denied(escaped, "not-delegated")["resources"] == [f"repo:{sibling}"]
    assert assert_denied(etc, "not-delegated")["resources"] == ["repo:/etc"]
    assert "repo:/etc" in text_of(etc)
    seen = [c["arguments"]["repo_path"] for c in calls_seen_by_server(tmp_path / "inner")]
    assert seen == [calls[0][1]["repo_path"], calls[1][1]["repo_path"]]


def test_warden_home_is_off_limits_even_under_the_broadest_grant(git_argv, warden_home, grant, tmp_path):
    grant("--allow", "**", purpose="everything")
    grant("--server", "git", "--allow", "git.**", "--on", f"repo:{warden_home}/**", "--on", f"repo:{warden_home}",
          purpose="explicitly the home")
    calls = [
        ("git_status", {"repo_path": str(warden_home)}),
        ("git_log", {"repo_path": f"{warden_home}/manifests"}),
        ("git_status", {"repo_path": f"{warden_home.parent}/./{warden_home.name}/../{warden_home.name}"}),
    ]
    results = git_calls(git_argv(), calls)
    for result in results:
        decision = assert_denied(result, "protected-path")
        assert str(warden_home) in decision["explanation"], decision
    assert calls_seen_by_server(tmp_path / "inner") == []


# --------------------------------------------------------------------------------------------------
# Params warden cannot read unambiguously


DUPLICATES = {
    "name twice": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{},"name":"y"}}\n',
    "arguments twice": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{},"arguments":{"a":1}}}\n',
    "argument twice": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":1,"a":2}}}\n',
    "escaped duplicate": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","n\\u0061me":"y","arguments":{}}}\n',
}


@pytest.mark.parametrize("line", list(DUPLICATES.values()), ids=list(DUPLICATES))
def test_duplicate_keys_in_tools_call_params_are_denied(warden, grant, tmp_path, line):
    grant("--server", "echo", "--allow", "**", purpose="everything on the echo server")
    record = tmp_path / "record"
    proc = warden(["--manifest", ECHO_MANIFEST], python_server(ECHO_RAW, "--record", record))
    proc.send(line)
    answer = proc.read_json()
    assert answer["id"] == 1 and answer["result"]["isError"] is True, answer
    assert answer["result"]["_meta"]["dev.warden/decision"]["reason"] == "bad-arguments", answer
    # The same call without the duplicate goes through: the session goes on, and only it arrived.
    good = b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{"a":1}}}\n'
    proc.send(good)
    echoed = proc.read_json()
    assert echoed["id"] == 2 and base64.b64decode(echoed["result"]["received_b64"]) == good
    assert recorded_lines(record) == [good]
