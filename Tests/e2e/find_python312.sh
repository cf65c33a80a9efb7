#!/usr/bin/env bash
# Prints the path of a Python 3.12 or later (postgres-mcp needs one), or fails saying where it looked.
# Looks at $PYTHON312, then python3.12 and python3.13 on PATH (a pyenv shim counts only if it runs),
# then pyenv's versions (newest 3.12 first, then 3.13), then /usr/bin and /usr/local/bin.
#
#   Tests/e2e/find_python312.sh          # prints e.g. ~/.pyenv/versions/3.12.1/bin/python3.12, expanded
set -euo pipefail

works() {
  [[ -n "$1" && -x "$1" ]] || command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

candidates=()
[[ -n "${PYTHON312:-}" ]] && candidates+=("$PYTHON312")
candidates+=(python3.12 python3.13)
pyenv_root="${PYENV_ROOT:-}"
if [[ -z "$pyenv_root" ]] && command -v pyenv >/dev/null 2>&1; then
  pyenv_root="$(pyenv root 2>/dev/null || true)"
fi
for root in "$pyenv_root" "$HOME/.pyenv"; do
  [[ -n "$root" && -d "$root/versions" ]] || continue
  for minor in 12 13; do
    while IFS= read -r version; do
      candidates+=("$root/versions/$version/bin/python3.$minor")
    done < <(ls -1 "$root/versions" 2>/dev/null | grep -E "^3\.$minor\.[0-9]+$" | sort -t. -k3,3nr)
  done
done
candidates+=(/usr/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/local/bin/python3.13)

for candidate in "${candidates[@]}"; do
  if works "$candidate"; then
    if [[ "$candidate" == */* ]]; then echo "$candidate"; else command -v "$candidate"; fi
    exit 0
  fi
done
echo "find_python312.sh: no Python 3.12 or later (with venv and ensurepip) found; looked at: ${candidates[*]}." >&2
echo "find_python312.sh: postgres-mcp needs one. Install one (pyenv install 3.12, or apt-get install python3.12-venv where the distribution has it) or set PYTHON312." >&2
exit 1
