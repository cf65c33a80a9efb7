#!/usr/bin/env bash
# Runs every test of warden: installs what is missing (Debian/Ubuntu, as root or with sudo), builds,
# runs the Swift unit tests, a bounded libFuzzer run of the parsers, then the end-to-end suite (the
# official Python MCP SDK client in front of real MCP servers from PyPI, through the built warden).
#
#   Tests/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# System packages: jansson, libpg_query (PostgreSQL's parser) and SQLite for the build (sqlite3 for the
# store's tests); git for
# mcp-server-git's test repositories; python3 with venv for the end-to-end suite; tmux for terminal
# tests; PostgreSQL and a Python 3.12 for postgres-mcp (below).
need=()
[[ -f /usr/include/jansson.h ]] || need+=(libjansson-dev)
[[ -f /usr/include/pg_query.h ]] || need+=(libpg-query-dev)
[[ -f /usr/include/sqlite3.h ]] || need+=(libsqlite3-dev)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v git >/dev/null 2>&1 || need+=(git)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if ! command -v python3 >/dev/null 2>&1; then
  need+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
# PostgreSQL (initdb, pg_ctl, psql) for postgres-mcp's throwaway cluster in the end-to-end suite.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
# openssl makes the throwaway cluster's TLS certificates (Tests/postgres.sh).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# A Python 3.12 or later for postgres-mcp (Tests/e2e/find_python312.sh looks at pyenv too); where none
# is found, the distribution's python3.12 if it has one.
need_python312=""
Tests/e2e/find_python312.sh >/dev/null 2>&1 || need_python312=yes
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ((${#need[@]})) || [[ -n "$need_python312" ]]; then
  $sudo apt-get update -qq
fi
if [[ -n "$need_python312" ]]; then
  if [[ -n "$(apt-cache policy python3.12 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)')" ]]; then
    need+=(python3.12 python3.12-venv)
  else
    echo "tests: no Python 3.12 or later found (pyenv, PATH, /usr/bin) and the distribution has no python3.12 package;" >&2
    echo "tests: postgres-mcp needs one: install one (e.g. pyenv install 3.12) or set PYTHON312 to its path" >&2
    exit 1
  fi
fi
if ((${#need[@]})); then
  echo "tests: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "tests: building" >&2
swift build --build-tests

# A throwaway PostgreSQL cluster on loopback: the store's tests run against it as well as SQLite, and
# must not skip it here (WARDEN_REQUIRE_POSTGRES).
postgres_dir="$(mktemp -d "${TMPDIR:-/tmp}/warden-postgres-XXXXXX")"
trap 'Tests/postgres.sh stop "$postgres_dir" || true; rm -rf "$postgres_dir"' EXIT
echo "tests: starting PostgreSQL for the store's tests" >&2
eval "$(Tests/postgres.sh start "$postgres_dir")"
export WARDEN_REQUIRE_POSTGRES=1

echo "tests: unit tests (the store's on SQLite and PostgreSQL)" >&2
swift test --skip-build

echo "tests: fuzzing the parsers, 20 s per target (fuzz/README.md has longer runs)" >&2
fuzz/run.sh 20

echo "tests: end-to-end suite" >&2
bin="$(swift build --show-bin-path)"
WARDEN_BIN="$bin/warden" MAILBOX_BIN="$bin/warden-example-mailbox" Tests/e2e/run.sh -q

# The scenarios that exercise the store (grants, holds, breakers, the audit trail) again with every
# warden on PostgreSQL: a fresh migrated database per test (WARDEN_E2E_STORE, Tests/e2e/conftest.py);
# the tests that edit the SQLite file itself are skipped there (the store's tests cover PostgreSQL's).
echo "tests: the store's end-to-end scenarios on PostgreSQL" >&2
WARDEN_E2E_STORE=postgres WARDEN_BIN="$bin/warden" MAILBOX_BIN="$bin/warden-example-mailbox" Tests/e2e/run.sh -q \
  test_delegation.py test_holds.py test_breaker.py test_audit.py test_audit_prune.py test_delegation_edges.py
