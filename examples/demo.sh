#!/usr/bin/env bash
# The quick start: install what is missing, build warden in release mode, and run it in front of the
# example mailbox server, driven by a short scripted client session whose exchange is printed.
#
#   examples/demo.sh          (as root, or with sudo available)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# System packages: jansson's headers for the build, python3 for the scripted client.
need=()
[[ -f /usr/include/jansson.h ]] || need+=(libjansson-dev)
[[ -f /usr/include/sqlite3.h ]] || need+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if ((${#need[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "demo: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "demo: the Swift 6 toolchain is required (https://www.swift.org/install/linux/) and was not found" >&2
  exit 1
fi

echo "demo: building (release)" >&2
swift build -c release --static-swift-stdlib --product warden >&2
swift build -c release --static-swift-stdlib --product warden-example-mailbox >&2
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mailbox="$scratch/mailbox"
# A delegation store of the demo's own, so the demo leaves yours alone.
export WARDEN_HOME="$scratch/warden"
# The demo plays the human from a script; a real store refuses grants typed without a terminal.
mkdir -m 700 "$WARDEN_HOME"
echo "scripted: allow" >"$WARDEN_HOME/config.yaml"
echo "demo: \$ warden grant --server mailbox --agent demo-agent --allow mail.list,mail.read --for 1h --purpose 'triage the inbox'" >&2
"$bin/warden" grant --server mailbox --agent demo-agent --allow mail.list,mail.read --for 1h \
  --purpose 'triage the inbox' >/dev/null
echo "demo: warden run -- warden-example-mailbox --mailbox $mailbox --seed" >&2
echo
python3 examples/demo_client.py \
  "$bin/warden" run --log-level warning -- "$bin/warden-example-mailbox" --mailbox "$mailbox" --seed
