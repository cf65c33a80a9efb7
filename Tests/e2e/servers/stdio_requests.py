"""The stdin loop the raw fixture servers share: one JSON-RPC message a line; each line read is
appended first, as it arrived, to the record file when there is one (so a test can tell exactly what
reached the server); every request (a message with an id and a method) goes to `handle`; anything
else is ignored."""

import json
import sys


def serve_requests(handle, record_path=None) -> int:
    record = open(record_path, "ab", buffering=0) if record_path else None
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        if record is not None:
            record.write(line)
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and "id" in message and "method" in message:
            handle(message)
