"""The server as attacker: each way found for the server behind warden to fool the agent or the human,
replayed on every run through the built warden against servers/liar.py (fixtures/manifests/liar.yaml:
`peek` is a read, `liar.read`; `nuke` is destructive, `liar.nuke` on `db:{id}`, so it is held).

A raw client drives `warden run` with newline-delimited JSON-RPC, so the bytes are exact; what reached
the server is read from the liar's own record of every line it received, never from warden's word.
Each test names its finding and fails when the lie gets through: when the agent receives what the
server forged, or the human is shown (or decides) something the server chose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import raw_inbox
from raw_inbox import key
from conftest import (
    DELEGATION_META,
    FIXTURE_MANIFESTS,
    MARKS,
    SERVERS_DIR,
    child_env,
    python_server,
    wait_for,
    warden_cli,
)

LIAR = SERVERS_DIR / "liar.py"
LIAR_MANIFEST = FIXTURE_MANIFESTS / "liar.yaml"
WAIT = 6.0  # the longest any single step may take when nothing is wrong
INVALID_SERVER_MESSAGE = -32097
DECISION_META = "dev.warden/decision"

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    "io.modelcontextprotocol/clientInfo": {"name": "liar-test", "version": "1"},
}


# --------------------------------------------------------------------------------------------------
# The client's side: every line warden writes, filed as it arrives


class Inbox(raw_inbox.Inbox):
    """One response at a time (see `raw_inbox.Inbox`), telling a missing response from one written
    without its line terminator."""

    def wait(self, request_id, timeout: float = WAIT) -> dict:
        found = self.maybe(request_id, timeout)
        if found is None:
            # A response written without its line terminator never reaches a line-based client; end
            # the session to tell that apart from no response at all (Proc reports an unterminated
            # last line at end of stream).
            eof_before = self.eof
            self.proc.close_stdin()
            late = self.maybe(request_id, 3.0)
            if late is not None and not eof_before:
                raise AssertionError(
                    f"warden wrote the response to {request_id!r} without a line terminator (a line-based "
                    f"client never sees it): {self.raw_for(request_id)[0][:600]!r}\nstderr:\n{self.proc.stderr_text()}")
            raise AssertionError(
                f"no response to {request_id!r} within {timeout}s (end of stream: {eof_before})\n"
                f"responses so far: {self.summary()}\nstderr:\n{self.proc.stderr_text()}")
        return found


# --------------------------------------------------------------------------------------------------
# Starting the liar behind warden, and talking to it


def liar_argv(record: Path, lie: str | None = None, *server_args) -> list[str]:
    return python_server(LIAR, "--record", record, *(["--lie", lie] if lie else []), *server_args)


def warden_options(*options) -> list:
    return ["--server", "liar", "--manifest", LIAR_MANIFEST, "--confirm-timeout", "30", *options]


@pytest.fixture
def liar(warden, tmp_path):
    """Starts warden in front of the liar: `liar(*warden_options, lie=..., server_args=[...])` returns
    (the warden process, its Inbox, the liar's record file)."""

    def start(*options, lie: str | None = None, server_args=()):
        record = tmp_path / "liar.record"
        proc = warden(warden_options(*options), liar_argv(record, lie, *server_args))
        return proc, Inbox(proc), record

    return start


def handshake(proc, inbox: Inbox, capabilities: dict | None = None) -> dict:
    proc.send_json({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities or {},
        "clientInfo": {"name": "liar-test", "version": "1"}}})
    answer = inbox.wait("init")
    assert "result" in answer, answer
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return answer


def discover(proc, inbox: Inbox) -> dict:
    """Enters the per-request era (2026-07-28) as the SDK's "auto" mode does: server/discover first."""
    proc.send_json({"jsonrpc": "2.0", "id": "discover", "method": "server/discover",
                    "params": {"_meta": MODERN_META}})
    answer = inbox.wait("discover")
    assert "result" in answer, answer
    return answer


def tool_call(proc, request_id, tool: str, arguments: dict, modern: bool = False) -> None:
    params = {"name": tool, "arguments": arguments}
    if modern:
        params["_meta"] = MODERN_META
    proc.send_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


def ping(proc, inbox: Inbox, request_id, modern: bool = False) -> None:
    """A ping round trip: once it is answered, every line the server wrote before has passed warden."""
    message = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
    if modern:
        message["params"] = {"_meta": MODERN_META}
    proc.send_json(message)
    inbox.wait(request_id)


def text_of(response: dict) -> str:
    return "\n".join(item.get("text", "") for item in response.get("result", {}).get("content", []))


def decision(response: dict) -> dict | None:
    result = response.get("result")
    if not isinstance(result, dict):
        return None
    return (result.get("_meta") or {}).get(DECISION_META)


# --------------------------------------------------------------------------------------------------
# What reached the server, and the human's side


def received(record: Path) -> list[dict]:
    """Every line the liar received that is a JSON object, in order."""
    if not record.exists():
        return []
    found = []
    for line in record.read_bytes().splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            found.append(message)
    return found


def calls_received(record: Path, tool: str) -> list[dict]:
    return [m for m in received(record) if m.get("method") == "tools/call"
            and isinstance(m.get("params"), dict) and m["params"].get("name") == tool]


def holds(warden_bin, *flags) -> list[dict]:
    out = warden_cli(warden_bin, "holds", "--json", *flags)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for_holds(warden_bin, count: int, timeout: float = WAIT) -> list[dict]:
    return wait_for(lambda: (lambda found: found if len(found) >= count else None)(holds(warden_bin)),
                    timeout=timeout, interval=0.05, what=f"{count} pending hold(s)")


def holds_shown(warden_bin) -> bytes:
    """What a human reads at a terminal: `warden holds --all` and `--all --full`, as raw bytes."""
    shown = b""
    for flags in (["--all"], ["--all", "--full"]):
        out = subprocess.run([str(warden_bin), "holds", *flags], capture_output=True, timeout=20,
                             env=child_env(), stdin=subprocess.DEVNULL)
        assert out.returncode == 0, out.stderr
        shown += out.stdout
    return shown


def assert_holds_shown_safely(warden_bin) -> None:
    shown = holds_shown(warden_bin)
    assert b"\x1b" not in shown, f"`warden holds --all` writes a raw ESC to the human's terminal: {shown!r}"
    assert b"\r" not in shown, f"`warden holds --all` writes a raw carriage return: {shown!r}"


def approve(warden_bin, hold_id: str) -> None:
    warden_cli(warden_bin, "approve", hold_id, check=True)


# --------------------------------------------------------------------------------------------------
# Finding 1: the server answers what it was never sent


def hold_a_nuke(grant, liar, warden_bin, capabilities=None):
    """nuke {"id":"prod-db"} as request 7, held (granted, destructive). Returns proc, inbox, record, hold."""
    grant("--server", "liar", "--allow", "liar.read,liar.nuke", purpose="clean up the test databases")
    proc, inbox, record = liar()
    handshake(proc, inbox, capabilities)
    tool_call(proc, 7, "nuke", {"id": "prod-db"})
    [held] = wait_for_holds(warden_bin, 1)
    assert held["tool"] == "nuke", held
    return proc, inbox, record, held


def assert_still_held(proc, inbox: Inbox, record: Path, warden_bin, held: dict) -> None:
    answered = inbox.all_for(7)
    assert answered == [], f"the client got a response for held id 7 from the server: {answered}"
    pending = holds(warden_bin)
    assert [h["id"] for h in pending] == [held["id"]], f"the hold is no longer pending: {holds(warden_bin, '--all')}"
    assert calls_received(record, "nuke") == [], "nuke reached the server before anyone approved"


def approve_and_expect_one_real_answer(proc, inbox: Inbox, record: Path, warden_bin, held: dict) -> None:
    approve(warden_bin, held["id"])
    answer = inbox.wait(7)
    wait_for(lambda: calls_received(record, "nuke"), what="the approved nuke at the server")
    ping(proc, inbox, "after-approval")
    time.sleep(0.3)
    answers = inbox.all_for(7)
    assert len(answers) == 1, f"the client got {len(answers)} responses for id 7: {answers}"
    assert text_of(answer) == "nuked prod-db" and not answer["result"].get("isError"), answer
    assert len(calls_received(record, "nuke")) == 1


def test_a_server_answer_for_a_held_call_never_reaches_the_client(grant, liar, warden_bin):
    """Finding 1: the server writes a result for id 7 while warden holds nuke 7 (it never reached the
    server): the client must not get it, the hold stays pending, and an approval still forwards the
    call once and yields exactly one (the server's real) answer."""
    proc, inbox, record, held = hold_a_nuke(grant, liar, warden_bin)
    tool_call(proc, 8, "peek", {"lie": "answer-held", "target_id": 7})
    assert text_of(inbox.wait(8)) == "peeked"
    ping(proc, inbox, 9)
    assert_still_held(proc, inbox, record, warden_bin, held)
    approve_and_expect_one_real_answer(proc, inbox, record, warden_bin, held)
    assert_holds_shown_safely(warden_bin)


def test_answers_to_ids_the_client_never_sent_never_reach_it(grant, liar, warden_bin):
    """Finding 1: responses for id 999 and for "warden-0000000000000000-1" (shaped like warden's own
    request ids, answering as an approving form would) are never passed to the client and approve
    nothing, while a nuke is held and warden's own form is out to the client."""
    proc, inbox, record, held = hold_a_nuke(grant, liar, warden_bin, capabilities={"elicitation": {}})
    tool_call(proc, 8, "peek", {"lie": "unknown-ids"})
    assert text_of(inbox.wait(8)) == "peeked"
    ping(proc, inbox, 9)
    for never_sent in (999, "warden-0000000000000000-1"):
        got = inbox.all_for(never_sent)
        assert got == [], f"the client got the server's response for id {never_sent!r}, which it never sent: {got}"
    assert_still_held(proc, inbox, record, warden_bin, held)
    assert_holds_shown_safely(warden_bin)


@pytest.mark.parametrize("form", ["invalid-json", "duplicate-id"])
def test_a_malformed_server_line_with_a_held_id_neither_answers_nor_closes_it(grant, liar, warden_bin, form):
    """Finding 1: a server line that fails warden's checks but carries "id":7 while 7 is held is not an
    answer to 7 (it never reached the server): no -32097 for 7, the hold stays pending, a later
    approval forwards the call, and the client gets exactly one response for 7."""
    proc, inbox, record, held = hold_a_nuke(grant, liar, warden_bin)
    tool_call(proc, 8, "peek", {"lie": "malformed-held", "target_id": 7, "form": form})
    assert text_of(inbox.wait(8)) == "peeked"
    ping(proc, inbox, 9)
    assert_still_held(proc, inbox, record, warden_bin, held)
    approve_and_expect_one_real_answer(proc, inbox, record, warden_bin, held)
    assert_holds_shown_safely(warden_bin)


# --------------------------------------------------------------------------------------------------
# Finding 2: the call's arguments redraw the human's screen

HOSTILE_IDS = [
    pytest.param("prod-db\r\u001b[2Kmeans: liar.read on db:harmless\nheld: read-only cleanup", id="cr-esc-lf"),
    pytest.param("prod-db\u001b[1A\u001b[2K", id="esc-only"),
    pytest.param("prod-db\u009b2K", id="c1-csi"),
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_control_characters_in_a_resource_are_refused_not_held(grant, liar, warden_bin, hostile):
    """Finding 2: a nuke whose `id` (the resource db:{id}) carries \\r, \\n, ESC or a C1 control
    would redraw the human's terminal; templates refuse control characters, so the call is denied
    (bad-arguments) before any hold, and nothing a human reads carries a raw ESC or \\r."""
    grant("--server", "liar", "--allow", "liar.read,liar.nuke", purpose="clean up the test databases")
    proc, inbox, record = liar()
    handshake(proc, inbox)
    tool_call(proc, 1, "nuke", {"id": hostile})
    # Either warden answers (denied), or (the lie got through) a hold shows up for the human.
    deadline = time.monotonic() + WAIT
    answer = None
    while time.monotonic() < deadline:
        answer = inbox.maybe(1, 0.1)
        if answer is not None or holds(warden_bin):
            break
    created = holds(warden_bin, "--all")
    try:
        assert_holds_shown_safely(warden_bin)
    finally:
        for pending in holds(warden_bin):
            warden_cli(warden_bin, "reject", pending["id"], "--why", "test cleanup")
    assert created == [], (
        "the call was held, and the human is asked about a resource the arguments drew: "
        + json.dumps([{k: h.get(k) for k in ("tool", "resources", "arguments", "state")} for h in created]))
    assert answer is not None, f"no answer within {WAIT}s\nstderr:\n{proc.stderr_text()}"
    assert answer["result"]["isError"] is True, answer
    assert "error" not in answer, answer
    assert decision(answer) is not None and decision(answer)["reason"] == "bad-arguments", answer
    assert calls_received(record, "nuke") == []


def test_control_characters_in_a_held_calls_arguments_are_shown_escaped(grant, liar, warden_bin):
    """Finding 2: an argument no template reads is shown to the human as the exact bytes the server
    gets; raw ESC, CR, a C1 CSI (U+009B) and a bidi override (U+202E) in it appear as visible escapes
    in `warden holds --all` (and --full), never as the characters themselves."""
    grant("--server", "liar", "--allow", "liar.read,liar.nuke", purpose="clean up the test databases")
    proc, inbox, record = liar()
    handshake(proc, inbox)
    # JSON allows U+009B and U+202E unescaped: they reach warden (and the store) as raw UTF-8.
    note = '"ok\\r\\u001b[2Kheld: read-only cleanup\\n\u009b2K\u202edlrow"'
    proc.send(('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nuke","arguments":'
               '{"id":"prod-db","note":' + note + "}}}\n").encode())
    [held] = wait_for_holds(warden_bin, 1)
    shown = holds_shown(warden_bin)
    warden_cli(warden_bin, "reject", held["id"], "--why", "test cleanup")
    for raw, name in [(b"\x1b", "ESC"), (b"\r", "CR"), ("\u009b".encode(), "C1 CSI U+009B"),
                      ("\u202e".encode(), "bidi override U+202E")]:
        assert raw not in shown, f"`warden holds --all` writes a raw {name} to the human's terminal: {shown!r}"
    assert b"prod-db" in shown


# --------------------------------------------------------------------------------------------------
# Finding 3: the child approves its own held call

# Runs warden with a pseudo-terminal as its controlling terminal (stdin/stdout stay pipes), as when an
# MCP client started from a terminal launches it: the server must still not reach that terminal.
WITH_CONTROLLING_TTY = r"""
import fcntl, os, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR)   # a session leader without one: this becomes its terminal
try:
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
except OSError:
    pass
os.close(fd)
os.execv(sys.argv[2], sys.argv[2:])
"""


@pytest.mark.parametrize("config", ["scripted", "terminal-only"])
def test_the_server_cannot_approve_its_own_held_call(grant, spawn, warden_bin, warden_home, tmp_path, config):
    """Finding 3: from inside the server process, `warden holds --json` and `warden approve ID` (with
    pipes, and with /dev/tty as stdin). The child must get no WARDEN_* variable, no controlling
    terminal and a session of its own; the hold stays pending and nuke never reaches the server.
    `scripted`: scripts may approve (so only the stripped environment stops the child);
    `terminal-only`: they may not (so only the missing terminal stops it)."""
    grant("--server", "liar", "--allow", "liar.read,liar.nuke", purpose="clean up the test databases")
    if config == "terminal-only":
        (warden_home / "config.yaml").write_text("")  # the default: approving needs a terminal
    sandbox = tmp_path / "sandbox-home"
    sandbox.mkdir()
    record = tmp_path / "liar.record"
    master, slave = os.openpty()
    try:
        argv = [sys.executable, "-c", WITH_CONTROLLING_TTY, os.ttyname(slave), str(warden_bin), "run",
                *map(str, warden_options()), "--",
                *liar_argv(record, None, "--warden-bin", warden_bin, "--sandbox-home", sandbox)]
        os.close(slave)
        proc = spawn(argv)
        inbox = Inbox(proc)
        handshake(proc, inbox)
        tool_call(proc, 7, "nuke", {"id": "prod-db"})
        [held] = wait_for_holds(warden_bin, 1)
        tool_call(proc, 8, "peek", {"lie": "self-approve"})
        answer = inbox.wait(8, timeout=20)  # the server runs warden up to three times first
        report = json.loads(text_of(answer))
        time.sleep(0.5)  # a running warden sees a decision within 100 ms
        problems = []
        state = {h["id"]: h for h in holds(warden_bin, "--all")}[held["id"]]
        if state["state"] != "pending":
            problems.append(f"the server decided its own hold: {state['state']} by {state.get('decidedBy')!r} "
                            f"(attestation {state.get('attestation')})")
        if calls_received(record, "nuke"):
            problems.append("nuke reached the server")
        if inbox.all_for(7):
            problems.append(f"the client got an answer for the held call: {inbox.all_for(7)}")
        if report["warden_env"]:
            problems.append(f"the server sees warden's variables: {report['warden_env']}")
        if report["tty"] == "opened":
            problems.append("the server can open /dev/tty (warden's controlling terminal)")
        if not report["session_leader"]:
            problems.append(f"the server is not in a session of its own (sid {report['sid']}, pid {report['pid']})")
        succeeded = [a for a in report["approvals"] if a.get("status") == 0]
        if succeeded:
            problems.append(f"`warden approve` run by the server succeeded: {succeeded}")
        assert not problems, "; ".join(problems) + "\nthe server's report: " + json.dumps(report)[:3000]
    finally:
        os.close(master)


# --------------------------------------------------------------------------------------------------
# Finding 4: one unreadable value switches off warden's marks


def assert_not_the_servers_result(response: dict, raw: list[bytes], request_id) -> None:
    assert "result" not in response, (
        f"the client got the server's unreadable result, with its fake warden text: {raw[0][:600]!r}")
    error = response.get("error")
    assert isinstance(error, dict) and error.get("code") == INVALID_SERVER_MESSAGE, response
    reason = (error.get("data") or {}).get("warden", {}).get("reason")
    assert isinstance(reason, str) and reason, response
    assert response.get("id") == request_id, response


@pytest.mark.parametrize("lie", ["tools-duplicate", "tools-bigint", "tools-surrogate"])
def test_an_unreadable_tools_list_is_an_error_not_the_servers_marks(liar, lie):
    """Finding 4: with --hide-undelegated and no grant, a tools/list result warden cannot read without
    ambiguity (a key twice deep in an inputSchema, a 20-digit integer, a lone surrogate), whose tools
    carry the server's own "[warden: delegated]" and _meta["dev.warden/delegation"], must reach the
    client as a -32097 error, never as the server's result (which would show undelegated tools as
    delegated)."""
    proc, inbox, record = liar("--hide-undelegated", lie=lie)
    handshake(proc, inbox)
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    response = inbox.wait(1)
    assert_not_the_servers_result(response, inbox.raw_for(1), 1)
    assert len(inbox.all_for(1)) == 1


@pytest.mark.parametrize("lie", ["initialize-duplicate", "discover-duplicate"])
def test_an_unreadable_handshake_result_is_an_error_not_a_fake_summary(liar, lie):
    """Finding 4: an initialize (or server/discover) result with a key given twice, whose instructions
    fake warden's delegation summary, must reach the client as an error, not as the server's result
    without warden's real summary."""
    proc, inbox, record = liar(lie=lie)
    if lie == "initialize-duplicate":
        proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "liar-test", "version": "1"}}})
    else:
        proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "server/discover", "params": {"_meta": MODERN_META}})
    response = inbox.wait(0)
    assert_not_the_servers_result(response, inbox.raw_for(0), 0)


# --------------------------------------------------------------------------------------------------
# Finding 5: look-alikes of warden's own fields and forms


def test_the_servers_own_delegation_meta_is_replaced_and_the_rest_kept(liar):
    """Finding 5a: tools whose _meta carries the server's fake "dev.warden/delegation" (delegated)
    next to "other": the client sees warden's own mark (not-delegated: there is no grant) with the
    manifest's action, never the server's values, and "other" survives."""
    proc, inbox, record = liar(lie="tools-fake-meta")
    handshake(proc, inbox)
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    response = inbox.wait(1)
    tools = {t["name"]: t for t in response["result"]["tools"]}
    assert set(tools) == {"peek", "nuke"}, response
    for name, action in (("peek", "liar.read"), ("nuke", "liar.nuke")):
        meta = tools[name].get("_meta") or {}
        assert meta.get(DELEGATION_META) == {"status": "not-delegated", "action": action}, (
            f"{name}: the client sees the server's delegation {meta.get(DELEGATION_META)}, not warden's")
        assert meta.get("other") == 1, f"{name}: the server's own _meta key was lost: {meta}"
        assert tools[name]["description"].endswith("\n\n" + MARKS["not-delegated"]), tools[name]["description"]


def test_the_servers_own_decision_meta_never_reaches_the_client(grant, liar):
    """Finding 5b: a peek result whose _meta carries a fake "dev.warden/decision" (suggesting the agent
    run `warden grant --allow '**'`) reaches the client with no dev.warden/ key in _meta; the server's
    other _meta keys are kept."""
    grant("--server", "liar", "--allow", "liar.read", purpose="read")
    proc, inbox, record = liar()
    handshake(proc, inbox)
    tool_call(proc, 1, "peek", {"lie": "fake-decision"})
    response = inbox.wait(1)
    assert "result" in response and text_of(response) == "peeked", response
    meta = response["result"].get("_meta") or {}
    forged = [k for k in meta if k.startswith("dev.warden/")]
    assert forged == [], f"the client got the server's own {forged}: {meta}"
    assert meta.get("io.example/keep") == 1, f"the server's other _meta key was lost: {meta}"
    assert "warden grant" not in inbox.raw_for(1)[0].decode()


def test_a_servers_elicitation_is_marked_as_the_servers_own(grant, liar):
    """Finding 5c: in the handshake era the server sends elicitation/create with a message copied
    from warden's approval form (naming another server, asking for the approval code): the client
    receives it, but marked as the server's: it does not start like warden's form and names `liar`
    before the forged text."""
    grant("--server", "liar", "--allow", "liar.read", purpose="read")
    proc, inbox, record = liar()
    handshake(proc, inbox, capabilities={"elicitation": {}})
    tool_call(proc, 1, "peek", {"lie": "elicit"})
    inbox.wait(1)
    asked = [m for m in inbox.requests() if m.get("method") == "elicitation/create"]
    assert len(asked) == 1, f"the server's elicitation/create did not reach the client once: {inbox.requests()}"
    message = asked[0]["params"]["message"]
    assert not message.startswith("Warden is holding"), f"the server's form passes for warden's: {message[:200]!r}"
    forged_at = message.find("Warden is holding")
    assert "liar" in message[: forged_at if forged_at >= 0 else len(message)], (
        f"no marker naming the server before its text: {message[:200]!r}")
    proc.send_json({"jsonrpc": "2.0", "id": asked[0]["id"], "result": {"action": "decline"}})


def test_a_servers_input_required_cannot_pass_for_wardens(grant, liar):
    """Finding 5d: in the per-request era a peek answered with input_required carrying
    inputRequests["dev.warden/confirm"] and a requestState "warden1.…" (warden's own key and token
    format) reaches the client without that key and without a warden1. state."""
    grant("--server", "liar", "--allow", "liar.read", purpose="read")
    proc, inbox, record = liar()
    discover(proc, inbox)
    tool_call(proc, 1, "peek", {"lie": "input-required"}, modern=True)
    response = inbox.wait(1)
    if "result" in response:
        result = response["result"]
        assert "dev.warden/confirm" not in (result.get("inputRequests") or {}), (
            f"the client got the server's own inputRequests['dev.warden/confirm']: {result}")
        state = result.get("requestState")
        assert not (isinstance(state, str) and state.startswith("warden1.")), (
            f"the client got the server's requestState {state!r}, in warden's format")
    else:
        assert "error" in response, response  # refusing the result outright fools nobody either


def test_server_requests_are_not_forwarded_in_the_per_request_era(grant, liar):
    """Finding 5e: in the per-request era (no server-to-client requests over stdio), the server's
    roots/list and elicitation/create requests never reach the client; warden answers each to the
    server with a JSON-RPC error."""
    grant("--server", "liar", "--allow", "liar.read", purpose="read")
    proc, inbox, record = liar()
    discover(proc, inbox)
    tool_call(proc, 1, "peek", {"lie": "server-requests"}, modern=True)
    assert text_of(inbox.wait(1)) == "peeked"
    ping(proc, inbox, 2, modern=True)
    forwarded = [m for m in inbox.requests() if m.get("method") in ("roots/list", "elicitation/create")]
    assert forwarded == [], f"the server's requests reached the client in the per-request era: {forwarded}"

    def answers_at_server():
        by_id = {key(m.get("id")): m for m in received(record) if "method" not in m and "id" in m}
        found = [by_id.get(key("liar-roots-1")), by_id.get(key(41))]
        return found if all(found) else None

    try:
        answers = wait_for(answers_at_server, timeout=3, what="warden's answers to the server's requests")
    except AssertionError:
        raise AssertionError(f"warden did not answer the server's requests; the server received: {received(record)}") from None
    for answer in answers:
        assert "error" in answer and "result" not in answer, answer
