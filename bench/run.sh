#!/usr/bin/env bash
# bench/run.sh - build the bench programs and warden, measure direct / relay / warden side by side.
#
#   bench/run.sh                 # full run: 5 repetitions, a few minutes at most
#   REPS=2 SEQ_CALLS=2000 bench/run.sh      # quick look
#
# Environment (defaults in brackets):
#   REPS [5]               repetitions; configuration order rotates between repetitions
#   CONFIGS ["direct relay warden"]  add warden-pg: the same warden on a PostgreSQL store (a throwaway
#                          cluster on loopback, bench/pg.sh; the grants copied with `warden store copy`)
#   WARDEN_BIN             use this warden binary instead of building one
#   WARDEN_ARGS [""]       extra arguments between `warden run` and `--`
#   BENCH_CPU [1]          the CPU everything is pinned to (taskset -c); PIN=0 disables pinning
#   SEQ_CALLS [20000] WARMUP [2000] PIPE_CALLS [200000] INFLIGHT [64]
#   ARG_BYTES [1048576] ARG_N [30] RESULT_BYTES [10485760] RESULT_N [20] SPAWNS [20]
#   TIMEOUT [120]          per-phase timeout of the driver, seconds
#   DROP_CACHES [1]        drop the page cache before each run when allowed (root), so resident
#                          memory counts the binary's pages as read from disk, not however a
#                          recent copy or build left them cached (a difference of 2-3 MB)
#
# Writes the raw JSON lines to bench/out/<stamp>.jsonl (stderr of the runs: <stamp>.stderr.log) and
# prints a Markdown table on stdout; progress goes to stderr.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
BIN="$BENCH/bin"
OUT="$BENCH/out"
mkdir -p "$BIN" "$OUT"

REPS="${REPS:-5}"
CONFIGS="${CONFIGS:-direct relay warden}"
BENCH_CPU="${BENCH_CPU:-1}"
PIN="${PIN:-1}"
WARDEN_ARGS="${WARDEN_ARGS:-}"
DRIVER_OPTS=(
  --seq "${SEQ_CALLS:-20000}" --warmup "${WARMUP:-2000}"
  --pipe "${PIPE_CALLS:-200000}" --inflight "${INFLIGHT:-64}"
  --arg-bytes "${ARG_BYTES:-1048576}" --arg-n "${ARG_N:-30}"
  --result-bytes "${RESULT_BYTES:-10485760}" --result-n "${RESULT_N:-20}"
  --spawns "${SPAWNS:-20}" --timeout "${TIMEOUT:-120}"
)

log() { printf 'bench: %s\n' "$*" >&2; }

# ---- build the C programs ----
CC="${CC:-cc}"
"$CC" -O2 -Wall -o "$BIN/echo_server" "$BENCH/echo_server.c"
"$CC" -O2 -Wall -o "$BIN/driver" "$BENCH/driver.c"
"$CC" -O2 -Wall -pthread -o "$BIN/relay" "$BENCH/relay.c"

# ---- build (or locate) warden ----
STAMP="$(date +%Y%m%d-%H%M%S)"
RAW="$OUT/$STAMP.jsonl"
NOTES="$OUT/$STAMP.notes"
ERRLOG="$OUT/$STAMP.stderr.log" # stderr of the driver and of the commands it runs
: >"$RAW"
: >"$NOTES"
: >"$ERRLOG"
WARDEN=""
if [[ " $CONFIGS " == *" warden "* || " $CONFIGS " == *" warden-pg "* ]]; then
  if [[ -n "${WARDEN_BIN:-}" ]]; then
    WARDEN="$WARDEN_BIN"
    [[ -x "$WARDEN" ]] || { log "WARDEN_BIN=$WARDEN is not executable"; WARDEN=""; }
  else
    log "building warden (release, scratch path .build-bench); log: $OUT/$STAMP.warden-build.log"
    if (cd "$ROOT" && swift build -c release --static-swift-stdlib --product warden --scratch-path .build-bench) \
      >"$OUT/$STAMP.warden-build.log" 2>&1; then
      WARDEN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --product warden --scratch-path .build-bench --show-bin-path)/warden"
    else
      log "warden did not build (see $OUT/$STAMP.warden-build.log); measuring without it"
      tail -n 5 "$OUT/$STAMP.warden-build.log" | sed 's/^/bench:   /' >&2 || true
      echo "warden: did not build (swift build -c release --product warden failed)" >>"$NOTES"
    fi
  fi
fi

# ---- warden's delegation: a manifest for the echo server, a grant for its tools, and GRANTS in force ----
GRANTS="${GRANTS:-10000}"
DECISION_BIN=""
if [[ -n "$WARDEN" ]]; then
  export WARDEN_HOME="$OUT/$STAMP.home"
  mkdir -p "$WARDEN_HOME" && chmod 700 "$WARDEN_HOME"
  # The harness issues its grant from a script, not a terminal.
  echo "scripted: allow" >"$WARDEN_HOME/config.yaml"
  "$WARDEN" grant --server bench-echo --allow 'bench.*' --for 3h --purpose 'benchmark' >/dev/null
  if (cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench) \
    >>"$OUT/$STAMP.warden-build.log" 2>&1; then
    DECISION_BIN="$(cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench --show-bin-path)/warden-bench-decision"
    if ((GRANTS > 1)); then
      log "filling the store with $((GRANTS - 1)) more grants for other agents and servers"
      "$DECISION_BIN" --populate "$WARDEN_HOME" "$((GRANTS - 1))"
    fi
  else
    log "warning: warden-bench-decision did not build; no decision figures, no filler grants"
  fi
fi

# ---- warden-pg: the same warden and grants on a PostgreSQL store (a throwaway cluster on loopback) ----
PG_HOME=""
if [[ " $CONFIGS " == *" warden-pg "* && -n "$WARDEN" ]]; then
  # shellcheck source=bench/pg.sh
  source "$BENCH/pg.sh"
  log "starting a PostgreSQL cluster for warden-pg"
  if pg_start "/tmp/warden-bench-pg-$STAMP"; then
    trap pg_stop EXIT
    PG_HOME="$OUT/$STAMP.pg-home"
    mkdir -p "$PG_HOME" && chmod 700 "$PG_HOME"
    echo "scripted: allow" >"$PG_HOME/config.yaml"
    if ! WARDEN_STORE="$PG_URL" "$WARDEN" store migrate >>"$ERRLOG" 2>&1 \
      || ! WARDEN_HOME="$PG_HOME" "$WARDEN" store copy --from "sqlite://$WARDEN_HOME" --to "$PG_URL" >>"$ERRLOG" 2>&1; then
      log "warning: could not set up the PostgreSQL store (see $ERRLOG); no warden-pg figures"
      PG_HOME=""
    fi
  else
    log "warning: no PostgreSQL cluster; no warden-pg figures"
  fi
fi

# ---- pinning ----
PREFIX=()
PINNING="none"
if [[ "$PIN" != "0" ]]; then
  ncpu="$(nproc 2>/dev/null || echo 1)"
  if ((BENCH_CPU >= ncpu)); then BENCH_CPU=0; fi
  if command -v taskset >/dev/null && taskset -c "$BENCH_CPU" true 2>/dev/null; then
    PREFIX=(taskset -c "$BENCH_CPU")
    PINNING="taskset -c $BENCH_CPU"
    if command -v chrt >/dev/null && chrt -b 0 true 2>/dev/null; then
      PREFIX+=(chrt -b 0)
      PINNING="$PINNING chrt -b 0"
    else
      log "warning: chrt -b 0 unavailable; pinned but not SCHED_BATCH (numbers noisier)"
    fi
  else
    log "warning: taskset unavailable; running unpinned (expect bimodal, noisy latencies)"
  fi
fi

# Sets CMD to the command line a client would launch for configuration $1.
read -r -a WARDEN_EXTRA <<<"$WARDEN_ARGS"
config_cmd() {
  case "$1" in
    direct) CMD=("$BIN/echo_server") ;;
    relay) CMD=("$BIN/relay" "$BIN/echo_server") ;;
    warden) CMD=("$WARDEN" run --manifest "$BENCH/echo-manifest.yaml" ${WARDEN_EXTRA[@]+"${WARDEN_EXTRA[@]}"} -- "$BIN/echo_server") ;;
    warden-pg) CMD=(env "WARDEN_HOME=$PG_HOME" "WARDEN_STORE=$PG_URL" "$WARDEN" run --manifest "$BENCH/echo-manifest.yaml"
      ${WARDEN_EXTRA[@]+"${WARDEN_EXTRA[@]}"} -- "$BIN/echo_server") ;;
    *) log "unknown configuration: $1"; return 1 ;;
  esac
}

# ---- drop warden early if it cannot answer at all (avoids 5 x timeout) ----
ACTIVE=()
for c in $CONFIGS; do
  if [[ "$c" == warden || "$c" == warden-pg ]]; then
    [[ -n "$WARDEN" ]] || continue
    [[ "$c" == warden || -n "$PG_HOME" ]] || continue
    config_cmd "$c"
    log "smoke test: ${CMD[*]}"
    if ! smoke="$("$BIN/driver" --label "$c" --seq 50 --warmup 10 --pipe 500 --arg-n 1 --result-n 1 \
      --spawns 1 --timeout 20 -- "${CMD[@]}" 2>>"$ERRLOG")" || [[ "$smoke" == *'"error":'* ]]; then
      log "$c failed the smoke test: ${smoke:-no output}"
      echo "$c: failed the smoke test: ${smoke:-no output}" >>"$NOTES"
      continue
    fi
    [[ "$smoke" != *'"errors":0,'* ]] && log "warning: warden answered some smoke-test calls with errors: $smoke"
  fi
  ACTIVE+=("$c")
done
((${#ACTIVE[@]} > 0)) || { log "nothing to measure"; exit 1; }

log "pinning: $PINNING; configurations: ${ACTIVE[*]}; repetitions: $REPS"
n=${#ACTIVE[@]}
for ((r = 0; r < REPS; r++)); do
  for ((p = 0; p < n; p++)); do
    c="${ACTIVE[$(((r + p) % n))]}"   # rotate the order every repetition
    log "rep $((r + 1))/$REPS: $c"
    if [[ "${DROP_CACHES:-1}" != "0" && -w /proc/sys/vm/drop_caches ]]; then
      sync
      echo 3 >/proc/sys/vm/drop_caches
    fi
    config_cmd "$c"
    line="$(${PREFIX[@]+"${PREFIX[@]}"} "$BIN/driver" --label "$c" "${DRIVER_OPTS[@]}" -- "${CMD[@]}" \
      2>>"$ERRLOG" || true)"
    [[ -n "$line" ]] || line="{\"config\":\"$c\",\"error\":\"driver produced no output\"}"
    printf '%s\n' "${line/#\{/{\"rep\":$r,\"pos\":$p,}" >>"$RAW"
  done
done

if [[ -s "$ERRLOG" ]]; then
  log "stderr of the runs: $ERRLOG ($(wc -l <"$ERRLOG") lines)"
  echo "stderr of the runs (driver, proxies, server): $(wc -l <"$ERRLOG") lines in bench/out/$(basename "$ERRLOG")" >>"$NOTES"
fi
log "raw results: $RAW"
python3 "$BENCH/aggregate.py" "$RAW" --pinning "$PINNING" --notes "$NOTES"

# ---- the cost of one decision, in process: 10,000 grants in the store ----
if [[ -n "$DECISION_BIN" ]]; then
  decision="$(${PREFIX[@]+"${PREFIX[@]}"} "$DECISION_BIN" "$GRANTS" 2000)"
  printf '%s\n' "$decision" >"$OUT/$STAMP.decision.json"
  python3 - "$decision" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
print()
print(f"Decision cost with {d['grants']:,} grants and forbids in the store (in process, medians):")
print()
print("| step | cost | target |")
print("|---|---:|---|")
print(f"| store change check before each call (`changeToken`) | {d['token_us']:.1f} us | |")
print(f"| scopes of the call (manifest templates) | {d['scopes_us']:.1f} us | |")
print(f"| decision (scopes + authorizer) | {d['decide_us']:.1f} us | |")
print(f"| **per call, check + decision** | **{d['per_call_us']:.1f} us** | <= 20 us: {'PASS' if d['per_call_us'] <= 20 else 'FAIL'} |")
print(f"| worst case: all {d['grants']:,} for the same agent and server | {d['crowded_decide_us']/1000:.2f} ms | |")
print(f"| reload after a change (read {d['grants']:,} + compile) | {(d['load_us'] + d['compile_us'])/1000:.1f} ms | |")
if "record_us" in d:
    print()
    print("The audit trail, per record (in process, medians):")
    print()
    print("| step | cost |")
    print("|---|---:|")
    print(f"| build a decision record (canonical text) | {d['record_us']:.1f} us |")
    print(f"| build it with its place in the chain and its SHA-256 | {d['record_linked_us']:.1f} us |")
    print(f"| journal it (one `write`) | {d['journal_us']:.1f} us |")
    print(f"| append it to the chain, in batches of 100 | {d['chain_us']:.1f} us |")
PY
fi
