"""`warden confirm` as a person uses it: in a terminal (tmux), answered with keys, its screen read back.

A raw JSON-RPC client holds a destructive call (git_reset, behind the real mcp-server-git); the
human answers the prompt in tmux; the held call then completes or is denied in the session.
"""

from __future__ import annotations

import getpass

import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from conftest import child_env
from sdk_support import calls_seen_by_server, tapped

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """A tmux server of the test's own, running one command in a window of a fixed size."""

    def __init__(self, command: list[str], env: dict):
        self.socket = f"warden-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={shell_quote(value)}" for key, value in env.items() if key in ("WARDEN_HOME", "PATH", "HOME"))
        script = f"env {exports} {' '.join(shell_quote(c) for c in command)}; sleep 30"
        subprocess.run(
            ["tmux", "-L", self.socket, "new-session", "-d", "-x", "200", "-y", "50", "sh", "-c", script],
            check=True, timeout=10,
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "capture-pane", "-p", "-J"], capture_output=True, text=True, timeout=10
        ).stdout

    def wait_for(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on the screen:\n{self.screen()}")

    def keys(self, *keys: str):
        subprocess.run(["tmux", "-L", self.socket, "send-keys", *keys], check=True, timeout=10)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        # kill-server leaves the socket file behind.
        socket = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket)
        try:
            os.unlink(socket)
        except FileNotFoundError:
            pass


def shell_quote(text) -> str:
    return "'" + str(text).replace("'", "'\\''") + "'"


class Session:
    """A handshake-era raw client of `warden run` in front of mcp-server-git (no elicitation)."""

    def __init__(self, argv: list[str]):
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env())
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "terminal-test", "version": "1"}}})
        assert self.receive()["id"] == 0
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict):
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def receive(self, timeout: float = 10) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"warden sent nothing within {timeout}s") from None
        assert line, "warden closed the session"
        return json.loads(line)

    def _read(self):
        for line in iter(self.process.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(b"")

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def held_session(warden_bin, git_server_bin, git_repo, tmp_path, grant):
    grant("--server", "git", "--allow", "git.*", "--on", f"repo:{git_repo}", purpose="tidy the index")
    inner = tmp_path / "inner"
    command = [git_server_bin, "--repository", git_repo]
    session = Session([str(a) for a in [warden_bin, "run", "--server", "git", "--confirm-timeout", "30", "--", *tapped(inner, command)]])
    yield session, inner
    session.close()


def staged(repo) -> bool:
    out = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=repo, capture_output=True, text=True)
    return bool(out.stdout.strip())


def reset(session: Session, request_id: int, repo):
    session.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                  "params": {"name": "git_reset", "arguments": {"repo_path": str(repo)}}})


def test_yes_at_the_prompt_approves_and_the_call_completes(held_session, git_repo, warden_bin):
    session, inner = held_session
    reset(session, 1, git_repo)
    terminal = Tmux([warden_bin, "confirm"], child_env())
    try:
        screen = terminal.wait_for("Approve this call? [y/N]")
        for fragment in ["git_reset", str(git_repo), "git.reset", "tidy the index", "destructive", "agent:     terminal-test"]:
            assert fragment in screen, (fragment, screen)
        terminal.keys("y", "Enter")
        terminal.wait_for("approved: warden forwards git_reset to git")
        answer = session.receive()
        assert answer["id"] == 1 and answer["result"].get("isError") is False, answer
        assert not staged(git_repo)
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_reset"]
    finally:
        terminal.close()


def test_enter_alone_rejects(held_session, git_repo, warden_bin):
    session, inner = held_session
    reset(session, 1, git_repo)
    terminal = Tmux([warden_bin, "confirm"], child_env())
    try:
        terminal.wait_for("Approve this call? [y/N]")
        terminal.keys("Enter")
        terminal.wait_for("rejected: the agent is told")
        answer = session.receive()
        decision = answer["result"]["_meta"]["dev.warden/decision"]
        assert answer["result"]["isError"] is True and decision["reason"] == "rejected", answer
        assert "via terminal" in answer["result"]["content"][0]["text"]
        assert staged(git_repo) and calls_seen_by_server(inner) == []
    finally:
        terminal.close()


def test_watch_picks_up_a_hold_made_after_it_started(held_session, git_repo, warden_bin):
    session, inner = held_session
    terminal = Tmux([warden_bin, "confirm", "--watch"], child_env())
    try:
        time.sleep(0.5)
        assert "Approve this call?" not in terminal.screen()
        reset(session, 1, git_repo)
        terminal.wait_for("Approve this call? [y/N]")
        terminal.keys("yes", "Enter")
        answer = session.receive()
        assert answer["id"] == 1 and answer["result"].get("isError") is False, answer
        assert [c["name"] for c in calls_seen_by_server(inner)] == ["git_reset"]
    finally:
        terminal.close()


def test_an_answer_after_a_decision_elsewhere_is_refused_and_says_who_decided(held_session, git_repo, warden_bin):
    session, inner = held_session
    reset(session, 1, git_repo)
    terminal = Tmux([warden_bin, "confirm"], child_env())
    try:
        screen = terminal.wait_for("Approve this call? [y/N]")
        [hold_id] = [word for word in screen.split() if word.startswith("h_")][:1]
        # Someone else rejects it from another terminal while the prompt is open.
        other = subprocess.run([str(warden_bin), "reject", hold_id, "--by", "dana", "--why", "too late"],
                               capture_output=True, text=True, env=child_env(), timeout=20)
        assert other.returncode == 0, other.stderr
        answer = session.receive()
        assert answer["id"] == 1 and answer["result"]["_meta"]["dev.warden/decision"]["reason"] == "rejected"
        assert "too late" in answer["result"]["content"][0]["text"]
        # The person at the prompt now says yes: refused, naming who decided first; nothing is forwarded.
        terminal.keys("y", "Enter")
        # Recorded as the OS user's decision; "dana" is only a note.
        terminal.wait_for(f"{hold_id} was already rejected by {getpass.getuser()} via cli")
        assert staged(git_repo) and calls_seen_by_server(inner) == []
    finally:
        terminal.close()


def test_watch_with_the_sdk_in_the_per_request_era_on_the_mailbox(warden_bin, mailbox_bin, grant, tmp_path):
    """Two deletions in turn, answered y then Enter at a `warden confirm --watch` started first."""
    import anyio
    from sdk_support import assert_allowed, assert_denied, call, run_async, session, text_of

    grant("--server", "mailbox", "--allow", "mail.list,mail.delete", purpose="clear out old mail")
    inner = tmp_path / "inner"
    argv = [warden_bin, "run", "--server", "mailbox", "--confirm-timeout", "30", "--",
            *tapped(inner, [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])]
    terminal = Tmux([warden_bin, "confirm", "--watch", "--by", "carol"], child_env())

    def prompts(count: int, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = terminal.screen()
            if screen.count("Approve this call? [y/N]") >= count and text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"prompt {count} about {text!r} never appeared:\n{terminal.screen()}")

    async def scenario():
        async with session(argv, mode="2026-07-28") as client:
            with anyio.fail_after(10):
                listing = text_of(await call(client, "list_messages", {}))
            ids = [word.strip("[]") for word in listing.split() if word.startswith("[msg-")]
            screens, results = [], []
            for message, key in ((ids[0], ["y", "Enter"]), (ids[1], ["Enter"])):
                async with anyio.create_task_group() as group:
                    async def press(message=message, key=key):
                        screen = await anyio.to_thread.run_sync(prompts, len(screens) + 1, f"message:{message}")
                        screens.append(screen)
                        terminal.keys(*key)
                    group.start_soon(press)
                    with anyio.fail_after(15):
                        results.append(await call(client, "delete_message", {"id": message}))
            with anyio.fail_after(10):
                after = text_of(await call(client, "list_messages", {}))
            return ids, screens, results, after

    try:
        ids, screens, (deleted, kept), after = run_async(scenario, timeout=60)
    finally:
        terminal.close()
    for fragment in ["server:    mailbox", "agent:     warden-e2e", "tool:      delete_message",
                     f'arguments: {{"id":"{ids[0]}"}}', f"means:     mail.delete on message:{ids[0]}", "destructive",
                     '"clear out old mail"', "s left)"]:
        assert fragment in screens[0], (fragment, screens[0])
    assert f"message:{ids[1]}" in screens[1].split("Approve this call? [y/N]")[-2], screens[1]
    assert assert_allowed(deleted)["isError"] is False, deleted
    assert_denied(kept, "rejected")
    assert "carol" in text_of(kept) and "via terminal" in text_of(kept), text_of(kept)
    assert ids[0] not in after and ids[1] in after
    deletes = [c["arguments"] for c in calls_seen_by_server(inner) if c["name"] == "delete_message"]
    assert deletes == [{"id": ids[0]}], deletes
