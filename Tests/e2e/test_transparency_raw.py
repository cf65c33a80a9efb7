"""Transparency at the byte level: warden forwards valid messages exactly as received, both ways.

No SDK here: the tests write lines to warden's stdin and read its stdout, and the fixture server
(servers/echo_raw.py) records every line it receives and can send arbitrary lines back. A second set
of tests replays the client side of the recorded real sessions in fixtures/mcp-captures (or
$MCP_CAPTURES) against the real servers, directly and through warden, and compares the server's
output byte for byte.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

from conftest import (
    ECHO_MANIFEST,
    ECHO_RAW,
    MISSING,
    SUMMARY_START,
    b64,
    child_env,
    DESTRUCTIVE,
    GIT_ACTIONS,
    TIME_ACTIONS,
    expected_marks,
    python_server,
    recorded_lines,
    strip_handshake,
    strip_tool_list,
)

# Client -> server lines that are valid JSON-RPC but unusual in every way a re-encoder would change.
ODD_CLIENT_LINES = [
    # Key order: envelope keys last, nested keys unsorted.
    b'{"params":{"name":"x","arguments":{"z":1,"a":2,"m":[3,2,1]}},"method":"tools/call","id":1,"jsonrpc":"2.0"}\n',
    # Whitespace everywhere JSON allows it, including tabs, leading and trailing blanks.
    b' \t{ "jsonrpc" : "2.0" ,\t"id" : 2 , "method" : "m",  "params" : { "a" : [ 1 , 2 ,3 ] , "b":{ } } }   \n',
    # Escapes a re-encoder would normalize: \u escapes, a surrogate pair, \/ and raw UTF-8.
    b'{"jsonrpc":"2.0","id":3,"method":"m","params":{"s":"\\u00e9\\ud83d\\ude00\\/\\\\\\"\\b\\f\\n\\r\\t","raw":"\xc3\xa9\xf0\x9f\x98\x80/"}}\n',
    # Numbers: beyond 64 bits, negative beyond 64 bits, 1.0, exponents, negative zero, subnormal.
    b'{"jsonrpc":"2.0","id":4,"method":"m","params":{"big":123456789012345678901234567890,'
    b'"neg":-98765432109876543210,"f":1.0,"e":1E+2,"e2":2.50e-3,"z":-0.0,"tiny":5e-324,"i":10}}\n',
    # Unknown fields at the top level and inside params, with every literal.
    b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"_meta":{"x.y/z":[true,false,null]}},"unknownTop":{"k":null}}\n',
    # A notification (no answer), then a request with a string id.
    b'{"jsonrpc":"2.0","method":"notifications/custom","params":{"f":2.50,"g":[]}}\n',
    b'{"jsonrpc":"2.0","id":"request-\xc3\xa9-7","method":"m"}\n',
    # A CRLF terminator: forwarded with the terminator as received.
    b'{"jsonrpc":"2.0","id":8,"method":"m"}\r\n',
    # A future protocol method and version, a huge id.
    b'{"jsonrpc":"2.0","id":18446744073709551616,"method":"future/thing","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"}}}\n',
]


def echo_request_ids(lines: list[bytes]) -> list:
    ids = []
    for line in lines:
        message = json.loads(line)
        if "id" in message:
            ids.append(message["id"])
    return ids


def test_client_lines_reach_the_server_byte_for_byte(warden, grant, tmp_path):
    record = tmp_path / "record"
    # The first line is a tools/call of tool "x": declared by the fixture manifest and granted, so
    # warden lets it through (and must forward it as the exact bytes received, like every other line).
    grant("--server", "echo", "--allow", "fixture.echo", purpose="the transparency test calls tool x")
    proc = warden(["--manifest", ECHO_MANIFEST], python_server(ECHO_RAW, "--record", record))
    for line in ODD_CLIENT_LINES:
        proc.send(line)
    answers = [proc.read_json() for _ in echo_request_ids(ODD_CLIENT_LINES)]

    # Each request is answered once, in order, and the server's copy is the exact bytes sent.
    requests = [line for line in ODD_CLIENT_LINES if "id" in json.loads(line)]
    assert [a["id"] for a in answers] == echo_request_ids(ODD_CLIENT_LINES)
    for sent, answer in zip(requests, answers):
        assert base64.b64decode(answer["result"]["received_b64"]) == sent
    # Everything, the notification included, arrived exactly once, in order, nothing in between.
    assert recorded_lines(record) == ODD_CLIENT_LINES
    proc.close_stdin()
    assert proc.read_to_eof() == []
    assert proc.wait() == 0


def test_client_line_split_across_writes_is_forwarded_whole(warden, tmp_path):
    """A line arriving in pieces (pipe writes split mid-token and mid UTF-8 sequence) is one message."""
    import time

    record = tmp_path / "record"
    proc = warden([], python_server(ECHO_RAW, "--record", record))
    line = '{"jsonrpc":"2.0","id":41,"method":"m","params":{"text":"zażółć gęślą jaźń","n":1.0}}\n'.encode()
    cut = line.index("ż".encode()) + 1  # inside a two-byte sequence
    for piece in (line[:7], line[7:cut], line[cut:-1], line[-1:]):
        proc.send(piece)
        time.sleep(0.05)
    answer = proc.read_json()
    assert answer["id"] == 41
    assert base64.b64decode(answer["result"]["received_b64"]) == line
    assert recorded_lines(record) == [line]


# Server -> client lines: odd notifications and a server-initiated request, sent unprompted.
ODD_SERVER_LINES = [
    b'{"method":"notifications/message","jsonrpc":"2.0","params":{"level":"info","data":{"b":1.0,"a":123456789012345678901234567890}}}\n',
    b'  {"jsonrpc" : "2.0", "method":"notifications/progress" ,"params":{"progressToken":"t","progress":0.50,"total":1E0}}\t\n',
    b'{"jsonrpc":"2.0","method":"notifications/x","params":{"s":"\\u00e9\\/\xc3\xa9"},"extra":[null]}\r\n',
    b'{"jsonrpc":"2.0","id":"srv-1","method":"roots/list","params":{"_meta":{}}}\n',
]


def test_server_lines_reach_the_client_byte_for_byte(warden, tmp_path):
    record = tmp_path / "record"
    proc = warden([], python_server(ECHO_RAW, "--record", record))
    emit = {"jsonrpc": "2.0", "id": 10, "method": "emit", "params": {"lines_b64": [b64(x) for x in ODD_SERVER_LINES]}}
    proc.send_json(emit)
    for expected in ODD_SERVER_LINES:
        assert proc.readline() == expected
    assert proc.read_json()["id"] == 10

    # The client answers the server's request in an odd shape: the server gets exactly those bytes.
    reply = b'{"result":{"roots":[]} ,"id":"srv-1","jsonrpc":"2.0","x-extra":1.0}\n'
    proc.send(reply)
    proc.send_json({"jsonrpc": "2.0", "id": 11, "method": "m"})
    assert proc.read_json()["id"] == 11
    assert recorded_lines(record)[1] == reply

    # A response to a client request, written by the server in an odd shape, reaches the client as is.
    odd_answer = (
        b'{ "result" : {"f":1.0,"big":-123456789012345678901234567890,"s":"\\u00e9\\ud83d\\ude00"},'
        b' "id" :12,"jsonrpc":"2.0","zz":null}\r\n'
    )
    proc.send_json({"jsonrpc": "2.0", "id": 12, "method": "respond_raw", "params": {"line_b64": b64(odd_answer)}})
    assert proc.readline() == odd_answer
    odd_error = b'{"jsonrpc":"2.0","error":{"data":{"x":[1.0]},"message":"nope \\u2013 no","code":-32001},"id":"e\\u0031"}\n'
    proc.send_json({"jsonrpc": "2.0", "id": "e1", "method": "respond_raw", "params": {"line_b64": b64(odd_error)}})
    assert proc.readline() == odd_error
    proc.close_stdin()
    assert proc.read_to_eof() == []
    assert proc.wait() == 0


# Valid JSON values that strict or lossy parsers mishandle. Each must pass through untouched: the
# checks in SPEC.md ask only for UTF-8, one JSON value, an object, and the JSON-RPC envelope.
EDGE_VALUES = {
    "nested duplicate keys (not envelope keys)": b'{"a":1,"a":2}',
    "escaped NUL in a string": b'"before\\u0000after"',
    "number beyond double range": b"1e400",
    "many digits": b"3.14159265358979323846264338327950288419716939937510582097494459",
    "deep nesting (100 levels)": b"[" * 100 + b"]" * 100,
    "unicode noncharacter and BOM in a string": '"\ufffe\ufeff\U0010ffff"'.encode(),
    "empty key": b'{"":0}',
}


@pytest.mark.parametrize("value", list(EDGE_VALUES.values()), ids=list(EDGE_VALUES.keys()))
def test_valid_json_edge_values_pass_through(warden, tmp_path, value):
    record = tmp_path / "record"
    proc = warden([], python_server(ECHO_RAW, "--record", record))
    request = b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"v":' + value + b"}}\n"
    proc.send(request)
    answer = proc.read_json()
    assert answer.get("id") == 1, f"{answer}"
    assert base64.b64decode(answer["result"]["received_b64"]) == request

    # And the same value from the server side, in a response.
    response = b'{"jsonrpc":"2.0","id":2,"result":{"v":' + value + b"}}\n"
    proc.send_json({"jsonrpc": "2.0", "id": 2, "method": "respond_raw", "params": {"line_b64": b64(response)}})
    assert proc.readline() == response
    assert recorded_lines(record)[0] == request


def test_number_and_string_ids_are_distinct_and_unchanged(warden, tmp_path):
    """Ids 1 and "1", a negative and an empty string: each answer keeps its id and its type."""
    proc = warden([], python_server(ECHO_RAW))
    lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"m"}\n',
        b'{"jsonrpc":"2.0","id":"1","method":"m"}\n',
        b'{"jsonrpc":"2.0","id":-7,"method":"m"}\n',
        b'{"jsonrpc":"2.0","id":"","method":"m"}\n',
    ]
    for line in lines:
        proc.send(line)
    got = [proc.read_json()["id"] for _ in lines]
    assert got == [1, "1", -7, ""] and [type(i) for i in got] == [int, str, int, str]


# --------------------------------------------------------------------------------------------------
# Replay of recorded real sessions against the real servers

CAPTURES = Path(os.environ.get("MCP_CAPTURES", Path(__file__).resolve().parent / "fixtures" / "mcp-captures"))
CAPTURED_REPO = "/home/user/project"
ISO_DATETIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")
REPLAYS = [
    ("git-legacy-2025-11-25.jsonl", "git"),
    ("git-legacy-edgecases.jsonl", "git"),
    ("git-modern-2026-07-28.jsonl", "git"),
    ("time-legacy-2025-11-25.jsonl", "time"),
    ("time-modern-2026-07-28.jsonl", "time"),
    ("time-modern-edgecases.jsonl", "time"),
]


def client_lines(capture: Path, repo: Path) -> list[bytes]:
    """The client's lines of a capture that are valid JSON-RPC messages, pointed at `repo`.

    Lines that warden must answer itself (not JSON, batches) are left out: with them the two runs
    differ by design (mcp-server-git answers them with nothing, warden with an error), and that is
    covered by test_bad_input.py.
    """
    lines = []
    for row in capture.read_text().splitlines():
        entry = json.loads(row)
        if entry["dir"] != "c2s" or not isinstance(entry.get("msg"), dict):
            continue
        lines.append(entry["raw"].replace(CAPTURED_REPO, str(repo)).encode() + b"\n")
    return lines


def replay(spawn_proc, lines: list[bytes]) -> list[bytes]:
    """Sends each line, waiting for the answer to each request; returns everything the server side wrote."""
    out = []
    for line in lines:
        spawn_proc.send(line)
        message = json.loads(line)
        if "id" not in message or "method" not in message:
            continue
        while True:
            answer = spawn_proc.readline(timeout=20)
            out.append(answer)
            parsed = json.loads(answer)
            if parsed.get("id") == message["id"] and "method" not in parsed:
                break
    spawn_proc.close_stdin()
    out.extend(spawn_proc.read_to_eof(timeout=20))
    return out


# Calls in the captures that warden denies by design, whatever the grants: their answers come from
# warden, not from the server (how such calls are denied is covered by test_delegation.py).
DENIED_BY_DESIGN = {
    "git-legacy-edgecases.jsonl": {3: "undeclared", 4: "bad-arguments"},  # no_such_tool; git_status {}
}
# Responses warden amends (documented in ResultAmender); everything else must pass byte for byte.
AMENDED_METHODS = {"initialize", "server/discover", "tools/list"}
def answered_id(line: bytes):
    message = json.loads(line)
    return message.get("id", None) if "method" not in message else None


@pytest.mark.parametrize(("capture", "server"), REPLAYS, ids=[name for name, _ in REPLAYS])
def test_replayed_session_is_byte_identical(
    spawn, warden_bin, grant, git_server_bin, time_server_bin, git_repo, capture, server
):
    """The captured client replayed directly and through warden (with a grant covering every call the
    capture makes): the server's output reaches the client byte for byte, except warden's documented
    amendments (initialize / server/discover / tools/list results) and the calls warden denies by
    design; with those amendments removed, the amended results are the server's own, keys in order."""
    path = CAPTURES / capture
    if not path.exists():
        pytest.skip(f"capture {path} not available")
    lines = client_lines(path, git_repo)
    assert lines, f"no client lines in {path}"
    if server == "git":
        command = [git_server_bin, "--repository", str(git_repo)]
        grant("--server", "git", "--allow", "git.**", purpose="replay a captured git session")
        actions = GIT_ACTIONS
    else:
        command = [time_server_bin, "--local-timezone", "UTC"]
        grant("--server", "time", "--allow", "time.**", purpose="replay a captured time session")
        actions = TIME_ACTIONS
    methods = {}
    for line in lines:
        message = json.loads(line)
        if "id" in message and "method" in message:
            methods.setdefault(json.dumps(message["id"]), message["method"])
    denied = {json.dumps(id): reason for id, reason in DENIED_BY_DESIGN.get(capture, {}).items()}

    env = child_env()
    direct_proc = spawn(command, env=env)
    direct = replay(direct_proc, lines)
    direct_status = direct_proc.wait(timeout=15)
    proxied_proc = spawn([warden_bin, "run", "--", *command], env=env)
    proxied = replay(proxied_proc, lines)
    proxied_status = proxied_proc.wait(timeout=15)

    if server == "time":
        # The current time legitimately differs between the two runs (and only it): mask it.
        direct = [ISO_DATETIME.sub(b"<now>", line) for line in direct]
        proxied = [ISO_DATETIME.sub(b"<now>", line) for line in proxied]
    assert len(direct) >= sum(1 for line in lines if '"method"' in line.decode() and '"id"' in line.decode())

    # The calls denied by design: warden's own tool results through warden, the server's answer directly.
    denials = [line for line in proxied if json.dumps(answered_id(line)) in denied]
    assert len(denials) == len(denied), denials
    for line in denials:
        message = json.loads(line)
        assert message["result"]["isError"] is True, message
        decision = message["result"]["_meta"]["dev.warden/decision"]
        assert decision["reason"] == denied[json.dumps(message["id"])], decision
    proxied = [line for line in proxied if line not in denials]
    direct = [line for line in direct if json.dumps(answered_id(line)) not in denied]

    assert len(proxied) == len(direct), (proxied, direct)
    amended_seen = 0
    for through, server_line in zip(proxied, direct):
        method = methods.get(json.dumps(answered_id(server_line)))
        if method not in AMENDED_METHODS or "result" not in json.loads(server_line):
            assert through == server_line
            continue
        amended_seen += 1
        original = json.loads(server_line)
        message = json.loads(through)
        assert list(message) == ["jsonrpc", "id", "result"] and message["id"] == original["id"], message
        if method == "tools/list":
            stripped, marks = strip_tool_list(message["result"])
            assert marks == {
                name: expected_marks("needs-confirmation" if name in DESTRUCTIVE else "delegated", actions[name])
                for name in actions
            }
        else:
            tools = original["result"].get("capabilities", {}).get("tools", {})
            stripped, amendments = strip_handshake(message["result"], tools.get("listChanged", MISSING))
            assert amendments["listChanged"] is True, amendments
            assert amendments["summary"].startswith(f"{SUMMARY_START} ('{server}')"), amendments
            assert "replay a captured" in amendments["summary"], amendments
        # Only the amendments differ: same members in the same order (json.dumps keeps the order).
        assert json.dumps(stripped, ensure_ascii=False) == json.dumps(original["result"], ensure_ascii=False)
    # Every capture but the modern time edge cases (whose discover is refused) opens with a handshake.
    assert amended_seen >= (0 if capture == "time-modern-edgecases.jsonl" else 1)
    assert (direct_status, proxied_status) == (0, 0)
