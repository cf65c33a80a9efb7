"""Held calls with the official SDK client, both protocol eras, decided from the command line
(`warden holds`, `approve`, `reject`), in front of the real mcp-server-git and the example mailbox.

The SDK client declares no elicitation capability here (no callback), so the only channel is the
store: the test plays the human with `warden approve` / `warden reject` from another process. Taps
record both hops: `outer` (client <-> warden) and `inner` (warden <-> server), so "the server never
saw it" and "warden never answered it" are read from the bytes that crossed.
"""

from __future__ import annotations

import getpass

import json
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import anyio
import pytest

from conftest import child_env
from sdk_support import (
    ERAS, assert_allowed, assert_denied, calls_seen_by_server, call, decision_of, run_async, session, tapped,
    text_of,
)

HOLD_FIELDS = ["id", "state", "server", "agent", "tool", "arguments", "digest", "action", "resources",
               "reason", "grant", "purpose", "deadline"]
HOLD_ID = re.compile(r"^h_[A-Za-z0-9]{16}$")
WAIT = 10.0  # seconds any single wait for warden may take


# --------------------------------------------------------------------------------------------------
# The human's side: the warden CLI from another process


def holds(warden_bin, *flags) -> list[dict]:
    out = subprocess.run([str(warden_bin), "holds", "--json", *flags], capture_output=True, text=True,
                         env=child_env(), timeout=20)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for_holds(warden_bin, count: int, timeout: float = WAIT) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = holds(warden_bin)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} pending holds, have {holds(warden_bin, '--all')}")


def wait_for_state(warden_bin, hold_id: str, state: str, timeout: float = WAIT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {h["id"]: h for h in holds(warden_bin, "--all")}
        if found.get(hold_id, {}).get("state") == state:
            return found[hold_id]
        time.sleep(0.05)
    raise AssertionError(f"hold {hold_id} never became {state}: {holds(warden_bin, '--all')}")


def decide(warden_bin, verb: str, hold_id: str, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(warden_bin), verb, hold_id, *extra], capture_output=True, text=True,
                          env=child_env(), timeout=20)


async def in_thread(function, *args):
    return await anyio.to_thread.run_sync(lambda: function(*args))


# --------------------------------------------------------------------------------------------------
# Sessions


def staged(repo) -> list[str]:
    out = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=repo, capture_output=True, text=True,
                         timeout=20, check=True)
    return out.stdout.split()


def git_argv(warden_bin, git_server_bin, git_repo, tmp_path, *options) -> list:
    """SDK -> tap(outer) -> warden run -> tap(inner) -> mcp-server-git."""
    inner = tapped(tmp_path / "inner", [git_server_bin, "--repository", git_repo])
    return tapped(tmp_path / "outer", [warden_bin, "run", "--server", "git", *options, "--", *inner])


def wire(prefix: Path, direction: str) -> list[dict]:
    path = Path(f"{prefix}.{direction}")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def request_id_of(prefix: Path, tool: str) -> list:
    """The JSON-RPC ids of the tools/call requests for `tool` the client sent on the `prefix` hop."""
    return [m["id"] for m in wire(prefix, "c2s") if m.get("method") == "tools/call" and m["params"]["name"] == tool]


class Pending:
    """A tools/call running in the background of an SDK session; its result when it finishes."""

    def __init__(self, group, client, tool: str, arguments: dict):
        self.result = None
        self.done = anyio.Event()
        self.scope = anyio.CancelScope()
        group.start_soon(self._run, client, tool, arguments)

    async def _run(self, client, tool, arguments):
        with self.scope:
            self.result = await call(client, tool, arguments)
        self.done.set()

    async def wait(self, timeout: float = WAIT) -> dict:
        with anyio.fail_after(timeout):
            await self.done.wait()
        return self.result


# --------------------------------------------------------------------------------------------------
# mcp-server-git: git_reset is destructive, so a grant of git.* still holds it


@pytest.fixture
def git_grant(grant, git_repo):
    return grant("--server", "git", "--allow", "git.*", "--on", f"repo:{git_repo}", purpose="tidy the index")


@pytest.mark.filterwarnings("ignore:ping is removed")
@pytest.mark.parametrize("mode", ERAS)
def test_approve_forwards_once_while_everything_else_flows(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, mode):
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "30")
    inner = tmp_path / "inner"

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            reset = Pending(group, client, "git_reset", {"repo_path": str(git_repo)})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            # While it is held: a ping (handshake era only: the per-request era has none) and an allowed
            # read complete, and the server has seen only the read.
            if mode == "legacy":
                with anyio.fail_after(WAIT):
                    await client.send_ping()
            with anyio.fail_after(WAIT):
                status = await call(client, "git_status", {"repo_path": str(git_repo)})
            assert not reset.done.is_set()
            assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_status"]
            approved = await in_thread(decide, warden_bin, "approve", held["id"], "--by", "ann")
            return held, status, approved, await reset.wait()

    held, status, approved, result = run_async(scenario)
    assert assert_allowed(status)["isError"] is False and "staged.txt" in text_of(status)

    # What `warden holds --json` showed while it was pending.
    for key in HOLD_FIELDS:
        assert key in held, (key, held)
    assert HOLD_ID.match(held["id"]), held
    assert held["state"] == "pending" and held["server"] == "git" and held["agent"] == "warden-e2e"
    assert held["tool"] == "git_reset" and held["arguments"] == {"repo_path": str(git_repo)}
    assert re.fullmatch(r"[0-9a-f]{64}", held["digest"]), held["digest"]
    assert held["action"] == "git.reset" and held["resources"] == [f"repo:{git_repo}"]
    assert held["reason"] == "destructive" and held["grant"] == git_grant and held["purpose"] == "tidy the index"
    created, deadline = (datetime.fromisoformat(held[k].replace("Z", "+00:00")) for k in ("createdAt", "deadline"))
    assert 29 <= (deadline - created).total_seconds() <= 31, held

    # Approved: forwarded exactly once, and the result is the server's.
    assert approved.returncode == 0, approved.stderr
    assert assert_allowed(result)["isError"] is False, result
    assert staged(git_repo) == []
    assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_status", "git_reset"]
    [after] = holds(warden_bin, "--all")
    # The decision is the OS user's; --by is only a note (a server could type any name).
    assert after["state"] == "approved" and after["decidedBy"] == getpass.getuser() and after["channel"] == "cli"
    assert after["note"] == "stated decider: ann"
    assert holds(warden_bin) == []
    # The first decision wins: a later rejection is refused and names who decided.
    late = decide(warden_bin, "reject", held["id"])
    assert late.returncode != 0 and f"already approved by {getpass.getuser()}" in late.stderr, late
    assert holds(warden_bin, "--all")[0]["state"] == "approved"


@pytest.mark.parametrize("mode", ERAS)
def test_reject_denies_with_the_why_and_the_server_never_sees_it(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, mode):
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "30")

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            reset = Pending(group, client, "git_reset", {"repo_path": str(git_repo)})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            rejected = await in_thread(decide, warden_bin, "reject", held["id"], "--why", "keep the staged file", "--by", "bob")
            return held, rejected, await reset.wait()

    held, rejected, result = run_async(scenario)
    assert rejected.returncode == 0, rejected.stderr
    decision = assert_denied(result, "rejected")
    assert "keep the staged file" in text_of(result), text_of(result)
    assert "bob" in text_of(result), text_of(result)
    assert decision.get("hold", held["id"]) == held["id"], decision
    assert staged(git_repo) == ["staged.txt"]
    assert calls_seen_by_server(tmp_path / "inner") == []
    [after] = holds(warden_bin, "--all")
    assert after["state"] == "rejected" and after["note"] == "stated decider: bob; keep the staged file"
    assert after["decidedBy"] == getpass.getuser()
    # Approving the rejected hold afterwards fails, saying who decided it, and changes nothing.
    late = decide(warden_bin, "approve", held["id"])
    assert late.returncode != 0 and f"already rejected by {getpass.getuser()}" in late.stderr, late
    assert holds(warden_bin, "--all")[0]["state"] == "rejected"
    assert calls_seen_by_server(tmp_path / "inner") == []


@pytest.mark.parametrize("mode", ERAS)
def test_no_answer_in_time_is_denied(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, mode):
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "0.5")

    async def scenario():
        async with session(argv, mode=mode) as client:
            started = time.monotonic()
            with anyio.fail_after(WAIT):
                result = await call(client, "git_reset", {"repo_path": str(git_repo)})
            return result, time.monotonic() - started

    result, took = run_async(scenario)
    assert_denied(result, "confirmation-timed-out")
    assert "confirm" in text_of(result).lower(), text_of(result)
    assert 0.4 <= took < 5, took
    assert staged(git_repo) == ["staged.txt"] and calls_seen_by_server(tmp_path / "inner") == []
    [expired] = holds(warden_bin, "--all")
    assert expired["state"] == "expired"
    assert decide(warden_bin, "approve", expired["id"]).returncode != 0
    assert calls_seen_by_server(tmp_path / "inner") == []


@pytest.mark.parametrize("mode", ERAS)
def test_a_call_the_client_cancels_never_reaches_the_server_and_gets_no_answer(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, mode):
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "30")
    outer, inner = tmp_path / "outer", tmp_path / "inner"

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            reset = Pending(group, client, "git_reset", {"repo_path": str(git_repo)})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            # The SDK abandons the call: it sends notifications/cancelled for its id.
            reset.scope.cancel()
            cancelled = await in_thread(wait_for_state, warden_bin, held["id"], "cancelled")
            # The session goes on; a later call is answered.
            with anyio.fail_after(WAIT):
                status = await call(client, "git_status", {"repo_path": str(git_repo)})
            await anyio.sleep(0.3)
            return held, cancelled, status

    held, cancelled, status = run_async(scenario)
    assert cancelled["channel"] == "client", cancelled
    assert_allowed(status)
    [reset_id] = request_id_of(outer, "git_reset")
    sent = wire(outer, "c2s")
    assert any(m.get("method") == "notifications/cancelled" and m["params"]["requestId"] == reset_id for m in sent), sent
    # Warden never answered the cancelled request.
    answered = [m for m in wire(outer, "s2c") if "method" not in m]
    assert reset_id not in [m.get("id") for m in answered], answered
    # The server saw neither the call nor its cancellation.
    assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_status"]
    assert not any(m.get("method") == "notifications/cancelled" for m in wire(inner, "c2s"))
    assert staged(git_repo) == ["staged.txt"]
    assert decide(warden_bin, "approve", held["id"]).returncode != 0


@pytest.mark.parametrize("mode", ERAS)
def test_a_confirm_list_holds_even_reads(warden_bin, git_server_bin, git_repo, tmp_path, grant, mode):
    grant("--server", "git", "--allow", "git.read", "--confirm", "git.read", "--on", f"repo:{git_repo}", purpose="look, but ask")
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "30")

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            status = Pending(group, client, "git_status", {"repo_path": str(git_repo)})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            await anyio.sleep(0.3)
            seen_before = calls_seen_by_server(tmp_path / "inner")
            assert not status.done.is_set()
            assert (await in_thread(decide, warden_bin, "approve", held["id"])).returncode == 0
            return held, seen_before, await status.wait()

    held, seen_before, result = run_async(scenario)
    assert held["tool"] == "git_status" and held["action"] == "git.read" and held["reason"] == "confirm-required", held
    assert held["purpose"] == "look, but ask"
    assert seen_before == []
    assert assert_allowed(result)["isError"] is False and "staged.txt" in text_of(result)
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["git_status"]


@pytest.mark.parametrize("mode", ERAS)
def test_ungranted_confirm_holds_the_uncovered_call_and_a_forbid_still_denies(warden_bin, git_server_bin, git_repo, tmp_path, forbid, mode):
    # No grant at all: with --ungranted confirm, a read is held; a forbidden reset is denied at once.
    forbid("--server", "git", "--action", "git.reset", purpose="never reset")
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--ungranted", "confirm", "--confirm-timeout", "30")

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            log = Pending(group, client, "git_log", {"repo_path": str(git_repo)})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            with anyio.fail_after(WAIT):
                reset = await call(client, "git_reset", {"repo_path": str(git_repo)})
            still = await in_thread(holds, warden_bin)
            assert not log.done.is_set()
            assert (await in_thread(decide, warden_bin, "approve", held["id"])).returncode == 0
            return held, reset, still, await log.wait()

    held, reset, still, log = run_async(scenario)
    # Held because no grant covers it, with an explanation saying a human is asked instead.
    assert held["tool"] == "git_log" and held["reason"] == "ungranted", held
    assert "no grant covers it" in held["explanation"] and "human" in held["explanation"], held
    assert "grant" not in held
    assert_denied(reset, "forbidden")
    assert [h["id"] for h in still] == [held["id"]]
    assert assert_allowed(log)["isError"] is False and "Add gamma" in text_of(log)
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["git_log"]
    assert staged(git_repo) == ["staged.txt"]


@pytest.mark.parametrize("mode", ERAS)
def test_two_identical_holds_decided_in_the_opposite_order(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, mode):
    argv = git_argv(warden_bin, git_server_bin, git_repo, tmp_path, "--confirm-timeout", "30")
    outer = tmp_path / "outer"

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            first = Pending(group, client, "git_reset", {"repo_path": str(git_repo)})
            [one] = await in_thread(wait_for_holds, warden_bin, 1)
            second = Pending(group, client, "git_reset", {"repo_path": str(git_repo)})
            both = await in_thread(wait_for_holds, warden_bin, 2)
            assert both[0]["id"] == one["id"]
            assert (await in_thread(decide, warden_bin, "approve", both[1]["id"])).returncode == 0
            second_result = await second.wait()
            assert not first.done.is_set()
            assert (await in_thread(decide, warden_bin, "reject", both[0]["id"], "--why", "the first one stays")).returncode == 0
            return both, await first.wait(), second_result

    both, first, second = run_async(scenario)
    # Same server, tool and arguments: the same digest, but two holds with their own ids and outcomes.
    assert both[0]["digest"] == both[1]["digest"] and both[0]["id"] != both[1]["id"]
    assert assert_allowed(second)["isError"] is False
    assert_denied(first, "rejected")
    assert "the first one stays" in text_of(first)
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["git_reset"]
    # Each answer went to its own request id.
    first_id, second_id = request_id_of(outer, "git_reset")
    answers = {m["id"]: m for m in wire(outer, "s2c") if m.get("id") in (first_id, second_id) and "method" not in m}
    assert decision_of(answers[first_id]["result"])["reason"] == "rejected"
    assert decision_of(answers[second_id]["result"]) is None


# --------------------------------------------------------------------------------------------------
# The example mailbox: delete_message is destructive


def message_ids(listing: dict) -> list[str]:
    return [word.strip("[]") for word in text_of(listing).split() if word.startswith("[msg-")]


@pytest.mark.parametrize("mode", ERAS)
def test_mailbox_two_deletions_decided_in_the_opposite_order(warden_bin, mailbox_bin, grant, tmp_path, mode):
    grant("--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete", purpose="clear out old mail")
    inner = tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    argv = tapped(tmp_path / "outer", [warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "30", "--", *inner])

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            assert len(before) >= 3, before
            a, b = before[0], before[1]
            delete_a = Pending(group, client, "delete_message", {"id": a})
            await in_thread(wait_for_holds, warden_bin, 1)
            delete_b = Pending(group, client, "delete_message", {"id": b})
            pending = await in_thread(wait_for_holds, warden_bin, 2)
            by_message = {h["arguments"]["id"]: h for h in pending}
            # A read of the message about to be decided completes meanwhile.
            with anyio.fail_after(WAIT):
                read_b = await call(client, "read_message", {"id": b})
            assert (await in_thread(decide, warden_bin, "approve", by_message[b]["id"])).returncode == 0
            result_b = await delete_b.wait()
            assert (await in_thread(decide, warden_bin, "reject", by_message[a]["id"], "--why", "keep that one")).returncode == 0
            result_a = await delete_a.wait()
            with anyio.fail_after(WAIT):
                after = message_ids(await call(client, "list_messages", {}))
            return before, a, b, by_message, read_b, result_a, result_b, after

    before, a, b, by_message, read_b, result_a, result_b, after = run_async(scenario)
    for message, hold in by_message.items():
        assert hold["tool"] == "delete_message" and hold["server"] == "mailbox" and hold["action"] == "mail.delete"
        assert hold["resources"] == [f"message:{message}"] and hold["reason"] == "destructive"
        assert hold["purpose"] == "clear out old mail"
    assert by_message[a]["digest"] != by_message[b]["digest"]
    assert assert_allowed(read_b)["isError"] is False
    assert assert_allowed(result_b)["isError"] is False, result_b
    assert_denied(result_a, "rejected")
    assert "keep that one" in text_of(result_a)
    assert a in after and b not in after and len(after) == len(before) - 1
    deletes = [c for c in calls_seen_by_server(tmp_path / "inner") if c["name"] == "delete_message"]
    assert deletes == [{"name": "delete_message", "arguments": {"id": b}}], deletes


@pytest.mark.parametrize("mode", ERAS)
def test_mailbox_deletion_times_out_and_a_cancelled_one_never_arrives(warden_bin, mailbox_bin, grant, tmp_path, mode):
    grant("--server", "mailbox", "--allow", "mail.list,mail.delete", purpose="clear out old mail")
    inner = tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    argv = tapped(tmp_path / "outer", [warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "1.5", "--", *inner])

    async def scenario():
        async with session(argv, mode=mode) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            cancelled = Pending(group, client, "delete_message", {"id": before[0]})
            [held] = await in_thread(wait_for_holds, warden_bin, 1)
            cancelled.scope.cancel()
            state = await in_thread(wait_for_state, warden_bin, held["id"], "cancelled")
            with anyio.fail_after(WAIT):
                timed_out = await call(client, "delete_message", {"id": before[1]})
                after = message_ids(await call(client, "list_messages", {}))
            return before, state, timed_out, after

    before, state, timed_out, after = run_async(scenario)
    assert state["arguments"] == {"id": before[0]}
    assert_denied(timed_out, "confirmation-timed-out")
    assert after == before
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["list_messages", "list_messages"]
    assert sorted(h["state"] for h in holds(warden_bin, "--all")) == ["cancelled", "expired"]


# --------------------------------------------------------------------------------------------------
# A client that goes away (raw client: the SDK would cancel its calls first)


def test_a_client_that_disconnects_leaves_no_hold_pending(warden_bin, git_server_bin, git_repo, tmp_path, git_grant, warden):
    inner = tmp_path / "inner"
    proc = warden(["--server", "git", "--confirm-timeout", "30"], tapped(inner, [git_server_bin, "--repository", git_repo]))
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "leaver", "version": "1"}}})
    assert proc.read_json()["id"] == 0
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    for request_id in (1, 2):
        proc.send_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                        "params": {"name": "git_reset", "arguments": {"repo_path": str(git_repo)}}})
    wait_for_holds(warden_bin, 2)
    proc.close_stdin()
    assert proc.wait(timeout=WAIT) == 0
    assert holds(warden_bin) == []
    everything = holds(warden_bin, "--all")
    assert [h["state"] for h in everything] == ["cancelled", "cancelled"], everything
    assert all(h["agent"] == "leaver" for h in everything)
    assert calls_seen_by_server(inner) == [] and staged(git_repo) == ["staged.txt"]
