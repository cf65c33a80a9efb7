"""Bulk decisions on held calls, and deletions a human reviewed in advance (issue 16), with the official
SDK client in front of the example mailbox through `warden run`.

`warden approve` / `reject` with several ids or a filter list what they will decide, ask on the terminal
(`--yes` skips the question, never the terminal), and decide exactly the holds listed: the agent's calls
held after the listing are not among them. `warden grant --reviewed` names exact resources whose
destructive calls then run without a hold. Terminal-only commands run under a pseudo-terminal of the
test's own (`pty.fork`), which gives them a controlling terminal as a person's shell would.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time

import anyio
import pytest

from conftest import child_env, warden_cli
from sdk_support import assert_allowed, assert_denied, call, calls_seen_by_server, decision_of, run_async, session, tapped, text_of
from test_holds import Pending, holds, in_thread, message_ids, wait_for_holds

WAIT = 10.0


# --------------------------------------------------------------------------------------------------
# The human at a terminal


class Terminal:
    """`warden ARGS...` on a pseudo-terminal that is its controlling terminal; the screen read back."""

    def __init__(self, warden_bin, *args):
        env = child_env()
        argv = [str(warden_bin), *map(str, args)]
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child: its own session, the pty as stdin, stdout, stderr and /dev/tty
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""
        self.status: int | None = None

    def _read(self, timeout: float) -> bool:
        """Reads what is there within `timeout`; False at end of output."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk
        return True

    @property
    def screen(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            if time.monotonic() > deadline or not self._read(0.1) and text not in self.screen:
                raise AssertionError(f"{text!r} never appeared:\n{self.screen}")
        return self.screen

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.1):
            pass
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.master)
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.master)
        raise AssertionError(f"warden did not exit within {timeout}s:\n{self.screen}")


def at_terminal(warden_bin, *args, answer: str | None = None) -> tuple[int, str]:
    """Runs `warden ARGS...` at a terminal, answering its question with `answer` if given."""
    terminal = Terminal(warden_bin, *args)
    if answer is not None:
        terminal.wait_for("[y/N]")
        terminal.type(answer)
    status = terminal.finish()
    return status, terminal.screen


def without_terminal(warden_bin, *args) -> subprocess.CompletedProcess:
    return warden_cli(warden_bin, *args)


# --------------------------------------------------------------------------------------------------
# The agent's side: an SDK session with the mailbox, deletions running in the background


def mailbox_argv(warden_bin, mailbox_bin, tmp_path) -> list:
    inner = tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    return [warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "60", "--", *inner]


def deletes_seen(tmp_path) -> list[str]:
    return [c["arguments"]["id"] for c in calls_seen_by_server(tmp_path / "inner") if c["name"] == "delete_message"]


def by_state(warden_bin) -> dict[str, str]:
    return {h["id"]: h["state"] for h in holds(warden_bin, "--all")}


@pytest.fixture
def mailbox(warden_bin, mailbox_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete", purpose="clear out old mail")
    return mailbox_argv(warden_bin, mailbox_bin, tmp_path)


# --------------------------------------------------------------------------------------------------
# Bulk approval and rejection


def test_one_approve_with_a_filter_decides_every_held_deletion(warden_bin, mailbox, tmp_path):
    async def scenario():
        async with session(mailbox) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            targets = before[:3]
            pending = [Pending(group, client, "delete_message", {"id": m}) for m in targets]
            held = await in_thread(wait_for_holds, warden_bin, 3)
            status, screen = await in_thread(at_terminal, warden_bin, "approve", "--server", "mailbox", "--yes")
            results = [await p.wait() for p in pending]
            with anyio.fail_after(WAIT):
                after = message_ids(await call(client, "list_messages", {}))
            return before, targets, held, status, screen, results, after

    before, targets, held, status, screen, results, after = run_async(scenario)
    assert status == 0, screen
    # The list shows each call on one line, then one outcome line per hold.
    assert "3 held calls to approve:" in screen, screen
    for hold in held:
        assert f"{hold['id']}  mailbox  agent warden-e2e  delete_message  mail.delete on message:" in screen, screen
        assert f"{hold['id']} approved: warden forwards delete_message to mailbox" in screen, screen
    assert "[y/N]" not in screen  # --yes: no question
    for result in results:
        assert_allowed(result)
    assert sorted(deletes_seen(tmp_path)) == sorted(targets)
    assert [m for m in before if m not in targets] == after
    decided = holds(warden_bin, "--all")
    assert {h["state"] for h in decided} == {"approved"}
    assert {h["channel"] for h in decided} == {"cli"} and {h["attestation"] for h in decided} == {"cli-terminal"}
    # Each approval is in the audit trail as a single one is: decision `allow`, reason `approved`.
    records = json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)
    approvals = [r for r in records if r["kind"] == "decision" and r["reason"] == "approved"]
    assert sorted(r["hold"]["id"] for r in approvals) == sorted(h["id"] for h in held)
    assert all(r["hold"]["channel"] == "cli" and r["hold"]["attestation"] == "cli-terminal" for r in approvals)


def test_a_call_held_after_the_listing_is_never_decided_by_it(warden_bin, mailbox, tmp_path):
    """The agent may try to get its next call approved with the ones the human reviewed: it is held
    while the question is on the screen, and the answer decides only what the screen listed."""

    async def scenario():
        async with session(mailbox) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            listed = [Pending(group, client, "delete_message", {"id": m}) for m in before[:2]]
            await in_thread(wait_for_holds, warden_bin, 2)
            terminal = await in_thread(Terminal, warden_bin, "approve", "--server", "mailbox")
            question = await in_thread(terminal.wait_for, "Approve these 2 held calls? [y/N]")
            # The agent's later call, held before the human answers.
            late = Pending(group, client, "delete_message", {"id": before[2]})
            three = await in_thread(wait_for_holds, warden_bin, 3)
            terminal.type("y")
            status = await in_thread(terminal.finish)
            results = [await p.wait() for p in listed]
            late_hold = [h for h in three if h["arguments"] == {"id": before[2]}][0]
            states = await in_thread(by_state, warden_bin)
            rejected = await in_thread(without_terminal, warden_bin, "reject", late_hold["id"], "--why", "not that one")
            late_result = await late.wait()
            return before, question, status, terminal.screen, results, late_hold, states, rejected, late_result

    before, question, status, screen, results, late_hold, states, rejected, late_result = run_async(scenario)
    assert status == 0, screen
    assert late_hold["id"] not in question
    for result in results:
        assert_allowed(result)
    assert states[late_hold["id"]] == "pending", states
    assert rejected.returncode == 0, rejected.stderr
    assert_denied(late_result, "rejected")
    assert sorted(deletes_seen(tmp_path)) == sorted(before[:2])


def test_reject_with_several_ids_rejects_those_and_no_other(warden_bin, mailbox, tmp_path):
    async def scenario():
        async with session(mailbox) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            pending = {m: Pending(group, client, "delete_message", {"id": m}) for m in before[:3]}
            held = {h["arguments"]["id"]: h["id"] for h in await in_thread(wait_for_holds, warden_bin, 3)}
            first, second, third = (held[m] for m in before[:3])
            # Without a terminal the question cannot be asked: nothing is decided.
            unasked = await in_thread(without_terminal, warden_bin, "reject", first, second)
            still = await in_thread(by_state, warden_bin)
            # Rejecting needs no terminal otherwise; --yes skips the question.
            rejected = await in_thread(
                without_terminal, warden_bin, "reject", first, second, "--why", "keep those", "--yes", "--json")
            answers = {m: await pending[m].wait() for m in before[:2]}
            states = await in_thread(by_state, warden_bin)
            approved = await in_thread(at_terminal, warden_bin, "approve", third)
            answers[before[2]] = await pending[before[2]].wait()
            return before, (first, second, third), unasked, still, rejected, answers, states, approved

    before, (first, second, third), unasked, still, rejected, answers, states, approved = run_async(scenario)
    assert unasked.returncode == 77 and "--yes" in unasked.stderr, unasked
    assert set(still.values()) == {"pending"}
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout) == [{"id": first, "outcome": "rejected"}, {"id": second, "outcome": "rejected"}]
    assert "2 held calls to reject:" in rejected.stderr  # with --json the list goes to stderr
    for message in before[:2]:
        assert_denied(answers[message], "rejected")
        assert "keep those" in text_of(answers[message])
    assert states[third] == "pending"
    assert approved[0] == 0, approved[1]
    assert assert_allowed(answers[before[2]])
    assert deletes_seen(tmp_path) == [before[2]]


def test_ids_with_one_already_decided_decide_the_others_and_exit_1(warden_bin, mailbox, tmp_path):
    async def scenario():
        async with session(mailbox) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            pending = [Pending(group, client, "delete_message", {"id": m}) for m in before[:3]]
            held = [h["id"] for h in await in_thread(wait_for_holds, warden_bin, 3)]
            first = await in_thread(without_terminal, warden_bin, "reject", held[0], "--why", "no")
            outcome = await in_thread(
                lambda: at_terminal(warden_bin, "approve", *held, "h_nosuchholdatall0", held[1], "--json", answer="y"))
            results = [await p.wait() for p in pending]
            return before, held, first, outcome, results

    before, held, first, (status, screen), results = run_async(scenario)
    assert first.returncode == 0
    assert status == 1, screen
    # The terminal shows stdout and stderr together: the JSON array starts on a line of its own.
    outcomes, _ = json.JSONDecoder().raw_decode(screen, screen.index("\n[") + 1)
    user = outcomes[0]["decidedBy"]
    assert outcomes == [
        {"id": held[0], "outcome": "already-decided", "state": "rejected", "decidedBy": user, "channel": "cli"},
        {"id": "h_nosuchholdatall0", "outcome": "unknown"},
        {"id": held[1], "outcome": "approved"},
        {"id": held[2], "outcome": "approved"},
    ]
    assert f"warden: {held[0]} was already rejected by" in screen
    assert "Approve these 2 held calls? [y/N]" in screen
    assert "2 of 4 held calls approved" in screen
    by_message = dict(zip(before[:3], results))
    assert_denied(by_message[before[0]], "rejected")
    assert_allowed(by_message[before[1]]) and assert_allowed(by_message[before[2]])
    assert sorted(deletes_seen(tmp_path)) == sorted(before[1:3])


def test_yes_skips_the_question_not_the_terminal(warden_bin, mailbox, warden_home, tmp_path):
    (warden_home / "config.yaml").unlink()  # no `scripted: allow`: approving needs a person

    async def scenario():
        async with session(mailbox) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            pending = [Pending(group, client, "delete_message", {"id": m}) for m in before[:2]]
            held = await in_thread(wait_for_holds, warden_bin, 2)
            scripted = await in_thread(without_terminal, warden_bin, "approve", "--server", "mailbox", "--yes")
            declined = await in_thread(lambda: at_terminal(warden_bin, "approve", "--tool", "delete_message", answer="n"))
            nothing = await in_thread(at_terminal, warden_bin, "approve", "--agent", "someone-else", "--yes")
            states = await in_thread(by_state, warden_bin)
            approved = await in_thread(
                lambda: at_terminal(warden_bin, "approve", "--server", "mailbox", "--agent", "warden-e2e", answer="yes"))
            results = [await p.wait() for p in pending]
            return held, scripted, declined, nothing, states, approved, results

    held, scripted, declined, nothing, states, approved, results = run_async(scenario)
    assert scripted.returncode == 77 and "terminal" in scripted.stderr, scripted
    assert declined[0] == 1 and "nothing decided" in declined[1], declined
    assert nothing[0] == 1 and "no held calls match --agent someone-else" in nothing[1], nothing
    assert set(states.values()) == {"pending"}
    assert approved[0] == 0, approved[1]
    for result in results:
        assert_allowed(result)
    assert {h["attestation"] for h in holds(warden_bin, "--all")} == {"cli-terminal"}


def test_usage_errors(warden_bin):
    neither = without_terminal(warden_bin, "approve")
    assert neither.returncode == 64 and "filter" in neither.stderr, neither
    both = without_terminal(warden_bin, "reject", "h_aaaaaaaaaaaaaaaa", "--server", "mailbox")
    assert both.returncode == 64 and "not both" in both.stderr, both
    help_text = without_terminal(warden_bin, "approve", "--help").stdout
    assert "Exit status" in help_text and "77" in help_text and "--yes" in help_text


# --------------------------------------------------------------------------------------------------
# grant --reviewed


def test_reviewed_deletions_run_without_a_hold_and_others_are_held(warden_bin, mailbox_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.list", purpose="see the inbox")
    argv = mailbox_argv(warden_bin, mailbox_bin, tmp_path)

    async def scenario():
        async with session(argv) as client, anyio.create_task_group() as group:
            with anyio.fail_after(WAIT):
                before = message_ids(await call(client, "list_messages", {}))
            a, b, c = before[:3]
            reviewed = await in_thread(
                lambda: grant("--server", "mailbox", "--allow", "mail.delete", "--on", "message:msg-*",
                              "--reviewed", f"message:{a}", "--reviewed", f"message:{b}",
                              "--reviewed", "message:msg-caf\u00e9", purpose="the ones I read"))
            with anyio.fail_after(WAIT):
                deleted_a = await call(client, "delete_message", {"id": a})
                deleted_b = await call(client, "delete_message", {"id": b})
            other = Pending(group, client, "delete_message", {"id": c})
            [held_c] = await in_thread(wait_for_holds, warden_bin, 1)
            # The same text in another Unicode normalization is another resource: held.
            decomposed = Pending(group, client, "delete_message", {"id": "msg-cafe\u0301"})
            held = await in_thread(wait_for_holds, warden_bin, 2)
            with anyio.fail_after(WAIT):
                composed = await call(client, "delete_message", {"id": "msg-caf\u00e9"})
            rejected = await in_thread(without_terminal, warden_bin, "reject", "--server", "mailbox", "--yes")
            results = (await other.wait(), await decomposed.wait())
            with anyio.fail_after(WAIT):
                after = message_ids(await call(client, "list_messages", {}))
            return before, reviewed, deleted_a, deleted_b, held_c, held, composed, rejected, results, after

    before, reviewed, deleted_a, deleted_b, held_c, held, composed, rejected, results, after = run_async(scenario)
    a, b, c = before[:3]
    assert_allowed(deleted_a)["isError"] is False
    assert_allowed(deleted_b)["isError"] is False
    assert held_c["arguments"] == {"id": c} and held_c["reason"] == "destructive"
    assert [h["arguments"]["id"] for h in held] == [c, "msg-cafe\u0301"]
    # The composed form was reviewed: it reached the server (which has no such message).
    assert decision_of(composed) is None
    assert rejected.returncode == 0, rejected.stderr
    for result in results:
        assert_denied(result, "rejected")
    assert deletes_seen(tmp_path) == [a, b, "msg-caf\u00e9"]
    assert c in after and a not in after and b not in after
    # Recorded as allowed under that grant, with the reason saying why no one was asked.
    records = json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)
    decisions = [r for r in records if r["kind"] == "decision" and r["tool"] == "delete_message"]
    allowed = [r for r in decisions if r["verdict"] == "allow"]
    assert [r["resources"] for r in allowed] == [[f"message:{a}"], [f"message:{b}"], ["message:msg-caf\u00e9"]]
    assert all(r["reason"] == "reviewed" and r["grants"][0]["id"] == reviewed for r in allowed), allowed
    assert f"reviewed exactly message:{a}" in allowed[0]["explanation"]
    assert [r["verdict"] for r in decisions if r["verdict"] != "allow"] == ["hold", "hold"]


def test_reviewed_takes_exact_resources_within_the_grant_and_is_not_inherited(warden_bin, grant, warden_home):
    for pattern in ["message:*", "message:**", "message:msg-?", "message:[ab]", "*"]:
        refused = without_terminal(
            warden_bin, "grant", "--server", "mailbox", "--allow", "mail.delete", "--reviewed", pattern,
            "--purpose", "widen it")
        assert refused.returncode == 1 and "--reviewed" in refused.stderr and "glob" in refused.stderr, refused
    outside = without_terminal(
        warden_bin, "grant", "--server", "mailbox", "--allow", "mail.delete", "--on", "message:old-*",
        "--reviewed", "message:new-1", "--purpose", "outside")
    assert outside.returncode == 1 and "not covered by the grant's resources" in outside.stderr, outside
    assert json.loads(warden_cli(warden_bin, "grants", "--json", check=True).stdout) == []

    parent = grant("--server", "mailbox", "--allow", "mail.**", "--on", "message:*",
                   "--reviewed", "message:a", "--reviewed", "message:b", purpose="parent")
    child = grant("--parent", parent, "--allow", "mail.delete", "--reviewed", "message:a", purpose="child")
    bare = grant("--parent", parent, "--allow", "mail.delete", purpose="no review")
    wider = without_terminal(warden_bin, "grant", "--parent", parent, "--allow", "mail.delete",
                             "--reviewed", "message:c", "--purpose", "wider")
    assert wider.returncode == 1 and "'message:c' is not among the parent's reviewed resources" in wider.stderr, wider
    shown = {g["id"]: g for g in json.loads(warden_cli(warden_bin, "grants", "--json", check=True).stdout)}
    assert shown[parent]["reviewed"] == ["message:a", "message:b"]
    assert shown[child]["reviewed"] == ["message:a"]
    assert shown[bare]["reviewed"] == []
    table = warden_cli(warden_bin, "grants", check=True).stdout
    assert "(reviewed message:a,message:b)" in table
    # `warden check` decides as `warden run` does.
    checked = warden_cli(warden_bin, "check", "--server", "mailbox", "delete_message", '{"id": "a"}')
    assert checked.returncode == 0 and "reviewed" in checked.stdout, checked.stdout
    held = warden_cli(warden_bin, "check", "--server", "mailbox", "delete_message", '{"id": "c"}')
    assert held.returncode == 3, held.stdout
    # An agent's shell tool cannot review on the human's behalf: like any grant, it needs a terminal.
    (warden_home / "config.yaml").unlink()
    scripted = without_terminal(warden_bin, "grant", "--server", "mailbox", "--allow", "mail.delete",
                                "--reviewed", "message:c", "--purpose", "my own review")
    assert scripted.returncode == 77, scripted
    status, screen = at_terminal(warden_bin, "grant", "--server", "mailbox", "--allow", "mail.delete",
                                 "--reviewed", "message:c", "--purpose", "the human's review")
    assert status == 0, screen
