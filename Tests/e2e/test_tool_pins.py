"""Pinned tools (issue "Adoption", tool drift): the first listing of a server's tools through warden
pins their definitions; a tool whose description or schema changes later, or a tool that appears
(a rename), is denied with reason tool-drift, whatever the grants say, until a human runs
`warden tools accept`. The official SDK client in front of the shifty fixture server, whose tools
change between sessions."""

from __future__ import annotations

import json
import sys

from conftest import FIXTURE_MANIFESTS, SERVERS_DIR, child_env, warden_cli
from sdk_support import assert_allowed, assert_denied, call, dump, run_async, session

SHIFTY = SERVERS_DIR / "shifty.py"
MANIFEST = FIXTURE_MANIFESTS / "shifty.yaml"


def run(warden_bin, variant: str, calls, log, server: str = "shifty"):
    argv = [warden_bin, "run", "--server", server, "--manifest", MANIFEST, "--",
            sys.executable, SHIFTY, "--log", log]

    async def scenario():
        async with session(argv, env=child_env(SHIFTY_VARIANT=variant)) as client:
            listing = dump(await client.list_tools())
            return listing, [await call(client, tool, arguments) for tool, arguments in calls]

    return run_async(scenario)


def marks(listing) -> dict:
    return {tool["name"]: tool["_meta"]["dev.warden/delegation"]["status"] for tool in listing["tools"]}


def served(log) -> list[str]:
    return [json.loads(line)["name"] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_changed_or_renamed_tool_is_denied_until_a_human_accepts_it(warden_bin, grant, tmp_path):
    grant("--server", "shifty", "--allow", "notes.read,notes.send", purpose="read and send notes")
    log = tmp_path / "served.jsonl"

    listing, (read, sent) = run(warden_bin, "1", [("read_note", {"id": "n1"}), ("send", {"id": "n1"})], log)
    assert marks(listing) == {"read_note": "delegated", "send": "delegated"}
    assert_allowed(read)
    assert_allowed(sent)
    pins = json.loads(warden_cli(warden_bin, "tools", "--json", check=True).stdout)
    assert sorted((p["tool"], p["state"]) for p in pins) == [("read_note", "pinned"), ("send", "pinned")]

    # The server changed read_note's description and schema and renamed send: both are denied.
    listing, (read, sent) = run(warden_bin, "2", [("read_note", {"id": "n1"}), ("send_note", {"id": "n1"})], log)
    assert marks(listing) == {"read_note": "not-delegated", "send_note": "not-delegated"}
    assert "changed since a human accepted it" in listing["tools"][0]["description"]
    assert "tool-drift" == assert_denied(read, "tool-drift")["reason"]
    assert_denied(sent, "tool-drift")
    assert served(log) == ["read_note", "send"], served(log)

    listed = warden_cli(warden_bin, "tools")
    assert listed.returncode == 1 and "CHANGED" in listed.stdout and "ADDED" in listed.stdout, listed.stdout
    diff = warden_cli(warden_bin, "tools", "diff", "shifty", "read_note")
    assert diff.returncode == 1 and '+ ' in diff.stdout and "archive@evil.test" in diff.stdout, diff.stdout
    records = json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)
    drift = sorted((r["tool"], r["change"]) for r in records if r["kind"] == "tool-drift")
    assert drift == [("read_note", "changed"), ("send_note", "added")], drift

    # Another instance (another name, the same command line): pins of its own, nothing drifted there.
    other_log = tmp_path / "other.jsonl"
    grant("--server", "shifty-2", "--allow", "notes.read", purpose="another instance")
    listing, (read,) = run(warden_bin, "2", [("read_note", {"id": "n2"})], other_log, server="shifty-2")
    assert_allowed(read)

    # A human accepts one tool: it is decided by the grants again; the other is still denied.
    accepted = warden_cli(warden_bin, "tools", "accept", "shifty", "read_note")
    assert accepted.returncode == 0, accepted.stderr
    listing, (read, sent) = run(warden_bin, "2", [("read_note", {"id": "n3"}), ("send_note", {"id": "n3"})], log)
    assert_allowed(read)
    assert_denied(sent, "tool-drift")
    assert warden_cli(warden_bin, "tools", "accept", "shifty").returncode == 0
    again = warden_cli(warden_bin, "tools", "accept", "shifty")
    assert again.returncode == 1 and "has drifted" in again.stderr
    listing, (sent,) = run(warden_bin, "2", [("send_note", {"id": "n4"})], log)
    assert_allowed(sent)
    kinds = [r["kind"] for r in json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)]
    assert kinds.count("tool-accepted") == 2, kinds
    assert warden_cli(warden_bin, "audit", "verify").returncode == 0


def test_accepting_needs_a_human(warden_bin, grant, warden_home, tmp_path):
    grant("--server", "shifty", "--allow", "notes.read", purpose="read")
    log = tmp_path / "served.jsonl"
    run(warden_bin, "1", [], log)
    run(warden_bin, "2", [], log)
    (warden_home / "config.yaml").write_text("")
    refused = warden_cli(warden_bin, "tools", "accept", "shifty")
    assert refused.returncode == 77, refused.stderr
    assert json.loads(warden_cli(warden_bin, "tools", "--json").stdout)[0]["state"] == "changed"
