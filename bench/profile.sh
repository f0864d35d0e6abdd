#!/usr/bin/env bash
# Instruction counts behind "Where we are behind" in BENCHMARKS.md: callgrind on the release
# runners that `python3 bench/run.py` builds (run it, or at least its build step, first).
# Instruction counts do not depend on the machine's load, unlike the wall-clock tables.
#
#   bash bench/profile.sh            # apply 200 in memory, and the no-op `up` (N = 200)
#
# Only the `up` calls are counted (--toggle-collect), not the process start or the checks.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
out="${PROFILE_OUT:-$bench/ours/target/profile}"
rm -rf "$out" && mkdir -p "$out/tmp"
toggle='*as runner::harness::Tool>::up'
count() { grep -o 'Collected : [0-9]*' "$1" | grep -o '[0-9]*$'; }

echo "apply 200 migrations in memory (one up call): instructions"
for tool in raw ours rusqlite_migration refinery diesel; do
  valgrind --tool=callgrind --toggle-collect="$toggle" --callgrind-out-file="$out/$tool.apply.out" \
    "$bench/$tool/target/release/runner" apply-memory 200 1 >/dev/null 2>"$out/$tool.apply.err"
  printf '  %-20s %12s\n' "$tool" "$(count "$out/$tool.apply.err")"
done

echo "no-op up, N = 200 (1001 calls on one connection; the database is applied beforehand): instructions per call"
for tool in raw ours rusqlite_migration; do
  BENCH_TMP="$out/tmp" "$bench/$tool/target/release/runner" noop 200 1 >/dev/null
  BENCH_TMP="$out/tmp" valgrind --tool=callgrind --toggle-collect="$toggle" \
    --callgrind-out-file="$out/$tool.noop.out" \
    "$bench/$tool/target/release/runner" noop 200 1000 >/dev/null 2>"$out/$tool.noop.err"
  printf '  %-20s %12s\n' "$tool" "$(( $(count "$out/$tool.noop.err") / 1001 ))"
done

for what in apply noop; do
  echo
  echo "ours, $what: inclusive instructions of the functions that matter"
  callgrind_annotate --inclusive=yes "$out/ours.$what.out" 2>/dev/null \
    | grep -E 'migrate_|Checksum|statements|execute_batch|prepare_with_flags|format_inner|sqlite3_step ' \
    | head -20 | sed -E 's/ \[[^]]*\]$//'
done
