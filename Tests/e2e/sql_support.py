"""The real SQL servers of the suite and what they need: mcp-server-sqlite and postgres-mcp from their own
venvs (setup_server_venvs.sh), and a throwaway PostgreSQL cluster on loopback for the session.

The cluster: `initdb` and `pg_ctl` (PostgreSQL's own, from Debian's postgresql package) in a fresh
temporary directory, on a free port of 127.0.0.1 and a socket in that directory, trust authentication
for the loopback only, fsync off. PostgreSQL refuses to run as root, so as root the directory is
given to the `postgres` user and the commands run through `runuser -u postgres`. It is created once
per test session (a few seconds) and stopped and removed at the end. No PostgreSQL installed fails
the tests that need it (Tests/run.sh installs it), naming what is missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
SQLITE_VENV = E2E_DIR / ".venv-sqlite"
POSTGRES_VENV = E2E_DIR / ".venv-postgres"
REPO_MANIFESTS = E2E_DIR.parent.parent / "manifests"


def _server_bin(venv: Path, name: str) -> str:
    path = venv / "bin" / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run Tests/e2e/setup_server_venvs.sh (Tests/e2e/run.sh does)")
    return str(path)


@pytest.fixture(scope="session")
def sqlite_server_bin() -> str:
    """mcp-server-sqlite 2025.4.25 (on the mcp 1.x SDK) from Tests/e2e/.venv-sqlite."""
    return _server_bin(SQLITE_VENV, "mcp-server-sqlite")


@pytest.fixture(scope="session")
def postgres_server_bin() -> str:
    """postgres-mcp 0.3.0 (Python 3.12, mcp 1.x) from Tests/e2e/.venv-postgres."""
    return _server_bin(POSTGRES_VENV, "postgres-mcp")


def _postgres_bindir() -> Path:
    """The directory of initdb and pg_ctl: the newest /usr/lib/postgresql/N/bin, else from PATH."""
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name or 0)
    )
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    pytest.fail("PostgreSQL's initdb and pg_ctl are not installed: apt-get install postgresql (Tests/run.sh does)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A running throwaway cluster: `url(db)` for the servers, `psql(db, sql)` to set up and look."""

    def __init__(self, bindir: Path, root: Path, port: int, as_postgres: bool):
        self.bindir, self.root, self.port, self.as_postgres = bindir, root, port, as_postgres
        self.data = root / "data"
        self.user = "postgres"

    def _run(self, argv: list, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)

    def start(self) -> None:
        init = self._run(
            [self.bindir / "initdb", "-D", self.data, "-U", self.user, "-A", "trust", "--no-sync", "-E", "UTF8",
             "--locale=C"],
            timeout=120,
        )
        assert init.returncode == 0, f"initdb failed:\n{init.stdout}\n{init.stderr}"
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        start = self._run([self.bindir / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log", "-w",
                           "-t", "60", "start"], timeout=90)
        if start.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise AssertionError(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{log}")

    def stop(self) -> None:
        self._run([self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        """Runs `sql` with psql (stops at the first error) and returns its unaligned output."""
        psql = shutil.which("psql") or str(self.bindir / "psql")
        result = subprocess.run(
            [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U",
             self.user, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=30, env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        assert result.returncode == 0, f"psql {sql!r} failed: {result.stderr}"
        return result.stdout.strip()

    def createdb(self, name: str, setup_sql: str = "") -> str:
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        if setup_sql:
            self.psql(name, setup_sql)
        return name


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL cluster on 127.0.0.1 for this test session, removed at its end."""
    bindir = _postgres_bindir()
    as_postgres = os.geteuid() == 0
    # As root, somewhere the postgres user can reach (TMPDIR may be under a 0700 home).
    root = Path(tempfile.mkdtemp(prefix="warden-e2e-pg-", dir="/tmp" if as_postgres else None))
    if as_postgres:
        try:
            shutil.chown(root, user="postgres")
        except (LookupError, PermissionError) as error:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(f"running as root and cannot give {root} to the postgres user: {error}")
    cluster = Cluster(bindir, root, _free_port(), as_postgres)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
