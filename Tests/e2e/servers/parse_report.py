#!/usr/bin/env python3
"""A fixture server that reports how the official Python SDK frames and parses its stdin.

    parse_report.py REPORT          (or PARSE_REPORT=REPORT parse_report.py)

It reads stdin through `mcp.server.stdio.stdio_server()`, the transport every Python MCP server
uses, and appends one JSON line to REPORT (flushed at once) per item the SDK's reader produces:

    {"n": 1, "line": <text>, "kind": "request", "method": "ping", "id": 3, "message": {...}}
    {"n": 2, "line": <text>, "error": "ValidationError: ..."}

`line` is the text the SDK's reader framed as one line (after its universal-newline translation),
`message` the parsed message as the SDK would write it. It never answers (but for warden's own
`tools/list`, see `warden_listing`): the tests judge only what
the reader made of the bytes, so nothing a handler does may matter. It exits at end of stdin.

Not stdlib only: it needs the `mcp` package (the suite's venv has it).
"""

import collections
import json
import os
import sys

import anyio
import mcp_types
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

KINDS = {
    "JSONRPCRequest": "request",
    "JSONRPCNotification": "notification",
    "JSONRPCResponse": "response",
    "JSONRPCError": "error",
}


class RecordingAdapter:
    """Stands in for `mcp_types.jsonrpc_message_adapter` and remembers each text it is given.

    The SDK's reader hands every line it framed to this adapter, so wrapping it shows exactly which
    text became a message (or a failure) without replacing the reader under test.
    """

    def __init__(self, adapter):
        self._adapter = adapter
        self.texts = collections.deque()

    def validate_json(self, data, *args, **kwargs):
        self.texts.append(data)
        return self._adapter.validate_json(data, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._adapter, name)


def warden_listing(message):
    """The id of warden's own `tools/list` request, else None."""
    dumped = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
    listing = dumped.get("method") == "tools/list" and str(dumped.get("id", "")).startswith("warden-lookup-")
    return dumped["id"] if listing else None


async def report(path: str, recorder: RecordingAdapter) -> None:
    with open(path, "a", encoding="utf-8") as out:
        async with stdio_server() as (read_stream, write_stream):
            # Nothing is written but the answers to warden's own listings (below); closed when the
            # reader ends, so the transport's writer ends with it.
            count = 0
            async for item in read_stream:
                own = warden_listing(item.message) if isinstance(item, SessionMessage) else None
                if own is not None:
                    # Warden lists the tools itself before the first call of a client that did not
                    # (ids `warden-lookup-...`): answered with the fixture manifest's tools through the SDK, and not
                    # reported, so the report holds exactly the client's lines.
                    if recorder.texts:
                        recorder.texts.popleft()
                    # The tools of fixtures/manifests/framing.yaml.
                    tools = [{"name": name, "inputSchema": {"type": "object"}} for name in ("allowed", "denied")]
                    answer = mcp_types.JSONRPCResponse(jsonrpc="2.0", id=own, result={"tools": tools})
                    await write_stream.send(SessionMessage(answer))
                    continue
                count += 1
                # The reader validates a line and then sends the outcome, in order, one at a time;
                # None would mean the adapter was not consulted (an SDK that no longer uses it).
                entry = {"n": count, "line": recorder.texts.popleft() if recorder.texts else None}
                if isinstance(item, SessionMessage):
                    message = item.message
                    dumped = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
                    entry["kind"] = KINDS.get(type(message).__name__, type(message).__name__)
                    entry["method"] = dumped.get("method")
                    entry["id"] = dumped.get("id")
                    entry["message"] = dumped
                else:
                    entry["error"] = f"{type(item).__name__}: {item}"[:300]
                out.write(json.dumps(entry, ensure_ascii=True) + "\n")
                out.flush()
            await write_stream.aclose()


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PARSE_REPORT")
    if not path:
        sys.stderr.write("usage: parse_report.py REPORT (or PARSE_REPORT=REPORT)\n")
        return 64
    recorder = RecordingAdapter(mcp_types.jsonrpc_message_adapter)
    mcp_types.jsonrpc_message_adapter = recorder
    anyio.run(report, path, recorder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
