"""A raw client's inbox: every line `warden run` writes to its stdout, read on a thread of its own as it
comes (so arrival times are close to the truth) and filed: responses under their id, requests and
notifications from warden apart, and any line that is not one JSON object as garbage."""

from __future__ import annotations

import json
import threading
import time


def key(request_id) -> tuple[str, object]:
    """A request id as JSON-RPC tells ids apart: 2 and "2" are different requests."""
    return (type(request_id).__name__, request_id)


class Inbox:
    def __init__(self, proc):
        self.proc = proc
        self.cond = threading.Condition()
        # Per id: (arrival, raw line, message), in arrival order.
        self.responses: dict[tuple, list[tuple[float, bytes, dict]]] = {}
        self.others: list[tuple[bytes, dict]] = []
        self.garbage: list[bytes] = []
        self.eof = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            line = self.proc._lines.get()  # Proc's reader queue: bytes per line, None at end of stream
            arrived = time.monotonic()
            with self.cond:
                if line is None:
                    self.eof = True
                    self.cond.notify_all()
                    return
                try:
                    message = json.loads(line)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    self.garbage.append(line)
                elif "method" in message:
                    self.others.append((line, message))
                else:
                    self.responses.setdefault(key(message.get("id")), []).append((arrived, line, message))
                self.cond.notify_all()

    def maybe(self, request_id, timeout: float) -> dict | None:
        """The first response to `request_id`, or None if none came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while key(request_id) not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(left)
            return self.responses[key(request_id)][0][2]

    def wait_all(self, ids, timeout: float) -> dict:
        """The first response to each of `ids`, waiting at most `timeout` seconds for all of them."""
        wanted = [key(i) for i in ids]
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(k in self.responses for k in wanted):
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    missing = [k[1] for k in wanted if k not in self.responses]
                    raise AssertionError(
                        f"no response to {missing} within {timeout}s (end of stream: {self.eof})\n"
                        f"responses so far: {self.summary()}\nstderr:\n{self.proc.stderr_text()}"
                    )
                self.cond.wait(left)
            return {k[1]: self.responses[k][0][2] for k in wanted}

    def arrival(self, request_id) -> float:
        with self.cond:
            return self.responses[key(request_id)][0][0]

    def answered(self, request_id) -> bool:
        with self.cond:
            return key(request_id) in self.responses

    def all_for(self, request_id) -> list[dict]:
        with self.cond:
            return [m for _, _, m in self.responses.get(key(request_id), [])]

    def raw_for(self, request_id) -> list[bytes]:
        with self.cond:
            return [raw for _, raw, _ in self.responses.get(key(request_id), [])]

    def requests(self) -> list[dict]:
        with self.cond:
            return [m for _, m in self.others]

    def duplicates(self) -> dict:
        with self.cond:
            return {k[1]: [m for _, _, m in v] for k, v in self.responses.items() if len(v) > 1}

    def wait_eof(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"stdout not closed within {timeout}s\nstderr:\n{self.proc.stderr_text()}")
                self.cond.wait(left)

    def summary(self) -> str:
        with self.cond:
            text = json.dumps({str(k[1]): [m for _, _, m in v] for k, v in self.responses.items()})[:3000]
            if self.garbage:
                text += "\nlines that are not one JSON object: " + repr(
                    [g if len(g) <= 600 else g[:300] + b" ... " + g[-300:] for g in self.garbage])
            return text
