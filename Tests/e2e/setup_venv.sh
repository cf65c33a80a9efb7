#!/usr/bin/env bash
# Idempotently create Tests/e2e/.venv with the pinned requirements of the end-to-end suite, and
# Tests/e2e/.venv-shell with those of mcp-shell-server (requirements-shell.txt: it needs mcp 1.x).
# pip runs only when requirements.txt (or the interpreter) changed since the last successful install:
# a stamp file inside the venv holds the hash of both.
#
#   Tests/e2e/setup_venv.sh            # create or refresh
#   PYTHON=python3.12 Tests/e2e/setup_venv.sh
#   WARDEN_E2E_VENV=/elsewhere Tests/e2e/setup_venv.sh   (mcp-shell-server: /elsewhere-shell)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${WARDEN_E2E_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup_venv.sh: $python not found" >&2
  exit 1
fi

# make_venv DIR REQUIREMENTS: DIR holds exactly REQUIREMENTS, pip run only when they changed.
make_venv() {
  local dir="$1" req="$2" stamp="$1/.requirements.sha256" want
  want="$( { cat "$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$dir is up to date"
    return 0
  fi
  if [[ ! -x "$dir/bin/python" ]]; then
    "$python" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
  "$dir/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
  echo "$want" > "$stamp"
  echo "$dir is ready: $("$dir/bin/python" -m pip --disable-pip-version-check list 2>/dev/null | grep -Ei '^(mcp|mcp-server-[a-z]+|mcp-shell-server|filesystem-mcp|pytest) ' | tr -s ' ' | paste -sd, -)"
}

make_venv "$venv" "$here/requirements.txt"
# Servers whose `mcp` conflicts with the suite's client get a venv of their own, beside it.
make_venv "${WARDEN_E2E_SHELL_VENV:-$venv-shell}" "$here/requirements-shell.txt"
