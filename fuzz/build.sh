#!/usr/bin/env bash
# Builds the libFuzzer targets: fuzz/build.sh [TARGET...]  (default: all five)
#
# Each target is one swiftc invocation of its harness plus the sources it tests, as a single module,
# so the harness reaches internal types (LineFramer, Cursor) without @testable and without touching
# Package.swift. Sources are copied into the scratch dir first: the package stays as it is, and a
# build sees one consistent snapshot even while Sources/ is being edited.
#
# Environment: FUZZ_BUILD_DIR (default fuzz/.build-fuzz, ignored by git through `.build-*/`),
# FUZZ_OPT (default -O; -Onone builds faster and runs slower).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${FUZZ_BUILD_DIR:-$here/.build-fuzz}
opt=${FUZZ_OPT:--O}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(framer scanner ambiguity templates sql)

need=()
[ -f /usr/include/jansson.h ] || need+=(libjansson-dev)
[ -f /usr/include/pg_query.h ] || need+=(libpg-query-dev)
[ -f /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}"
fi

# The snapshot. WardenCore's files lose `import WardenJSON`: here both are one module.
src=$out/src
rm -rf "$src"
mkdir -p "$src/WardenJSON" "$src/Policy" "$src/CJansson" "$src/SQL" "$src/CPgQuery" "$src/GRDBSQLite" "$out/bin"
cp "$root"/Sources/WardenJSON/*.swift "$src/WardenJSON/"
cp "$root"/Sources/CJansson/* "$src/CJansson/"
cp "$root"/Sources/CPgQuery/* "$src/CPgQuery/"
# The package takes SQLite's C API from GRDB's GRDBSQLite module; without SwiftPM, a module map of
# the same name on the system's sqlite3.h lets WardenSQL's `import GRDBSQLite` stand as it is.
printf 'module GRDBSQLite [system] {\n  header "shim.h"\n  link "sqlite3"\n  export *\n}\n' \
  >"$src/GRDBSQLite/module.modulemap"
printf '#include <sqlite3.h>\n' >"$src/GRDBSQLite/shim.h"
for file in "$root"/Sources/WardenSQL/*.swift "$root/Sources/WardenCore/Policy/SQLOperation.swift"; do
  sed '/^import WardenJSON$/d; /^import WardenCore$/d' "$file" >"$src/SQL/$(basename "$file")"
done
cp "$root"/Sources/WardenProxy/LineFramer.swift "$src/"
# Only the policy files the template target needs, so that unrelated edits elsewhere in WardenCore
# cannot break this build.
for file in ResourceTemplate RuleCondition ScopeFilters Glob Durations SQLOperation; do
  sed '/^import WardenJSON$/d' "$root/Sources/WardenCore/Policy/$file.swift" >"$src/Policy/$file.swift"
done

sources_for() {
  case $1 in
    framer) echo "$src/LineFramer.swift" ;;
    scanner | ambiguity) echo "$src"/WardenJSON/*.swift ;;
    templates) echo "$src"/WardenJSON/*.swift "$src"/Policy/*.swift ;;
    sql) echo "$src"/WardenJSON/*.swift "$src"/SQL/*.swift ;;
    *) echo "unknown target '$1' (framer, scanner, ambiguity, templates, sql)" >&2; return 1 ;;
  esac
}

build() {
  local target=$1 files
  files=$(sources_for "$target")
  # lld, not the default gold: gold warns about every ASan helper symbol.
  # shellcheck disable=SC2086
  swiftc -sanitize=fuzzer,address -parse-as-library "$opt" -swift-version 6 -use-ld=lld \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
    -module-name "Fuzz_$target" -I "$src/CJansson" -ljansson \
    -I "$src/CPgQuery" -I "$src/GRDBSQLite" -lpg_query -lsqlite3 \
    "$here/$target.swift" $files -o "$out/bin/$target"
}

# Two at a time: swiftc is mostly single-threaded here, and CI machines have at least two cores.
pids=()
for target in "${targets[@]}"; do
  sources_for "$target" >/dev/null
  build "$target" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "built ${targets[*]} in $out/bin"
