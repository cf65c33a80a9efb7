"""`warden audit prune --before`: the oldest records go, a prune record in the chain says so, and what
remains still verifies; a record deleted from what remains is still caught. Real processes: warden in
front of the example mailbox, the CLI, and the store edited directly with sqlite3."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import time

import pytest

from conftest import warden_cli
from test_audit import audit, finish, mailbox_session, tamper, verify
from test_faults import send_call


def list_calls(warden, mailbox_bin, tmp_path, ids) -> None:
    proc, inbox = mailbox_session(warden, mailbox_bin, tmp_path)
    for n in ids:
        send_call(proc, n, "list_messages", {})
    inbox.wait(list(ids))
    finish(proc)


def prune(warden_bin, *args):
    return warden_cli(warden_bin, "audit", "prune", *args)


def trail_with_a_cutoff_between_two_sessions(warden, warden_bin, mailbox_bin, grant, tmp_path):
    """Two calls, then (past the next whole second, the precision of a TIME) two more: 8 records, the
    first 4 before the returned cutoff (seconds) and the others after it."""
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="triage")
    list_calls(warden, mailbox_bin, tmp_path, [1, 2])
    old = audit(warden_bin)
    assert len(old) == 4, old
    cutoff = max(r["at"] for r in old) // 1000 + 1
    while time.time() < cutoff + 0.05:
        time.sleep(0.05)
    list_calls(warden, mailbox_bin, tmp_path, [3, 4])
    records = audit(warden_bin)
    assert len(records) == 8 and all(r["at"] >= cutoff * 1000 for r in records[4:]), records
    return cutoff


@pytest.mark.sqlite_only
def test_prune_removes_the_oldest_records_and_what_remains_verifies(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    cutoff = trail_with_a_cutoff_between_two_sessions(warden, warden_bin, mailbox_bin, grant, tmp_path)
    with sqlite3.connect(warden_home / "warden.db") as db:
        hash_of_4 = db.execute("SELECT hash FROM audit WHERE seq = 4").fetchone()[0]
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff))

    pruned = prune(warden_bin, "--before", before, "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout) == {"pruned": 4, "from": 1, "through": 4, "prune_record": 9}

    remaining = audit(warden_bin)
    assert [r["seq"] for r in remaining] == [5, 6, 7, 8, 9], remaining
    assert all(r["kind"] in ("decision", "outcome") for r in remaining[:4])
    record = remaining[4]
    assert record["kind"] == "prune" and (record["pruned_from"], record["pruned_through"]) == (1, 4), record
    assert record["pruned_hash"] == hash_of_4 and record["before"] == cutoff * 1000
    assert record["by"] == pwd.getpwuid(os.geteuid()).pw_name and record["attestation"] == "cli-scripted"
    listed = warden_cli(warden_bin, "audit")
    assert "prune  records 1 to 4" in listed.stdout, listed.stdout

    checked = verify(warden_bin)
    assert checked.returncode == 0, checked.stderr
    assert "5 records (5 to 9; 1 to 4 pruned)" in checked.stdout, checked.stdout

    again = prune(warden_bin, "--before", before)
    assert again.returncode == 0 and "nothing to prune" in again.stdout, (again.stdout, again.stderr)
    # Records keep coming after the prune record, and the chain holds.
    list_calls(warden, mailbox_bin, tmp_path, [5])
    assert [r["seq"] for r in audit(warden_bin)][-2:] == [10, 11]
    assert verify(warden_bin).returncode == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize("deleted", [5, 7])
def test_a_record_deleted_after_a_prune_is_named(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path, deleted):
    """The first record left (5) or one after it (7), deleted in SQLite: verify names it, and prune
    refuses to go on from a trail that does not hold."""
    cutoff = trail_with_a_cutoff_between_two_sessions(warden, warden_bin, mailbox_bin, grant, tmp_path)
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff))
    assert prune(warden_bin, "--before", before).returncode == 0
    tamper(warden_home, "DELETE FROM audit WHERE seq = ?", deleted)
    checked = verify(warden_bin)
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert f"record {deleted} is missing" in checked.stderr, checked.stderr
    refused = prune(warden_bin, "--before", "2099-01-01")
    assert refused.returncode == 1 and "nothing was pruned" in refused.stderr, refused.stderr
    assert len(audit(warden_bin)) == 4


def test_prune_needs_a_terminal_unless_scripts_are_allowed(warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    grant("--server", "mailbox", "--agent", "auditor", "--allow", "mail.list", purpose="triage")
    list_calls(warden, mailbox_bin, tmp_path, [1])
    (warden_home / "config.yaml").unlink()
    refused = prune(warden_bin, "--before", "2099-01-01")
    assert refused.returncode == 77, (refused.stdout, refused.stderr)
    assert "refusing to prune the audit trail without a terminal" in refused.stderr
    assert len(audit(warden_bin)) == 2
    helped = warden_cli(warden_bin, "audit", "prune", "--help")
    assert "scripted: allow" in helped.stdout and "verifiable" in helped.stdout, helped.stdout
