"""Delegation, end to end (issue 3, "Must show"): the official MCP SDK client through `warden run` in
front of the real mcp-server-git on a temporary repository, with grants and forbids issued by the
`warden` CLI into the test's own store.

Whether a call reached the server is read off servers/tap.py between warden and the server (and, for
git_commit, off the repository itself).
"""

from __future__ import annotations

import json

import shlex
import time
from datetime import datetime, timezone
from pathlib import Path

import anyio
import pytest

from conftest import (
    GIT_ACTIONS,
    SUMMARY_START,
    expected_marks,
    strip_tool_list,
    warden_cli,
)
from sdk_support import (
    CLIENT_NAME,
    ERAS,
    assert_allowed,
    assert_denied,
    call,
    calls_seen_by_server,
    decision_of,
    dump,
    git_commit_count,
    run_async,
    session,
    tapped,
    text_of,
)

READS = sorted(name for name, action in GIT_ACTIONS.items() if action == "git.read")


@pytest.fixture
def git_warden(warden_bin, git_server_bin, git_repo, tmp_path):
    """The argv of `warden run [OPTIONS] -- tap -- mcp-server-git --repository REPO`; the tap records
    what reaches the server at tmp_path/"inner".{c2s,s2c}."""

    def argv(*options) -> list:
        command = [git_server_bin, "--repository", git_repo]
        return [warden_bin, "run", "--server", "git", *options, "--", *tapped(tmp_path / "inner", command)]

    return argv


@pytest.fixture
def inner(tmp_path) -> Path:
    return tmp_path / "inner"


# --------------------------------------------------------------------------------------------------
# Reads allowed, a commit denied with a message a model and a human can act on


@pytest.mark.parametrize("mode", ERAS)
def test_read_grant_lets_status_through_and_commit_is_denied_with_the_exact_grant_command(
    warden_bin, git_warden, git_repo, inner, grant, mode
):
    purpose = "review the staged changes before the release"
    grant_id = grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", purpose=purpose)
    commits = git_commit_count(git_repo)

    async def scenario():
        async with session(git_warden(), mode=mode) as client:
            status = assert_allowed(await call(client, "git_status", {"repo_path": str(git_repo)}))
            denied = await call(client, "git_commit", {"repo_path": str(git_repo), "message": "sneaky commit"})
            seen_before_grant = calls_seen_by_server(inner)
            # The human asks warden check (the human's channel: the agent is never handed a command)
            # and runs the exact command it suggests, with a real purpose: the same call then goes
            # through.
            checked = warden_cli(warden_bin, "check", "--server", "git", "--agent", CLIENT_NAME, "git_commit",
                                 json.dumps({"repo_path": str(git_repo), "message": "sneaky commit"}), "--json")
            command = json.loads(checked.stdout)["suggestedGrant"].replace(
                "'<why the agent may do this>'", "'ship it'")
            words = shlex.split(command)
            assert words[:2] == ["warden", "grant"], command
            result = warden_cli(warden_bin, *words[1:], check=True)
            assert result.stdout.strip().startswith("g_")
            committed = await call(client, "git_commit", {"repo_path": str(git_repo), "message": "approved commit"})
            return status, denied, seen_before_grant, committed

    status, denied, seen_before_grant, committed = run_async(scenario)

    assert status["isError"] is False and "staged.txt" in text_of(status), status
    # The denial: what, why, the delegation in force with its purpose, and the exact command.
    decision = assert_denied(denied, "not-delegated")
    message = text_of(denied)
    assert "git_commit" in message and "git.commit" in message, message
    assert f"repo:{git_repo}" in message, message
    assert purpose in message and grant_id in message, message
    assert "warden grant" not in message, message
    assert f"would have to delegate 'git.commit' on repo:{git_repo} to agent '{CLIENT_NAME}'" in message, message
    assert "Do not retry" in message, message
    assert decision == {
        "verdict": "deny",
        "reason": "not-delegated",
        "explanation": decision["explanation"],
        "server": "git",
        "agent": CLIENT_NAME,
        "tool": "git_commit",
        "action": "git.commit",
        "resources": [f"repo:{git_repo}"],
        "uncovered": [f"repo:{git_repo}"],
    }, decision
    assert "git.commit" in decision["explanation"] and CLIENT_NAME in decision["explanation"], decision
    # The denied commit never reached the server...
    assert [c["name"] for c in seen_before_grant] == ["git_status"], seen_before_grant
    # ...and the suggested grant, once issued, let the same call through: exactly one new commit.
    assert_allowed(committed)
    assert committed["isError"] is False, committed
    assert [c["arguments"]["message"] for c in calls_seen_by_server(inner) if c["name"] == "git_commit"] == [
        "approved commit"
    ]
    assert git_commit_count(git_repo) == commits + 1


def test_server_name_derived_from_the_command_finds_the_builtin_manifest(
    warden_bin, git_server_bin, git_repo, grant
):
    """No --server, no tap: `warden run -- .../mcp-server-git` is server 'git' (built-in manifest by alias)."""
    grant("--server", "git", "--allow", "git.read", purpose="derived name")
    commits = git_commit_count(git_repo)

    async def scenario():
        argv = [warden_bin, "run", "--", git_server_bin, "--repository", git_repo]
        async with session(argv) as client:
            return (
                await call(client, "git_log", {"repo_path": str(git_repo), "max_count": 1}),
                await call(client, "git_commit", {"repo_path": str(git_repo), "message": "no"}),
            )

    log, commit = run_async(scenario)
    assert_allowed(log)
    assert "Add gamma" in text_of(log), log
    assert assert_denied(commit, "not-delegated")["server"] == "git"
    assert git_commit_count(git_repo) == commits


# --------------------------------------------------------------------------------------------------
# Forbids, revocation, expiry


@pytest.mark.parametrize("mode", ERAS)
def test_forbid_beats_a_grant(git_warden, git_repo, inner, grant, forbid, tmp_path, mode):
    grant("--server", "git", "--allow", "git.**", purpose="work on anything")
    forbid_id = forbid("--server", "git", "--action", "git.read", "--on", f"repo:{git_repo}", purpose="hands off this repo")
    elsewhere = tmp_path / "elsewhere"

    async def scenario():
        async with session(git_warden(), mode=mode) as client:
            return (
                await call(client, "git_status", {"repo_path": str(git_repo)}),
                await call(client, "git_log", {"repo_path": str(git_repo)}),
                # Another repository is not forbidden: the grant covers it, the server answers.
                await call(client, "git_status", {"repo_path": str(elsewhere)}),
            )

    status, log, other = run_async(scenario)
    for result in (status, log):
        decision = assert_denied(result, "forbidden")
        assert decision["forbid"] == forbid_id, decision
        assert "hands off this repo" in text_of(result)
        assert f"(forbid {forbid_id}); only they can lift it" in text_of(result)
        assert "suggestedGrant" not in decision
    assert_allowed(other)
    assert [c["arguments"]["repo_path"] for c in calls_seen_by_server(inner)] == [str(elsewhere)]


@pytest.mark.parametrize("mode", ERAS)
def test_revoking_mid_session_denies_the_very_next_call(warden_bin, git_warden, git_repo, inner, grant, mode):
    grant_id = grant("--server", "git", "--allow", "git.read", purpose="until revoked")

    async def scenario():
        results = []
        async with session(git_warden(), mode=mode) as client:
            arguments = {"repo_path": str(git_repo)}
            results.append(await call(client, "git_status", arguments))
            revoked = warden_cli(warden_bin, "revoke", grant_id, check=True)
            assert revoked.stdout.split() == [grant_id]
            # No pause: the very next call must see the revocation.
            results.append(await call(client, "git_status", arguments))
            results.append(await call(client, "git_diff_staged", arguments))
            grant("--server", "git", "--allow", "git.read", purpose="granted again")
            results.append(await call(client, "git_status", arguments))
        return results

    before, after, after2, regranted = run_async(scenario)
    assert_allowed(before)
    assert assert_denied(after, "not-delegated")["action"] == "git.read"
    assert_denied(after2, "not-delegated")
    assert "No delegation is in force" in text_of(after), text_of(after)
    assert_allowed(regranted)
    assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_status", "git_status"]


def test_revoke_all_is_a_kill_switch_for_a_running_session(warden_bin, git_warden, git_repo, grant):
    grant("--server", "git", "--allow", "git.read", purpose="one")
    grant("--allow", "git.**", purpose="two")

    async def scenario():
        async with session(git_warden()) as client:
            first = await call(client, "git_status", {"repo_path": str(git_repo)})
            warden_cli(warden_bin, "revoke", "--all", check=True)
            return first, await call(client, "git_status", {"repo_path": str(git_repo)})

    first, second = run_async(scenario)
    assert_allowed(first)
    assert_denied(second, "not-delegated")


@pytest.mark.parametrize("mode", ERAS)
def test_an_expired_grant_denies(git_warden, git_repo, inner, grant, mode):
    """A grant --for 2s allows, then denies once expired; then the same with --until."""
    arguments = {"repo_path": str(git_repo)}

    async def scenario():
        async with session(git_warden(), mode=mode) as client:
            issued = time.time()
            grant("--server", "git", "--allow", "git.read", "--for", "2s", purpose="two seconds")
            # The grant's clock starts somewhere while `warden grant` runs: it has surely expired
            # 2 s after the command returned, whatever the machine's load.
            returned = time.time()
            live = await call(client, "git_status", arguments)
            assert time.time() - issued < 1.8, "too slow to see the grant while it was live"
            await anyio.sleep(max(0.0, returned + 2.3 - time.time()))
            expired = await call(client, "git_status", arguments)

            # --until takes whole seconds: an instant 2-3 s ahead.
            deadline = int(time.time()) + 3
            until = datetime.fromtimestamp(deadline, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            grant("--server", "git", "--allow", "git.read", "--until", until, purpose="until a set time")
            live_until = await call(client, "git_status", arguments)
            assert time.time() < deadline - 0.2, "too slow to see the grant while it was live"
            await anyio.sleep(max(0.0, deadline + 0.3 - time.time()))
            expired_until = await call(client, "git_status", arguments)
            return live, expired, live_until, expired_until

    live, expired, live_until, expired_until = run_async(scenario)
    assert_allowed(live)
    assert_denied(expired, "not-delegated")
    assert_allowed(live_until)
    assert_denied(expired_until, "not-delegated")
    assert len(calls_seen_by_server(inner)) == 2


# --------------------------------------------------------------------------------------------------
# A long session changes nothing


@pytest.mark.parametrize("mode", ERAS)
def test_a_long_session_of_hundreds_of_calls_changes_nothing(git_warden, git_repo, inner, grant, forbid, tmp_path, mode):
    """300 calls cycling through allowed reads, a denied commit, a forbidden repository, a destructive
    reset and bad arguments: every one gets the same decision at the end as at the start."""
    grant("--server", "git", "--allow", "git.read,git.reset", "--on", f"repo:{git_repo}", purpose="long session")
    forbidden_repo = tmp_path / "prod"
    grant("--server", "git", "--allow", "git.read", "--on", f"repo:{forbidden_repo}", purpose="granted, but")
    forbid("--server", "git", "--action", "**", "--on", f"repo:{forbidden_repo}", purpose="stay out of prod")
    commits = git_commit_count(git_repo)
    repo = str(git_repo)
    cycle = [
        ("git_status", {"repo_path": repo}, None),
        ("git_commit", {"repo_path": repo, "message": "nope"}, "not-delegated"),
        ("git_log", {"repo_path": repo, "max_count": 1}, None),
        ("git_status", {"repo_path": str(forbidden_repo)}, "forbidden"),
        # Destructive: held for a human, who does not answer within the (short) deadline.
        ("git_reset", {"repo_path": repo}, "confirmation-timed-out"),
        ("git_diff_staged", {"repo_path": repo}, None),
        ("git_status", {}, "bad-arguments"),
        ("git_add", {"repo_path": repo, "files": [str(git_repo / "README.md")]}, "not-delegated"),
    ]
    total = 304  # 38 cycles

    async def scenario():
        outcomes = []
        async with session(git_warden("--confirm-timeout", "0.05"), mode=mode) as client:
            for index in range(total):
                tool, arguments, _ = cycle[index % len(cycle)]
                result = await call(client, tool, arguments)
                decision = decision_of(result)
                outcomes.append((decision or {}).get("reason"))
                if decision is None:
                    assert result["isError"] is False, (index, result)
        return outcomes

    outcomes = run_async(scenario, timeout=150)
    assert outcomes == [cycle[i % len(cycle)][2] for i in range(total)]
    allowed = sum(1 for _, _, reason in cycle if reason is None) * (total // len(cycle))
    seen = calls_seen_by_server(inner)
    assert len(seen) == allowed and {c["name"] for c in seen} == {"git_status", "git_log", "git_diff_staged"}
    assert git_commit_count(git_repo) == commits
    # The staged file is still staged: no reset reached the server.
    assert "staged.txt" in (git_repo / ".git" / "index").read_bytes().decode("latin-1")


# --------------------------------------------------------------------------------------------------
# Which agent


def test_agent_matching_uses_the_clients_name_or_agent(warden_bin, git_warden, git_repo, grant):
    grant("--server", "git", "--agent", "claude-*", "--allow", "git.read", purpose="only for claude")

    async def status_as(name: str, *options):
        async with session(git_warden(*options), name=name) as client:
            return await call(client, "git_status", {"repo_path": str(git_repo)})

    assert_allowed(run_async(status_as, "claude-code"))
    denied = run_async(status_as, CLIENT_NAME)
    decision = assert_denied(denied, "not-delegated")
    assert decision["agent"] == CLIENT_NAME
    assert f"agent '{CLIENT_NAME}'" in text_of(denied)
    assert "suggestedGrant" not in decision
    # --agent overrides what the client says about itself, both ways.
    assert_allowed(run_async(status_as, CLIENT_NAME, "--agent", "claude-desktop"))
    overridden = run_async(status_as, "claude-code", "--agent", "intern-bot")
    assert assert_denied(overridden, "not-delegated")["agent"] == "intern-bot"


# --------------------------------------------------------------------------------------------------
# What the agent is told: tools/list marks, instructions, list_changed


@pytest.mark.parametrize("mode", ERAS)
def test_tools_list_marks_each_tool_and_hide_undelegated_drops_the_rest(git_warden, git_repo, grant, mode):
    grant("--server", "git", "--allow", "git.read,git.reset", purpose="read and reset")

    async def listing(*options):
        async with session(git_warden(*options), mode=mode) as client:
            result = dump(await client.list_tools())
            commit = await call(client, "git_commit", {"repo_path": str(git_repo), "message": "m"})
            return result, commit

    marked, _ = run_async(listing)
    _, marks = strip_tool_list(marked)
    assert set(marks) == set(GIT_ACTIONS)
    for name, action in GIT_ACTIONS.items():
        if action == "git.read":
            assert marks[name] == expected_marks("delegated", action), name
        elif name == "git_reset":
            assert marks[name] == expected_marks("needs-confirmation", action), name
        else:
            assert marks[name] == expected_marks("not-delegated", action), name
    tool = next(t for t in marked["tools"] if t["name"] == "git_commit")
    assert tool["description"].endswith("\n\n[warden: not delegated; calls will be denied]"), tool

    hidden, commit = run_async(listing, "--hide-undelegated")
    names = [t["name"] for t in hidden["tools"]]
    assert sorted(names) == sorted(READS + ["git_reset"]), names
    _, hidden_marks = strip_tool_list(hidden)
    assert {name: marks[name] for name in names} == hidden_marks
    # Hiding is advice: a call to a hidden tool is still judged, and denied.
    assert_denied(commit, "not-delegated")


def test_instructions_summarize_the_delegation_in_force(git_warden, git_repo, grant, forbid):
    def handshake(mode):
        async def scenario():
            async with session(git_warden(), mode=mode) as client:
                return client.instructions, dump(client.server_capabilities)

        return run_async(scenario)

    for mode in ("legacy", "auto"):
        instructions, capabilities = handshake(mode)
        assert SUMMARY_START in instructions, instructions
        assert "No grant is in force" in instructions, instructions
        assert capabilities["tools"]["listChanged"] is True, capabilities

    grant_id = grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", purpose="triage the repo")
    other = grant("--server", "time", "--allow", "time.read", purpose="another server's grant")
    forbid_id = forbid("--server", "git", "--action", "git.reset", purpose="never reset")
    for mode in ("legacy", "auto"):
        instructions, capabilities = handshake(mode)
        summary = instructions[instructions.index(SUMMARY_START) :]
        assert summary.startswith(f"{SUMMARY_START} ('git')"), summary
        assert "In force:" in summary and "Forbidden:" in summary, summary
        assert grant_id in summary and "triage the repo" in summary and f"repo:{git_repo}" in summary, summary
        assert forbid_id in summary and "never reset" in summary, summary
        assert other not in summary, "a grant for another server is not part of this delegation"
        assert capabilities["tools"]["listChanged"] is True


def test_list_changed_is_sent_when_grants_change_in_a_handshake_session(warden_bin, git_warden, git_repo, grant):
    notifications = []

    async def on_message(message):
        if not isinstance(message, Exception):
            notifications.append(message.root.method if hasattr(message, "root") else message.method)

    async def wait_for_count(count: int, timeout: float = 5.0) -> None:
        with anyio.move_on_after(timeout):
            while len(notifications) < count:
                await anyio.sleep(0.05)
        assert len(notifications) >= count, f"expected {count} list_changed notifications, got {notifications}"

    async def scenario():
        async with session(git_warden(), mode="legacy", message_handler=on_message) as client:
            before = dump(await client.list_tools())
            await anyio.sleep(0.6)
            assert notifications == [], "a notification without any grant change"
            grant_id = grant("--server", "git", "--allow", "git.read", purpose="granted mid-session")
            await wait_for_count(1)
            after_grant = dump(await client.list_tools())
            warden_cli(warden_bin, "revoke", grant_id, check=True)
            await wait_for_count(2)
            after_revoke = dump(await client.list_tools())
            return before, after_grant, after_revoke

    before, after_grant, after_revoke = run_async(scenario)
    assert set(notifications) == {"notifications/tools/list_changed"}, notifications
    assert strip_tool_list(before)[1]["git_status"]["status"] == "not-delegated"
    assert strip_tool_list(after_grant)[1]["git_status"]["status"] == "delegated"
    assert strip_tool_list(after_revoke)[1]["git_status"]["status"] == "not-delegated"


def test_no_list_changed_in_a_per_request_session(git_warden, grant):
    """The per-request era has no server-to-client notifications on stdio: warden sends none."""
    notifications = []

    async def on_message(message):
        notifications.append(message)

    async def scenario():
        async with session(git_warden(), mode="auto", message_handler=on_message) as client:
            await client.list_tools()
            grant("--server", "git", "--allow", "git.read", purpose="granted mid-session")
            await anyio.sleep(1.0)
            listed = dump(await client.list_tools())
            return listed

    listed = run_async(scenario)
    assert notifications == []
    # The new grant still shows in the next tools/list.
    assert strip_tool_list(listed)[1]["git_status"]["status"] == "delegated"
