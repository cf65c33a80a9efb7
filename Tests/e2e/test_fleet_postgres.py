"""Fleet mode (issue 18): wardens of several machines on one PostgreSQL store. Two warden homes stand for
two machines; both name the same database in their config.yaml. A revocation issued on one is honored
by a running warden on the other within 1 s, an approval on one releases a call held on the other, the
audit chain they both append to verifies on each, and a database stopped under a running warden fails
its calls closed and is used again when it is back, without a restart.

The PostgreSQL server is a throwaway cluster of this module's own on loopback (Tests/postgres.sh, from
Debian's postgresql package), which the recovery test stops and starts. Without PostgreSQL the module
is skipped, unless WARDEN_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SCRIPTED_CONFIG, child_env, warden_cli
from test_audit import finish
from test_faults import (
    MSG_A, Inbox, describe, handshake, is_denial, is_server_result, mailbox_calls, send_call, wait_for_holds)

SCRIPT = REPO_ROOT / "Tests" / "postgres.sh"
WAIT = 10.0


class Cluster:
    def __init__(self, directory: Path, url: str, password: str):
        self.directory, self.url, self.password = directory, url, password

    def run(self, action: str) -> None:
        subprocess.run(["bash", str(SCRIPT), action, str(self.directory)], check=True, timeout=120,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def cluster():
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        if os.environ.get("WARDEN_REQUIRE_POSTGRES") == "1":
            pytest.fail("WARDEN_REQUIRE_POSTGRES=1 but PostgreSQL (initdb) is not installed")
        pytest.skip("PostgreSQL (initdb) is not installed: apt-get install postgresql")
    # In the system's temporary directory, not pytest's: as root the cluster runs as the postgres
    # user, who must reach it.
    directory = Path(tempfile.mkdtemp(prefix="warden-e2e-postgres-"))
    started = subprocess.run(["bash", str(SCRIPT), "start", str(directory)], capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    assert started.returncode == 0, started.stderr
    values = {}
    for line in started.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export "):].split("=", 1)
            values[name] = value.strip("'")
    yield Cluster(directory, values["WARDEN_TEST_POSTGRES"], values["WARDEN_TEST_POSTGRES_PASSWORD"])
    subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], timeout=120, stdin=subprocess.DEVNULL)
    shutil.rmtree(directory, ignore_errors=True)


class Fleet:
    """Two machines' warden homes on one store (a fresh schema of the cluster's database)."""

    def __init__(self, warden_bin: Path, first: Path, second: Path, url: str):
        self.warden_bin, self.first, self.second, self.url = warden_bin, first, second, url

    def cli(self, home: Path, *args) -> subprocess.CompletedProcess:
        return warden_cli(self.warden_bin, *args, env=child_env(WARDEN_HOME=str(home)))


@pytest.fixture
def fleet(cluster, warden_bin, warden_home, tmp_path, monkeypatch) -> Fleet:
    url = f"{cluster.url}&schema=t_{uuid.uuid4().hex}"
    password_file = tmp_path / "store.pass"
    password_file.write_text(cluster.password + "\n")
    password_file.chmod(0o600)
    # Every warden this test starts (the runs, the CLI) reads the password from the file.
    monkeypatch.setenv("WARDEN_STORE_PASSWORD_FILE", str(password_file))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    second = tmp_path / "second-machine"
    second.mkdir(mode=0o700)
    for home in (warden_home, second):
        (home / "config.yaml").write_text(SCRIPTED_CONFIG + f"store: {url}\n")
    migrated = warden_cli(warden_bin, "store", "migrate", url)
    assert migrated.returncode == 0, migrated.stderr
    assert cluster.password not in migrated.stdout + migrated.stderr
    return Fleet(warden_bin, warden_home, second, url)


def session(warden, mailbox_bin, tmp_path):
    proc = warden(["--server", "mailbox", "--confirm-timeout", "30"],
                  [mailbox_bin, "--mailbox", tmp_path / "box", "--seed"])
    inbox = Inbox(proc)
    handshake(proc, inbox, name="fleet-test")
    return proc, inbox


def call(proc, inbox, n, tool="list_messages", arguments=None) -> dict:
    send_call(proc, n, tool, arguments or {})
    return inbox.wait([n], timeout=WAIT)[n]


def test_two_machines_see_each_others_revocations_and_decisions(fleet, warden, mailbox_bin, tmp_path):
    issued = fleet.cli(fleet.second, "grant", "--server", "mailbox", "--allow", "mail.list,mail.read,mail.delete",
                       "--for", "1h", "--purpose", "tidy the mailbox")
    assert issued.returncode == 0, issued.stderr
    # The first machine's warden runs under the grant the second machine issued.
    proc, inbox = session(warden, mailbox_bin, tmp_path)
    assert is_server_result(call(proc, inbox, 1)), "a call under a grant from another machine"

    # A destructive call held on the first machine is approved on the second.
    send_call(proc, 2, "delete_message", {"id": MSG_A})
    [held] = wait_for_holds(lambda *args: fleet.cli(fleet.second, *args), 1)
    approved = fleet.cli(fleet.second, "approve", held["id"], "--by", "ann")
    assert approved.returncode == 0, approved.stderr
    approved_at = time.monotonic()
    released = inbox.wait([2], timeout=WAIT)[2]
    assert is_server_result(released), describe(released)
    assert time.monotonic() - approved_at < 1.0, "an approval from another machine took over 1 s to release the call"

    # The kill switch on the second machine stops the first machine's warden within 1 s.
    revoked = fleet.cli(fleet.second, "revoke", "--all")
    assert revoked.returncode == 0, revoked.stderr
    revoked_at = time.monotonic()
    n = 10
    while True:
        answer = call(proc, inbox, n)
        if is_denial(answer, {"not-delegated"}):
            break
        assert is_server_result(answer), describe(answer)
        assert time.monotonic() - revoked_at < 1.0, "a revocation from another machine was not honored within 1 s"
        n += 1
    assert time.monotonic() - revoked_at < 1.0

    finish(proc)
    # One chain, appended to from both machines, verifies on each against its own anchors.
    for home in (fleet.first, fleet.second):
        checked = fleet.cli(home, "audit", "verify")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "holds" in checked.stdout, checked.stdout


def test_a_database_stopped_mid_session_fails_closed_and_is_used_again_when_back(
        fleet, cluster, warden, mailbox_bin, tmp_path):
    issued = fleet.cli(fleet.first, "grant", "--server", "mailbox", "--allow", "mail.list", "--for", "1h",
                       "--purpose", "triage")
    assert issued.returncode == 0, issued.stderr
    proc, inbox = session(warden, mailbox_bin, tmp_path)
    assert is_server_result(call(proc, inbox, 1))
    cluster.run("stop")
    try:
        down = call(proc, inbox, 2)
        assert is_denial(down, {"store-unavailable"}), describe(down)
        assert cluster.password not in str(down)
    finally:
        cluster.run("resume")
    deadline = time.monotonic() + WAIT
    n = 3
    while True:
        answer = call(proc, inbox, n)
        if is_server_result(answer):
            break
        assert is_denial(answer, {"store-unavailable"}), describe(answer)
        assert time.monotonic() < deadline, "warden did not use the database again once it was back"
        time.sleep(0.2)
        n += 1
    assert proc.popen.poll() is None, "warden had to restart"
    finish(proc)
    assert cluster.password not in proc.stderr_text()


def test_a_warden_started_while_the_database_is_down_denies_until_it_is_back(
        fleet, cluster, warden, mailbox_bin, tmp_path):
    issued = fleet.cli(fleet.first, "grant", "--server", "mailbox", "--allow", "mail.list", "--for", "1h",
                       "--purpose", "triage")
    assert issued.returncode == 0, issued.stderr
    cluster.run("stop")
    try:
        proc, inbox = session(warden, mailbox_bin, tmp_path)
        down = call(proc, inbox, 1)
        assert is_denial(down, {"store-unavailable"}), describe(down)
        # The CLI fails at once, naming the store without its password.
        listed = fleet.cli(fleet.first, "grants")
        assert listed.returncode == 1 and "cannot be reached" in listed.stderr, listed.stderr
        assert cluster.password not in listed.stderr
    finally:
        cluster.run("resume")
    deadline = time.monotonic() + WAIT
    n = 2
    while not is_server_result(answer := call(proc, inbox, n)):
        assert is_denial(answer, {"store-unavailable"}), describe(answer)
        assert time.monotonic() < deadline, "warden did not use the database once it was there"
        time.sleep(0.2)
        n += 1
    finish(proc)


def test_a_call_held_while_the_database_goes_away_is_never_forwarded_without_a_recorded_approval(
        fleet, cluster, warden, mailbox_bin, tmp_path):
    issued = fleet.cli(fleet.first, "grant", "--server", "mailbox", "--allow", "mail.list,mail.delete",
                       "--for", "1h", "--purpose", "tidy")
    assert issued.returncode == 0, issued.stderr
    proc, inbox = session(warden, mailbox_bin, tmp_path)
    assert is_server_result(call(proc, inbox, 0))
    send_call(proc, 1, "delete_message", {"id": MSG_A})
    [held] = wait_for_holds(lambda *args: fleet.cli(fleet.second, *args), 1)
    cluster.run("stop")
    try:
        # No approval can be recorded while the database is away: the held call fails closed.
        refused = fleet.cli(fleet.second, "approve", held["id"], "--by", "ann")
        assert refused.returncode != 0
        answer = inbox.wait([1], timeout=WAIT)[1]
        assert is_denial(answer), describe(answer)
    finally:
        cluster.run("resume")
    finish(proc)
    served = mailbox_calls(proc.stderr_text())
    assert "list_messages" in served and "delete_message" not in served, served


def test_a_breaker_tripped_on_one_machine_denies_there_and_on_the_other_until_reset(
        fleet, warden, mailbox_bin, tmp_path):
    for home in (fleet.first, fleet.second):
        (home / "config.yaml").write_text(
            SCRIPTED_CONFIG + f"store: {fleet.url}\nbreaker: {{calls: 3/1m, then: deny}}\n")
    issued = fleet.cli(fleet.first, "grant", "--server", "mailbox", "--allow", "mail.list", "--for", "1h",
                       "--purpose", "triage")
    assert issued.returncode == 0, issued.stderr
    proc, inbox = session(warden, mailbox_bin, tmp_path)
    answers = [call(proc, inbox, n) for n in range(1, 6)]
    assert is_denial(answers[-1], {"breaker-tripped"}), describe(answers[-1])
    # Another machine's warden, for the same agent, denies from its first call.
    other = warden(["--server", "mailbox"], [mailbox_bin, "--mailbox", tmp_path / "box2", "--seed"],
                   env=child_env(WARDEN_HOME=str(fleet.second)))
    other_inbox = Inbox(other)
    handshake(other, other_inbox, name="fleet-test")
    assert is_denial(call(other, other_inbox, 1), {"breaker-tripped"})
    # A reset on the second machine lets the first machine's warden go on.
    reset = fleet.cli(fleet.second, "reset", agent_of(answers[-1]))
    assert reset.returncode == 0, reset.stderr
    time.sleep(1.0)
    assert is_server_result(call(proc, inbox, 10))
    finish(proc)
    finish(other)


def agent_of(denial: dict) -> str:
    """The agent a denial names (`dev.warden/decision`), so the test resets exactly the one tripped."""
    from conftest import DECISION_META

    return denial["result"]["_meta"][DECISION_META]["agent"]
