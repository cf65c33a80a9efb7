"""Incident: "an agent told to suggest inbox deletions deleted hundreds of mails after context
compaction dropped the instruction".

The human's instruction lives in the delegation, not the conversation: the agent may list and read
the inbox, nothing else. A long session of reads (the kind after which a summary drops "only
suggest") is followed by a run of deletions: every one is denied before it reaches the mailbox
example server, the breaker the human configured trips on the run of denials, and the audit trail
shows the attempts. The test fails if any deletion reaches the server."""

from __future__ import annotations

import json

from conftest import SCRIPTED_CONFIG, warden_cli
from sdk_support import assert_allowed, assert_denied, call, calls_seen_by_server, run_async, session, tapped, text_of


def test_a_long_session_then_mass_deletion_deletes_nothing(warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + "breaker: {denials: 3/1m}\n")
    grant("--server", "mailbox", "--allow", "mail.list,mail.read", purpose="suggest deletions; delete nothing")
    box = tmp_path / "box"
    argv = [warden_bin, "run", "--server", "mailbox", "--agent", "inbox-helper", "--",
            *tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", box, "--seed"])]

    async def scenario():
        async with session(argv) as client:
            listed = await call(client, "list_messages", {})
            ids = [word.strip("[]") for word in text_of(listed).split() if word.startswith("[msg-")]
            reads = [await call(client, "read_message", {"id": ids[n % len(ids)]}) for n in range(200)]
            deletions = [await call(client, "delete_message", {"id": message}) for message in ids]
            after = await call(client, "list_messages", {})
            return listed, ids, reads, deletions, after

    listed, ids, reads, deletions, after = run_async(scenario, timeout=180)
    assert len(ids) >= 5, text_of(listed)
    for result in reads:
        assert_allowed(result)
    reasons = [assert_denied(result, result["_meta"]["dev.warden/decision"]["reason"])["reason"]
               for result in deletions]
    # Every deletion is outside the delegation. More than 3 denials a minute trips the breaker (the
    # fourth denial does); a call denied anyway keeps its own reason.
    assert reasons == ["not-delegated"] * len(ids), reasons
    # After the breaker tripped, even reads stop until a human resets it.
    assert_denied(after, "breaker-tripped")
    seen = {c["name"] for c in calls_seen_by_server(tmp_path / "inner")}
    assert "delete_message" not in seen, seen

    records = json.loads(warden_cli(warden_bin, "audit", "--agent", "inbox-helper", "--verdict", "deny", "--json",
                                    check=True).stdout)
    assert sum(1 for r in records if r["tool"] == "delete_message") == len(ids), records
