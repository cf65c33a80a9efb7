"""Bad input: what warden answers, what it drops, and proof of what reached the server.

The server is servers/echo_raw.py with --record: every line it receives is recorded, and each answer
carries `n`, the number of lines the server has received so far. A rejected line that leaked through
would show up in the record and shift every later `n`.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from conftest import ECHO_RAW, assert_error, b64, python_server, recorded_lines

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_SERVER_MESSAGE = -32097


def request(id, method: str = "probe", **params) -> bytes:
    message = {"jsonrpc": "2.0", "id": id, "method": method}
    if params:
        message["params"] = params
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


@pytest.fixture
def echo(warden, tmp_path):
    """warden over a recording echo server: `proc, record = echo(options)`."""

    def start(options: list | None = None):
        record = tmp_path / "record"
        # Digests instead of echoed bytes: answers must stay short when --max-message is small.
        return warden(options or [], python_server(ECHO_RAW, "--record", record, "--digest-only")), record

    return start


def assert_echo(proc, id, n: int | None = None, sent: bytes | None = None) -> dict:
    """Reads the next line: the echo server's answer to request `id` (its n-th line, being `sent`)."""
    answer = proc.read_json()
    assert answer.get("id") == id and type(answer.get("id")) is type(id), f"expected the answer to {id!r}: {answer}"
    assert "result" in answer, answer
    if n is not None:
        assert answer["result"]["n"] == n, f"server saw {answer['result']['n']} lines, expected {n}: {answer}"
    if sent is not None:
        assert answer["result"]["len"] == len(sent), f"the server got {answer['result']['len']} bytes, not {sent!r}"
        assert answer["result"]["sha256"] == hashlib.sha256(sent).hexdigest(), f"the server got other bytes than {sent!r}"
    return answer


def check_rejected(echo, bad: bytes, code: int | None, id=None, ids: tuple | None = None, options=None):
    """good, bad, good: the bad line is answered with `code` (or not at all when None), never forwarded.

    The error must come before the second good line's answer: the second line is written only after
    the error was read (when an answer is expected) or after a quiet period (when none is).
    """
    proc, record = echo(options)
    first, second = request(1), request(2)
    proc.send(first)
    assert_echo(proc, 1, n=1, sent=first)
    proc.send(bad)
    if code is None:
        proc.expect_no_line(0.6)
    else:
        reply = proc.read_json()
        if ids is not None:  # more than one id is defensible; each listed one is
            assert reply.get("id") in ids, reply
            id = reply.get("id")
        assert_error(reply, code=code, id=id)
    proc.send(second)
    assert_echo(proc, 2, n=2, sent=second)
    proc.expect_no_line(0.2)
    assert recorded_lines(record) == [first, second]
    proc.close_stdin()
    assert proc.read_to_eof() == []
    assert proc.wait() == 0
    return proc


# --------------------------------------------------------------------------------------------------
# Not JSON, or not UTF-8: -32700 with id null

NOT_JSON = {
    "plain text": b"hello\n",
    "unterminated object": b'{"jsonrpc":"2.0","id":3,"method":"m"\n',
    "capture's broken line": b"{not json\n",
    "two values on a line": b'{"jsonrpc":"2.0","id":3,"method":"m"} {"jsonrpc":"2.0","id":4,"method":"m"}\n',
    "trailing comma": b'{"jsonrpc":"2.0","id":3,"method":"m",}\n',
    "single quotes": b"{'jsonrpc':'2.0','id':3,'method':'m'}\n",
    "bare word": b"nul\n",
    "NaN": b'{"jsonrpc":"2.0","id":3,"method":"m","params":{"x":NaN}}\n',
    "raw control character in a string": b'{"jsonrpc":"2.0","id":3,"method":"m\x01"}\n',
    "lone NUL byte": b"\x00\n",
}


@pytest.mark.parametrize("bad", list(NOT_JSON.values()), ids=list(NOT_JSON.keys()))
def test_not_json_is_a_parse_error_and_the_stream_continues(echo, bad):
    check_rejected(echo, bad, PARSE_ERROR, id=None)


INVALID_UTF8 = {
    "0xff byte": b'{"jsonrpc":"2.0","id":5,"method":"m\xff"}\n',
    "bad continuation": b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"s":"\xc3\x28"}}\n',
    "overlong slash": b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"s":"\xc0\xaf"}}\n',
    "encoded surrogate": b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"s":"\xed\xa0\x80"}}\n',
    "truncated sequence": b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"s":"\xe2\x82"}}\n',
    "beyond U+10FFFF": b'{"jsonrpc":"2.0","id":5,"method":"m","params":{"s":"\xf4\x90\x80\x80"}}\n',
    "latin-1 text": b'{"jsonrpc":"2.0","id":5,"method":"caf\xe9"}\n',
}


@pytest.mark.parametrize("bad", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8.keys()))
def test_invalid_utf8_is_a_parse_error(echo, bad):
    check_rejected(echo, bad, PARSE_ERROR, id=None)


# --------------------------------------------------------------------------------------------------
# JSON, but not a JSON-RPC 2.0 request: -32600 with the id when it can be read

NOT_JSONRPC = {
    "object without envelope": (b'{"foo":1}\n', None),
    "number": (b"42\n", None),
    "string": (b'"tools/list"\n', None),
    "null": (b"null\n", None),
    "true": (b"true\n", None),
    "missing jsonrpc": (b'{"id":5,"method":"tools/list"}\n', 5),
    "jsonrpc 1.0": (b'{"jsonrpc":"1.0","id":6,"method":"tools/list"}\n', 6),
    "jsonrpc as a number": (b'{"jsonrpc":2.0,"id":7,"method":"tools/list"}\n', 7),
    "method not a string": (b'{"jsonrpc":"2.0","id":8,"method":42}\n', 8),
    "method null, string id": (b'{"jsonrpc":"2.0","id":"s-9","method":null}\n', "s-9"),
    "null id": (b'{"jsonrpc":"2.0","id":null,"method":"tools/list"}\n', None),
    "boolean id": (b'{"jsonrpc":"2.0","id":true,"method":"tools/list"}\n', None),
    "object id": (b'{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}\n', None),
    "array id": (b'{"jsonrpc":"2.0","id":[1],"method":"tools/list"}\n', None),
}


@pytest.mark.parametrize(("bad", "id"), list(NOT_JSONRPC.values()), ids=list(NOT_JSONRPC.keys()))
def test_json_that_is_not_jsonrpc_is_an_invalid_request(echo, bad, id):
    check_rejected(echo, bad, INVALID_REQUEST, id=id)


BATCHES = {
    "batch of requests": b'[{"jsonrpc":"2.0","id":7,"method":"ping"},{"jsonrpc":"2.0","id":8,"method":"ping"}]\n',
    "batch of one": b'[{"jsonrpc":"2.0","id":7,"method":"tools/list"}]\n',
    "batch of notifications": b'[{"jsonrpc":"2.0","method":"notifications/initialized"}]\n',
    "empty batch": b"[]\n",
    "array of numbers": b"[1,2,3]\n",
}


@pytest.mark.parametrize("bad", list(BATCHES.values()), ids=list(BATCHES.keys()))
def test_batch_is_an_invalid_request_and_not_forwarded(echo, bad):
    check_rejected(echo, bad, INVALID_REQUEST, id=None)


DUPLICATES = {
    "method twice": (b'{"jsonrpc":"2.0","id":12,"method":"tools/list","method":"tools/call"}\n', (12,)),
    "jsonrpc twice": (b'{"jsonrpc":"2.0","jsonrpc":"2.0","id":13,"method":"tools/list"}\n', (13,)),
    "params twice": (b'{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{},"params":{"name":"x"}}\n', (14,)),
    # Which id would the answer carry? Either one, or none: the message is ambiguous by construction.
    "id twice": (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}\n', (None, 1, 2)),
    "same id twice": (b'{"jsonrpc":"2.0","id":15,"id":15,"method":"tools/list"}\n', (None, 15)),
    # A key spelled with an escape is the same key: "\u006dethod" is "method" (a smuggling attempt).
    "method twice, once escaped": (b'{"jsonrpc":"2.0","id":16,"method":"tools/list","\\u006dethod":"tools/call"}\n', (16,)),
    "result in a request": (b'{"jsonrpc":"2.0","id":17,"method":"m","result":{},"result":{}}\n', (17, None)),
}


@pytest.mark.parametrize(("bad", "ids"), list(DUPLICATES.values()), ids=list(DUPLICATES.keys()))
def test_duplicate_envelope_key_is_an_invalid_request_and_not_forwarded(echo, bad, ids):
    check_rejected(echo, bad, INVALID_REQUEST, ids=ids)


DROPPED = {
    "notification with method twice": b'{"jsonrpc":"2.0","method":"notifications/a","method":"notifications/b"}\n',
    "notification with params twice": b'{"jsonrpc":"2.0","method":"notifications/a","params":{},"params":{}}\n',
    "response with result and error": b'{"jsonrpc":"2.0","id":"srv-1","result":{},"error":{"code":1,"message":"x"}}\n',
    "response with result twice": b'{"jsonrpc":"2.0","id":"srv-2","result":{},"result":{}}\n',
    "error response with error twice": b'{"jsonrpc":"2.0","id":"srv-3","error":{"code":1,"message":"a"},"error":{"code":2,"message":"b"}}\n',
}


@pytest.mark.parametrize("bad", list(DROPPED.values()), ids=list(DROPPED.keys()))
def test_invalid_notification_or_response_from_client_is_dropped_silently(echo, bad):
    check_rejected(echo, bad, None)


# --------------------------------------------------------------------------------------------------
# Framing: blank lines, CR LF, long lines


def test_blank_lines_are_ignored_and_crlf_is_accepted(echo):
    proc, record = echo()
    proc.send(b"\n\r\n\n")
    proc.expect_no_line(0.5)
    crlf = b'{"jsonrpc":"2.0","id":20,"method":"m"}\r\n'
    proc.send(crlf)
    answer = proc.read_json()
    assert answer["id"] == 20
    # The request is forwarded with its own terminator, as received.
    assert answer["result"]["sha256"] == hashlib.sha256(crlf).hexdigest()
    assert [line for line in recorded_lines(record) if line.strip()] == [crlf]


def padded_request(id, size: int) -> bytes:
    """A valid request whose line, terminator included, is exactly `size` bytes."""
    skeleton = request(id, "m", pad="")
    line = request(id, "m", pad="x" * (size - len(skeleton)))
    assert len(line) == size
    return line


def test_line_longer_than_max_message_is_rejected_and_not_forwarded(echo):
    proc, record = echo(["--max-message", "1K"])
    small = padded_request(1, 900)  # under 1K whatever K means (1000 or 1024), terminator or not
    big = padded_request(2, 5000)
    after = request(3)
    proc.send(small)
    assert_echo(proc, 1, n=1, sent=small)
    proc.send(big)
    # The id is read from the line's first bytes, so the client can match the error to its request.
    assert_error(proc.read_json(), code=INVALID_REQUEST, id=2)
    proc.send(after)
    assert_echo(proc, 3, n=2, sent=after)
    assert recorded_lines(record) == [small, after]


def test_max_message_boundary_in_plain_bytes(echo):
    proc, record = echo(["--max-message", "1000"])
    fits = padded_request(1, 1000)  # 999 bytes and the newline: at most 1000 bytes either way
    too_long = padded_request(2, 1002)  # 1001 bytes and the newline: too long either way
    proc.send(fits)
    assert_echo(proc, 1, n=1, sent=fits)
    proc.send(too_long)
    assert_error(proc.read_json(), code=INVALID_REQUEST, id=2)
    proc.send(request(3))
    assert_echo(proc, 3, n=2)
    assert recorded_lines(record) == [fits, request(3)]


def test_huge_line_streamed_in_pieces_is_discarded(echo):
    """A 4 MiB line against --max-message 1K, written in slow pieces: one error, and the stream lives on."""
    proc, record = echo(["--max-message", "1K"])
    huge = padded_request(7, 4 * 1024 * 1024)
    started = time.monotonic()
    for offset in range(0, len(huge) - 1, 256 * 1024):
        proc.send(huge[offset : min(offset + 256 * 1024, len(huge) - 1)])
    proc.send(b"\n")
    assert_error(proc.read_json(timeout=20), code=INVALID_REQUEST, id=7)
    proc.send(request(8))
    assert_echo(proc, 8, n=1)
    assert recorded_lines(record) == [request(8)]
    assert time.monotonic() - started < 20


# --------------------------------------------------------------------------------------------------
# A mixed stream: order of everything that is forwarded is kept


def test_mixed_stream_keeps_order_and_forwards_only_valid_lines(echo):
    proc, record = echo(["--max-message", "1K"])
    good = [request(i) for i in range(1, 8)]
    bad = [
        (b"garbage\n", PARSE_ERROR),
        (b'[{"jsonrpc":"2.0","id":90,"method":"m"}]\n', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":91,"method":"m","method":"n"}\n', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":92,"method":"\xff"}\n', PARSE_ERROR),
        (padded_request(93, 3000), INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","method":"notifications/x","method":"y"}\n', None),
    ]
    notification = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    last = request(8)  # ids are never reused within a session; warden refuses an id still in flight
    stream = good[0]
    for (line, _), next_good in zip(bad, good[1:]):
        stream += line + next_good
    stream += notification + last
    proc.send(stream)  # one write: warden sees all of it at once

    expected_errors = [code for _, code in bad if code is not None]
    lines = [proc.read_json() for _ in range(len(good) + 1 + len(expected_errors))]
    proc.expect_no_line(0.3)
    answers = [m for m in lines if "result" in m]
    errors = [m for m in lines if "error" in m]
    # The server saw exactly the valid lines, in order: the n-th answer is its n-th line...
    assert [a["id"] for a in answers] == list(range(1, 9))
    assert [a["result"]["n"] for a in answers] == [1, 2, 3, 4, 5, 6, 7, 9]  # line 8 is the notification
    assert recorded_lines(record) == good + [notification, last]
    # ...and warden answered each bad request line once, in input order.
    assert [e["error"]["code"] for e in errors] == expected_errors
    assert [e["id"] for e in errors] == [None, None, 91, None, 93]


# --------------------------------------------------------------------------------------------------
# Bad lines from the server


def test_malformed_server_lines_never_reach_the_client(echo):
    proc, _ = echo(["--max-message", "1K"])
    junk = [
        b"not json\n",
        b"\xff\xfe{}\n",
        b'[{"jsonrpc":"2.0","method":"notifications/x"}]\n',
        b'{"jsonrpc":"2.0","method":"notifications/a","method":"notifications/b"}\n',
        b'{"foo":1}\n',
        b'{"jsonrpc":"1.0","method":"notifications/x"}\n',
        b'{"jsonrpc":"2.0","method":"notifications/long","params":{"pad":"@PAD@"}}\n',  # 3000 bytes
        b'{"jsonrpc":"2.0","id":"nobody","result":{},"error":{"code":1,"message":"x"}}\n',
    ]
    valid = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"still here"}}\n'
    proc.send(request(30, "emit", pad=3000, lines_b64=[b64(line) for line in junk + [valid]]))
    assert proc.readline() == valid
    assert_echo(proc, 30)
    proc.expect_no_line(0.3)
    # The relay keeps going in both directions afterwards.
    proc.send(request(31))
    assert_echo(proc, 31)


INVALID_ANSWERS = {
    "result and error": b'{"jsonrpc":"2.0","id":40,"result":{},"error":{"code":1,"message":"x"}}\n',
    "result twice": b'{"jsonrpc":"2.0","id":40,"result":{"a":1},"result":{"a":2}}\n',
    "id twice": b'{"jsonrpc":"2.0","id":40,"id":40,"result":{}}\n',
    "jsonrpc 1.0": b'{"jsonrpc":"1.0","id":40,"result":{}}\n',
    "neither result nor error": b'{"jsonrpc":"2.0","id":40}\n',
}


@pytest.mark.parametrize("line", list(INVALID_ANSWERS.values()), ids=list(INVALID_ANSWERS.keys()))
def test_invalid_server_answer_becomes_32097_for_that_request(echo, line):
    proc, _ = echo()
    proc.send(request(40, "respond_raw", line_b64=b64(line)))
    error = assert_error(proc.read_json(), code=INVALID_SERVER_MESSAGE, id=40, reason="invalid-server-message")
    assert error["message"]
    proc.expect_no_line(0.3)
    proc.send(request(41))
    assert_echo(proc, 41)


def test_server_answer_longer_than_max_message_becomes_32097(echo):
    proc, _ = echo(["--max-message", "1K"])
    long_answer = b'{"jsonrpc":"2.0","id":42,"result":{"pad":"@PAD@"}}\n'
    proc.send(request(42, "respond_raw", pad=5000, line_b64=b64(long_answer)))
    assert_error(proc.read_json(), code=INVALID_SERVER_MESSAGE, id=42, reason="invalid-server-message")
    proc.expect_no_line(0.3)
    proc.send(request(43))
    assert_echo(proc, 43)
