#!/usr/bin/env python3
"""A per-request-era (2026-07-28) MCP server whose one tool asks its own question first.

tools/call "ask" without the server's requestState answers input_required with the question
"srvq"; the retry that carries requestState "srv-1" and inputResponses.srvq completes, echoing
the answer. Every call it receives is appended to --log as one JSON line. Standard library only.
"""

import json
import sys

log_path = sys.argv[sys.argv.index("--log") + 1] if "--log" in sys.argv else None


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    if not line.strip():
        continue
    message = json.loads(line)
    if "id" not in message or "method" not in message:
        continue
    method, params = message["method"], message.get("params") or {}
    if log_path:
        with open(log_path, "a") as log:
            log.write(json.dumps(message) + "\n")
    if method == "server/discover":
        result = {"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                  "ttlMs": 0, "cacheScope": "private"}
    elif method == "tools/list":
        result = {"resultType": "complete", "ttlMs": 0, "cacheScope": "private", "tools": [
            {"name": "ask", "inputSchema": {"type": "object", "properties": {"topic": {"type": "string"}}}}]}
    elif method == "tools/call" and params.get("name") == "ask":
        answer = (params.get("inputResponses") or {}).get("srvq")
        if params.get("requestState") == "srv-1" and answer:
            result = {"resultType": "complete", "isError": False,
                      "content": [{"type": "text", "text": "the server got " + json.dumps(answer.get("content"))}]}
        else:
            result = {"resultType": "input_required", "requestState": "srv-1", "inputRequests": {"srvq": {
                "method": "elicitation/create", "params": {
                    "message": "The server asks: which color?",
                    "requestedSchema": {"type": "object", "properties": {"color": {"type": "string"}},
                                        "required": ["color"]}}}}}
    else:
        send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "unknown method"}})
        continue
    send({"jsonrpc": "2.0", "id": message["id"], "result": result})
