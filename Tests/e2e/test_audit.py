"""The audit trail (issue "Audit trail"): every decision on a tools/call and how the call ended is a
record in the store, written before an allowed call goes on; the records form a hash chain that
`warden audit verify` checks, against tampering with the database and against the newest records being
cut off. Real processes: warden in front of the example mailbox and the fault fixture server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR, python_server, warden_cli
from test_faults import Inbox, handshake, is_denial, is_server_result, send_call, wait_for_holds

FAULTS = SERVERS_DIR / "faults.py"
FAULTS_MANIFEST = FIXTURE_MANIFESTS / "faults.yaml"


def audit(warden_bin, *args) -> list[dict]:
    result = warden_cli(warden_bin, "audit", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def verify(warden_bin):
    return warden_cli(warden_bin, "audit", "verify")


def mailbox_session(warden, mailbox_bin, tmp_path, *options):
    proc = warden(["--server", "mailbox", "--agent", "auditor", *options],
                  [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    inbox = Inbox(proc)
    handshake(proc, inbox)
    return proc, inbox


def finish(proc) -> None:
    proc.close_stdin()
    proc.wait(timeout=10)


def test_allowed_denied_and_probed_calls_are_all_records_and_the_chain_holds(warden, warden_bin, mailbox_bin, grant, tmp_path):
    read = grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list,mail.read", purpose="triage")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    send_call(proc, 1, "list_messages", {})
    send_call(proc, 2, "send_message", {"to": "eve@example.com", "subject": "s", "body": "the secret body 4242"})
    answers = inbox.wait([1, 2])
    finish(proc)
    assert is_server_result(answers[1]) and is_denial(answers[2], {"not-delegated"})

    # A server with no manifest: every probe is denied, and every one is a record.
    probe = warden(["--server", "cloud", "--agent", "prober"], python_server(FAULTS))
    probes = Inbox(probe)
    handshake(probe, probes)
    for n in range(5):
        send_call(probe, 10 + n, "delete_volume", {"id": f"vol-{n}"})
    probes.wait(list(range(10, 15)))
    finish(probe)

    records = audit(warden_bin)
    allowed = [r for r in records if r["tool"] == "list_messages"]
    assert [(r["kind"], r["verdict"]) for r in allowed] == [("decision", "allow"), ("outcome", "allow")], allowed
    assert allowed[0]["call"] == allowed[1]["call"] and allowed[1]["outcome"] == "result"
    assert allowed[0]["grants"][0]["id"] == read and allowed[0]["grants"][0]["purpose"] == "triage"
    assert allowed[0]["action"] == "mail.list" and allowed[0]["destructive"] is False
    [denied] = [r for r in records if r["tool"] == "send_message"]
    assert denied["verdict"] == "deny" and denied["reason"] == "not-delegated"
    # redact: [body] — the body never reaches the store; the digest is keyed, not a plain hash.
    assert "4242" not in json.dumps(records) and "redacted" in denied["arguments"]
    probed = [r for r in records if r["agent"] == "prober"]
    assert len(probed) == 5 and all(r["reason"] == "no-manifest" for r in probed), probed
    assert audit(warden_bin, "--agent", "prober", "--verdict", "deny") == probed

    checked = verify(warden_bin)
    assert checked.returncode == 0, checked.stderr
    assert f"{len(records)} records" in checked.stdout


def test_the_audit_of_a_grant_lists_its_calls_and_those_of_grants_narrowed_from_it(warden, warden_bin, mailbox_bin, grant, tmp_path):
    parent = grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list,mail.read", purpose="triage")
    child = grant("--parent", parent, "--allow", "mail.read", purpose="one message")
    other = grant("--server", "mailbox", "--agent", "someone-else", "--allow", "mail.list", purpose="other")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    send_call(proc, 1, "list_messages", {})
    send_call(proc, 2, "read_message", {"id": "msg-20261117-0a1f9c42"})
    inbox.wait([1, 2])
    finish(proc)
    under_parent = audit(warden_bin, "--grant", parent)
    decisions = [r for r in under_parent if r["kind"] == "decision"]
    assert sorted(r["tool"] for r in decisions) == ["list_messages", "read_message"], under_parent
    # Every grant that covers the call is recorded, each with the chain up to its root.
    [narrowed] = [r for r in decisions if r["tool"] == "read_message"]
    links = {g["id"]: g["chain"] for g in narrowed["grants"]}
    assert links == {parent: [], child: [parent]}, narrowed["grants"]
    assert [r["tool"] for r in audit(warden_bin, "--grant", child) if r["kind"] == "decision"] == ["read_message"]
    assert audit(warden_bin, "--grant", other) == []


def tamper(home, statement: str, *args) -> None:
    db = sqlite3.connect(home / "warden.db")
    db.execute("DROP TRIGGER IF EXISTS audit_append_only")
    db.execute(statement, args)
    db.commit()
    db.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("how", ["edit", "edit-and-rehash", "delete", "insert", "reorder", "cut-newest"])
def test_verify_names_the_first_record_tampered_with(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path, how):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="triage")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    for n in range(1, 5):
        send_call(proc, n, "list_messages", {})
    inbox.wait([1, 2, 3, 4])
    finish(proc)
    records = audit(warden_bin)
    assert len(records) == 8 and verify(warden_bin).returncode == 0
    third = json.loads(sqlite3.connect(warden_home / "warden.db").execute("SELECT record FROM audit WHERE seq = 3").fetchone()[0])
    if how == "edit":
        tamper(warden_home, "UPDATE audit SET record = replace(record, '\"verdict\":\"allow\"', '\"verdict\":\"deny\"') WHERE seq = 3")
        expected = "record 3"
    elif how == "edit-and-rehash":
        # The attacker recomputes the edited record's hash: the next record no longer follows it.
        import hashlib
        third["verdict"] = "deny"
        text = json.dumps(third, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        tamper(warden_home, "UPDATE audit SET record = ?, hash = ? WHERE seq = 3", text, hashlib.sha256(text.encode()).hexdigest())
        expected = "record 4"
    elif how == "delete":
        tamper(warden_home, "DELETE FROM audit WHERE seq = 3")
        expected = "record 3"
    elif how == "insert":
        tamper(warden_home, "UPDATE audit SET seq = seq + 100 WHERE seq >= 3")
        tamper(warden_home, "UPDATE audit SET seq = seq - 99 WHERE seq >= 103")
        tamper(warden_home, "INSERT INTO audit (seq, hash, record, at, kind, agent, server, call_id) "
                            "SELECT 3, hash, record, at, kind, agent, server, call_id FROM audit WHERE seq = 2")
        expected = "record 3"
    elif how == "reorder":
        tamper(warden_home, "UPDATE audit SET seq = -3 WHERE seq = 3")
        tamper(warden_home, "UPDATE audit SET seq = 3 WHERE seq = 4")
        tamper(warden_home, "UPDATE audit SET seq = 4 WHERE seq = -3")
        expected = "record 3"
    else:
        tamper(warden_home, "DELETE FROM audit WHERE seq >= 7")
        expected = "record 7"
    checked = verify(warden_bin)
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert expected in checked.stderr, checked.stderr


def test_verify_cannot_check_without_a_store(warden_bin, warden_home):
    os.chmod(warden_home, 0o775)  # a home others could write is refused (0755 would be fixed)
    try:
        checked = verify(warden_bin)
        assert checked.returncode == 2, (checked.stdout, checked.stderr)
    finally:
        os.chmod(warden_home, 0o700)


def test_a_kill_between_forward_and_outcome_leaves_the_intent(warden, warden_bin, grant, warden_home, tmp_path):
    grant("--server", "faults", "--allow", "fixture.**", purpose="crash test")
    record = tmp_path / "server-record"
    proc = warden(["--server", "faults", "--manifest", FAULTS_MANIFEST], python_server(FAULTS, "--record", record))
    inbox = Inbox(proc)
    handshake(proc, inbox)
    # Another writer holds the store, so the record cannot reach the chain before the kill: only
    # the session's journal has it.
    blocker = sqlite3.connect(warden_home / "warden.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    send_call(proc, "h", "hang", {})
    deadline = time.monotonic() + 10
    while b'"hang"' not in (record.read_bytes() if record.exists() else b""):
        assert time.monotonic() < deadline, "the call never reached the server"
        time.sleep(0.02)
    proc.signal(signal.SIGKILL)
    proc.wait(timeout=10)
    blocker.execute("ROLLBACK")
    blocker.close()
    # The intent was in the session's journal before the call went on; the next reader of the
    # trail folds the killed session's journal into the chain, and says so in a record of its own.
    [intent] = audit(warden_bin, "--server", "faults")
    assert intent["kind"] == "decision" and intent["verdict"] == "allow" and intent["tool"] == "hang", intent
    [ended] = [r for r in audit(warden_bin) if r["kind"] == "session-ended"]
    assert ended["session"] == intent["session"] and ended["recovered"] >= 1, ended
    assert verify(warden_bin).returncode == 0
    assert not list((warden_home / "audit-journal").glob("*.log"))


@pytest.mark.sqlite_only
def test_calls_are_denied_while_the_store_does_not_take_records_and_go_on_after(
        warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="read")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    blocker = sqlite3.connect(warden_home / "warden.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    # The first call's record is in the journal: it goes on. The chain cannot take it while the
    # store is held; once warden has given up waiting (its busy timeout), calls are denied.
    send_call(proc, 1, "list_messages", {})
    assert is_server_result(inbox.wait([1])[1])
    time.sleep(6)
    send_call(proc, 2, "list_messages", {})
    denied = inbox.wait([2])[2]
    assert is_denial(denied, {"store-unavailable"}), denied
    assert "audit trail cannot be written" in json.dumps(denied)
    blocker.execute("ROLLBACK")
    blocker.close()
    deadline = time.monotonic() + 15
    n = 3
    while True:
        send_call(proc, n, "list_messages", {})
        answer = inbox.wait([n])[n]
        if is_server_result(answer):
            break
        assert time.monotonic() < deadline, answer
        n += 1
        time.sleep(0.2)
    finish(proc)
    records = audit(warden_bin, "--server", "mailbox")
    assert len([r for r in records if r["kind"] == "decision" and r["verdict"] == "allow"]) == 2
    assert len([r for r in records if r["verdict"] == "deny" and r["reason"] == "store-unavailable"]) >= 1
    assert verify(warden_bin).returncode == 0


def test_a_session_that_ends_normally_leaves_no_journal(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="read")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    send_call(proc, "r", "list_messages", {})
    assert is_server_result(inbox.wait(["r"])["r"])
    assert len(list((warden_home / "audit-journal").glob("*.log"))) == 1  # the running session's
    finish(proc)
    assert not list((warden_home / "audit-journal").glob("*"))
    kinds = [r["kind"] for r in audit(warden_bin, "--server", "mailbox")]
    assert kinds == ["decision", "outcome"], kinds


def test_held_calls_are_recorded_from_hold_to_end(warden, warden_bin, mailbox_bin, grant, tmp_path):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.delete", purpose="tidy")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path, "--confirm-timeout", "30")
    send_call(proc, 1, "delete_message", {"id": "msg-20261117-0a1f9c42"})
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    [held] = wait_for_holds(cli, 1)
    assert cli("reject", held["id"], "--why", "not now").returncode == 0
    inbox.wait([1])
    finish(proc)
    records = [r for r in audit(warden_bin) if r["tool"] == "delete_message"]
    assert [(r["kind"], r["verdict"]) for r in records] == [("decision", "hold"), ("outcome", "deny")], records
    assert records[0]["destructive"] is True and records[0]["hold"]["id"] == held["id"]
    assert records[1]["outcome"] == "denied" and records[1]["hold"]["channel"] == "cli"


def test_report_mode_forwards_and_records_what_enforcement_would_deny_and_still_denies_a_forbid(
        warden, warden_bin, mailbox_bin, grant, forbid, tmp_path):
    """`--mode report`: a call no grant covers and a destructive call (which would be held) go on,
    recorded `would-deny` / `would-hold`; a call a human forbade is still denied."""
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list,mail.delete", purpose="triage")
    forbid("--server", "mailbox", "--action", "mail.send", purpose="no mail leaves")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path, "--mode", "report")
    send_call(proc, 1, "list_messages", {})
    send_call(proc, 2, "read_message", {"id": "msg-20261117-0a1f9c42"})
    send_call(proc, 3, "delete_message", {"id": "msg-20261119-5d2e7b10"})
    send_call(proc, 4, "send_message", {"to": "eve@example.com", "subject": "s", "body": "b"})
    answers = inbox.wait([1, 2, 3, 4])
    finish(proc)
    assert is_server_result(answers[1]) and is_server_result(answers[2]) and is_server_result(answers[3])
    assert is_denial(answers[4], {"forbidden"}), answers[4]
    verdicts = {r["tool"]: r["verdict"] for r in audit(warden_bin) if r["kind"] == "decision"}
    assert verdicts == {"list_messages": "allow", "read_message": "would-deny", "delete_message": "would-hold",
                        "send_message": "deny"}, verdicts
    assert [r["tool"] for r in audit(warden_bin, "--verdict", "would-deny")] == ["read_message"]
    assert "report mode" in proc.stderr_text()


def test_status_shows_what_is_in_force_what_is_held_and_recent_denials(warden, warden_bin, mailbox_bin, grant, tmp_path):
    read = grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list,mail.delete", purpose="triage")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path, "--confirm-timeout", "30")
    send_call(proc, 1, "send_message", {"to": "eve@example.com", "subject": "s", "body": "b"})
    inbox.wait([1])
    send_call(proc, 2, "delete_message", {"id": "msg-20261117-0a1f9c42"})
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    [held] = wait_for_holds(cli, 1)
    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    found = json.loads(status.stdout)
    assert [g["id"] for g in found["grants"]] == [read]
    assert [h["id"] for h in found["holds"]] == [held["id"]]
    assert [d["tool"] for d in found["denials"]] == ["send_message"]
    text = cli("status").stdout
    assert read in text and held["id"] in text and "send_message" in text
    finish(proc)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_the_sdk_client_in_front_of_mcp_server_git_leaves_a_record_of_each_call(
        warden_bin, git_server_bin, git_repo, grant, mode):
    """The official SDK client, the real mcp-server-git: an allowed read has its decision and its
    outcome, a commit outside the grant its denial, in both protocol eras."""
    from sdk_support import assert_allowed, assert_denied, call, run_async, session

    granted = grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", purpose="review")
    argv = [str(warden_bin), "run", "--server", "git", "--", git_server_bin, "--repository", str(git_repo)]

    async def scenario():
        async with session(argv, mode=mode) as client:
            status = await call(client, "git_status", {"repo_path": str(git_repo)})
            commit = await call(client, "git_commit", {"repo_path": str(git_repo), "message": "wip"})
            return status, commit

    status, commit = run_async(scenario)
    assert_allowed(status)
    assert_denied(commit, "not-delegated")
    records = audit(warden_bin, "--server", "git")
    read = [r for r in records if r["tool"] == "git_status"]
    assert [(r["kind"], r.get("outcome")) for r in read] == [("decision", None), ("outcome", "result")], read
    assert read[0]["grants"][0]["id"] == granted and read[0]["resources"] == [f"repo:{git_repo}"]
    [denied] = [r for r in records if r["tool"] == "git_commit"]
    assert denied["verdict"] == "deny" and denied["reason"] == "not-delegated"
    assert verify(warden_bin).returncode == 0


def test_a_redacted_value_reaches_neither_the_store_nor_holds_nor_logs(
        warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    secret = "the-redacted-secret-7781"
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.send", "--confirm", "mail.send",
          purpose="send with a human's nod")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path, "--log-level", "debug", "--confirm-timeout", "30")
    send_call(proc, 1, "send_message", {"to": "ann@example.com", "subject": "s", "body": secret})
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    [held] = wait_for_holds(cli, 1)
    assert secret not in json.dumps(held)
    assert secret not in cli("holds", "--json").stdout + cli("status", "--json").stdout
    assert cli("reject", held["id"], "--why", "no").returncode == 0
    inbox.wait([1])
    # The journal too, while the session still runs.
    for path in warden_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    finish(proc)
    assert secret not in proc.stderr_text(), "a redacted value reached warden's log"
    for path in warden_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    records = audit(warden_bin, "--server", "mailbox")
    assert secret not in json.dumps(records) and len(records) >= 2


def test_without_a_journal_no_call_goes_on(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="read")
    # Where the session's journal would go is a file: no record can be journaled, so nothing is allowed.
    (warden_home / "audit-journal").write_text("in the way\n")
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    send_call(proc, 1, "list_messages", {})
    denied = inbox.wait([1])[1]
    assert is_denial(denied, {"store-unavailable"}), denied
    assert "audit" in json.dumps(denied)
    finish(proc)
