#!/usr/bin/env bash
# Idempotently create Tests/e2e/.venv with the pinned requirements of the end-to-end suite.
# pip runs only when requirements.txt (or the interpreter) changed since the last successful install:
# a stamp file inside the venv holds the hash of both.
#
#   Tests/e2e/setup_venv.sh            # create or refresh
#   PYTHON=python3.12 Tests/e2e/setup_venv.sh
#   WARDEN_E2E_VENV=/elsewhere Tests/e2e/setup_venv.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${WARDEN_E2E_VENV:-$here/.venv}"
req="$here/requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup_venv.sh: $python not found" >&2
  exit 1
fi

want="$( { cat "$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$venv is up to date"
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
echo "$want" > "$stamp"
echo "$venv is ready: $("$venv/bin/python" -m pip --disable-pip-version-check list 2>/dev/null | grep -Ei '^(mcp|mcp-server-git|mcp-server-time|mcp-server-fetch|pytest) ' | tr -s ' ' | paste -sd, -)"
