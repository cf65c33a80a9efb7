"""Shared fixtures and process helpers of warden's end-to-end suite.

Isolation: every test runs with its own empty warden home. The autouse fixture `warden_home` points
WARDEN_HOME (and XDG_STATE_HOME, in case WARDEN_HOME were ever ignored) at a fresh 0700 directory
under the test's tmp_path, in this process's environment, so every warden the suite starts (through
`spawn`, `child_env()`, the SDK's stdio client or `warden_cli`) uses it and none can reach the real
~/.local/state/warden. A session fixture checks that the real store was not touched.

Everything here drives real processes over real pipes; nothing is mocked. Every blocking operation
takes a timeout, so a hang fails the test that caused it instead of blocking the suite (pytest-timeout
is not assumed to be installed).

Binaries:
  WARDEN_BIN   path of the warden executable; otherwise `swift build --product warden` runs at the
               repository root and `swift build --show-bin-path` says where it is.
  MAILBOX_BIN  path of warden-example-mailbox; otherwise built the same way. Its tests are skipped,
               with the build error as the reason, only when it cannot be built.
  SWIFT_BUILD_FLAGS  extra flags for both `swift build` invocations (e.g. `--scratch-path .build-e2e`).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parent.parent
SERVERS_DIR = E2E_DIR / "servers"
ECHO_RAW = SERVERS_DIR / "echo_raw.py"
LIFECYCLE = SERVERS_DIR / "lifecycle.py"

# Default bound for one expected line. Generous because a debug build of warden and a Python server
# start on a loaded CI machine; a correct run never waits for it.
LINE_TIMEOUT = 10.0

FIXTURE_MANIFESTS = E2E_DIR / "fixtures" / "manifests"
# Manifests of the fixture servers (each declares every tool its tests call, see the files).
LIFECYCLE_MANIFEST = FIXTURE_MANIFESTS / "lifecycle.yaml"
ECHO_MANIFEST = FIXTURE_MANIFESTS / "echo.yaml"


# --------------------------------------------------------------------------------------------------
# Binaries


def _swift_build(product: str) -> Path:
    """Builds `product` with SwiftPM at the repository root and returns the executable's path."""
    flags = shlex.split(os.environ.get("SWIFT_BUILD_FLAGS", ""))
    build = subprocess.run(
        ["swift", "build", "--product", product, *flags],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if build.returncode != 0:
        tail = "\n".join((build.stdout + build.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"swift build --product {product} failed (status {build.returncode}):\n{tail}")
    bin_path = subprocess.run(
        ["swift", "build", "--show-bin-path", *flags],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.strip()
    executable = Path(bin_path) / product
    if not os.access(executable, os.X_OK):
        raise RuntimeError(f"swift build succeeded but {executable} is not an executable")
    return executable


@pytest.fixture(scope="session")
def warden_bin() -> Path:
    """The warden executable (WARDEN_BIN, or built with SwiftPM)."""
    configured = os.environ.get("WARDEN_BIN")
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            pytest.fail(f"WARDEN_BIN={configured} is not an executable file")
        return path
    try:
        return _swift_build("warden")
    except (RuntimeError, subprocess.SubprocessError) as error:
        pytest.fail(f"cannot build warden: {error}")


@pytest.fixture(scope="session")
def mailbox_bin() -> Path:
    """The example mailbox server (MAILBOX_BIN, or built with SwiftPM); skips when it cannot be built."""
    configured = os.environ.get("MAILBOX_BIN")
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            pytest.fail(f"MAILBOX_BIN={configured} is not an executable file")
        return path
    try:
        return _swift_build("warden-example-mailbox")
    except (RuntimeError, subprocess.SubprocessError) as error:
        pytest.skip(f"warden-example-mailbox is not built (set MAILBOX_BIN or fix the build): {error}")


def venv_tool(name: str) -> str:
    """A console script of the suite's venv (next to the running interpreter), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run the suite with Tests/e2e/.venv/bin/python (see setup_venv.sh)")
    return found


@pytest.fixture(scope="session")
def git_server_bin() -> str:
    return venv_tool("mcp-server-git")


@pytest.fixture(scope="session")
def time_server_bin() -> str:
    return venv_tool("mcp-server-time")


def child_env(**extra: str) -> dict[str, str]:
    """The environment every server gets, directly or through warden (warden passes its own on).

    Explicit and identical on both sides of an identity test: the SDK's stdio client would otherwise
    hand a direct child only HOME/LOGNAME/PATH/SHELL/TERM/USER, while warden's child inherits warden's.
    """
    env = dict(os.environ)
    env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "PYTHONUNBUFFERED": "1"})
    env.pop("WARDEN_LOG", None)
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------------
# Warden's home and its command line


def _real_store_state() -> dict:
    """What the real (default) warden home looks like: the paths that exist and their mtimes."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    home = Path(state_home) / "warden"
    state = {}
    for path in (home, home / "warden.db", home / "warden.db-wal"):
        try:
            state[str(path)] = path.stat().st_mtime_ns
        except OSError:
            state[str(path)] = None
    return state


@pytest.fixture(scope="session", autouse=True)
def real_store_untouched():
    """Fails the session if any test created or changed the real ~/.local/state/warden."""
    before = _real_store_state()
    yield
    after = _real_store_state()
    assert after == before, f"the suite touched the real warden home: {before} -> {after}"


# `WARDEN_E2E_STORE=postgres`: every test's warden uses a fresh, migrated database of the session's
# PostgreSQL cluster as its store (WARDEN_STORE), its home holding only what stays on a machine (config,
# manifests, journals, the chain's head file). Tests that look into the SQLite file itself are marked
# `sqlite_only` and skipped then. Tests/run.sh runs the store-facing files both ways.
E2E_STORE = os.environ.get("WARDEN_E2E_STORE", "sqlite")


def pytest_collection_modifyitems(config, items):
    if E2E_STORE != "postgres":
        return
    skip = pytest.mark.skip(reason="looks into the SQLite store itself (WARDEN_E2E_STORE=postgres)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def warden_store(request, monkeypatch, warden_home) -> str | None:
    """The PostgreSQL store of this test (a URL) when the suite runs on PostgreSQL, else None."""
    if E2E_STORE != "postgres":
        yield None
        return
    cluster = request.getfixturevalue("postgres_cluster")
    warden_bin = request.getfixturevalue("warden_bin")
    name = "e2e_" + uuid.uuid4().hex[:16]
    cluster.createdb(name)
    url = cluster.url(name) + "?sslmode=disable"
    monkeypatch.setenv("WARDEN_STORE", url)
    migrate = warden_cli(warden_bin, "store", "migrate")
    assert migrate.returncode == 0, f"warden store migrate failed: {migrate.stderr}"
    yield url
    cluster.psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def warden_home(tmp_path_factory, monkeypatch) -> Path:
    """A fresh, empty warden home (mode 0700) for this test, set as WARDEN_HOME in the environment."""
    base = tmp_path_factory.mktemp("warden-home")
    home = base / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    state = base / "xdg-state"
    state.mkdir(mode=0o700)
    monkeypatch.setenv("WARDEN_HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    # The suite plays the human from scripts (no terminal): say so, as a user who scripts warden
    # would. Tests of the refusal without it remove this line.
    (home / "config.yaml").write_text(SCRIPTED_CONFIG)
    return home


SCRIPTED_CONFIG = "scripted: allow\n"


def approval_code(home: Path, timeout: float = 10.0) -> str:
    """The approval code of the newest pending hold, as the human reads it off the desktop notification
    or `warden holds` in a terminal (read here from the store, which is what those channels show)."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{home / 'warden.db'}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute(
                "SELECT approval_code FROM holds WHERE state = 'pending' ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
        if row and row[0]:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("no pending hold with an approval code")


def warden_cli(warden_bin: Path, *args, timeout: float = 20.0, env: dict | None = None, check: bool = False):
    """Runs `warden ARGS...` (the CLI, not `run`) and returns the CompletedProcess (text mode)."""
    result = subprocess.run(
        [str(warden_bin), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else child_env(),
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"warden {' '.join(map(str, args))} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


GRANT_ID = re.compile(r"^g_[a-z0-9]{16}$")
FORBID_ID = re.compile(r"^f_[a-z0-9]{16}$")


@pytest.fixture
def grant(warden_bin):
    """Issues a grant and returns its id: `grant("--server", "git", "--allow", "git.read", purpose="...")`."""

    def issue(*args, purpose: str = "end-to-end tests", env: dict | None = None) -> str:
        result = warden_cli(warden_bin, "grant", *args, "--purpose", purpose, env=env, check=True)
        grant_id = result.stdout.strip()
        assert GRANT_ID.match(grant_id), f"warden grant printed {result.stdout!r}"
        return grant_id

    return issue


@pytest.fixture
def forbid(warden_bin):
    """Issues a forbid (`warden deny`) and returns its id."""

    def issue(*args, purpose: str = "end-to-end tests", env: dict | None = None) -> str:
        result = warden_cli(warden_bin, "deny", *args, "--purpose", purpose, env=env, check=True)
        forbid_id = result.stdout.strip()
        assert FORBID_ID.match(forbid_id), f"warden deny printed {result.stdout!r}"
        return forbid_id

    return issue


# --------------------------------------------------------------------------------------------------
# Warden's documented amendments of server results (see ResultAmender): removing them, and only them

DELEGATION_META = "dev.warden/delegation"
DECISION_META = "dev.warden/decision"
SUMMARY_START = "Warden enforces a human's delegation on this server"
MARKS = {
    "delegated": "[warden: delegated]",
    "needs-confirmation": "[warden: needs a human's confirmation for each call]",
    "not-delegated": "[warden: not delegated; calls will be denied]",
}
_MARK_AT_END = re.compile(r"\[warden: [^\]]*\]\Z")
MISSING = object()


def strip_tool_list(result: dict) -> tuple[dict, dict]:
    """A tools/list result without warden's marks, and the marks: {tool: {"note", "status", "action"?}}.

    Each tool must carry exactly one mark: a description ending in "\n\n[warden: ...]" (or being just
    the mark, when the server gave none) and `_meta["dev.warden/delegation"]`. Key order is kept, so
    comparing json.dumps of the stripped result with the server's own bytes also checks the order.
    """
    result = json.loads(json.dumps(result))
    marks = {}
    for tool in result.get("tools", []):
        description = tool.get("description")
        assert isinstance(description, str), f"tool {tool.get('name')} has no description: {tool}"
        found = _MARK_AT_END.search(description)
        assert found, f"tool {tool.get('name')}: no [warden: ...] mark at the end of {description!r}"
        if found.start() == 0:
            del tool["description"]
        else:
            assert description[found.start() - 2 : found.start()] == "\n\n", description
            tool["description"] = description[: found.start() - 2]
        meta = tool.get("_meta")
        assert isinstance(meta, dict) and DELEGATION_META in meta, f"tool {tool.get('name')}: no {DELEGATION_META}"
        delegation = meta.pop(DELEGATION_META)
        assert set(delegation) <= {"status", "action"}, delegation
        if not meta:
            del tool["_meta"]
        marks[tool["name"]] = {"note": found.group(0), **delegation}
    return result, marks


def strip_handshake(result: dict, original_list_changed=MISSING) -> tuple[dict, dict]:
    """An initialize / server/discover result without warden's amendments, and what they were.

    Warden appends a delegation summary to `instructions` ("\n\n" + summary, or the summary alone) and
    sets capabilities.tools.listChanged to true; `original_list_changed` is the server's own value
    (MISSING: the server had none), which the stripped result gets back.
    """
    result = json.loads(json.dumps(result))
    instructions = result.get("instructions")
    assert isinstance(instructions, str), f"no instructions: {result}"
    start = instructions.find(SUMMARY_START)
    assert start >= 0, f"no delegation summary in instructions: {instructions!r}"
    summary = instructions[start:]
    if start == 0:
        del result["instructions"]
    else:
        assert instructions[start - 2 : start] == "\n\n", instructions
        result["instructions"] = instructions[: start - 2]
    amendments = {"summary": summary}
    tools = result.get("capabilities", {}).get("tools")
    if isinstance(tools, dict):
        amendments["listChanged"] = tools.get("listChanged", MISSING)
        if original_list_changed is MISSING:
            tools.pop("listChanged", None)
        else:
            tools["listChanged"] = original_list_changed
    return result, amendments


# The actions of the built-in manifests (manifests/*.yaml), tool by tool, and the destructive tools.
GIT_ACTIONS = {
    "git_status": "git.read", "git_diff_unstaged": "git.read", "git_diff_staged": "git.read",
    "git_diff": "git.read", "git_log": "git.read", "git_show": "git.read", "git_branch": "git.read",
    "git_add": "git.write", "git_commit": "git.commit", "git_create_branch": "git.branch",
    "git_checkout": "git.checkout", "git_reset": "git.reset",
}
TIME_ACTIONS = {"get_current_time": "time.read", "convert_time": "time.read"}
FETCH_ACTIONS = {"fetch": "web.fetch"}
MAILBOX_ACTIONS = {
    "list_messages": "mail.list", "read_message": "mail.read", "move_message": "mail.move",
    "archive_message": "mail.archive", "delete_message": "mail.delete", "send_message": "mail.send",
}
DESTRUCTIVE = {"git_reset", "delete_message"}


def expected_marks(status: str, action: str | None) -> dict:
    mark = {"note": MARKS[status], "status": status}
    if action is not None:
        mark["action"] = action
    return mark


# --------------------------------------------------------------------------------------------------
# Temp repositories and directories


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Warden Tests",
    "GIT_AUTHOR_EMAIL": "tests@warden.invalid",
    "GIT_COMMITTER_NAME": "Warden Tests",
    "GIT_COMMITTER_EMAIL": "tests@warden.invalid",
    "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00",
    "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=30)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A git repository with two commits, a staged change and an unstaged change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Warden Tests")
    _git(repo, "config", "user.email", "tests@warden.invalid")
    (repo / "README.md").write_text("# fixture\n\nfirst line\n")
    (repo / "notes.txt").write_text("alpha\nbeta\n")
    _git(repo, "add", "README.md", "notes.txt")
    _git(repo, "commit", "-q", "-m", "Initial commit")
    (repo / "notes.txt").write_text("alpha\nbeta\ngamma\n")
    _git(repo, "commit", "-q", "-am", "Add gamma (ünïcode in the message)")
    (repo / "staged.txt").write_text("staged\n")
    _git(repo, "add", "staged.txt")
    (repo / "README.md").write_text("# fixture\n\nfirst line\nan unstaged change\n")
    return repo


# --------------------------------------------------------------------------------------------------
# Processes


class Proc:
    """A child process with pipes, read line by line on background threads, every wait bounded."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | Path | None = None):
        self.argv = [str(a) for a in argv]
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else child_env(),
            cwd=cwd,
            start_new_session=True,  # its own process group: teardown can reap the server too
        )
        self.pid = self.popen.pid
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stdout_closed = False
        self._stderr = bytearray()
        self._stderr_lock = threading.Lock()
        self._stderr_done = threading.Event()
        self.exited_at: float | None = None
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    # -- background readers

    def _pump_stdout(self) -> None:
        fd = self.popen.stdout.fileno()
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the test's teardown closed the pipe while this thread read it
                chunk = b""
            if not chunk:
                break
            pending += chunk
            while True:
                newline = pending.find(b"\n")
                if newline < 0:
                    break
                self._lines.put(pending[: newline + 1])
                pending = pending[newline + 1 :]
        if pending:
            self._lines.put(pending)  # an unterminated last line is reported as it is
        self._lines.put(None)

    def _pump_stderr(self) -> None:
        fd = self.popen.stderr.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the test's teardown closed the pipe while this thread read it
                chunk = b""
            if not chunk:
                break
            with self._stderr_lock:
                self._stderr += chunk
        self._stderr_done.set()

    # -- stdin

    def send(self, data: bytes | str) -> None:
        """Writes raw bytes to the child's stdin."""
        if isinstance(data, str):
            data = data.encode()
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def send_json(self, message: dict) -> None:
        self.send(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def close_stdin(self) -> None:
        try:
            self.popen.stdin.close()
        except BrokenPipeError:
            pass

    # -- stdout

    def readline(self, timeout: float = LINE_TIMEOUT) -> bytes:
        """The next stdout line, terminator included; fails on timeout or end of stream."""
        if self._stdout_closed:
            raise AssertionError(f"{self.describe()}: stdout already at end of stream")
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"{self.describe()}: no stdout line within {timeout}s\nstderr so far:\n{self.stderr_text()}"
            ) from None
        if line is None:
            self._stdout_closed = True
            raise AssertionError(
                f"{self.describe()}: stdout ended while a line was expected (status {self.popen.poll()})\n"
                f"stderr:\n{self.stderr_text()}"
            )
        return line

    def read_json(self, timeout: float = LINE_TIMEOUT) -> dict:
        line = self.readline(timeout)
        try:
            value = json.loads(line)
        except ValueError:
            raise AssertionError(f"{self.describe()}: stdout line is not JSON: {line!r}") from None
        assert isinstance(value, dict), f"stdout line is not a JSON object: {line!r}"
        return value

    def read_lines(self, count: int, timeout: float = LINE_TIMEOUT) -> list[bytes]:
        deadline = time.monotonic() + timeout
        return [self.readline(max(0.01, deadline - time.monotonic())) for _ in range(count)]

    def expect_no_line(self, within: float = 0.5) -> None:
        """Asserts that nothing (not even end of stream) shows up on stdout for `within` seconds."""
        try:
            line = self._lines.get(timeout=within)
        except queue.Empty:
            return
        if line is None:
            self._stdout_closed = True
        raise AssertionError(f"{self.describe()}: unexpected stdout {line!r}")

    def read_to_eof(self, timeout: float = LINE_TIMEOUT) -> list[bytes]:
        """Every remaining stdout line up to end of stream."""
        deadline = time.monotonic() + timeout
        lines = []
        while not self._stdout_closed:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"{self.describe()}: stdout not closed within {timeout}s; got {lines!r}\n"
                    f"stderr:\n{self.stderr_text()}"
                ) from None
            if line is None:
                self._stdout_closed = True
            else:
                lines.append(line)
        return lines

    # -- stderr and exit

    def stderr_bytes(self) -> bytes:
        with self._stderr_lock:
            return bytes(self._stderr)

    def stderr_text(self) -> str:
        return self.stderr_bytes().decode("utf-8", "replace")

    def wait_stderr_closed(self, timeout: float = 5.0) -> str:
        assert self._stderr_done.wait(timeout), f"{self.describe()}: stderr not closed within {timeout}s"
        return self.stderr_text()

    def wait(self, timeout: float = LINE_TIMEOUT) -> int:
        """The exit status (negative: killed by that signal); fails, killing the group, on timeout."""
        try:
            status = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.describe()}: did not exit within {timeout}s\nstderr:\n{self.stderr_text()}"
            ) from None
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        return status

    def signal(self, number: int) -> None:
        """Sends a signal to this process only (not to its group)."""
        os.kill(self.pid, number)

    def kill(self) -> None:
        """Kills the whole process group (the process and any server it started)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def describe(self) -> str:
        return " ".join(shlex.quote(a) for a in self.argv[:8]) + (" ..." if len(self.argv) > 8 else "")


@pytest.fixture
def spawn():
    """Starts processes (`spawn(argv, env=..., cwd=...)`) and kills their process groups afterwards."""
    started: list[Proc] = []

    def start(argv: list, **kwargs) -> Proc:
        proc = Proc(argv, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        for stream in (proc.popen.stdin, proc.popen.stdout, proc.popen.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


@pytest.fixture
def warden(warden_bin, spawn):
    """Starts `warden run [OPTIONS] -- COMMAND...`: `warden(["--grace", "0.5"], [cmd, ...])`."""

    def start(options: list, command: list, **kwargs) -> Proc:
        return spawn([warden_bin, "run", *map(str, options), "--", *map(str, command)], **kwargs)

    return start


def python_server(script: Path, *args) -> list[str]:
    """The argv of a fixture server run by this interpreter."""
    return [sys.executable, str(script), *map(str, args)]


# --------------------------------------------------------------------------------------------------
# Assertions and small helpers


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def recorded_lines(record: Path) -> list[bytes]:
    """The lines echo_raw.py recorded, in arrival order, terminators included."""
    if not record.exists():
        return []
    return [base64.b64decode(line) for line in record.read_bytes().splitlines() if line]


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02, what: str = "condition"):
    """Polls `predicate` until it returns something truthy; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def log_events(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def assert_error(message: dict, *, code: int, id, reason: str | None = None) -> dict:
    """Asserts a JSON-RPC error response with exactly this code and id; returns its error object."""
    assert message.get("jsonrpc") == "2.0", message
    assert "id" in message and message["id"] == id and type(message["id"]) is type(id), (
        f"expected id {id!r}, got {message.get('id')!r}: {message}"
    )
    assert "result" not in message, message
    error = message.get("error")
    assert isinstance(error, dict), message
    assert error.get("code") == code, f"expected code {code}, got {error.get('code')}: {message}"
    assert isinstance(error.get("message"), str) and error["message"], message
    if reason is not None:
        assert error.get("data", {}).get("warden", {}).get("reason") == reason, message
    return error


def pid_gone(pid: int) -> bool:
    """True when `pid` no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        return state in ("Z", "X")
    except FileNotFoundError:
        return True


# The real SQL servers and the session's PostgreSQL cluster (sql_support.py), registered here once.
from sql_support import postgres_cluster, postgres_server_bin, sqlite_server_bin  # noqa: E402,F401
