"""Lifecycle: start failures, crashes, shutdown on client EOF, signals, and what goes to stdout/stderr.

The server is servers/lifecycle.py, which logs what happens to it (start, requests, stdin EOF, signals,
exit) to a file, so a test can prove that warden closed its stdin or passed a signal on.

Its tools/call requests go through warden's enforcement: warden runs with the fixture manifest
fixtures/manifests/lifecycle.yaml and each test's (temporary) store holds a grant for them.
"""

from __future__ import annotations

import itertools
import json
import re
import signal
import stat
import time

import pytest

from conftest import (
    ECHO_RAW,
    LIFECYCLE,
    LIFECYCLE_MANIFEST,
    assert_error,
    log_events,
    pid_gone,
    python_server,
    wait_for,
)

SERVER_EXITED = -32098


def call(id, tool: str, **arguments) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


@pytest.fixture
def lifecycle(warden, grant, tmp_path):
    """warden over lifecycle.py: `proc, log = lifecycle(warden_options, server_flags)`; waits for the start.

    Warden gets the fixture manifest, and the store a grant for every lifecycle tool, so that the
    tools/call requests of these tests reach the server.
    """

    count = itertools.count(1)
    grant("--server", "lifecycle", "--allow", "fixture.**", purpose="lifecycle tests call every fixture tool")

    def start(options: list | None = None, flags: list | None = None, **kwargs):
        log = tmp_path / f"server-{next(count)}.log"
        options = ["--manifest", LIFECYCLE_MANIFEST, *(options or [])]
        proc = warden(options, python_server(LIFECYCLE, "--log", log, *(flags or [])), **kwargs)
        wait_for(lambda: any(e.startswith("start") for e in log_events(log)), timeout=10, what="the server to start")
        return proc, log

    return start


def server_pid(log) -> int:
    return int(next(e for e in log_events(log) if e.startswith("start pid=")).split("=")[1])


def echo_roundtrip(proc, id, text="ping") -> None:
    proc.send_json(call(id, "echo", text=text))
    answer = proc.read_json()
    assert answer == {"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}], "isError": False}}


def read_errors(proc, count: int) -> dict:
    """`count` lines, all -32098 errors, keyed by (type of id, id) so 1 and "1" stay apart."""
    errors = {}
    for _ in range(count):
        message = proc.read_json()
        key = (type(message.get("id")).__name__, message.get("id"))
        assert key not in errors, f"two answers for id {message.get('id')!r}"
        errors[key] = message
    return errors


# --------------------------------------------------------------------------------------------------
# The server goes away while the client is connected


@pytest.mark.parametrize(("tool", "arguments", "status", "cause"), [
    ("crash", {"status": 3}, 3, re.compile(r"\b3\b")),
    ("kill", {"signal": 9}, 128 + 9, re.compile(r"\b9\b|kill", re.IGNORECASE)),
], ids=["exit-3", "sigkill"])
def test_server_crash_mid_request_fails_every_inflight_request(lifecycle, tool, arguments, status, cause):
    proc, log = lifecycle()
    echo_roundtrip(proc, 1)  # answered before the crash: must not get an error afterwards
    proc.send_json(call(2, "hang"))
    proc.send_json(call("2", "hang"))  # same digits, a string: a different request
    wait_for(lambda: log_events(log).count('recv tools/call "2"') == 1, what="both hangs to arrive")
    proc.send_json(call(3, tool, **arguments))

    errors = read_errors(proc, 3)
    assert set(errors) == {("int", 2), ("str", "2"), ("int", 3)}
    for key, message in errors.items():
        error = assert_error(message, code=SERVER_EXITED, id=key[1], reason="server-exited")
        assert cause.search(error["message"]), f"the message does not name the cause: {error['message']!r}"
    # Nothing else, then end of stream, and warden's status is the server's.
    assert proc.read_to_eof() == []
    assert proc.wait(timeout=10) == status
    assert pid_gone(server_pid(log))


def test_server_exit_with_nothing_in_flight(lifecycle):
    """The server exits on its own (status 5) between requests: no error lines, status 5."""
    proc, log = lifecycle([], ["--eof-status", "5"])
    echo_roundtrip(proc, 1)
    proc.send_json(call(2, "crash", status=5))
    error = assert_error(proc.read_json(), code=SERVER_EXITED, id=2, reason="server-exited")
    assert re.search(r"\b5\b", error["message"]), error
    assert proc.read_to_eof() == []
    assert proc.wait() == 5


def test_server_exit_status_zero_is_passed_on(warden, tmp_path):
    proc = warden([], python_server(ECHO_RAW))
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "exit", "params": {"status": 0}})
    error = assert_error(proc.read_json(), code=SERVER_EXITED, id=1, reason="server-exited")
    assert proc.read_to_eof() == []
    assert proc.wait() == 0
    assert error["message"]


# --------------------------------------------------------------------------------------------------
# The command cannot be started


@pytest.mark.parametrize("kind", ["missing path", "missing on PATH", "not executable", "a directory"])
def test_command_that_cannot_start_exits_127_with_one_stderr_line(warden, tmp_path, kind):
    if kind == "missing path":
        command = [str(tmp_path / "no-such-server")]
    elif kind == "missing on PATH":
        command = ["warden-e2e-no-such-command-4f1c"]
    elif kind == "not executable":
        script = tmp_path / "server.sh"
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(stat.S_IRUSR | stat.S_IWUSR)
        command = [str(script)]
    else:
        command = [str(tmp_path)]
    started = time.monotonic()
    # With a manifest, so that warden has nothing else to say (without one it warns, at start, that
    # every tools/call will be denied).
    proc = warden(["--manifest", LIFECYCLE_MANIFEST], [*command, "--some-arg"])
    status = proc.wait(timeout=10)
    elapsed = time.monotonic() - started
    assert status == 127, f"status {status}, stderr {proc.stderr_text()!r}"
    assert elapsed < 3, f"took {elapsed:.1f}s"
    assert proc.read_to_eof() == []  # nothing on stdout
    stderr = proc.wait_stderr_closed()
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"expected one line on stderr: {stderr!r}"
    assert stderr.startswith("warden:"), stderr


@pytest.mark.parametrize("arguments", [
    [],  # no command at all
    ["--max-message", "lots", "--", "cat"],
    ["--log-level", "chatty", "--", "cat"],
    ["--grace", "soon", "--", "cat"],
], ids=["no-command", "bad-max-message", "bad-log-level", "bad-grace"])
def test_usage_errors_exit_64(warden_bin, spawn, arguments):
    proc = spawn([warden_bin, "run", *arguments])
    assert proc.wait(timeout=10) == 64
    assert proc.read_to_eof() == []
    assert proc.wait_stderr_closed().strip(), "expected a message on stderr"


# --------------------------------------------------------------------------------------------------
# The client closes stdin


def test_client_eof_closes_server_stdin_and_relays_late_answers(lifecycle):
    proc, log = lifecycle(["--grace", "2"])
    echo_roundtrip(proc, 1)
    proc.send_json(call(2, "slow", seconds=0.6, text="late answer"))
    wait_for(lambda: "recv tools/call 2" in log_events(log), what="the slow request to arrive")
    proc.close_stdin()
    eof_at = time.monotonic()

    answer = proc.read_json(timeout=5)
    assert answer["id"] == 2 and answer["result"]["content"][0]["text"] == "late answer"
    assert proc.read_to_eof(timeout=5) == []
    assert proc.wait(timeout=5) == 0
    elapsed = time.monotonic() - eof_at
    events = log_events(log)
    # The server saw EOF on its stdin before it answered (warden closed it at once, not at the
    # answer), and exited by itself: no signal, and well before the 2 s grace ran out.
    assert events.index("eof") < events.index("answered 2"), events
    assert not any(e.startswith("signal") for e in events), events
    assert events[-1] == "exit 0"
    assert elapsed < 1.8, f"warden took {elapsed:.2f}s to exit after the server did"


def test_client_eof_passes_on_the_servers_own_nonzero_status(lifecycle):
    proc, log = lifecycle(["--grace", "2"], ["--eof-status", "4"])
    echo_roundtrip(proc, 1)
    proc.close_stdin()
    assert proc.read_to_eof(timeout=5) == []
    assert proc.wait(timeout=5) == 4
    assert log_events(log)[-2:] == ["eof", "exit 4"]


def test_client_eof_then_sigterm_after_grace(lifecycle):
    """A server that ignores EOF gets SIGTERM after --grace; killed by warden, so warden exits 0."""
    proc, log = lifecycle(["--grace", "0.5"], ["--on-eof", "ignore"])
    echo_roundtrip(proc, 1)
    proc.send_json(call(2, "slow", seconds=0.2, text="within grace"))
    wait_for(lambda: "recv tools/call 2" in log_events(log), what="the slow request to arrive")
    proc.close_stdin()
    eof_at = time.monotonic()
    answer = proc.read_json(timeout=5)
    assert answer["id"] == 2 and answer["result"]["content"][0]["text"] == "within grace"
    assert proc.read_to_eof(timeout=5) == []
    status = proc.wait(timeout=5)
    elapsed = time.monotonic() - eof_at
    events = log_events(log)
    assert "eof" in events and "signal SIGTERM" in events, events
    assert status == 0, f"status {status}"
    assert 0.4 <= elapsed < 1.5, f"warden exited {elapsed:.2f}s after EOF; --grace 0.5 asks for ~0.5s"
    assert pid_gone(server_pid(log))


def test_client_eof_then_sigkill_when_sigterm_is_ignored(lifecycle):
    proc, log = lifecycle(["--grace", "0.5"], ["--on-eof", "ignore", "--ignore-sigterm"])
    echo_roundtrip(proc, 1)
    pid = server_pid(log)
    proc.close_stdin()
    eof_at = time.monotonic()
    assert proc.read_to_eof(timeout=6) == []
    status = proc.wait(timeout=6)
    elapsed = time.monotonic() - eof_at
    events = log_events(log)
    assert "eof" in events and "signal SIGTERM ignored" in events, events
    assert status == 0, f"status {status}"
    assert 0.9 <= elapsed < 2.5, f"warden exited {elapsed:.2f}s after EOF; expected ~1.0s (2 x --grace 0.5)"
    wait_for(lambda: pid_gone(pid), timeout=2, what=f"server pid {pid} to be gone (SIGKILLed)")
    # The SIGTERM came about one grace period after EOF, not at once.
    assert events.index("eof") < events.index("signal SIGTERM ignored")


# --------------------------------------------------------------------------------------------------
# Signals to warden


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_to_warden_is_passed_to_the_server(lifecycle, signame):
    number = getattr(signal, signame)
    # The server ignores stdin EOF, so only the forwarded signal can end it; it exits 7 on the signal.
    proc, log = lifecycle(["--grace", "5"], ["--on-eof", "ignore", "--signal-status", "7"])
    echo_roundtrip(proc, 1)
    proc.send_json(call(2, "hang"))
    wait_for(lambda: "recv tools/call 2" in log_events(log), what="the hang to arrive")
    sent_at = time.monotonic()
    proc.signal(number)  # to warden only, not to its process group

    assert_error(proc.read_json(timeout=5), code=SERVER_EXITED, id=2, reason="server-exited")
    assert proc.read_to_eof(timeout=5) == []
    assert proc.wait(timeout=5) == 7
    assert f"signal {signame}" in log_events(log)
    assert time.monotonic() - sent_at < 3, "the signal was not passed on at once"


def test_sigterm_to_warden_with_server_dying_by_it_gives_143(lifecycle):
    proc, log = lifecycle(["--grace", "5"], ["--on-eof", "ignore"])
    echo_roundtrip(proc, 1)
    proc.signal(signal.SIGTERM)
    assert proc.read_to_eof(timeout=5) == []
    assert proc.wait(timeout=5) == 128 + signal.SIGTERM
    assert "signal SIGTERM" in log_events(log)


# --------------------------------------------------------------------------------------------------
# stdout and stderr


def test_server_stderr_appears_on_warden_stderr(lifecycle):
    banner = "lifecycle server says hello on stderr: żółw ✓"
    proc, log = lifecycle([], ["--stderr", banner])
    proc.send_json(call(1, "stderr", text="a second stderr line, mid-session"))
    assert proc.read_json()["id"] == 1
    proc.close_stdin()
    assert proc.read_to_eof() == []
    assert proc.wait() == 0
    lines = proc.wait_stderr_closed().splitlines()
    assert banner in lines
    assert "a second stderr line, mid-session" in lines


def test_stdout_carries_only_protocol_even_at_trace_level(lifecycle):
    proc, log = lifecycle(["--log-level", "trace", "--agent", "e2e-agent", "--server", "lifecycle"])
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}})
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    proc.send(b"not json\n")
    proc.send_json(call(2, "echo", text="x"))
    proc.send_json(call(3, "hang"))
    wait_for(lambda: "recv tools/call 3" in log_events(log), what="the hang to arrive")
    proc.send_json(call(4, "crash", status=0))
    lines = proc.read_to_eof(timeout=10)
    assert proc.wait() == 0
    ids = []
    for line in lines:
        message = json.loads(line)  # every stdout line is one JSON-RPC message...
        assert message.get("jsonrpc") == "2.0" and line.endswith(b"\n"), line
        ids.append(message.get("id"))
    # The parse error comes from warden and the two crash errors in no set order: compare as a multiset.
    assert sorted(map(repr, ids)) == sorted(map(repr, [0, 1, None, 2, 3, 4])), ids
    # ...and warden's own log lines went to stderr, each prefixed "warden:".
    stderr_lines = [line for line in proc.wait_stderr_closed().splitlines() if line.strip()]
    assert stderr_lines, "trace level produced no log lines at all"
    assert all(line.startswith("warden:") for line in stderr_lines), stderr_lines[:10]


def test_default_level_is_quiet_and_warden_log_sets_the_level(lifecycle):
    """At the default level (warning) a clean session logs nothing; WARDEN_LOG=trace makes warden log."""
    from conftest import child_env

    quiet, _ = lifecycle([])
    echo_roundtrip(quiet, 1)
    quiet.close_stdin()
    assert quiet.wait() == 0
    assert quiet.wait_stderr_closed() == "", "a clean session at the default level should log nothing"

    chatty, _ = lifecycle([], env=child_env(WARDEN_LOG="trace"))
    echo_roundtrip(chatty, 1)
    chatty.close_stdin()
    assert chatty.wait() == 0
    lines = [line for line in chatty.wait_stderr_closed().splitlines() if line.strip()]
    assert lines and all(line.startswith("warden:") for line in lines), lines[:10]
