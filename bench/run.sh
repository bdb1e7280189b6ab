#!/usr/bin/env bash
# Builds the benchmarks (Release, in build-bench/) and runs both; see docs/benchmarks.md.
#
#   bench/run.sh                      # edit latency + cold sync of 10,000 entries
#   bench/run.sh --entries 1000       # arguments go to cold_sync_bench
#   EDIT_ARGS='--benchmark_filter=BM_NewEntry' bench/run.sh
#   JSYNC_BENCH_DIR=/mnt/ssd bench/run.sh   # where the temporary journals live
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DJSYNC_BUILD_TESTS=OFF \
  -DJSYNC_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target edit_latency_bench cold_sync_bench

tmp="${JSYNC_BENCH_DIR:-${TMPDIR:-/tmp}}"
echo
echo "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:     $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory:  $(free -h | awk '/^Mem:/ {print $2}')"
echo "tmp:     $tmp ($(df -PT "$tmp" | awk 'NR==2 {print $2}'))"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== edit latency (Journal::NewEntry / EditEntry; Sync after one edit)"
# shellcheck disable=SC2086
JSYNC_BENCH_DIR="$tmp" "$build/bench/edit_latency_bench" --benchmark_counters_tabular=true \
  ${EDIT_ARGS:-}

echo
echo "== cold sync of a new device"
"$build/bench/cold_sync_bench" --dir "$tmp" "$@"
