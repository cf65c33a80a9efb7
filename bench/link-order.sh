#!/usr/bin/env bash
# bench/link-order.sh - write bench/link-order.txt: the functions a running `warden run` executes,
# which release builds link next to each other (lld --symbol-ordering-file, see Package.swift).
#
#   bench/link-order.sh            # uses WARDEN_BIN, or builds the release binary first
#
# Why: a process's resident text is counted in whole runs of pages the kernel maps around each page
# fault (64 KiB here), not in the bytes of code it runs. Left where the linker puts them, the ~1.5 MB
# of functions a relaying warden runs are spread over half of its 28 MB of text, so an idle warden
# kept about 14 MiB of text resident. Packed together they fit in a few MiB.
#
# How: the bench driver runs its usual phases (sequential calls, pipelined calls, big arguments, big
# results, fresh starts) against `warden run` under valgrind's callgrind, with a store holding GRANTS
# grants; every function of the warden binary callgrind saw run is listed, most-run first. The list
# is data for the linker only: a name that no longer exists is skipped, so a stale list costs memory,
# never correctness. Run it again after large changes to the message path or the store.
#
# Needs valgrind (apt-get install -y valgrind), cc, python3. Takes a few minutes.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
BIN="$BENCH/bin"
GRANTS="${GRANTS:-10000}"
OUTPUT="${OUTPUT:-$BENCH/link-order.txt}"

log() { printf 'link-order: %s\n' "$*" >&2; }
command -v valgrind >/dev/null || { log "needs valgrind (apt-get install -y valgrind)"; exit 2; }

mkdir -p "$BIN"
CC="${CC:-cc}"
"$CC" -O2 -Wall -o "$BIN/echo_server" "$BENCH/echo_server.c"
"$CC" -O2 -Wall -o "$BIN/driver" "$BENCH/driver.c"

if [[ -n "${WARDEN_BIN:-}" ]]; then
  WARDEN="$WARDEN_BIN"
else
  log "building warden (release, scratch path .build-bench)"
  (cd "$ROOT" && swift build -c release --static-swift-stdlib --product warden --scratch-path .build-bench) >&2
  WARDEN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --product warden --scratch-path .build-bench --show-bin-path)/warden"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# callgrind reads the symbol table, not the debug information; without it, it starts in seconds.
strip --strip-debug -o "$WORK/warden" "$WARDEN"

export WARDEN_HOME="$WORK/home"
mkdir -p "$WARDEN_HOME" && chmod 700 "$WARDEN_HOME"
echo "scripted: allow" >"$WARDEN_HOME/config.yaml"
"$WORK/warden" grant --server bench-echo --allow 'bench.*' --for 3h --purpose 'link order' >/dev/null
if ((GRANTS > 1)) && (cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench) >&2; then
  "$(cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench --show-bin-path)/warden-bench-decision" \
    --populate "$WARDEN_HOME" "$((GRANTS - 1))"
fi

log "running the bench driver's phases against warden under callgrind"
"$BIN/driver" --label link-order --seq 2000 --warmup 200 --pipe 5000 --inflight 64 \
  --arg-bytes 1048576 --arg-n 2 --result-bytes 1048576 --result-n 2 --spawns 2 --timeout 600 -- \
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$WORK/callgrind.%p" \
  "$WORK/warden" run --manifest "$BENCH/echo-manifest.yaml" -- "$BIN/echo_server" >/dev/null 2>"$WORK/driver.log" \
  || { log "the driver failed:"; tail -n 20 "$WORK/driver.log" >&2; exit 1; }

python3 - "$WORK" "$OUTPUT" <<'EOF'
import collections, glob, re, sys

work, output = sys.argv[1], sys.argv[2]
cost = collections.Counter()  # instructions per function of the warden binary, over every run
for path in glob.glob(f"{work}/callgrind.*"):
    objects, functions, current_object, current_function = {}, {}, None, None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, key, name = m.groups()
            table = objects if kind.endswith("ob") else functions
            if name is not None:
                table[key] = name
            if kind == "ob":
                current_object = objects[key]
            elif kind == "fn":
                current_function = functions[key] if current_object and current_object.endswith("/warden") else None
            continue
        # Cost lines of the current function ("<line> <Ir>", with "+N"/"-N"/"*" position compression).
        if current_function and line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                cost[current_function] += int(parts[1])
names = [name for name, _ in sorted(cost.items(), key=lambda item: (-item[1], item[0])) if not name.startswith("0x")]
header = ("# The functions `warden run` executes in bench/link-order.sh's session, most-run first.\n"
          "# Release builds link them next to each other (see Package.swift). Generated: do not edit.\n")
with open(output, "w") as f:
    f.write(header + "".join(n + "\n" for n in names))
print(f"link-order: {len(names)} functions written to {output}", file=sys.stderr)
EOF
