"""The agent as attacker: each way found to get a call past warden, or an approval it should not get,
replayed end to end against real servers (mcp-server-git, the example mailbox) through the built
warden, with a raw client where the attack needs bytes no SDK would send.

Each test names the finding it replays; each would fail against the warden in which it was found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import approval_code, child_env, warden_cli, wait_for
from sdk_support import calls_seen_by_server, tapped

MESSAGE = "msg-20261117-0a1f9c42"
WAIT = 10.0


def handshake(proc, name: str = "attacker", capabilities: dict | None = None) -> dict:
    proc.send_json({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities or {},
        "clientInfo": {"name": name, "version": "1"}}})
    answer = proc.read_json()
    proc.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return answer


def read_until_id(proc, wanted, timeout: float = WAIT) -> tuple[dict, list[dict]]:
    """Reads lines until the response with id `wanted`; returns it and whatever came before."""
    before = []
    deadline = time.monotonic() + timeout
    while True:
        message = proc.read_json(timeout=max(0.1, deadline - time.monotonic()))
        if message.get("id") == wanted and "method" not in message:
            return message, before
        before.append(message)


def tool_call(proc, request_id, tool: str, arguments: dict) -> None:
    proc.send_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}})


def decision(response: dict) -> dict:
    return response["result"]["_meta"]["dev.warden/decision"]


def pending_holds(warden_bin) -> list[dict]:
    out = warden_cli(warden_bin, "holds", "--json", check=True)
    return json.loads(out.stdout)


def first_hold(warden_bin) -> dict:
    """The first pending hold, once there is one."""
    return wait_for(lambda: (pending_holds(warden_bin) or [None])[0], what="a hold")


def ask_about_a_deletion(mailbox_warden, grant):
    """A client that can show forms deletes a message under a grant: the call is held and warden's
    question arrives. Returns the process and the question."""
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc, capabilities={"elicitation": {}})
    tool_call(proc, 1, "delete_message", {"id": MESSAGE})
    return proc, proc.read_json()


def branches(repo: Path) -> list[str]:
    out = subprocess.run(["git", "branch", "--format=%(refname:short)"], cwd=repo, capture_output=True,
                         text=True, timeout=20, check=True)
    return out.stdout.split()


@pytest.fixture
def git_warden(warden, git_server_bin, git_repo, tmp_path):
    def start(*options, env: dict | None = None):
        command = tapped(tmp_path / "inner", [git_server_bin, "--repository", git_repo])
        return warden(["--server", "git", *options], command, env=env)

    return start


@pytest.fixture
def mailbox_warden(warden, mailbox_bin, tmp_path):
    def start(*options):
        command = tapped(tmp_path / "inner", [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
        return warden(["--server", "mailbox", "--confirm-timeout", "30", *options], command)

    return start


# --------------------------------------------------------------------------------------------------
# Finding 1: a call smuggled after a bare \r


def test_a_tools_call_smuggled_after_a_bare_cr_never_reaches_the_server(git_warden, git_repo, forbid, tmp_path):
    forbid("--server", "git", "--action", "**", "--on", f"repo:{git_repo}/**", purpose="hands off")
    proc = git_warden()
    handshake(proc)
    smuggled = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "name": "git_create_branch", "arguments": {"repo_path": str(git_repo), "branch_name": "smuggled"}}})
    proc.send(b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":\r' + smuggled.encode() + b"\r}}\n")
    answer, _ = read_until_id(proc, 5)
    assert answer["error"]["code"] == -32600
    assert answer["error"]["data"]["warden"]["reason"] == "embedded-line-break"
    # The session goes on, and the server never saw the call.
    proc.send_json({"jsonrpc": "2.0", "id": 6, "method": "ping"})
    assert "result" in read_until_id(proc, 6)[0]
    assert "smuggled" not in branches(git_repo)
    assert calls_seen_by_server(tmp_path / "inner") == []
    assert b"smuggled" not in (tmp_path / "inner.c2s").read_bytes()


# --------------------------------------------------------------------------------------------------
# Findings 2-4: paths the server expands, symbolic links, a tree's root


def test_a_path_the_server_would_expand_is_refused(git_warden, git_repo, grant, forbid, tmp_path):
    grant("--server", "git", "--allow", "git.read", "--on", "repo:/**", purpose="read anything")
    forbid("--server", "git", "--action", "**", "--on", f"repo:{git_repo}", purpose="not this one")
    # GitPython expands $VAR in repo_path: this names the forbidden repository.
    proc = git_warden(env=child_env(WARDEN_TEST_REPO=str(git_repo)))
    handshake(proc)
    for number, path in enumerate(["$WARDEN_TEST_REPO", "${WARDEN_TEST_REPO}", f"{git_repo}/$EMPTY/../x"], 1):
        tool_call(proc, number, "git_status", {"repo_path": path})
        answer, _ = read_until_id(proc, number)
        assert answer["result"]["isError"] is True
        assert decision(answer)["reason"] == "bad-arguments", answer
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_a_symbolic_link_is_decided_where_it_leads(git_warden, git_repo, grant, forbid, tmp_path):
    app = tmp_path / "repos" / "app"
    app.mkdir(parents=True)
    (app / "link").symlink_to(git_repo)
    grant("--server", "git", "--allow", "git.read", "--on", f"repo:{tmp_path}/repos/app/**", purpose="the app")
    forbid("--server", "git", "--action", "**", "--on", f"repo:{git_repo}/**", purpose="production")
    proc = git_warden()
    handshake(proc)
    tool_call(proc, 1, "git_status", {"repo_path": str(app / "link")})
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "forbidden", answer
    assert f"repo:{git_repo}" in decision(answer)["resources"]
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_a_forbid_on_a_tree_covers_its_root(git_warden, git_repo, grant, forbid, tmp_path):
    grant("--server", "git", "--allow", "git.read", "--on", "repo:/**", purpose="read anything")
    forbid("--server", "git", "--action", "**", "--on", f"repo:{git_repo}/**", purpose="production")
    proc = git_warden()
    handshake(proc)
    tool_call(proc, 1, "git_status", {"repo_path": str(git_repo)})
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "forbidden", answer
    assert calls_seen_by_server(tmp_path / "inner") == []


# --------------------------------------------------------------------------------------------------
# Finding 5: the human approves what they cannot see


@pytest.mark.parametrize("body", [
    '{"x":"ok","x":"EXFIL / all the secrets"}',
    '{"size":1e999}',
    '{"n":123456789012345678901}',
    '"\\ud800"',
])
def test_an_ambiguous_unread_argument_is_denied_before_any_hold(mailbox_warden, warden_bin, grant, tmp_path, body):
    grant("--server", "mailbox", "--allow", "mail.send", "--on", "domain:example.com", "--confirm", "mail.send",
          purpose="replies")
    proc = mailbox_warden()
    handshake(proc)
    proc.send(('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_message","arguments":'
               '{"to":"a@example.com","subject":"hi","body":' + body + "}}}\n").encode())
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "bad-arguments", answer
    assert pending_holds(warden_bin) == []
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_a_hold_shows_and_binds_the_exact_bytes(mailbox_warden, warden_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc)
    arguments = '{ "id" : "' + MESSAGE + '" , "note" : 1.0 }'
    proc.send(('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_message","arguments":'
               + arguments + "}}\n").encode())
    hold = first_hold(warden_bin)
    shown = warden_cli(warden_bin, "holds", "--full", check=True).stdout
    assert arguments in shown, shown
    import hashlib
    digest = hashlib.sha256(b"mailbox\0delete_message\0" + arguments.encode()).hexdigest()
    assert hold["digest"] == digest


# --------------------------------------------------------------------------------------------------
# Finding 6: terminal injection through the client's name


def test_a_hostile_client_name_is_not_an_identity_and_draws_nothing(mailbox_warden, warden_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", "--agent", "*", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc, name="claude\n  tool:      list_messages\x1b[8m")
    tool_call(proc, 1, "delete_message", {"id": MESSAGE})
    hold = first_hold(warden_bin)
    assert hold["agent"] == "unknown"
    shown = warden_cli(warden_bin, "holds", check=True).stdout
    assert "\x1b" not in shown and "tool:      delete_message" in shown
    assert "not used as an identity" in proc.stderr_text()
    # warden's own log is read in terminals too: nothing the client chose draws on it.
    assert "\x1b" not in proc.stderr_text() and "\\x1b" not in proc.stderr_text()
    assert "\\e[8m" in proc.stderr_text()


# --------------------------------------------------------------------------------------------------
# Finding 7: the kill switch reaches held calls


def test_an_approval_after_the_kill_switch_does_not_forward(mailbox_warden, warden_bin, grant, forbid, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc)
    tool_call(proc, 1, "delete_message", {"id": MESSAGE})
    hold = first_hold(warden_bin)
    warden_cli(warden_bin, "revoke", "--all", check=True)
    forbid("--action", "**", purpose="stop everything")
    warden_cli(warden_bin, "approve", hold["id"], check=True)
    answer, _ = read_until_id(proc, 1)
    assert answer["result"]["isError"] is True
    assert decision(answer)["reason"] == "forbidden", answer
    assert calls_seen_by_server(tmp_path / "inner") == []
    assert any(MESSAGE in path.name for path in (tmp_path / "box").rglob("*"))


# --------------------------------------------------------------------------------------------------
# Finding 10: promises kept (withdrawn questions, answers at shutdown, one server name)


def test_a_question_decided_elsewhere_is_withdrawn(mailbox_warden, warden_bin, grant, tmp_path):
    proc, question = ask_about_a_deletion(mailbox_warden, grant)
    assert question["method"] == "elicitation/create"
    hold = first_hold(warden_bin)
    warden_cli(warden_bin, "reject", hold["id"], "--why", "not today", check=True)
    answer, before = read_until_id(proc, 1)
    cancelled = [m for m in before if m.get("method") == "notifications/cancelled"]
    assert [m["params"]["requestId"] for m in cancelled] == [question["id"]]
    assert decision(answer)["reason"] == "rejected"


def test_a_held_call_is_answered_when_warden_stops(mailbox_warden, warden_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc)
    tool_call(proc, 1, "delete_message", {"id": MESSAGE})
    hold = first_hold(warden_bin)
    proc.signal(signal.SIGTERM)
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "shutdown", answer
    proc.wait()
    states = {h["id"]: h["state"] for h in json.loads(warden_cli(warden_bin, "holds", "--all", "--json").stdout)}
    assert states[hold["id"]] == "cancelled"
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_check_and_run_agree_on_an_alias_as_the_server_name(warden, warden_bin, git_server_bin, git_repo, grant,
                                                            tmp_path):
    # An alias stands for the manifest's own name in both: grants are written against `git`.
    grant("--server", "git", "--allow", "git.read", "--on", f"repo:{git_repo}", "--agent", "a", purpose="read")
    result = warden_cli(warden_bin, "check", "--server", "mcp-server-git", "--agent", "a", "git_status",
                        json.dumps({"repo_path": str(git_repo)}), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["server"] == "git"
    proc = warden(["--server", "mcp-server-git", "--agent", "a"], [git_server_bin, "--repository", git_repo])
    handshake(proc)
    tool_call(proc, 1, "git_status", {"repo_path": str(git_repo)})
    answer, _ = read_until_id(proc, 1)
    assert not answer["result"].get("isError"), answer


# --------------------------------------------------------------------------------------------------
# Finding 11 (in part): the agent is never handed a command line to run


def test_a_denial_names_what_to_delegate_not_a_command(git_warden, git_repo, tmp_path):
    proc = git_warden("--log-level", "notice")
    handshake(proc)
    tool_call(proc, 1, "git_status", {"repo_path": str(git_repo)})
    answer, _ = read_until_id(proc, 1)
    text = answer["result"]["content"][0]["text"]
    assert "warden grant" not in text and "would have to delegate 'git.read'" in text
    assert "suggestedGrant" not in decision(answer)
    proc.close_stdin()
    proc.wait()
    assert "to allow it: warden grant" in proc.wait_stderr_closed()


# --------------------------------------------------------------------------------------------------
# Finding 11: the agent approving its own calls


def answer_form(proc, question: dict, content: dict | None, action: str = "accept") -> None:
    result = {"action": action}
    if content is not None:
        result["content"] = content
    proc.send_json({"jsonrpc": "2.0", "id": question["id"], "result": result})


@pytest.mark.parametrize("content", [
    {"decision": "approve"},                      # a client that answers every form by itself
    {"decision": "approve", "code": "000000"},    # a guess (one try)
])
def test_a_client_that_answers_forms_by_itself_cannot_approve(mailbox_warden, warden_bin, warden_home, grant,
                                                              tmp_path, content):
    proc, question = ask_about_a_deletion(mailbox_warden, grant)
    assert question["method"] == "elicitation/create"
    assert "code" in question["params"]["requestedSchema"]["properties"]
    if content.get("code") == "000000" and approval_code(warden_home) == "000000":
        content = {"decision": "approve", "code": "000001"}
    answer_form(proc, question, content)
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "rejected", answer
    assert calls_seen_by_server(tmp_path / "inner") == []
    decided = json.loads(warden_cli(warden_bin, "holds", "--all", "--json", check=True).stdout)[0]
    assert decided["state"] == "rejected" and decided["attestation"] == "elicitation-client"


def test_a_person_approves_in_the_form_with_the_code(mailbox_warden, warden_bin, warden_home, grant, tmp_path):
    proc, question = ask_about_a_deletion(mailbox_warden, grant)
    code = approval_code(warden_home)  # what the desktop notification or `warden holds` shows
    assert code not in json.dumps(question), "the code must not reach the agent's side"
    answer_form(proc, question, {"decision": "approve", "code": code})
    answer, _ = read_until_id(proc, 1)
    assert not answer["result"].get("isError"), answer
    assert [c["name"] for c in calls_seen_by_server(tmp_path / "inner")] == ["delete_message"]
    decided = json.loads(warden_cli(warden_bin, "holds", "--all", "--json", check=True).stdout)[0]
    assert decided["state"] == "approved" and decided["attestation"] == "elicitation-code"


def test_listing_elicitation_trusts_the_client_and_warden_says_so(mailbox_warden, warden_home, grant, tmp_path):
    (warden_home / "config.yaml").write_text("scripted: allow\nconfirm:\n  channels: [elicitation, terminal]\n")
    proc, question = ask_about_a_deletion(mailbox_warden, grant)
    assert "code" not in question["params"]["requestedSchema"]["properties"]
    answer_form(proc, question, {"decision": "approve"})
    answer, _ = read_until_id(proc, 1)
    assert not answer["result"].get("isError"), answer
    assert "the agent's client alone approves held calls" in proc.stderr_text()


def test_grants_and_approvals_without_a_terminal_are_refused_unless_scripted(mailbox_warden, warden_bin,
                                                                             warden_home, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc)
    tool_call(proc, 1, "delete_message", {"id": MESSAGE})
    hold = first_hold(warden_bin)
    (warden_home / "config.yaml").write_text("")  # the default: scripts may not widen or approve
    refused = warden_cli(warden_bin, "grant", "--allow", "**", "--purpose", "self-issued")
    assert refused.returncode == 77 and "without a terminal" in refused.stderr, refused
    approved = warden_cli(warden_bin, "approve", hold["id"])
    assert approved.returncode == 77 and "scripted: allow" in approved.stderr, approved
    # Narrowing never needs a terminal: rejecting, forbidding and revoking work from a script.
    warden_cli(warden_bin, "reject", hold["id"], check=True)
    answer, _ = read_until_id(proc, 1)
    assert decision(answer)["reason"] == "rejected"
    warden_cli(warden_bin, "deny", "--action", "**", "--purpose", "stop", check=True)
    warden_cli(warden_bin, "revoke", "--all", check=True)
    grants = json.loads(warden_cli(warden_bin, "grants", "--all", "--json", check=True).stdout)
    assert all(g.get("attestation") in (None, "cli-scripted") for g in grants)
    assert calls_seen_by_server(tmp_path / "inner") == []


def test_guessing_codes_stops_the_client_being_asked(mailbox_warden, warden_bin, grant, tmp_path):
    grant("--server", "mailbox", "--allow", "mail.delete", purpose="tidy up")
    proc = mailbox_warden()
    handshake(proc, capabilities={"elicitation": {}})
    for request_id in (1, 2, 3):
        tool_call(proc, request_id, "delete_message", {"id": MESSAGE})
        question = proc.read_json()
        assert question["method"] == "elicitation/create"
        answer_form(proc, question, {"decision": "approve", "code": "not-the-code"})
        answer, _ = read_until_id(proc, request_id)
        assert decision(answer)["reason"] == "rejected"
    # A fourth call is held for a terminal only: no form, no more guesses.
    tool_call(proc, 4, "delete_message", {"id": MESSAGE})
    hold = first_hold(warden_bin)
    proc.expect_no_line(within=0.5)
    warden_cli(warden_bin, "reject", hold["id"], check=True)
    assert decision(read_until_id(proc, 4)[0])["reason"] == "rejected"
    assert "no longer asked about in the client" in proc.stderr_text()
    assert calls_seen_by_server(tmp_path / "inner") == []
