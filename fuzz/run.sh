#!/usr/bin/env bash
# Runs every fuzz target of a -DJSYNC_FUZZ=ON build for SECONDS each (default 30) on a copy of
# its seed corpus (fuzz/corpus/<target>), FUZZ_JOBS at a time (default 2). Fails when any target
# reports a crash, leak, UB, out-of-memory or timeout; the input that did it is kept in
# BUILD_DIR/fuzz/artifacts. Prints each target's final "#N DONE cov: X ft: Y" line.
#   fuzz/run.sh build-sanitize [SECONDS] [TARGET...]
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]}" && pwd)"
seconds="${2:-30}"
shift $(($# < 2 ? $# : 2))
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < "$build/fuzz/targets.txt"; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz/artifacts"

run_one() {
  local name="$1"
  mkdir -p "$work/corpus-$name"
  cp "$src/corpus/$name/"* "$work/corpus-$name/" 2>/dev/null || true
  local rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz/artifacts/$name-" "$work/corpus-$name" \
    >"$work/$name.log" 2>&1 || rc=$?
  local done_line
  done_line="$(grep -E "^#[0-9]+[[:space:]]+DONE" "$work/$name.log" | tail -1 || true)"
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $name (exit $rc):"
    tail -40 "$work/$name.log"
    return 1
  fi
  printf '%-20s %s\n' "$name" "$done_line"
}
export -f run_one
export src build seconds work

printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-2}" -I{} bash -c 'run_one "$@"' _ {}
