"""Incident: "an agent found a token and deleted a production volume in nine seconds", while it was
debugging staging.

The cloud fixture server addresses volumes by id; nothing in `delete_volume(volume_id)` says which
environment the volume is in. The manifest looks the volume up with the server's own `get_volume`
before deciding, so the human's forbid on `env:production/**` denies the production volume, while
a staging volume (granted, destructive) is held for a human. Through the official SDK client, in
both protocol eras (the lookup carries the call's protocol keys in the per-request era). The test
fails if a production deletion reaches the server."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR, warden_cli
from sdk_support import ERAS, assert_allowed, assert_denied, call, run_async, session

CLOUD = SERVERS_DIR / "cloud.py"
MANIFEST = FIXTURE_MANIFESTS / "cloud.yaml"


def served(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("mode", ERAS)
def test_a_production_volume_named_by_id_is_denied_through_a_lookup(warden_bin, grant, forbid, tmp_path, mode):
    state, log = tmp_path / "cloud.json", tmp_path / "served.jsonl"
    grant("--server", "cloud", "--allow", "cloud.read,cloud.delete", "--on", "account", "--on", "volume:*",
          "--on", "env:staging/**", purpose="debug the staging cache")
    forbid("--server", "cloud", "--action", "cloud.*", "--on", "env:production/**",
           purpose="production is off limits to agents")
    argv = [warden_bin, "run", "--server", "cloud", "--manifest", MANIFEST, "--confirm-timeout", "0.5", "--",
            sys.executable, CLOUD, "--state", state, "--log", log]

    async def scenario():
        async with session(argv, mode=mode) as client:
            return {
                "listed": await call(client, "list_volumes", {}),
                "production": await call(client, "delete_volume", {"volume_id": "vol-91c2"}),
                "staging": await call(client, "delete_volume", {"volume_id": "vol-7f3a"}),
                "unknown": await call(client, "delete_volume", {"volume_id": "vol-nope"}),
                "production_again": await call(client, "delete_volume", {"volume_id": "vol-91c2"}),
            }

    results = run_async(scenario)
    assert_allowed(results["listed"])
    decision = assert_denied(results["production"], "forbidden")
    assert decision["resources"] == ["env:production/volume:vol-91c2"], decision
    assert assert_denied(results["staging"], "confirmation-timed-out")["resources"] == [
        "env:staging/volume:vol-7f3a"]
    unknown = assert_denied(results["unknown"], "bad-arguments")
    assert "lookup 'volume' (get_volume) failed" in unknown["explanation"], unknown
    assert_denied(results["production_again"], "forbidden")

    # The server saw warden's lookups, never a deletion; the second production call was answered
    # from the session's cache.
    calls = [(c["tool"], c["arguments"].get("volume_id")) for c in served(log)]
    assert calls == [("list_volumes", None), ("get_volume", "vol-91c2"), ("get_volume", "vol-7f3a"),
                     ("get_volume", "vol-nope")], calls
    assert set(json.loads(state.read_text())) == {"vol-7f3a", "vol-91c2", "vol-0b5e"}

    records = json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)
    [denied] = [r for r in records if r["tool"] == "delete_volume" and r["reason"] == "forbidden"][:1]
    assert denied["resources"] == ["env:production/volume:vol-91c2"], denied
