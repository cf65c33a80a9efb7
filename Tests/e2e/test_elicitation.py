"""Holds decided in the agent's own UI, in front of the real mcp-server-git: MCP elicitation in the
handshake era, and input_required with a signed requestState in the per-request era, with the
official SDK client's elicitation callback and with a raw client that tries to forge, edit and
replay the request state."""

from __future__ import annotations

import json
import sys
import subprocess
import tempfile

import anyio
import pytest

from conftest import child_env
from sdk_support import calls_seen_by_server, decision_of, run_async, tapped, text_of

mcp = pytest.importorskip("mcp")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
import mcp_types  # noqa: E402


@pytest.fixture(autouse=True)
def trusted_client_answers(warden_home):
    """These tests are about the client's form as a channel: they list `elicitation` explicitly, so
    the client's answer alone approves (the approval code is tested in test_trust_agent.py)."""
    config = warden_home / "config.yaml"
    config.write_text(config.read_text() + "confirm:\n  channels: [elicitation, terminal]\n")


def argv(warden_bin, git_server_bin, git_repo, inner, *options):
    command = [git_server_bin, "--repository", git_repo]
    return [str(a) for a in [warden_bin, "run", "--server", "git", *options, "--", *tapped(inner, command)]]


async def reset_with(arguments: list, repo, answer, seen_messages: list, *, before_answer=None):
    """Calls git_reset (destructive, so held) with an elicitation callback that answers `answer`."""

    async def on_elicit(context, params):
        seen_messages.append(params.message)
        if before_answer is not None:
            await before_answer()
        return answer

    params = StdioServerParameters(command=arguments[0], args=arguments[1:], env=child_env())
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(
            stdio_client(params, errlog=errlog), mode="legacy", read_timeout_seconds=30, cache=None,
            elicitation_callback=on_elicit,
        ) as client:
            result = await client.call_tool("git_reset", {"repo_path": str(repo)})
            return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def staged(repo) -> bool:
    out = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=repo, capture_output=True, text=True)
    return bool(out.stdout.strip())


@pytest.fixture
def held_reset(warden_bin, git_server_bin, git_repo, tmp_path, grant):
    grant("--server", "git", "--allow", "git.*", "--on", f"repo:{git_repo}", purpose="tidy the index")
    inner = tmp_path / "inner"
    return argv(warden_bin, git_server_bin, git_repo, inner, "--confirm-timeout", "20"), inner


def test_approving_in_the_client_forwards_the_call_once(held_reset, git_repo):
    arguments, inner = held_reset
    assert staged(git_repo)
    messages: list = []
    approve = mcp_types.ElicitResult(action="accept", content={"decision": "approve"})
    result = run_async(reset_with, arguments, git_repo, approve, messages)
    assert decision_of(result) is None and result.get("isError") is False, result
    assert not staged(git_repo)
    assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_reset"]
    # The question shows what the human needs to decide.
    assert len(messages) == 1
    for fragment in ["git_reset", str(git_repo), "git.reset", "tidy the index", "destructive"]:
        assert fragment in messages[0], (fragment, messages[0])


@pytest.mark.parametrize(
    "answer, note",
    [
        (mcp_types.ElicitResult(action="accept", content={"decision": "deny"}), "denied in the client"),
        (mcp_types.ElicitResult(action="decline"), "declined in the client"),
        (mcp_types.ElicitResult(action="cancel"), "dismissed in the client"),
    ],
)
def test_anything_but_approve_in_the_client_denies(held_reset, git_repo, answer, note):
    arguments, inner = held_reset
    result = run_async(reset_with, arguments, git_repo, answer, [])
    decision = decision_of(result)
    assert result["isError"] is True and decision["reason"] == "rejected", result
    assert note in text_of(result)
    assert staged(git_repo)
    assert calls_seen_by_server(inner) == []


def test_a_decision_from_a_terminal_wins_over_the_clients_later_answer(held_reset, git_repo, warden_bin):
    """While the form is open in the client, the human rejects from a terminal: that decision is
    taken, and the client's later 'approve' changes nothing."""
    arguments, inner = held_reset

    async def reject_from_terminal():
        for _ in range(50):
            holds = json.loads(
                subprocess.run([str(warden_bin), "holds", "--json"], capture_output=True, text=True, env=child_env()).stdout
            )
            if holds:
                subprocess.run(
                    [str(warden_bin), "reject", holds[0]["id"], "--why", "not today"], check=True, env=child_env(),
                    capture_output=True,
                )
                return
            await anyio.sleep(0.1)
        raise AssertionError("no hold appeared")

    approve = mcp_types.ElicitResult(action="accept", content={"decision": "approve"})
    async def scenario():
        return await reset_with(arguments, git_repo, approve, [], before_answer=reject_from_terminal)

    result = run_async(scenario)
    assert decision_of(result)["reason"] == "rejected", result
    assert "not today" in text_of(result) and "via cli" in text_of(result)
    assert staged(git_repo)
    assert calls_seen_by_server(inner) == []


# --------------------------------------------------------------------------------------------------
# The per-request era: input_required with a signed requestState


def modern_call(request_id, repo, *, state=None, responses=None, repo_override=None):
    params = {
        "name": "git_reset",
        "arguments": {"repo_path": str(repo_override or repo)},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "raw-client", "version": "1"},
        },
    }
    if state is not None:
        params["requestState"] = state
    if responses is not None:
        params["inputResponses"] = responses
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


APPROVE = {"dev.warden/confirm": {"action": "accept", "content": {"decision": "approve"}}}


def reset_approved_in_the_client(arguments: list, repo, mode: str) -> dict:
    """git_reset through warden by the SDK client in `mode`, whose user approves every form."""
    approve = mcp_types.ElicitResult(action="accept", content={"decision": "approve"})

    async def scenario():
        params = StdioServerParameters(command=arguments[0], args=arguments[1:], env=child_env())
        with tempfile.TemporaryFile("w+") as errlog:
            async def on_elicit(context, request):
                return approve

            async with Client(
                stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=30, cache=None,
                elicitation_callback=on_elicit,
            ) as client:
                result = await client.call_tool("git_reset", {"repo_path": str(repo)})
                return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    return run_async(scenario)


def test_sdk_in_the_per_request_era_approves_through_input_required(held_reset, git_repo):
    arguments, inner = held_reset
    result = reset_approved_in_the_client(arguments, git_repo, "2026-07-28")
    assert decision_of(result) is None and result.get("isError") is False, result
    assert not staged(git_repo)
    seen = calls_seen_by_server(inner)
    assert [c["name"] for c in seen] == ["git_reset"]
    # What reached the server carries neither warden's question nor its answer.
    raw = open(f"{inner}.c2s").read()
    assert "dev.warden/confirm" not in raw and "warden1." not in raw


def test_a_request_state_cannot_be_forged_edited_or_replayed(held_reset, git_repo, tmp_path):
    arguments, inner = held_reset
    process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env())

    def exchange(message):
        process.stdin.write((json.dumps(message) + "\n").encode())
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        first = exchange(modern_call(1, git_repo))
        assert first["result"]["resultType"] == "input_required", first
        question = first["result"]["inputRequests"]["dev.warden/confirm"]
        assert question["method"] == "elicitation/create" and "git_reset" in question["params"]["message"]
        token = first["result"]["requestState"]
        assert token.startswith("warden1.")

        # Forged: one character of the signature changed.
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        denied = exchange(modern_call(2, git_repo, state=forged, responses=APPROVE))
        assert denied["result"]["isError"] is True
        assert "not one this warden issued" in denied["result"]["content"][0]["text"]

        # Edited: the same token for a different call.
        other = tmp_path / "elsewhere"
        denied = exchange(modern_call(3, git_repo, state=token, responses=APPROVE, repo_override=other))
        assert "was changed after the human was asked" in denied["result"]["content"][0]["text"]

        # The genuine answer goes through, once.
        approved = exchange(modern_call(4, git_repo, state=token, responses=APPROVE))
        assert approved["result"].get("isError") is False, approved
        assert not staged(git_repo)

        # Replayed.
        denied = exchange(modern_call(5, git_repo, state=token, responses=APPROVE))
        assert "already used" in denied["result"]["content"][0]["text"]
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_reset"]
    finally:
        process.stdin.close()
        process.wait(timeout=15)


# --------------------------------------------------------------------------------------------------
# The example mailbox server: delete_message is destructive


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("answer", ["approve", "decline"])
def test_deleting_mail_is_asked_about_in_the_client(warden_bin, mailbox_bin, grant, tmp_path, mode, answer):
    grant("--server", "mailbox", "--allow", "mail.list,mail.delete", purpose="clear out old mail")
    box = tmp_path / "box"
    inner = tmp_path / "inner"
    arguments = [str(a) for a in [
        warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "20", "--",
        *tapped(inner, [mailbox_bin, "--mailbox", box, "--seed"])]]
    reply = (mcp_types.ElicitResult(action="accept", content={"decision": "approve"}) if answer == "approve"
             else mcp_types.ElicitResult(action="decline"))
    asked: list = []

    async def scenario():
        async def on_elicit(context, request):
            asked.append(request.message)
            return reply

        params = StdioServerParameters(command=arguments[0], args=arguments[1:], env=child_env())
        with tempfile.TemporaryFile("w+") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=30, cache=None,
                elicitation_callback=on_elicit,
            ) as client:
                listed = await client.call_tool("list_messages", {})
                first = next(word.strip("[]") for word in listed.content[0].text.split() if word.startswith("[msg-"))
                deleted = await client.call_tool("delete_message", {"id": first})
                return first, deleted.model_dump(mode="json", by_alias=True, exclude_none=True)

    first, deleted = run_async(scenario)
    assert len(asked) == 1 and "delete_message" in asked[0] and first in asked[0]
    still_there = any(first in path.name for path in box.rglob("*.json"))
    if answer == "approve":
        assert deleted.get("isError") is False and decision_of(deleted) is None, deleted
        assert not still_there
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["list_messages", "delete_message"]
    else:
        assert decision_of(deleted)["reason"] == "rejected" and "declined in the client" in text_of(deleted)
        assert still_there
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["list_messages"]


# --------------------------------------------------------------------------------------------------
# A server with input requests of its own, behind warden


def test_a_servers_own_input_requests_still_work_through_warden(warden_bin, grant, tmp_path):
    """Warden asks first (the tool is destructive); after the approval the server asks its own
    question; the retry carrying the server's requestState is held and asked about again, and the
    server finally receives its own state and answer, never warden's."""
    from conftest import E2E_DIR, SERVERS_DIR

    grant("--server", "asking", "--allow", "fixture.ask", purpose="let the server ask")
    log = tmp_path / "server.log"
    arguments = [str(a) for a in [
        warden_bin, "run", "--manifest", E2E_DIR / "fixtures" / "manifests" / "asking.yaml", "--confirm-timeout", "20",
        "--", sys.executable, SERVERS_DIR / "asking.py", "--log", log]]
    questions: list = []

    async def scenario():
        async def on_elicit(context, request):
            questions.append(request.message)
            if request.message.startswith("Warden"):
                return mcp_types.ElicitResult(action="accept", content={"decision": "approve"})
            return mcp_types.ElicitResult(action="accept", content={"color": "blue"})

        params = StdioServerParameters(command=arguments[0], args=arguments[1:], env=child_env())
        with tempfile.TemporaryFile("w+") as errlog:
            async with Client(
                stdio_client(params, errlog=errlog), mode="2026-07-28", read_timeout_seconds=30, cache=None,
                elicitation_callback=on_elicit,
            ) as client:
                result = await client.call_tool("ask", {"topic": "paint"})
                return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    result = run_async(scenario)
    assert result.get("isError") is False and 'the server got {"color": "blue"}' in text_of(result), result
    assert [q.split(":")[0] for q in questions] == [
        "Warden is holding a tool call that needs your confirmation.\n\nServer",
        "The server asks",
        "Warden is holding a tool call that needs your confirmation.\n\nServer",
    ], questions
    received = [json.loads(line)["params"] for line in log.read_text().splitlines() if '"tools/call"' in line]
    assert len(received) == 2
    assert "requestState" not in received[0] and "inputResponses" not in received[0]
    assert received[1]["requestState"] == "srv-1"
    assert received[1]["inputResponses"] == {"srvq": {"action": "accept", "content": {"color": "blue"}}}
    assert all("dev.warden/confirm" not in json.dumps(p) for p in received)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_ungranted_confirm_approved_in_the_client_runs_in_both_eras(warden_bin, git_server_bin, git_repo, tmp_path, mode):
    """Issue 14, finding 7: with `--ungranted confirm` and no grant at all, an approved call ran in the
    handshake era but the per-request era judged the retry again without the ungranted rule and
    denied it `not-delegated`, though the store said approved."""
    inner = tmp_path / "inner"
    arguments = argv(warden_bin, git_server_bin, git_repo, inner, "--ungranted", "confirm", "--confirm-timeout", "20")
    result = reset_approved_in_the_client(arguments, git_repo, mode)
    assert decision_of(result) is None and result.get("isError") is False, result
    assert not staged(git_repo)
    assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_reset"]
