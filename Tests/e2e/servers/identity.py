#!/usr/bin/env python3
"""An identity provider's MCP server (a fixture: no such server is on PyPI): users with a role, which
the agent may provision, update and delete. Built on the official SDK's MCPServer.

State lives in a JSON file (--state), so a test reads what really happened after the session; it is
seeded with the admin and a few users on first use. Every call that reached the server is appended
to --log as one JSON line.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from json_state import JSONState

SEED = {
    "admin": {"email": "admin@corp.example", "role": "admin"},
    "u1": {"email": "ann@corp.example", "role": "member"},
    "u2": {"email": "bob@corp.example", "role": "member"},
    "u3": {"email": "cy@corp.example", "role": "member"},
}

state = JSONState(SEED)
load, save, log = state.load, state.save, state.log


app = MCPServer("identity")


@app.tool()
def list_users() -> str:
    """Every user, with e-mail and role."""
    log("list_users", {})
    return json.dumps(load())


@app.tool()
def create_user(user_id: str, email: str, role: str = "member") -> str:
    """Provision a user."""
    log("create_user", {"user_id": user_id, "email": email, "role": role})
    users = load()
    users[user_id] = {"email": email, "role": role}
    save(users)
    return f"created {user_id}"


@app.tool()
def update_user(user_id: str, email: str | None = None, role: str | None = None) -> str:
    """Change a user's e-mail or role; what is left out stays."""
    log("update_user", {"user_id": user_id, "email": email, "role": role})
    users = load()
    if user_id not in users:
        return f"no user {user_id}"
    if email is not None:
        users[user_id]["email"] = email
    if role is not None:
        users[user_id]["role"] = role
    save(users)
    return f"updated {user_id}"


@app.tool()
def delete_user(user_id: str) -> str:
    """Delete a user."""
    log("delete_user", {"user_id": user_id})
    users = load()
    users.pop(user_id, None)
    save(users)
    return f"deleted {user_id}"


if __name__ == "__main__":
    load()
    app.run()
