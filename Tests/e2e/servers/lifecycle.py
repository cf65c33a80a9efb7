#!/usr/bin/env python3
"""A misbehaving MCP-shaped server for warden's lifecycle tests (stdlib only).

    lifecycle.py [--log FILE] [--on-eof exit|ignore] [--eof-status N]
                 [--ignore-sigterm] [--signal-status N] [--stderr TEXT]

Requests (newline-delimited JSON-RPC on stdin):
  initialize, server/discover, tools/list    minimal answers
  tools/call with params.name =
    echo   {"text": T}               answers at once with T
    slow   {"seconds": S, "text": T} answers after S seconds, from a thread (also after stdin EOF)
    hang   {}                        never answers
    crash  {"status": N}             exits with status N without answering (mid-request)
    kill   {"signal": N}             sends itself signal N (9: SIGKILL) without answering
    stderr {"text": T}               writes T and a newline to stderr, then answers
  anything else with an id           error -32601

Flags:
  --on-eof exit      (default) at stdin EOF wait for pending slow answers, then exit --eof-status
  --on-eof ignore    keep running after stdin EOF (until signalled)
  --ignore-sigterm   log SIGTERM and carry on
  --signal-status N  on SIGTERM/SIGINT/SIGHUP log and exit N; without it the signal's default
                     action is restored and the signal re-raised (the process dies by the signal)
  --stderr TEXT      write TEXT and a newline to stderr at start

--log FILE receives one event per line, appended and unbuffered: ``start pid=P``,
``recv METHOD ID``, ``answered ID``, ``eof``, ``signal NAME``, ``signal NAME ignored``, ``exit N``.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

options = None
log_fd = None
write_lock = threading.Lock()
pending = []


def log(event: str) -> None:
    if log_fd is not None:
        os.write(log_fd, (event + "\n").encode())


def send(message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    with write_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
    log(f"answered {json.dumps(message.get('id'))}")


def result(request_id, text: str) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "result": {"content": [{"type": "text", "text": text}], "isError": False},
    }


def exit_now(status: int) -> None:
    log(f"exit {status}")
    os._exit(status)


def on_signal(number, _frame) -> None:
    name = signal.Signals(number).name
    if number == signal.SIGTERM and options.ignore_sigterm:
        log(f"signal {name} ignored")
        return
    log(f"signal {name}")
    if options.signal_status is not None:
        exit_now(options.signal_status)
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)


TOOLS = [
    {"name": name, "description": name, "inputSchema": {"type": "object"}}
    for name in ("echo", "slow", "hang", "crash", "kill", "stderr")
]


def handle(message: dict) -> None:
    request_id = message["id"]
    method = message.get("method")
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    log(f"recv {method} {json.dumps(request_id)}")
    if method == "initialize":
        send({
            "jsonrpc": "2.0",
            "id": request_id,
            "result": {
                "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "lifecycle", "version": "0"},
            },
        })
        return
    if method == "server/discover":
        send({
            "jsonrpc": "2.0",
            "id": request_id,
            "result": {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}},
        })
        return
    if method == "tools/list":
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": TOOLS}})
        return
    if method != "tools/call":
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}})
        return
    name = params.get("name")
    arguments = params.get("arguments") or {}
    if name == "echo":
        send(result(request_id, str(arguments.get("text", ""))))
    elif name == "slow":
        def later():
            time.sleep(float(arguments.get("seconds", 0.5)))
            send(result(request_id, str(arguments.get("text", "slow"))))

        thread = threading.Thread(target=later)
        pending.append(thread)
        thread.start()
    elif name == "hang":
        pass
    elif name == "crash":
        exit_now(int(arguments.get("status", 3)))
    elif name == "kill":
        number = int(arguments.get("signal", 9))
        log(f"kill {number}")
        os.kill(os.getpid(), number)
        time.sleep(10)
    elif name == "stderr":
        os.write(2, str(arguments.get("text", "")).encode() + b"\n")
        send(result(request_id, "written"))
    else:
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"Unknown tool: {name}"}})


def main() -> None:
    global options, log_fd
    parser = argparse.ArgumentParser()
    parser.add_argument("--log")
    parser.add_argument("--on-eof", choices=("exit", "ignore"), default="exit")
    parser.add_argument("--eof-status", type=int, default=0)
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--signal-status", type=int)
    parser.add_argument("--stderr")
    options = parser.parse_args()
    if options.log:
        log_fd = os.open(options.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, on_signal)
    log(f"start pid={os.getpid()}")
    if options.stderr is not None:
        os.write(2, options.stderr.encode() + b"\n")

    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            break
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and "id" in message and "method" in message:
            handle(message)

    log("eof")
    if options.on_eof == "ignore":
        while True:
            time.sleep(3600)
    for thread in pending:
        thread.join()
    exit_now(options.eof_status)


if __name__ == "__main__":
    main()
