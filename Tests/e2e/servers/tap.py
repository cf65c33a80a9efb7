#!/usr/bin/env python3
"""A verbatim stdio tap for warden's end-to-end tests (stdlib only).

    tap.py PREFIX -- COMMAND [ARGS...]

Runs COMMAND with piped stdin and stdout and copies bytes both ways unchanged (stderr is inherited),
appending everything that went to the command to PREFIX.c2s and everything that came from it to
PREFIX.s2c. Placed in front of warden and between warden and the server, it shows exactly which
bytes crossed each hop of a real SDK session. When stdin ends, the command's stdin is closed; the
tap exits when the command's stdout ends, with the command's status (128+N if killed by signal N).
SIGTERM, SIGINT and SIGHUP are passed on to the command.
"""

import os
import signal
import subprocess
import sys
import threading


def copy(source: int, sink: int, log_path: str, on_end) -> None:
    with open(log_path, "ab", buffering=0) as log:
        while True:
            try:
                chunk = os.read(source, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            log.write(chunk)
            view = memoryview(chunk)
            try:
                while view:
                    view = view[os.write(sink, view):]
            except OSError:
                break
    on_end()


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.stderr.write("usage: tap.py PREFIX -- COMMAND [ARGS...]\n")
        return 64
    prefix, command = sys.argv[1], sys.argv[3:]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda n, _f: child.send_signal(n))

    def close_child_stdin() -> None:
        try:
            child.stdin.close()
        except OSError:
            pass

    upstream = threading.Thread(
        target=copy, args=(0, child.stdin.fileno(), prefix + ".c2s", close_child_stdin), daemon=True
    )
    upstream.start()
    copy(child.stdout.fileno(), 1, prefix + ".s2c", lambda: None)
    status = child.wait()
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main())
