#!/usr/bin/env bash
# Idempotently create the venvs of the real SQL servers the end-to-end suite runs, each apart from the
# suite's own venv because they need the `mcp` 1.x SDK (the suite's client is on 2.x):
#   Tests/e2e/.venv-sqlite    mcp-server-sqlite, from requirements-sqlite.txt, on python3
#   Tests/e2e/.venv-postgres  postgres-mcp, from requirements-postgres.txt, on Python 3.12 or later
#                             (find_python312.sh; none found fails the run)
# Each requirements file pins the complete environment and is installed with --no-deps (postgres-mcp
# pins a pglast the package index lacks). pip runs only when a requirements file or its interpreter
# changed since the last successful install: a stamp file inside each venv holds the hash of both.
#
#   Tests/e2e/setup_server_venvs.sh            # both
#   Tests/e2e/setup_server_venvs.sh sqlite     # one
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

setup() {
  local name="$1" python="$2"
  local venv="$here/.venv-$name" req="$here/requirements-$name.txt"
  local stamp="$venv/.requirements.sha256" want
  want="$( { cat "$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv is up to date"
    return 0
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --no-deps -r "$req"
  echo "$want" > "$stamp"
  echo "$venv is ready ($("$venv/bin/python" --version))"
}

names=("$@")
((${#names[@]})) || names=(sqlite postgres)
for name in "${names[@]}"; do
  case "$name" in
    sqlite) setup sqlite "${PYTHON:-python3}" ;;
    postgres)
      python312="$("$here/find_python312.sh")"
      setup postgres "$python312"
      ;;
    *) echo "setup_server_venvs.sh: unknown server venv '$name' (sqlite, postgres)" >&2; exit 64 ;;
  esac
done
