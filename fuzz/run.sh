#!/usr/bin/env bash
# Builds and fuzzes every target for SECONDS each: fuzz/run.sh [SECONDS] [TARGET...]
#
# Each target starts from its committed seeds, copied into the scratch dir so that what the fuzzer
# adds never lands in the repository (and a later run starts from what earlier ones found).
# A crash, a failed invariant, a hang (-timeout) or running out of memory (-rss_limit_mb) fails the
# target; its reproducer is written to fuzz/.build-fuzz/crashes/TARGET/.
# The last line is `N passed, M failed`; the exit status is non-zero when any target failed.
#
# Environment: FUZZ_BUILD_DIR (as build.sh), FUZZ_JOBS (targets fuzzed at once; default: cores,
# at most 4), FUZZ_SKIP_BUILD=1 to reuse the binaries, FUZZ_ARGS (more libFuzzer flags, e.g.
# "-fork=2 -ignore_crashes=1" to go on past crashes in a long run).
set -uo pipefail
# Swift's own crash handler reads the crashed process's memory, which ASan reports as a second,
# bogus error; libFuzzer's handler is the one that writes the reproducer.
export SWIFT_BACKTRACE=enable=no

here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_BUILD_DIR:-$here/.build-fuzz}
export FUZZ_BUILD_DIR=$out
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(framer scanner ambiguity templates sql)
jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -le 4 ] || jobs=4

if [ "${FUZZ_SKIP_BUILD:-}" != 1 ]; then
  start=$(date +%s)
  "$here/build.sh" "${targets[@]}" || { echo "0 passed, ${#targets[@]} failed"; exit 1; }
  echo "build: $(($(date +%s) - start))s"
fi

dictionary_for() {
  case $1 in
    framer) echo "$here/dict/framer.dict" ;;
    scanner | ambiguity) echo "$here/dict/json.dict" ;;
    templates) echo "$here/dict/templates.dict" ;;
    sql) echo "$here/dict/sql.dict" ;;
  esac
}

fuzz_one() {
  local target=$1 corpus=$out/corpus/$1 crashes=$out/crashes/$1
  mkdir -p "$corpus" "$crashes"
  cp -n "$here/corpus/$target/"* "$corpus/"
  # -timeout: one input taking 10 s is a hang. -detect_leaks=0: the Swift runtime's lazily built
  # metadata looks like leaks to LeakSanitizer; ASan still catches every invalid access.
  "$out/bin/$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -detect_leaks=0 -dict="$(dictionary_for "$target")" -artifact_prefix="$crashes/" \
    -print_final_stats=1 ${FUZZ_ARGS:-} >"$out/logs/$target.log" 2>&1
  echo $? >"$out/logs/$target.status"
}

mkdir -p "$out/logs"
for target in "${targets[@]}"; do
  rm -f "$out/logs/$target.status"
  fuzz_one "$target" &
  while [ "$(jobs -pr | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait

passed=0
failed=0
for target in "${targets[@]}"; do
  status=$(cat "$out/logs/$target.status" 2>/dev/null || echo missing)
  log=$out/logs/$target.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  units=$(find "$out/corpus/$target" -type f | wc -l)
  if [ "$status" = 0 ]; then
    passed=$((passed + 1))
    echo "PASS $target: ${runs:-?} runs, ${rate:-?} exec/s, corpus $units"
  else
    failed=$((failed + 1))
    echo "FAIL $target (exit $status), log $log:"
    grep -aE "Fatal error|^  (line|input):|ERROR: (libFuzzer|AddressSanitizer)|^SUMMARY" "$log" |
      head -6 | cut -c1-500 | sed 's/^/  /'
    # The newest artifact: in fork mode the log does not name it.
    reproducer=$(ls -t "$out/crashes/$target"/* 2>/dev/null | head -1)
    echo "  reproduce: SWIFT_BACKTRACE=enable=no $out/bin/$target ${reproducer:-(no artifact; see the log)}"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
