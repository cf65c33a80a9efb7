"""`warden run --delegation-tool`: warden adds its own read-only tool `warden_delegation` to
tools/list and answers it itself, with the delegation in force for this agent on this server, so a
model whose instructions were compacted away can ask. It never shows another agent's grants, and
the server never sees the call. The SDK client in front of the mailbox example, both eras."""

from __future__ import annotations

import pytest

from sdk_support import ERAS, call, calls_seen_by_server, dump, run_async, session, tapped, text_of


@pytest.mark.parametrize("mode", ERAS)
def test_the_agent_can_ask_what_it_may_do(warden_bin, mailbox_bin, grant, forbid, tmp_path, mode):
    mine = grant("--server", "mailbox", "--agent", "warden-e2e", "--allow", "mail.list,mail.read",
                 purpose="triage the inbox; suggest deletions only")
    everyone = grant("--server", "mailbox", "--allow", "mail.send", "--on", "domain:example.com",
                     purpose="reply to colleagues")
    other = grant("--server", "mailbox", "--agent", "someone-else", "--allow", "mail.delete",
                  purpose="a secret of another agent")
    barred = forbid("--server", "mailbox", "--action", "mail.archive", purpose="keep the archive as it is")
    command = [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"]
    argv = [warden_bin, "run", "--server", "mailbox", "--delegation-tool", "--",
            *tapped(tmp_path / "inner", command)]

    async def scenario():
        async with session(argv, mode=mode) as client:
            listing = dump(await client.list_tools())
            return listing, await call(client, "warden_delegation", {})

    listing, answer = run_async(scenario)
    [entry] = [tool for tool in listing["tools"] if tool["name"] == "warden_delegation"]
    assert entry["annotations"]["readOnlyHint"] is True
    assert answer["isError"] is False
    structured = answer["structuredContent"]
    assert structured["agent"] == "warden-e2e" and structured["server"] == "mailbox"
    assert sorted(g["id"] for g in structured["grants"]) == sorted([mine, everyone])
    assert [f["id"] for f in structured["forbids"]] == [barred]
    assert "delete_message" in structured["destructive_tools"]
    text = text_of(answer)
    assert "suggest deletions only" in text and other not in text and "secret" not in text
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_without_the_flag_the_name_is_just_an_undeclared_tool(warden_bin, mailbox_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.*", purpose="all mail")
    argv = [warden_bin, "run", "--server", "mailbox", "--", mailbox_bin, "--mailbox", tmp_path / "box", "--seed"]

    async def scenario():
        async with session(argv) as client:
            listing = dump(await client.list_tools())
            return listing, await call(client, "warden_delegation", {})

    listing, answer = run_async(scenario)
    assert all(tool["name"] != "warden_delegation" for tool in listing["tools"])
    assert answer["_meta"]["dev.warden/decision"]["reason"] == "undeclared"
