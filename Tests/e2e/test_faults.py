"""Faults (issue "Trust"): the store locked, read-only, deleted or corrupted while calls are held and
others flow; the server crashing in the middle of a response; 64 calls in flight while grants are
issued and revoked. Whatever breaks, warden never forwards a call nobody decided, answers every request
exactly once, and never hangs.

Real processes over real pipes, each wait bounded. A raw JSON-RPC client drives `warden run`; what
reached the server is read from the bytes that crossed (the inner tap, the fixture server's own
record, or the mailbox's log of the calls it served), never from warden's word.

Servers: the example mailbox (its manifest marks `delete_message` destructive, so warden holds it) and
servers/faults.py with fixtures/manifests/faults.yaml (`work` answers after a delay, `wipe` is
destructive, `half` writes half an answer and dies, `hang` never answers).
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import raw_inbox
from conftest import DECISION_META, FIXTURE_MANIFESTS, SERVERS_DIR, child_env, python_server, warden_cli
from raw_inbox import key
from sdk_support import calls_seen_by_server, tapped

FAULTS = SERVERS_DIR / "faults.py"
FAULTS_MANIFEST = FIXTURE_MANIFESTS / "faults.yaml"
SERVER_EXITED = -32098
WAIT = 10.0  # the longest any single step may take when nothing is wrong
GRACE_FOR_APPROVAL = 20.0  # `warden approve` against a locked store: the lock, then its 5 s busy timeout

# Messages of the seeded mailbox.
MSG_A = "msg-20261117-0a1f9c42"
MSG_B = "msg-20261119-5d2e7b10"
MSG_C = "msg-20261121-c81b03fe"

# The SPEC's reasons for a denial of a held call whose store broke: the store could not be read
# (warden's hold keeper says `rejected`, decided by warden via `store`), nobody could decide in time, or
# warden stopped.
HELD_DENIAL_REASONS = {"store-unavailable", "rejected", "confirmation-timed-out", "shutdown"}


# --------------------------------------------------------------------------------------------------
# A raw client's inbox: every line warden writes, read on a thread of its own and timestamped


class Inbox(raw_inbox.Inbox):
    """Responses waited for by the batch (see `raw_inbox.Inbox`)."""

    def wait(self, ids, timeout: float = WAIT) -> dict:
        return self.wait_all(ids, timeout)

    def wait_eof(self, timeout: float = WAIT) -> None:
        super().wait_eof(timeout)


def send_call(proc, request_id, tool: str, arguments: dict) -> None:
    proc.send_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}})


def call_line(request_id, tool: str, arguments: dict) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                       "params": {"name": tool, "arguments": arguments}}, separators=(",", ":")).encode() + b"\n"


def handshake(proc, inbox: Inbox, name: str = "faults-test") -> None:
    proc.send_json({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": name, "version": "1"}}})
    answer = inbox.wait(["init"])["init"]
    assert "result" in answer, answer
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})


def decision(message: dict) -> dict | None:
    result = message.get("result")
    if not isinstance(result, dict):
        return None
    return (result.get("_meta") or {}).get(DECISION_META)


def describe(message: dict) -> str:
    """One response in a few words, for failure messages."""
    if "error" in message:
        return f"error {message['error'].get('code')} {message['error'].get('data', {}).get('warden', {}).get('reason')}"
    found = decision(message)
    if found is not None:
        return f"denied {found.get('reason')}" + (" (needsConfirmation)" if found.get("needsConfirmation") else "")
    return "server result"


def is_denial(message: dict, reasons=None) -> bool:
    found = decision(message)
    return (found is not None and message["result"].get("isError") is True and found.get("verdict") == "deny"
            and (reasons is None or found.get("reason") in reasons))


def is_server_result(message: dict) -> bool:
    return "result" in message and decision(message) is None


# --------------------------------------------------------------------------------------------------
# The human's side


def pending_holds(cli) -> list[dict]:
    out = cli("holds", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for_holds(cli, count: int, timeout: float = WAIT) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = pending_holds(cli)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} pending holds, have {found}")
        time.sleep(0.05)


LOCKER = r"""
import sqlite3, sys, select
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # until told (or, at the latest, this long)
db.execute("ROLLBACK")
db.close()
print("released", flush=True)
"""


class StoreLock:
    """Another process holding an exclusive SQLite lock (BEGIN EXCLUSIVE) on the store until released."""

    def __init__(self, database: Path, longest: float = 30.0):
        self.popen = subprocess.Popen([sys.executable, "-c", LOCKER, str(database), str(longest)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._line()
        assert line == "locked", f"the locker did not get the lock: {line!r} {self.popen.stderr.read()}"
        self.released_at: float | None = None

    def _line(self) -> str:
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.popen.stdout.readline()), daemon=True).start()
        try:
            return lines.get(timeout=15).strip()
        except queue.Empty:
            self.popen.kill()
            raise AssertionError("the locker process did not answer within 15 s") from None

    def release(self) -> None:
        self.popen.stdin.write("release\n")
        self.popen.stdin.flush()
        assert self._line() == "released"
        self.released_at = time.monotonic()
        self.popen.wait(timeout=10)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)


# --------------------------------------------------------------------------------------------------
# 1. The store locked by another process for seconds


@pytest.mark.parametrize("lock_seconds", [3.0, 6.5], ids=["3s-within-busy-timeout", "6.5s-past-busy-timeout"])
def test_a_locked_store_forwards_nothing_undecided_and_an_approval_counts_once_recorded(
        warden, warden_bin, mailbox_bin, warden_home, grant, tmp_path, lock_seconds):
    grant("--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete", purpose="tidy the mailbox")
    inner = tmp_path / "inner"
    proc = warden(["--server", "mailbox", "--confirm-timeout", "30"],
                  tapped(inner, [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"]))
    inbox = Inbox(proc)
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    handshake(proc, inbox)

    send_call(proc, 1, "delete_message", {"id": MSG_A})
    [held_a] = wait_for_holds(cli, 1)

    lock = StoreLock(warden_home / "warden.db")
    try:
        locked_at = time.monotonic()
        # While the store is locked: a read flows, a human approves the held call, pings and another
        # destructive call arrive.
        send_call(proc, 2, "list_messages", {})
        approvals: list[tuple[float, subprocess.CompletedProcess, list]] = []

        def approve():
            result = cli("approve", held_a["id"], "--by", "ann")
            approvals.append((time.monotonic(), result, calls_seen_by_server(inner)))

        approver = threading.Thread(target=approve, daemon=True)
        approver.start()
        time.sleep(0.2)
        proc.send_json({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        send_call(proc, 4, "delete_message", {"id": MSG_B})
        proc.send_json({"jsonrpc": "2.0", "id": 5, "method": "ping"})
        send_call(proc, 6, "read_message", {"id": MSG_B})
        time.sleep(max(0.0, locked_at + lock_seconds - time.monotonic()))
        seen_while_locked = calls_seen_by_server(inner)
        held_call_answered_while_locked = inbox.answered(1)
        lock.release()
    finally:
        lock.kill()

    # Nothing destructive reached the server while the store could not record a decision.
    assert [c for c in seen_while_locked if c["name"] == "delete_message"] == [], seen_while_locked
    assert not held_call_answered_while_locked, inbox.summary()

    # No hang: every call sent during the lock is answered within the busy timeout (5 s) past the lock.
    answers = inbox.wait([2, 3, 5, 6], timeout=lock_seconds + 5 + WAIT)
    for ping in (3, 5):
        assert answers[ping].get("result") == {}, answers[ping]
    for flowing in (2, 6):
        message = answers[flowing]
        assert is_server_result(message) or is_denial(message, {"store-unavailable"}), describe(message)

    # The approval given while locked: it failed clearly, or it counted once the store recorded it.
    approver.join(timeout=GRACE_FOR_APPROVAL)
    assert approvals, "warden approve did not finish"
    finished_at, approval, seen_when_approval_finished = approvals[0]
    if approval.returncode == 0:
        assert finished_at >= lock.released_at - 0.05, "an approval was recorded while the store was locked?"
    else:
        assert "locked" in approval.stderr, f"an approval that failed must say why: {approval.stderr!r}"
        assert len(approval.stderr.strip().splitlines()) == 1, approval.stderr
        assert [c for c in seen_when_approval_finished if c["name"] == "delete_message"] == []
        # It did not count: the call is still held, and an approval now that the lock is gone does count.
        assert not inbox.answered(1), f"a call whose approval failed was answered: {inbox.summary()}"
        assert held_a["id"] in [h["id"] for h in pending_holds(cli)]
        again = cli("approve", held_a["id"], "--by", "ann")
        assert again.returncode == 0, again.stderr
    first = inbox.wait([1])[1]
    assert is_server_result(first) and first["result"].get("isError") is False, describe(first)

    # The destructive call that arrived during the lock: denied (store-unavailable, or the documented
    # "no human could be asked" denial), or held once the lock went; held, it is rejected here.
    if not inbox.answered(4):
        holds_now = pending_holds(cli)
        held_b = [h for h in holds_now if h["arguments"] == {"id": MSG_B}]
        assert len(held_b) == 1, f"call 4 is neither answered nor held: {holds_now}; {inbox.summary()}"
        assert cli("reject", held_b[0]["id"], "--why", "not this one").returncode == 0
        assert is_denial(inbox.wait([4])[4], {"rejected"}), inbox.summary()
    fourth = inbox.wait([4])[4]
    found = decision(fourth)
    assert found is not None and is_denial(fourth), describe(fourth)
    assert found["reason"] in {"store-unavailable", "rejected"} or found.get("needsConfirmation") is True, found

    # The server saw the approved deletion exactly once, and never the other one.
    deletes = [c["arguments"] for c in calls_seen_by_server(inner) if c["name"] == "delete_message"]
    assert deletes == [{"id": MSG_A}], deletes
    assert not (tmp_path / "box" / "inbox" / f"{MSG_A}.json").exists()
    assert (tmp_path / "box" / "inbox" / f"{MSG_B}.json").exists()

    proc.close_stdin()
    assert proc.wait(timeout=WAIT) == 0
    inbox.wait_eof()
    assert inbox.duplicates() == {}, inbox.duplicates()
    assert inbox.garbage == []


# --------------------------------------------------------------------------------------------------
# 2. The store made read-only, deleted or corrupted under a running warden


UNPRIVILEGED = 65534  # nobody: for root, a chmod does not make a file read-only


class StoreUser:
    """Runs warden (the CLI and `warden run`) as a user a chmod applies to: the test's own user, or,
    when the suite runs as root, `nobody` through setpriv with a warden home of its own."""

    def __init__(self, warden_bin: Path, tmp_path: Path, warden_home: Path):
        self.warden_bin = warden_bin
        self.base: Path | None = None
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: a chmod cannot take the store away from root")
            self.prefix = [setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
            self.base = Path(tempfile.mkdtemp(prefix="warden-faults-", dir="/tmp"))
            self.base.chmod(0o711)
            self.home = self.base / "home"
            self.home.mkdir(mode=0o700)
            self.box = self.base / "box"
            self.box.mkdir(mode=0o700)
            owned = [self.home, self.box]
            if (warden_home / "config.yaml").exists():  # the suite's settings (e.g. scripted: allow)
                shutil.copyfile(warden_home / "config.yaml", self.home / "config.yaml")
                owned.append(self.home / "config.yaml")
            for path in owned:
                os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
            self.env = child_env(WARDEN_HOME=str(self.home), HOME=str(self.base))
        else:
            self.home = warden_home
            self.box = tmp_path / "box"
            self.env = child_env()

    def cli(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, str(self.warden_bin), *map(str, args)], capture_output=True,
                              text=True, env=self.env, timeout=20, stdin=subprocess.DEVNULL)

    def cleanup(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)

    def store_files(self) -> list[Path]:
        return [p for p in (self.home / "warden.db", self.home / "warden.db-wal", self.home / "warden.db-shm")
                if p.exists()]


def break_store(user: StoreUser, fault: str) -> list[str]:
    """Breaks the store under the running warden; returns what was done, for failure messages."""
    done = []
    for path in user.store_files():
        if fault == "read-only":
            path.chmod(0o400)
            done.append(f"chmod 0400 {path.name}")
        elif fault == "deleted":
            path.unlink()
            done.append(f"rm {path.name}")
        elif fault == "corrupted":
            size = path.stat().st_size
            with open(path, "r+b") as file:
                file.write((b"corrupted store! " * (size // 17 + 1))[:size])
                file.flush()
                os.fsync(file.fileno())
            done.append(f"overwrote the {size} bytes of {path.name}")
    assert done, "the store had no files to break"
    return done


def mailbox_calls(stderr: str) -> list[str]:
    """The tools/call requests the mailbox served, from its own log (it logs `tools/call NAME: ...`)."""
    return re.findall(r"warden-example-mailbox: tools/call (\w+)", stderr)


# Each fault leaves the human without a working store: their commands (`warden holds`, `approve`,
# `revoke`, `deny`) fail on it, or (deleted) start a fresh, empty one next to the file warden still
# has open. What warden enforces must then not outlive what the human can see and change: every held
# call is denied, never forwarded; every later call is denied with store-unavailable; pings are still
# answered; nothing hangs.
def test_the_audit_chain_recovers_by_itself_once_a_lock_past_the_busy_timeout_is_gone(
        warden, mailbox_bin, grant, tmp_path, warden_home):
    """A chain write that failed under a lock is not held against the next call once the lock is gone,
    even when nothing else arrives in between to wake the audit writer (a flake CI once caught: the
    approved call after the lock was refused on the strength of the old failure)."""
    grant("--server", "mailbox", "--allow", "mail.list,mail.read", purpose="read the mailbox")
    proc = warden(["--server", "mailbox"], [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    inbox = Inbox(proc)
    handshake(proc, inbox)
    lock = StoreLock(warden_home / "warden.db")
    try:
        # Its intent goes to the journal (a file); its outcome cannot reach the chain while locked.
        send_call(proc, 1, "list_messages", {})
        assert is_server_result(inbox.wait([1])[1]), inbox.summary()
        deadline = time.monotonic() + WAIT + 5
        while "could not write" not in proc.stderr_text():
            assert time.monotonic() < deadline, f"the chain write never failed: {proc.stderr_text()}"
            time.sleep(0.05)
        lock.release()
    finally:
        lock.kill()
    # Nothing else happens: the next call must go on all the same.
    send_call(proc, 2, "read_message", {"id": MSG_A})
    second = inbox.wait([2])[2]
    assert is_server_result(second), f"{describe(second)}\n{proc.stderr_text()}"
    for request_id in (3, 4):
        send_call(proc, request_id, "list_messages", {})
        assert is_server_result(inbox.wait([request_id])[request_id]), inbox.summary()


@pytest.mark.parametrize("fault", ["read-only", "deleted", "corrupted"])
def test_a_store_broken_under_held_and_flowing_calls_denies_them_all(
        spawn, warden_bin, mailbox_bin, warden_home, tmp_path, fault):
    user = StoreUser(warden_bin, tmp_path, warden_home)
    try:
        issued = user.cli("grant", "--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete",
                          "--purpose", "tidy the mailbox")
        assert issued.returncode == 0, issued.stderr
        confirm_timeout = 3.0
        proc = spawn([*user.prefix, warden_bin, "run", "--server", "mailbox", "--confirm-timeout", confirm_timeout,
                      "--", mailbox_bin, "--mailbox", user.box, "--seed"], env=user.env)
        inbox = Inbox(proc)
        handshake(proc, inbox)
        send_call(proc, 1, "list_messages", {})
        assert is_server_result(inbox.wait([1])[1]), inbox.summary()
        send_call(proc, 2, "delete_message", {"id": MSG_A})
        send_call(proc, 3, "delete_message", {"id": MSG_C})
        held = wait_for_holds(user.cli, 2)
        assert {h["arguments"]["id"] for h in held} == {MSG_A, MSG_C}

        done = break_store(user, fault)
        broken_at = time.monotonic()
        # Calls arriving right after: a read, a ping, another deletion, a read of one message, a ping.
        send_call(proc, 10, "list_messages", {})
        proc.send_json({"jsonrpc": "2.0", "id": 11, "method": "ping"})
        send_call(proc, 12, "delete_message", {"id": MSG_B})
        send_call(proc, 13, "read_message", {"id": MSG_B})
        proc.send_json({"jsonrpc": "2.0", "id": 14, "method": "ping"})
        # The human tries to approve a held call on the broken store, then pulls the kill switch.
        approval = user.cli("approve", held[0]["id"], "--by", "ann")
        kill_switch = user.cli("deny", "--action", "**", "--purpose", "stop everything")
        # Later calls, once warden had every chance to notice (its hold keeper polls every 100 ms).
        time.sleep(max(0.0, broken_at + 1.0 - time.monotonic()))
        send_call(proc, 15, "list_messages", {})
        proc.send_json({"jsonrpc": "2.0", "id": 16, "method": "ping"})
        send_call(proc, 17, "read_message", {"id": MSG_A})

        ids = [2, 3, 10, 11, 12, 13, 14, 15, 16, 17]
        # No hang: the held calls end by their deadline at the latest, everything else at once.
        answers = inbox.wait(ids, timeout=confirm_timeout + WAIT)
        time.sleep(0.3)  # anything more would be a second answer
        proc.close_stdin()
        status = proc.wait(timeout=WAIT)
        inbox.wait_eof()
        stderr = proc.wait_stderr_closed()
        served_box = sorted(os.listdir(user.box / "inbox"))
    finally:
        user.cleanup()

    problems = []
    served = mailbox_calls(stderr)
    # Never forwarded without a decision: no deletion reached the mailbox, and the messages are there.
    if "delete_message" in served:
        problems.append(f"a deletion reached the server: it served {served}")
    for message in (MSG_A, MSG_B, MSG_C):
        if f"{message}.json" not in served_box:
            problems.append(f"{message} was deleted")
    # The approval on a broken store cannot be recorded, so it fails, saying so.
    if approval.returncode == 0:
        problems.append(f"warden approve succeeded on a {fault} store: {approval.stdout.strip()}")
    elif not approval.stderr.strip():
        problems.append("warden approve failed without saying why")
    # Every held call is denied.
    for held_id in (2, 3):
        if not is_denial(answers[held_id], HELD_DENIAL_REASONS):
            problems.append(f"held call {held_id}: {describe(answers[held_id])}, expected a denial")
    # A forbid the human could issue after the fault (in whatever store the CLI found there) must hold.
    if kill_switch.returncode == 0:
        for later in (15, 17):
            if not is_denial(answers[later]):
                problems.append(f"call {later} was not denied though `warden deny --action '**'` "
                                f"({kill_switch.stdout.strip()}) was issued before it: {describe(answers[later])}")
    elif not kill_switch.stderr.strip():
        problems.append("warden deny failed without saying why")
    # Every call after the store broke is denied with store-unavailable; the session goes on.
    for later in (10, 12, 13, 15, 17):
        if not is_denial(answers[later], {"store-unavailable"}):
            problems.append(f"call {later} after the store was {fault}: {describe(answers[later])}, "
                            "expected a denial with reason store-unavailable")
    for ping in (11, 14, 16):
        if answers[ping].get("result") != {}:
            problems.append(f"ping {ping}: {answers[ping]}")
    # Exactly one answer each, nothing else on stdout, and warden ends normally.
    if inbox.duplicates():
        problems.append(f"answered twice: {inbox.duplicates()}")
    if inbox.garbage:
        problems.append(f"non-JSON on stdout: {inbox.garbage}")
    if status != 0:
        problems.append(f"warden exited {status}")
    assert not problems, (
        f"store {fault} ({'; '.join(done)}):\n- " + "\n- ".join(problems)
        + f"\nanswers: {inbox.summary()}\nthe mailbox served: {served}\nwarden approve: rc {approval.returncode} "
        + f"{approval.stderr.strip()}\nwarden deny --action '**': rc {kill_switch.returncode} "
        + f"{(kill_switch.stdout + kill_switch.stderr).strip()}\nwarden's stderr:\n{stderr}"
    )


# --------------------------------------------------------------------------------------------------
# 3. The server crashes in the middle of writing a response


def server_record(path: Path) -> list[dict]:
    """The requests faults.py recorded, in arrival order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.parametrize(("then", "extra", "status", "cause"), [
    ("exit", {"status": 3}, 3, re.compile(r"\b3\b")),
    ("kill", {"signal": 9}, 128 + 9, re.compile(r"\b9\b|SIGKILL|kill", re.IGNORECASE)),
], ids=["exit-3", "sigkill"])
def test_a_crash_mid_response_answers_each_request_once_with_server_exited(
        warden, warden_bin, grant, tmp_path, then, extra, status, cause):
    grant("--server", "faults", "--allow", "fixture.**", purpose="every fixture tool")
    record = tmp_path / "record"
    proc = warden(["--manifest", FAULTS_MANIFEST, "--confirm-timeout", "30"],
                  python_server(FAULTS, "--record", record))
    inbox = Inbox(proc)
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    handshake(proc, inbox)

    send_call(proc, 1, "work", {"n": 1, "delay": 0})
    assert is_server_result(inbox.wait([1])[1]), inbox.summary()
    # In flight when the server dies: two that hang (2 and "2" are different requests), one slow, and
    # a held call; then the call whose answer is cut short.
    send_call(proc, 2, "hang", {})
    send_call(proc, "2", "hang", {})
    send_call(proc, 3, "work", {"n": 3, "delay": 30})
    send_call(proc, 4, "wipe", {"target": "everything"})
    wait_for_holds(cli, 1)
    deadline = time.monotonic() + WAIT
    while len(server_record(record)) < 5 and time.monotonic() < deadline:  # initialize + 4 calls
        time.sleep(0.02)
    send_call(proc, 5, "half", {"then": then, **extra})

    inbox.wait_eof(timeout=WAIT)
    exit_status = proc.wait(timeout=WAIT)
    stderr = proc.wait_stderr_closed()
    context = f"\nanswers: {inbox.summary()}\nwarden's stderr:\n{stderr}"

    # Exactly one answer for each request, none for anything else, and no stray bytes.
    assert inbox.duplicates() == {}, inbox.duplicates()
    assert inbox.garbage == [], inbox.garbage
    answered = set(inbox.responses)
    assert answered == {key(i) for i in ("init", 1, 2, "2", 3, 4, 5)}, answered
    # The call whose answer was cut short, and every other call in flight: -32098, naming the cause.
    for request_id in (5, 2, "2", 3):
        [(_, _, message)] = inbox.responses[key(request_id)]
        error = message.get("error")
        assert error is not None and error.get("code") == SERVER_EXITED, f"request {request_id!r}: {message}{context}"
        assert error.get("data", {}).get("warden", {}).get("reason") == "server-exited", f"{message}{context}"
        assert cause.search(error.get("message", "")), f"the message does not name the cause: {message}"
    # The held call never reached the server: it is answered with a denial, reason shutdown.
    [(_, _, held)] = inbox.responses[key(4)]
    assert is_denial(held, {"shutdown"}), describe(held) + context
    calls = [m["params"]["name"] for m in server_record(record) if m.get("method") == "tools/call"]
    assert calls == ["work", "hang", "hang", "work", "half"], calls
    # Warden exits with the documented status: the server's, or 128+N for signal N.
    assert exit_status == status, f"warden exited {exit_status}, expected {status}{context}"


# --------------------------------------------------------------------------------------------------
# 4. 64 calls in flight while grants are issued and revoked


def test_64_calls_in_flight_while_grants_come_and_go(warden, warden_bin, tmp_path):
    inner = tmp_path / "inner"
    proc = warden(["--manifest", FAULTS_MANIFEST],
                  tapped(inner, python_server(FAULTS, "--seed", "64")))
    inbox = Inbox(proc)
    handshake(proc, inbox)
    rng = random.Random(20261129)

    # The human's side: grant fixture.work, wait a little, revoke it; again and again. A grant is live
    # at most from the moment its `warden grant` starts to the moment its `warden revoke` returns, and
    # surely live from the moment `grant` returns to the moment `revoke` starts.
    stop = threading.Event()
    periods: list[dict] = []
    failures: list[str] = []

    def toggle():
        while not stop.is_set():
            started = time.monotonic()
            issued = warden_cli(warden_bin, "grant", "--server", "faults", "--allow", "fixture.work",
                                "--for", "1h", "--purpose", "churn")
            issued_at = time.monotonic()
            if issued.returncode != 0:
                failures.append(f"grant: {issued.stderr}")
                return
            time.sleep(rng.uniform(0.02, 0.12))
            revoking = time.monotonic()
            revoked = warden_cli(warden_bin, "revoke", issued.stdout.strip())
            periods.append({"from": started, "surely_from": issued_at, "surely_to": revoking,
                            "to": time.monotonic()})
            if revoked.returncode != 0:
                failures.append(f"revoke: {revoked.stderr}")
                return
            time.sleep(rng.uniform(0.02, 0.12))

    toggler = threading.Thread(target=toggle, daemon=True)
    toggler.start()
    sent_at: dict[int, float] = {}
    try:
        # 64 calls, pipelined in bursts of 4 written at once; each answered after up to 1 s, so they
        # are in flight together.
        for burst in range(16):
            numbers = range(burst * 4 + 1, burst * 4 + 5)
            data = b"".join(call_line(n, "work", {"n": n, "max_delay": 1.0}) for n in numbers)
            now = time.monotonic()
            for n in numbers:
                sent_at[n] = now
            proc.send(data)
            time.sleep(0.06)
        answers = inbox.wait(range(1, 65), timeout=WAIT)
    finally:
        stop.set()
        toggler.join(timeout=WAIT)
    time.sleep(0.3)  # a second answer to any of them would show up now
    proc.close_stdin()
    assert proc.wait(timeout=WAIT) == 0
    inbox.wait_eof()

    assert failures == [], failures
    assert inbox.duplicates() == {}, inbox.duplicates()
    assert inbox.garbage == []
    assert set(inbox.responses) == {key(i) for i in ["init", *range(1, 65)]}, inbox.summary()
    allowed, denied = [], []
    for n, message in answers.items():
        if is_server_result(message):
            assert message["result"]["content"][0]["text"] == f"work {n}", message  # its own answer
            allowed.append(n)
        else:
            assert is_denial(message, {"not-delegated"}), f"call {n}: {describe(message)}"
            denied.append(n)

    seen = [c["arguments"]["n"] for c in calls_seen_by_server(inner)]
    # What reached the server is exactly what was answered as allowed: no denied call got through,
    # none allowed was lost, none was forwarded twice; and forwarded calls kept the order they were sent.
    assert len(seen) == len(set(seen)), f"forwarded twice: {seen}"
    assert set(seen) & set(denied) == set(), f"denied by warden, yet the server saw {sorted(set(seen) & set(denied))}"
    assert sorted(seen) == sorted(allowed), f"seen {sorted(seen)} vs answered as allowed {sorted(allowed)}"
    assert seen == sorted(seen), f"forwarded out of order: {seen}"
    # The churn really interleaved with the calls.
    assert allowed and denied, f"allowed {allowed}, denied {denied}: the grants never changed mid-stream"

    # Each decision agrees with the store at some instant while warden had the call: an allowed call
    # overlaps a period in which a grant could be live; a denied one, an instant with no grant for sure.
    for n in allowed:
        window = (sent_at[n], inbox.arrival(n))
        assert any(p["from"] <= window[1] and window[0] <= p["to"] for p in periods), (
            f"call {n} was allowed though no grant was live while warden had it ({window}): {periods}")
    for n in denied:
        window = (sent_at[n], inbox.arrival(n))
        assert not any(p["surely_from"] <= window[0] and window[1] <= p["surely_to"] for p in periods), (
            f"call {n} was denied though a grant was live the whole time warden had it ({window})")
