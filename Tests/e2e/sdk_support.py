"""Helpers for the delegation tests: sessions of the official MCP SDK client through `warden run`.

Each session runs in its own event loop (`run_async`), bounded by a timeout, and the server's stderr
(warden's, through warden) is printed when a session fails.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import DECISION_META, SERVERS_DIR, child_env

mcp = pytest.importorskip("mcp", reason="the mcp SDK is not installed: run Tests/e2e/setup_venv.sh")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp_types import Implementation  # noqa: E402

TAP = SERVERS_DIR / "tap.py"
CLIENT_NAME = "warden-e2e"
SESSION_TIMEOUT = 90.0

# (Client mode, id) of the two protocol eras: the initialize handshake, and the per-request era
# (2026-07-28) entered through server/discover.
ERAS = [
    pytest.param("legacy", id="handshake"),
    pytest.param("auto", id="per-request"),
]


def dump(model: Any) -> Any:
    """A pydantic model as the JSON the SDK would put on the wire."""
    if model is None:
        return None
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def run_async(function, *args, timeout: float = SESSION_TIMEOUT):
    """Runs `await function(*args)` in a fresh event loop, failing after `timeout` seconds."""

    async def bounded():
        with anyio.fail_after(timeout):
            return await function(*args)

    return anyio.run(bounded)


@asynccontextmanager
async def session(argv: list, *, mode: str = "legacy", name: str = CLIENT_NAME, message_handler=None, env=None):
    """An SDK client session with the server command `argv` (typically `warden run ... -- server`)."""
    argv = [str(a) for a in argv]
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env if env is not None else child_env())
    with tempfile.TemporaryFile("w+") as errlog:
        try:
            async with Client(
                stdio_client(params, errlog=errlog),
                mode=mode,
                read_timeout_seconds=30,
                cache=None,
                client_info=Implementation(name=name, version="1.0"),
                message_handler=message_handler,
            ) as client:
                yield client
        except BaseException:
            errlog.seek(0)
            sys.stderr.write(f"--- stderr of {shlex.join(argv[:10])}:\n{errlog.read()}\n")
            raise


async def call(client: Client, tool: str, arguments: dict) -> dict:
    """A tools/call through the SDK, as the JSON result the client received."""
    return dump(await client.call_tool(tool, arguments))


def text_of(result: dict) -> str:
    return "\n".join(item.get("text", "") for item in result.get("content", []))


def decision_of(result: dict) -> dict | None:
    return (result.get("_meta") or {}).get(DECISION_META)


def assert_allowed(result: dict) -> dict:
    """A result that came from the server: no warden decision in it."""
    assert decision_of(result) is None, f"warden denied an allowed call: {text_of(result)}"
    return result


def assert_denied(result: dict, reason: str) -> dict:
    """A result warden composed for a denied call: isError, the reason, a message. Returns the decision."""
    assert result.get("isError") is True, result
    decision = decision_of(result)
    assert decision is not None, f"not a warden denial: {result}"
    assert decision["reason"] == reason, f"expected reason {reason}, got {decision}: {text_of(result)}"
    assert decision["verdict"] == "deny", decision
    assert text_of(result).startswith("Warden denied this call"), text_of(result)
    return decision


def tapped(prefix: Path, command: list) -> list[str]:
    """`command` behind servers/tap.py, which records every byte crossing that hop to prefix.c2s/.s2c."""
    return [sys.executable, str(TAP), str(prefix), "--", *map(str, command)]


def calls_seen_by_server(prefix: Path) -> list[dict]:
    """The tools/call requests that reached the server behind a tap, as {"name", "arguments"}."""
    path = Path(f"{prefix}.c2s")
    seen = []
    if not path.exists():
        return seen
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        if message.get("method") == "tools/call":
            seen.append({"name": message["params"].get("name"), "arguments": message["params"].get("arguments")})
    return seen


def git_commit_count(repo: Path) -> int:
    out = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=30, check=True
    )
    return int(out.stdout.strip())


def wait_until(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
