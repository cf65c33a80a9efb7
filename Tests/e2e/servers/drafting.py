#!/usr/bin/env python3
"""A fixture server for `warden manifest init` (standard library only).

    drafting.py [--era per-request|handshake] [--pages N] [--tools normal|hostile|none]
                [--silent] [--log FILE]

--era per-request (default) speaks only the 2026-07-28 revision: server/discover, and every request
must carry params._meta["io.modelcontextprotocol/protocolVersion"]; `initialize` is an unknown method.
--era handshake speaks only the initialize handshake: server/discover is an unknown method, and
tools/list before initialize is refused.
--pages N splits tools/list into N pages (nextCursor).
--tools hostile lists tools whose names, descriptions and argument names try to break a YAML draft.
--silent reads every line and answers none.
--log FILE appends each method received, one a line.
"""

import argparse
import json
import sys

ENVELOPE = "io.modelcontextprotocol/protocolVersion"

NORMAL = [
    {"name": "read_note", "description": "Read one note.\nSecond line.",
     "annotations": {"readOnlyHint": True},
     "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
    {"name": "delete_note", "description": "Delete a note for good.",
     "annotations": {"readOnlyHint": False, "destructiveHint": True},
     "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
    {"name": "write_file", "description": "Write a file.",
     "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                     "required": ["path", "content"]}},
    {"name": "share_page", "description": "Share a web page by e-mail.",
     "annotations": {"destructiveHint": False},
     "inputSchema": {"type": "object",
                     "properties": {"url": {"type": "string", "format": "uri"},
                                    "email": {"type": "string"}, "note": {"type": "string"}},
                     "required": ["url"]}},
]

HOSTILE = [
    {"name": "evil\nname", "description": "a name with a newline",
     "inputSchema": {"type": "object", "properties": {}}},
    {"name": "x: {y: 1}", "description": "ok\u2028  injected: true\ntools:\n  pwn:\n    action: a.b",
     "annotations": {"readOnlyHint": True},
     "inputSchema": {"type": "object", "properties": {"a.b": {"type": "string"}, "{x}": {"type": "string"}}}},
    {"name": "# not a comment", "description": "\u202eeman lanigiro\u202c \x1b[31mred\x1b[0m",
     "annotations": {"readOnlyHint": "yes"},
     "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}},
    {"name": "true", "description": "\"quoted\" 'single' \\ backslash #hash",
     "annotations": {"readOnlyHint": True},
     "inputSchema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}},
    {"name": "true", "description": "listed twice",
     "inputSchema": {"type": "object", "properties": {}}},
    {"name": "caf\u00e9_ordering", "description": "non-ASCII name",
     "inputSchema": {"type": "object", "properties": {}}},
    {"description": "no name at all", "inputSchema": {"type": "object"}},
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--era", choices=["per-request", "handshake"], default="per-request")
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--tools", choices=["normal", "hostile", "none"], default="normal")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--log")
    options = parser.parse_args()
    tools = {"normal": NORMAL, "hostile": HOSTILE, "none": []}[options.tools]
    pages = max(1, options.pages)
    size = max(1, -(-len(tools) // pages))
    initialized = False

    def send(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def error(request_id, code, text):
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}})

    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method = message.get("method")
        if options.log:
            with open(options.log, "a") as log:
                log.write(f"{method}\n")
        if options.silent or "id" not in message or method is None:
            continue
        request_id = message["id"]
        params = message.get("params") or {}
        enveloped = ENVELOPE in (params.get("_meta") or {})
        if options.era == "per-request":
            if method == "server/discover":
                send({"jsonrpc": "2.0", "id": request_id, "result": {
                    "resultType": "complete", "supportedVersions": ["2026-07-28"],
                    "capabilities": {"tools": {}}, "ttlMs": 0, "cacheScope": "private"}})
                continue
            if method != "tools/list":
                error(request_id, -32601, "Method not found")
                continue
            if not enveloped:
                error(request_id, -32600, "missing protocol version in _meta")
                continue
        else:
            if method == "initialize":
                initialized = True
                send({"jsonrpc": "2.0", "id": request_id, "result": {
                    "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                    "serverInfo": {"name": "drafting", "version": "0"}}})
                continue
            if method != "tools/list":
                error(request_id, -32601, "Method not found")
                continue
            if not initialized:
                error(request_id, -32600, "not initialized")
                continue
        start = int(params.get("cursor") or 0)
        page = tools[start:start + size]
        result = {"tools": page}
        if start + size < len(tools):
            result["nextCursor"] = str(start + size)
        if options.era == "per-request":
            result.update({"resultType": "complete", "ttlMs": 0, "cacheScope": "private"})
        send({"jsonrpc": "2.0", "id": request_id, "result": result})


if __name__ == "__main__":
    main()
