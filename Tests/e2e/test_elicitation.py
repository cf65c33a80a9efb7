"""Holds decided in the agent's own UI: MCP elicitation in the handshake era, with the official SDK
client's elicitation callback, in front of the real mcp-server-git."""

from __future__ import annotations

import json
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
