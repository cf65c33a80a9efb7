#!/usr/bin/env python3
"""A byte-recording JSON-RPC fixture server for warden's end-to-end tests (stdlib only).

Every line that reaches stdin is recorded, byte for byte, and a request is answered with what was
received, so a test can prove exactly which bytes warden forwarded, in which order, and that a line
warden had to reject never arrived.

    echo_raw.py [--record FILE] [--stderr TEXT] [--digest-only]

Per line read from stdin (terminator included):
  * ``--record FILE``: the line is appended to FILE as one base64 line (flushed at once).
  * A line that is not a JSON object with both ``id`` and ``method`` gets no answer (notifications,
    responses, garbage).
  * ``method == "emit"``: each entry of ``params.lines_b64`` is decoded and written to stdout verbatim
    (the test supplies terminators), then the request is answered as below. This is how a test makes
    the *server* send odd, malformed or unsolicited lines. ``@PAD@`` in a line is replaced by
    ``params.pad`` times ``x`` (long lines without a long request).
  * ``method == "respond_raw"``: ``params.line_b64`` is decoded and written verbatim as the whole
    answer (the test makes it a response to this request, or not); ``@PAD@`` as for emit.
  * ``method == "exit"``: exits with ``params.status`` without answering.
  * Any other request is answered with
    ``{"jsonrpc":"2.0","id":<id>,"result":{"n":<lines received so far>,"len":<bytes>,
    "sha256":<hex digest of the line>,"received_b64":<the line>}}``; ``--digest-only`` leaves out
    ``received_b64``, keeping answers short for tests with a small ``--max-message``.
"""

import argparse
import base64
import hashlib
import json
import os
import sys


def write(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def answered_as_warden_listing(line: bytes) -> bool:
    """Warden lists a server's tools itself (ids `warden-lookup-...`) before the first call of a
    client that did not: answered with the tool the tests call, and neither recorded nor counted, so the tests see
    exactly the client's lines."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not (isinstance(message, dict) and message.get("method") == "tools/list"
            and str(message.get("id", "")).startswith("warden-lookup-")):
        return False
    tools = [{"name": "x", "inputSchema": {"type": "object"}}]  # the tool of fixtures/manifests/echo.yaml
    write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {"tools": tools}}).encode() + b"\n")
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record")
    parser.add_argument("--stderr")
    parser.add_argument("--digest-only", action="store_true")
    options = parser.parse_args()

    if options.stderr is not None:
        os.write(2, options.stderr.encode() + b"\n")

    record = open(options.record, "ab", buffering=0) if options.record else None
    stdin = sys.stdin.buffer
    count = 0
    while True:
        line = stdin.readline()
        if not line:
            return 0
        if answered_as_warden_listing(line):
            continue
        count += 1
        if record is not None:
            record.write(base64.b64encode(line) + b"\n")
        try:
            message = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(message, dict) or "id" not in message or "method" not in message:
            continue
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        method = message["method"]
        if method == "exit":
            return int(params.get("status", 0))
        if method == "respond_raw":
            write(base64.b64decode(params["line_b64"]).replace(b"@PAD@", b"x" * int(params.get("pad", 0))))
            continue
        if method == "emit":
            padding = b"x" * int(params.get("pad", 0))
            for encoded in params.get("lines_b64", []):
                write(base64.b64decode(encoded).replace(b"@PAD@", padding))
        answer = {
            "jsonrpc": "2.0",
            "id": message["id"],
            "result": {"n": count, "len": len(line), "sha256": hashlib.sha256(line).hexdigest()},
        }
        if not options.digest_only:
            answer["result"]["received_b64"] = base64.b64encode(line).decode("ascii")
        write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")


if __name__ == "__main__":
    sys.exit(main())
