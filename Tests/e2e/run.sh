#!/usr/bin/env bash
# Runs warden's end-to-end suite: prepares the venvs (the suite's, and the SQL servers' own), then
# pytest (which builds warden unless WARDEN_BIN is set). Extra arguments go to pytest, e.g.
# `Tests/e2e/run.sh -k lifecycle -x`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup_venv.sh" >/dev/null
"$here/setup_server_venvs.sh" >/dev/null
cd "$here"
exec "$here/.venv/bin/python" -m pytest "$@"
