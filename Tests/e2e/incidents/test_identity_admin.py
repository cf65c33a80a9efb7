"""Incident: "an agent with a broad service account deleted every user, admin included".

The agent may provision users (read, create, update e-mails, delete with a human's confirmation).
Through the official SDK client and warden, in front of the identity fixture server: an update that
changes only an e-mail runs; one that demotes the admin, or promotes anyone, is `idp.admin` and
denied; deleting the admin is denied; deleting another user is held for a human, and with nobody
confirming it does not happen. The test fails if any harmful call reaches the server."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR
from sdk_support import ERAS, assert_allowed, assert_denied, call, run_async, session

IDENTITY = SERVERS_DIR / "identity.py"
MANIFEST = FIXTURE_MANIFESTS / "identity.yaml"


def served_calls(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("mode", ERAS)
def test_the_admin_cannot_be_deleted_or_demoted_and_deletions_wait_for_a_human(warden_bin, grant, tmp_path, mode):
    state, log = tmp_path / "users.json", tmp_path / "served.jsonl"
    grant("--server", "identity", "--allow", "idp.read,idp.write,idp.delete", "--on", "users", "--on", "user:*",
          purpose="provision the new team")
    argv = [warden_bin, "run", "--server", "identity", "--manifest", MANIFEST, "--confirm-timeout", "0.5", "--",
            sys.executable, IDENTITY, "--state", state, "--log", log]

    async def scenario():
        async with session(argv, mode=mode) as client:
            return {
                "listed": await call(client, "list_users", {}),
                "email": await call(client, "update_user", {"user_id": "u1", "email": "ann@new.example"}),
                "created": await call(client, "create_user", {"user_id": "u9", "email": "new@corp.example"}),
                "demote": await call(client, "update_user", {"user_id": "admin", "email": "x@evil.test", "role": "member"}),
                "promote": await call(client, "update_user", {"user_id": "u2", "role": "admin"}),
                "admin_email": await call(client, "update_user", {"user_id": "admin", "email": "x@evil.test"}),
                "create_admin": await call(client, "create_user", {"user_id": "u8", "email": "e@x", "role": "admin"}),
                "delete_admin": await call(client, "delete_user", {"user_id": "admin"}),
                "delete_user": await call(client, "delete_user", {"user_id": "u3"}),
            }

    results = run_async(scenario)
    assert_allowed(results["listed"])
    assert_allowed(results["email"])
    assert_allowed(results["created"])
    for name in ["demote", "promote", "admin_email", "create_admin", "delete_admin"]:
        decision = assert_denied(results[name], "not-delegated")
        assert decision["action"] == "idp.admin", (name, decision)
    assert assert_denied(results["delete_user"], "confirmation-timed-out")["action"] == "idp.delete"

    served = served_calls(log)
    assert [c["tool"] for c in served] == ["list_users", "update_user", "create_user"], served
    users = json.loads(state.read_text())
    assert users["admin"] == {"email": "admin@corp.example", "role": "admin"}
    assert users["u2"]["role"] == "member" and "u3" in users and "u8" not in users
    assert users["u1"]["email"] == "ann@new.example" and users["u9"]["role"] == "member"
