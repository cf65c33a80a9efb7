"""Shared by the fixture servers built on the SDK's MCPServer (identity.py, cloud.py): their state in
a JSON file (--state), seeded on first use, so a test reads what really happened after a session,
and a log of every call that reached the server (--log, one JSON line each)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


class JSONState:
    def __init__(self, seed: dict):
        parser = argparse.ArgumentParser()
        parser.add_argument("--state", required=True)
        parser.add_argument("--log")
        options = parser.parse_args()
        self.path = Path(options.state)
        self.log_path = options.log
        self.seed = seed

    def load(self) -> dict:
        if not self.path.exists():
            self.path.write_text(json.dumps(self.seed))
        return json.loads(self.path.read_text())

    def save(self, data: dict) -> None:
        self.path.write_text(json.dumps(data))

    def log(self, tool: str, arguments: dict) -> None:
        if self.log_path:
            with open(self.log_path, "a") as out:
                out.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")
