#!/usr/bin/env python3
"""A cloud provider's MCP server (a fixture: no such server is on PyPI): volumes addressed by id, each
in an environment (staging, production) that the id does not show. Built on the official SDK's
MCPServer.

State lives in a JSON file (--state), seeded on first use; every call that reached the server is
appended to --log as one JSON line.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from json_state import JSONState

SEED = {
    "vol-7f3a": {"name": "api-cache", "environment": "staging"},
    "vol-91c2": {"name": "orders-db", "environment": "production"},
    "vol-0b5e": {"name": "scratch", "environment": "staging"},
}

state = JSONState(SEED)
load, save, log = state.load, state.save, state.log


app = MCPServer("cloud")


@app.tool()
def list_volumes() -> str:
    """Every volume id with its name (not its environment)."""
    log("list_volumes", {})
    return json.dumps({volume_id: volume["name"] for volume_id, volume in load().items()})


@app.tool()
def get_volume(volume_id: str) -> dict:
    """One volume: id, name and environment."""
    log("get_volume", {"volume_id": volume_id})
    volume = load().get(volume_id)
    if volume is None:
        raise ValueError(f"no volume {volume_id}")
    return {"id": volume_id, **volume}


@app.tool()
def delete_volume(volume_id: str) -> str:
    """Delete a volume and its data."""
    log("delete_volume", {"volume_id": volume_id})
    volumes = load()
    volumes.pop(volume_id, None)
    save(volumes)
    return f"deleted {volume_id}"


if __name__ == "__main__":
    load()
    app.run()
