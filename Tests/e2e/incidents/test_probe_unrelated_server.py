"""Incident: an agent probing a server it was never given, here a cloud provider's (the cloud fixture
server) for which the human wrote no manifest and no grant. Every call, read or destructive, is
denied before it reaches the server, and every one is an audit record a security team can list."""

from __future__ import annotations

import json
import sys

from conftest import SERVERS_DIR, warden_cli
from sdk_support import assert_denied, call, run_async, session

CLOUD = SERVERS_DIR / "cloud.py"


def test_every_probe_is_denied_and_recorded(warden_bin, grant, tmp_path):
    state, log = tmp_path / "cloud.json", tmp_path / "served.jsonl"
    # A delegation for another server does not reach this one.
    grant("--server", "mailbox", "--allow", "mail.*", purpose="unrelated")
    argv = [warden_bin, "run", "--server", "cloud", "--agent", "prober", "--",
            sys.executable, CLOUD, "--state", state, "--log", log]
    probes = [("list_volumes", {}), ("get_volume", {"volume_id": "vol-91c2"}),
              ("delete_volume", {"volume_id": "vol-91c2"}), ("delete_volume", {"volume_id": "vol-7f3a"}),
              ("snapshot_volume", {"volume_id": "vol-91c2"})]

    async def scenario():
        async with session(argv) as client:
            return [await call(client, tool, arguments) for tool, arguments in probes]

    for result in run_async(scenario):
        assert_denied(result, "no-manifest")
    assert not log.exists(), log.read_text()
    assert set(json.loads(state.read_text())) == {"vol-7f3a", "vol-91c2", "vol-0b5e"}

    records = json.loads(warden_cli(warden_bin, "audit", "--agent", "prober", "--json", check=True).stdout)
    assert [(r["tool"], r["verdict"], r["reason"]) for r in records] == [
        (tool, "deny", "no-manifest") for tool, _ in probes], records
    assert warden_cli(warden_bin, "audit", "verify").returncode == 0
