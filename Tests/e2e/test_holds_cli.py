"""Held calls decided from the command line, with a raw client in front of the real mcp-server-git:
everything else flows while calls are held, each hold gets its own outcome, timeouts and
cancellations fail closed, and nothing is left pending."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import child_env
from sdk_support import calls_seen_by_server, tapped
from test_confirm_terminal import Session, staged


def holds(warden_bin, *flags) -> list[dict]:
    out = subprocess.run([str(warden_bin), "holds", "--json", *flags], capture_output=True, text=True, env=child_env(), timeout=20)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for_holds(warden_bin, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = holds(warden_bin)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} pending holds, have {holds(warden_bin)}")


def decide(warden_bin, verb: str, hold_id: str, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(warden_bin), verb, hold_id, *extra], capture_output=True, text=True, env=child_env(), timeout=20)


@pytest.fixture
def git_session(warden_bin, git_server_bin, git_repo, tmp_path, grant):
    grant("--server", "git", "--allow", "git.*", "--on", f"repo:{git_repo}", purpose="tidy the index")
    inner = tmp_path / "inner"

    def start(*options) -> Session:
        command = [git_server_bin, "--repository", git_repo]
        return Session([str(a) for a in [warden_bin, "run", "--server", "git", *options, "--", *tapped(inner, command)]])

    return start, inner


def call(session: Session, request_id, tool: str, repo, **arguments):
    session.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                  "params": {"name": tool, "arguments": {"repo_path": str(repo), **arguments}}})


def test_other_messages_flow_while_a_call_is_held_and_approve_forwards_once(git_session, git_repo, warden_bin):
    start, inner = git_session
    session = start("--confirm-timeout", "30")
    try:
        call(session, 1, "git_reset", git_repo)
        [held] = wait_for_holds(warden_bin, 1)
        for key in ["id", "state", "server", "agent", "tool", "arguments", "digest", "action", "resources",
                    "reason", "grant", "purpose", "deadline"]:
            assert key in held, key
        assert held["state"] == "pending" and held["tool"] == "git_reset" and held["agent"] == "terminal-test"
        assert held["arguments"] == {"repo_path": str(git_repo)} and held["reason"] == "destructive"
        # A ping and an allowed read complete while the reset is held.
        session.send({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert session.receive() == {"jsonrpc": "2.0", "id": 2, "result": {}}
        call(session, 3, "git_status", git_repo)
        status = session.receive()
        assert status["id"] == 3 and status["result"]["isError"] is False
        approved = decide(warden_bin, "approve", held["id"])
        assert approved.returncode == 0, approved.stderr
        answer = session.receive()
        assert answer["id"] == 1 and answer["result"]["isError"] is False, answer
        assert not staged(git_repo)
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_status", "git_reset"]
        # The first decision wins: a second one is refused and says who decided.
        again = decide(warden_bin, "reject", held["id"])
        assert again.returncode != 0 and "already approved" in again.stderr, again
    finally:
        session.close()


def test_two_holds_decided_in_the_opposite_order(git_session, git_repo, warden_bin):
    start, inner = git_session
    session = start("--confirm-timeout", "30")
    try:
        call(session, 1, "git_reset", git_repo)
        # A call that is allowed outright is answered while the first one waits.
        call(session, 2, "git_checkout", git_repo, branch_name="main")
        assert [h["tool"] for h in wait_for_holds(warden_bin, 1)] == ["git_reset"]
        assert session.receive()["id"] == 2
        call(session, 3, "git_reset", git_repo)
        first, second = wait_for_holds(warden_bin, 2)
        assert decide(warden_bin, "approve", second["id"]).returncode == 0
        assert decide(warden_bin, "reject", first["id"], "--why", "not that one").returncode == 0
        answers = {m["id"]: m for m in (session.receive(), session.receive())}
        assert answers[3]["result"]["isError"] is False, answers
        assert answers[1]["result"]["isError"] is True and "not that one" in answers[1]["result"]["content"][0]["text"]
        assert [c["name"] for c in calls_seen_by_server(inner)].count("git_reset") == 1
    finally:
        session.close()


def test_no_decision_in_time_is_a_denial(git_session, git_repo, warden_bin):
    start, inner = git_session
    session = start("--confirm-timeout", "0.5")
    try:
        call(session, 1, "git_reset", git_repo)
        answer = session.receive()
        decision = answer["result"]["_meta"]["dev.warden/decision"]
        assert decision["reason"] == "confirmation-timed-out", answer
        assert staged(git_repo) and calls_seen_by_server(inner) == []
        [expired] = holds(warden_bin, "--all")
        assert expired["state"] == "expired" and expired["channel"] == "timeout"
    finally:
        session.close()


def test_a_cancelled_held_call_never_reaches_the_server(git_session, git_repo, warden_bin):
    start, inner = git_session
    session = start("--confirm-timeout", "30")
    try:
        call(session, 7, "git_reset", git_repo)
        [held] = wait_for_holds(warden_bin, 1)
        session.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "changed my mind"}})
        deadline = time.monotonic() + 5
        while holds(warden_bin) and time.monotonic() < deadline:
            time.sleep(0.05)
        [cancelled] = holds(warden_bin, "--all")
        assert cancelled["state"] == "cancelled"
        # No response for the cancelled request: the next thing the client hears answers its ping.
        session.send({"jsonrpc": "2.0", "id": 8, "method": "ping"})
        assert session.receive()["id"] == 8
        assert decide(warden_bin, "approve", held["id"]).returncode != 0
        seen = open(f"{inner}.c2s").read()
        assert "git_reset" not in seen and "notifications/cancelled" not in seen
    finally:
        session.close()


def test_a_client_that_leaves_leaves_no_hold_pending(git_session, git_repo, warden_bin):
    start, inner = git_session
    session = start("--confirm-timeout", "30")
    call(session, 1, "git_reset", git_repo)
    wait_for_holds(warden_bin, 1)
    session.close()
    assert holds(warden_bin) == []
    [cancelled] = holds(warden_bin, "--all")
    assert cancelled["state"] == "cancelled" and calls_seen_by_server(inner) == []


def test_ungranted_confirm_holds_what_no_grant_covers_but_forbids_still_deny(git_session, git_repo, warden_bin, forbid, tmp_path):
    start, inner = git_session
    other = tmp_path / "other"
    forbid("--server", "git", "--action", "**", "--on", f"repo:{other}", purpose="never there")
    session = start("--ungranted", "confirm", "--confirm-timeout", "30")
    try:
        # Ungranted (the grant covers only git_repo): held.
        session.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "git_status", "arguments": {"repo_path": str(tmp_path / "third")}}})
        [held] = wait_for_holds(warden_bin, 1)
        assert held["tool"] == "git_status"
        # Forbidden: denied at once, not held.
        session.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "git_status", "arguments": {"repo_path": str(other)}}})
        answer = session.receive()
        assert answer["id"] == 2 and answer["result"]["_meta"]["dev.warden/decision"]["reason"] == "forbidden"
        assert len(holds(warden_bin)) == 1
        assert decide(warden_bin, "reject", held["id"]).returncode == 0
        assert session.receive()["id"] == 1
    finally:
        session.close()
