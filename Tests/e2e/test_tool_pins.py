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


def raw_calls_without_listing(warden, variant: str, calls, log, server: str = "shifty") -> list[dict]:
    """A client that initializes and calls tools without ever listing them (it cached them from an
    earlier session): the responses to its calls, in order."""
    proc = warden(["--server", server, "--manifest", MANIFEST], [sys.executable, SHIFTY, "--log", log],
                  env=child_env(SHIFTY_VARIANT=variant))
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cached", "version": "1"}}})
    assert "result" in proc.read_json()
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    answers = []
    for index, (tool, arguments) in enumerate(calls, start=1):
        proc.send_json({"jsonrpc": "2.0", "id": index, "method": "tools/call",
                        "params": {"name": tool, "arguments": arguments}})
        answer = proc.read_json()
        assert answer["id"] == index, answer
        answers.append(answer)
    proc.close_stdin()
    proc.wait()
    return answers


def test_a_client_that_never_lists_still_meets_the_drift(warden_bin, warden, grant, tmp_path):
    grant("--server", "shifty", "--allow", "notes.read,notes.send", purpose="read and send notes")
    log = tmp_path / "served.jsonl"
    # The first session pins the tools, though its client never listed them: warden listed them.
    (read,) = raw_calls_without_listing(warden, "1", [("read_note", {"id": "n1"})], log)
    assert read["result"].get("isError") is not True, read
    pins = json.loads(warden_cli(warden_bin, "tools", "--json", check=True).stdout)
    assert sorted((p["tool"], p["state"]) for p in pins) == [("read_note", "pinned"), ("send", "pinned")]

    # The server changed read_note; the client calls it straight away, from its cache: denied.
    (read, sent) = raw_calls_without_listing(warden, "2", [("read_note", {"id": "n2"}), ("send", {"id": "n2"})], log)
    assert read["result"]["isError"] is True, read
    assert read["result"]["_meta"]["dev.warden/decision"]["reason"] == "tool-drift", read
    # send was renamed send_note: the server no longer lists send, so it is denied too.
    assert "is not among the tools" in sent["result"]["_meta"]["dev.warden/decision"]["explanation"], sent
    assert served(log) == ["read_note"], served(log)
    records = json.loads(warden_cli(warden_bin, "audit", "--json", check=True).stdout)
    assert ("read_note", "changed") in [(r["tool"], r["change"]) for r in records if r["kind"] == "tool-drift"]


def test_a_server_that_cannot_list_its_tools_gets_no_call(warden, grant, tmp_path):
    grant("--server", "shifty", "--allow", "notes.read", purpose="read notes")
    log = tmp_path / "served.jsonl"
    # SHIFTY_VARIANT=mute: the server never answers tools/list (see shifty.py).
    proc = warden(["--server", "shifty", "--manifest", MANIFEST], [sys.executable, SHIFTY, "--log", log],
                  env=child_env(SHIFTY_VARIANT="mute"))
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cached", "version": "1"}}})
    assert "result" in proc.read_json()
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "read_note", "arguments": {"id": "n1"}}})
    answer = proc.read_json(timeout=15)
    assert answer["result"]["isError"] is True, answer
    decision = answer["result"]["_meta"]["dev.warden/decision"]
    assert decision["reason"] == "tool-drift" and "could not list the server's tools" in decision["explanation"], answer
    assert served(log) == []


def test_a_tool_the_server_no_longer_lists_but_still_serves_is_denied(warden_bin, warden, grant, tmp_path):
    grant("--server", "shifty", "--allow", "notes.read,notes.send", purpose="read and send notes")
    log = tmp_path / "served.jsonl"
    listing, (sent,) = run(warden_bin, "1", [("send", {"id": "n1"})], log)
    assert_allowed(sent)
    # The server hides send from its listing, and serves it to a client that kept it in its cache:
    # warden cannot compare what it would run, so it is denied; the listed tool still runs.
    (read, sent) = raw_calls_without_listing(warden, "hidden", [("read_note", {"id": "n2"}), ("send", {"id": "n2"})], log)
    assert read["result"].get("isError") is not True, read
    decision = sent["result"]["_meta"]["dev.warden/decision"]
    assert decision["reason"] == "tool-drift" and "is not among the tools server 'shifty' listed" in decision["explanation"], sent
    # The same through a client that lists (it sees no send, and calls it anyway).
    listing, (sent,) = run(warden_bin, "hidden", [("send", {"id": "n3"})], log)
    assert [tool["name"] for tool in listing["tools"]] == ["read_note"]
    assert_denied(sent, "tool-drift")
    assert served(log) == ["send", "read_note"], served(log)


def test_the_real_git_server_is_listed_and_pinned_for_a_client_that_never_lists(
    warden_bin, warden, grant, git_server_bin, git_repo
):
    grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", purpose="status")
    proc = warden(["--server", "git"], [git_server_bin])
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cached", "version": "1"}}})
    assert "result" in proc.read_json()
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    proc.send_json({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "git_status", "arguments": {"repo_path": str(git_repo)}}})
    answer = proc.read_json(timeout=30)
    assert answer["id"] == 1 and answer["result"].get("isError") is not True, answer
    # Warden listed the tools itself (the client never did): every tool of the server is pinned, and
    # nothing of warden's own listing reached the client.
    pins = json.loads(warden_cli(warden_bin, "tools", "--json", check=True).stdout)
    pinned = sorted(p["tool"] for p in pins if p["state"] == "pinned")
    assert "git_status" in pinned and "git_reset" in pinned and len(pinned) >= 10, pinned
    proc.close_stdin()
    assert proc.read_to_eof() == []
    assert proc.wait() == 0
