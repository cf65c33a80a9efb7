#!/usr/bin/env bash
# bench/fleet.sh - the load figure of fleet mode: WARDENS wardens on one store, each kept busy by its own
# client with INFLIGHT calls in flight, while grants churn (a grant issued and one revoked every CHURN_MS;
# each change makes every warden reload its grants). Run once on SQLite (one home shared by all, as on
# one machine) and once on PostgreSQL (a home per warden, as on many machines; bench/pg.sh starts a
# throwaway cluster on loopback). Prints a Markdown table; unpinned (the point is many processes).
#
#   WARDEN_BIN=... bench/fleet.sh
#
# Environment (defaults in brackets): WARDENS [8] INFLIGHT [64] CALLS [20000] per warden, CHURN_MS [100],
# GRANTS [10000] in force, STORES ["sqlite postgres"].
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
BIN="$BENCH/bin"
OUT="$BENCH/out"
mkdir -p "$BIN" "$OUT"
WARDENS="${WARDENS:-8}"
INFLIGHT="${INFLIGHT:-64}"
CALLS="${CALLS:-20000}"
CHURN_MS="${CHURN_MS:-100}"
GRANTS="${GRANTS:-10000}"
STORES="${STORES:-sqlite postgres}"
STAMP="$(date +%Y%m%d-%H%M%S)"
log() { printf 'fleet: %s\n' "$*" >&2; }

CC="${CC:-cc}"
"$CC" -O2 -Wall -o "$BIN/echo_server" "$BENCH/echo_server.c"
"$CC" -O2 -Wall -o "$BIN/driver" "$BENCH/driver.c"
WARDEN="${WARDEN_BIN:?set WARDEN_BIN to a release build of warden}"
DECISION_BIN="$(cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench \
  --show-bin-path)/warden-bench-decision"
(cd "$ROOT" && swift build -c release --product warden-bench-decision --scratch-path .build-bench) >/dev/null

# The grants: one for the bench's agent, GRANTS - 1 filler for others, in a SQLite home.
SEED="$OUT/$STAMP.fleet-seed"
mkdir -p "$SEED" && chmod 700 "$SEED"
echo "scripted: allow" >"$SEED/config.yaml"
WARDEN_HOME="$SEED" "$WARDEN" grant --server bench-echo --allow 'bench.*' --for 3h --purpose benchmark >/dev/null
((GRANTS > 1)) && "$DECISION_BIN" --populate "$SEED" "$((GRANTS - 1))"

# One store's run: the homes (one per warden), the store variable, then WARDENS drivers and the churner.
measure() {
  local store="$1" url="" homes=() i
  if [[ "$store" == postgres ]]; then
    # shellcheck source=bench/pg.sh
    source "$BENCH/pg.sh"
    pg_start "/tmp/warden-fleet-pg-$STAMP"
    trap pg_stop EXIT
    url="$PG_URL"
    WARDEN_STORE="$url" "$WARDEN" store migrate >/dev/null
    WARDEN_HOME="$SEED" "$WARDEN" store copy --from "sqlite://$SEED" --to "$url" >/dev/null
    for ((i = 0; i < WARDENS; i++)); do
      homes+=("$OUT/$STAMP.fleet-pg-$i")
      mkdir -p "${homes[$i]}" && chmod 700 "${homes[$i]}" && echo "scripted: allow" >"${homes[$i]}/config.yaml"
    done
  else
    # The seed home itself (nothing runs on it any more): one store for all, as on one machine.
    local shared="$SEED"
    for ((i = 0; i < WARDENS; i++)); do homes+=("$shared"); done
  fi
  local env_store=()
  [[ -n "$url" ]] && env_store=("WARDEN_STORE=$url")

  # The churner: a grant for a churning agent issued, the one before it revoked, every CHURN_MS.
  local stop="$OUT/$STAMP.fleet-$store.stop" churned="$OUT/$STAMP.fleet-$store.churned"
  rm -f "$stop"
  (
    n=0 previous=""
    while [[ ! -e "$stop" ]]; do
      id="$(env WARDEN_HOME="${homes[0]}" ${env_store[@]+"${env_store[@]}"} "$WARDEN" grant --agent "churn-$n" \
        --server bench-echo --allow 'bench.*' --for 1h --purpose churn 2>/dev/null || true)"
      [[ -n "$previous" ]] && env WARDEN_HOME="${homes[0]}" ${env_store[@]+"${env_store[@]}"} "$WARDEN" revoke "$previous" \
        >/dev/null 2>&1 || true
      previous="$id"
      n=$((n + 1))
      sleep "$(printf '0.%03d' "$CHURN_MS")"
    done
    echo "$n" >"$churned"
  ) &
  local churner=$!

  local results=() started ended
  started="$(date +%s.%N)"
  for ((i = 0; i < WARDENS; i++)); do
    results+=("$OUT/$STAMP.fleet-$store-$i.json")
    env WARDEN_HOME="${homes[$i]}" ${env_store[@]+"${env_store[@]}"} "$BIN/driver" --label "$store-$i" --seq 0 \
      --warmup 0 --pipe "$CALLS" --inflight "$INFLIGHT" --arg-n 0 --result-n 0 --spawns 0 --timeout 300 -- \
      "$WARDEN" run --manifest "$BENCH/echo-manifest.yaml" -- "$BIN/echo_server" >"${results[$i]}" 2>>"$OUT/$STAMP.fleet.stderr.log" &
  done
  wait $(jobs -p | grep -v "^$churner$") 2>/dev/null || true
  ended="$(date +%s.%N)"
  touch "$stop"
  wait "$churner" || true
  python3 - "$store" "$started" "$ended" "$(cat "$churned" 2>/dev/null || echo 0)" "${results[@]}" <<'PY'
import json, sys
store, started, ended, churned = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
runs = []
for path in sys.argv[5:]:
    try:
        runs.append(json.load(open(path)))
    except Exception:
        runs.append({"error": "no output"})
ok = [r for r in runs if "pipe_calls_per_s" in r]
calls = sum(r.get("pipe_n", 0) for r in ok)
errors = sum(r.get("errors", 0) for r in ok)
rates = sorted(r["pipe_calls_per_s"] for r in ok)
wall = ended - started
print(f"| {store} | {len(ok)}/{len(runs)} | {calls / wall:,.0f} | {rates[0]:,.0f} / {rates[len(rates)//2]:,.0f} / {rates[-1]:,.0f} | {errors} | {churned} in {wall:.1f} s |"
      if ok else f"| {store} | 0/{len(runs)} | - | - | - | {churned} |")
PY
  if [[ "$store" == postgres ]]; then pg_stop; trap - EXIT; fi
}

echo "| store | wardens done | calls/s, all wardens | per warden min / median / max | errors | grant changes |"
echo "|---|---:|---:|---:|---:|---|"
for store in $STORES; do
  log "$store: $WARDENS wardens x $INFLIGHT in flight, $CALLS calls each, grants churning every $CHURN_MS ms"
  measure "$store"
done
