"""Circuit breakers (`breaker:` in config.yaml): a burst or a run of denials trips an agent's breaker
in one warden, every warden on the same store then denies (or holds) that agent's calls, and only
`warden reset` (a human's command) ends it. The trip and the reset are audit records."""

from __future__ import annotations

import json

from conftest import SCRIPTED_CONFIG, warden_cli
from test_audit import audit, finish, verify
from test_faults import Inbox, handshake, is_denial, is_server_result, send_call, wait_for_holds


def configure(warden_home, breaker: str) -> None:
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + f"breaker: {breaker}\n")


def session(warden, mailbox_bin, tmp_path, agent: str):
    proc = warden(["--server", "mailbox", "--agent", agent, "--confirm-timeout", "30"],
                  [mailbox_bin, "--mailbox", tmp_path / f"box-{agent}", "--seed"])
    inbox = Inbox(proc)
    handshake(proc, inbox)
    return proc, inbox


def call(proc, inbox, n: int, tool: str = "list_messages", arguments: dict | None = None) -> dict:
    send_call(proc, n, tool, arguments or {})
    return inbox.wait([n])[n]


def test_a_burst_trips_the_breaker_for_every_warden_on_the_store_until_reset(
        warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    configure(warden_home, "{calls: 5/1m, agents: [burst*]}")
    grant("--server", "mailbox", "--agent", "*", "--allow", "mail.list", purpose="triage")
    first, first_inbox = session(warden, mailbox_bin, tmp_path, "burst-1")
    second, second_inbox = session(warden, mailbox_bin, tmp_path, "burst-1")
    calm, calm_inbox = session(warden, mailbox_bin, tmp_path, "calm")

    for n in range(5):
        assert is_server_result(call(first, first_inbox, n)), n
    tripped = call(first, first_inbox, 5)
    assert is_denial(tripped, {"breaker-tripped"}), tripped
    text = json.dumps(tripped)
    assert "warden reset" not in text, "the agent must not be handed the command that resets its breaker"

    # Another warden on the same store denies the agent too; an agent the breaker does not watch
    # goes on.
    assert is_denial(call(second, second_inbox, 1), {"breaker-tripped"})
    assert is_server_result(call(calm, calm_inbox, 1))

    status = json.loads(warden_cli(warden_bin, "status", "--json", check=True).stdout)
    assert [b["agent"] for b in status["breakers"]] == ["burst-1"], status["breakers"]
    assert status["suggested_breaker"] is None  # one is configured

    reset = warden_cli(warden_bin, "reset", "burst-1")
    assert reset.returncode == 0, reset.stderr
    assert is_server_result(call(second, second_inbox, 2))
    # The warden whose count tripped it counts afresh after the reset: its next call goes on.
    assert is_server_result(call(first, first_inbox, 6))
    again = warden_cli(warden_bin, "reset", "burst-1")
    assert again.returncode == 1 and "no breaker is tripped" in again.stderr

    for proc in (first, second, calm):
        finish(proc)
    kinds = [(r["kind"], r["agent"]) for r in audit(warden_bin) if r["kind"].startswith("breaker")]
    assert kinds == [("breaker-tripped", "burst-1"), ("breaker-reset", "burst-1")], kinds
    assert verify(warden_bin).returncode == 0


def test_a_run_of_denials_trips_it_and_then_hold_holds_the_agents_calls(
        warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    configure(warden_home, "{denials: 2/1m, then: hold}")
    grant("--server", "mailbox", "--agent", "prober", "--allow", "mail.list", purpose="triage")
    proc, inbox = session(warden, mailbox_bin, tmp_path, "prober")
    for n in range(2):
        assert is_denial(call(proc, inbox, n, "send_message", {"to": "x@example.com", "subject": "s", "body": "b"}),
                         {"not-delegated"})
    # The third denial trips it; a denied call stays denied.
    assert is_denial(call(proc, inbox, 2, "send_message", {"to": "x@example.com", "subject": "s", "body": "b"}),
                     {"not-delegated"})
    # A call the grant covers is now held for a human instead of going on.
    send_call(proc, 3, "list_messages", {})
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    [held] = wait_for_holds(cli, 1)
    assert held["agent"] == "prober"
    assert cli("approve", held["id"]).returncode == 0
    assert is_server_result(inbox.wait([3])[3])
    finish(proc)


def test_a_breaker_needs_a_human_to_reset_and_status_suggests_one(
        warden, warden_bin, mailbox_bin, grant, warden_home, tmp_path):
    grant("--server", "mailbox", "--agent", "agent-x", "--allow", "mail.list", purpose="triage")
    proc, inbox = session(warden, mailbox_bin, tmp_path, "agent-x")
    for n in range(3):
        assert is_server_result(call(proc, inbox, n))
    finish(proc)
    status = json.loads(warden_cli(warden_bin, "status", "--json", check=True).stdout)
    assert status["suggested_breaker"] == "breaker: {calls: 20/10s, denials: 5/1m, then: deny}", status
    # Without a terminal and without `scripted: allow`, an agent's shell cannot reset a breaker.
    (warden_home / "config.yaml").write_text("breaker: {calls: 1/1m}\n")
    refused = warden_cli(warden_bin, "reset", "agent-x")
    assert refused.returncode == 77, refused.stderr
    # A breaker that cannot be read stops `warden run` with the reason, instead of running without.
    (warden_home / "config.yaml").write_text(SCRIPTED_CONFIG + "breaker: {calls: lots}\n")
    result = warden_cli(warden_bin, "run", "--server", "mailbox", "--", str(mailbox_bin))
    assert result.returncode != 0 and "breaker.calls" in result.stderr, result.stderr
