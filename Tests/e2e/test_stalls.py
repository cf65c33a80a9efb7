"""A server that stops reading (issue "Trust, the server side", finding 6): no thread that serves
holds, deadlines or shutdown may wait on it. Before the fix, the one thread that releases holds
blocked writing an approved call into the full pipe of a server that no longer read: another hold's
deadline passed unnoticed and its denial came many seconds late, and closing the client left warden
running.

servers/faults.py's `deaf` tool stops reading its stdin for good. The client then fills the server's
pipe (warden enlarges it to 1 MiB) with notifications, short of full, so that the approved call, a
large one, is what would block. Times are generous bounds on behaviour (a deadline kept, a shutdown
within its grace periods), not measurements.
"""

from __future__ import annotations

import json
import time

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR, python_server, warden_cli
from test_faults import Inbox, handshake, is_denial, pending_holds, send_call, wait_for_holds

FAULTS = SERVERS_DIR / "faults.py"
FAULTS_MANIFEST = FIXTURE_MANIFESTS / "faults.yaml"
PIPE = 1 << 20  # the server's stdin pipe, as warden sizes it
TIMEOUT = 4  # --confirm-timeout
GRACE = 1.0  # --grace


def start(warden, tmp_path):
    record = tmp_path / "server-record"
    proc = warden(["--server", "faults", "--manifest", FAULTS_MANIFEST, "--confirm-timeout", TIMEOUT,
                   "--grace", GRACE], python_server(FAULTS, "--record", record))
    inbox = Inbox(proc)
    handshake(proc, inbox)
    return proc, inbox, record


def deafen_and_fill(proc, record, leave: int) -> None:
    """The server stops reading; then its pipe is filled with notifications until `leave` bytes are
    free (so a line longer than that would block its writer)."""
    send_call(proc, "deaf", "deaf", {})
    deadline = time.monotonic() + 10
    while b'"deaf"' not in (record.read_bytes() if record.exists() else b""):
        assert time.monotonic() < deadline, "the server never read the deaf call"
        time.sleep(0.02)
    time.sleep(0.2)
    line = json.dumps({"jsonrpc": "2.0", "method": "notifications/fill", "params": {"pad": "x" * 1000}},
                      separators=(",", ":")).encode() + b"\n"
    proc.send(line * ((PIPE - leave) // len(line)))
    time.sleep(0.5)  # warden's pump writes them all: the pipe has room for them


def test_a_server_that_stopped_reading_does_not_delay_other_deadlines(warden, warden_bin, grant, tmp_path):
    grant("--server", "faults", "--allow", "fixture.**", purpose="stall test")
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    proc, inbox, record = start(warden, tmp_path)
    # A: a large call to approve later; B: a small one nobody decides.
    send_call(proc, "A", "wipe", {"target": "a" * 200_000})
    wait_for_holds(cli, 1)
    send_call(proc, "B", "wipe", {"target": "b"})
    held = {h["arguments"]["target"][:1]: h for h in wait_for_holds(cli, 2)}
    b_created = time.monotonic()
    deafen_and_fill(proc, record, leave=100_000)

    approved = cli("approve", held["a"]["id"])
    assert approved.returncode == 0, approved.stderr
    # B's deadline is kept although A's forward cannot be written.
    answers = inbox.wait(["B"], timeout=TIMEOUT + 6)
    assert is_denial(answers["B"], {"confirmation-timed-out"}), answers["B"]
    late = inbox.arrival("B") - b_created
    assert late <= TIMEOUT + 2.5, f"B's denial came {late:.1f}s after it was held (deadline {TIMEOUT}s)"
    assert not inbox.answered("A")

    # The client leaves: warden ends within its grace periods (close stdin, grace, SIGTERM, grace,
    # SIGKILL), however full the server's pipe is.
    closed = time.monotonic()
    proc.close_stdin()
    proc.wait(timeout=2 * GRACE + 6)
    took = time.monotonic() - closed
    assert took <= 2 * GRACE + 3, f"warden took {took:.1f}s to end after the client left"
    assert pending_holds(cli) == []


def test_a_held_call_is_cancelled_when_the_client_leaves_a_stalled_server(warden, warden_bin, grant, tmp_path):
    grant("--server", "faults", "--allow", "fixture.**", purpose="stall test")
    cli = lambda *args: warden_cli(warden_bin, *args)  # noqa: E731
    proc, inbox, record = start(warden, tmp_path)
    send_call(proc, "C", "wipe", {"target": "c"})
    [held] = wait_for_holds(cli, 1)
    deafen_and_fill(proc, record, leave=0)
    # More than the pipe holds: warden's pump now waits on the server (the backpressure), so it
    # cannot read the end of its input. (Small enough to fit in warden's own stdin pipe, so that this
    # test's write does not wait too.)
    proc.send(b'{"jsonrpc":"2.0","method":"notifications/fill","params":{"pad":"' + b"y" * 30_000 + b'"}}\n')
    closed = time.monotonic()
    proc.close_stdin()
    # The hold is cancelled at once, not when the server finally goes.
    deadline = closed + GRACE + 2
    while True:
        states = {h["id"]: h["state"] for h in json.loads(cli("holds", "--all", "--json").stdout)}
        if states.get(held["id"]) == "cancelled":
            break
        assert time.monotonic() < deadline, f"the hold is still {states.get(held['id'])} after the client left"
        time.sleep(0.1)
    proc.wait(timeout=2 * GRACE + 6)
    assert time.monotonic() - closed <= 2 * GRACE + 3
