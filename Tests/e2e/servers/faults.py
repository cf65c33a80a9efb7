#!/usr/bin/env python3
"""A fixture MCP server for warden's fault tests (stdlib only), with its manifest in
fixtures/manifests/faults.yaml (server `faults`).

    faults.py [--record FILE] [--seed N]

Requests (newline-delimited JSON-RPC on stdin):
  initialize, server/discover, tools/list, ping   minimal answers
  tools/call with params.name =
    work  {"n": N, "max_delay": S}   answers "work N" after a random delay in [0, S] seconds (default
          {"n": N, "delay": S}       0.05), or after exactly `delay` seconds, from a thread: answers
                                     leave in any order
    wipe  {"target": T}              answers "wiped T" at once (destructive in the manifest: held)
    half  {"cut": K, "then": "exit"|"kill", "status": N, "signal": N, "pause": S}
                                     writes the first K bytes (default: half) of its own answer, with no
                                     line terminator, waits `pause` seconds (default 0.2), then exits
                                     with `status` (default 3) or kills itself with `signal` (default
                                     9): a crash in the middle of a response
    hang  {}                         never answers
    deaf  {}                         stops reading stdin for good (never answers): a server that
                                     stalls, so warden's writes to it block once its pipe is full
  anything else with an id           error -32601

--record FILE: every line read from stdin is appended to FILE as it arrived (terminator included),
unbuffered, before it is acted on, so a test can tell exactly which calls reached the server and in
which order. --seed N seeds the random delays (reproducible interleavings).
"""

import argparse
import json
import os
import random
import signal
import sys
import threading
import time

from stdio_requests import serve_requests

write_lock = threading.Lock()


def write(data: bytes) -> None:
    with write_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def send(message: dict) -> None:
    write(encode(message) + b"\n")


def text_result(request_id, text: str) -> dict:
    return {"jsonrpc": "2.0", "id": request_id,
            "result": {"content": [{"type": "text", "text": text}], "isError": False}}


TOOLS = [{"name": name, "description": name, "inputSchema": {"type": "object"}}
         for name in ("work", "wipe", "half", "hang", "deaf")]


def handle(message: dict, rng: random.Random) -> None:
    request_id = message["id"]
    method = message.get("method")
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": request_id, "result": {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {}}, "serverInfo": {"name": "faults", "version": "0"}}})
    elif method == "server/discover":
        send({"jsonrpc": "2.0", "id": request_id,
              "result": {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": TOOLS}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": request_id, "result": {}})
    elif method == "tools/call":
        name = params.get("name")
        arguments = params.get("arguments") or {}
        if name == "work":
            if "delay" in arguments:
                delay = float(arguments["delay"])
            else:
                delay = rng.uniform(0, float(arguments.get("max_delay", 0.05)))
            text = f"work {arguments.get('n')}"

            def later():
                time.sleep(delay)
                send(text_result(request_id, text))

            threading.Thread(target=later, daemon=True).start()
        elif name == "wipe":
            send(text_result(request_id, f"wiped {arguments.get('target')}"))
        elif name == "half":
            whole = encode(text_result(request_id, "this answer is cut short by a crash " * 4))
            cut = int(arguments.get("cut", len(whole) // 2))
            write(whole[:cut])
            time.sleep(float(arguments.get("pause", 0.2)))  # the half line is out before the crash
            if arguments.get("then", "exit") == "kill":
                os.kill(os.getpid(), int(arguments.get("signal", signal.SIGKILL)))
                time.sleep(10)
            os._exit(int(arguments.get("status", 3)))
        elif name == "hang":
            pass
        elif name == "deaf":
            while True:
                time.sleep(3600)
        else:
            send({"jsonrpc": "2.0", "id": request_id,
                  "error": {"code": -32602, "message": f"Unknown tool: {name}"}})
    else:
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record")
    parser.add_argument("--seed", type=int)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    return serve_requests(lambda message: handle(message, rng), options.record)


if __name__ == "__main__":
    sys.exit(main())
