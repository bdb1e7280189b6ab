#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest), then again in an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Long soak tests are opt-in:
#   ctest --test-dir build -L long
# Set JSYNC_SKIP_SANITIZE=1 to skip the sanitizer pass while iterating.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-peers.sh
jobs="$(nproc)"

echo "== build (RelWithDebInfo) =="
BUILD_DIR=build scripts/build.sh -DJSYNC_BUILD_TESTS=ON -DJSYNC_BUILD_BENCH=ON -DJSYNC_SANITIZE=OFF
echo "== tests =="
ctest --test-dir build --output-on-failure -j"$jobs" -LE long

if [ "${JSYNC_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== build (ASan + UBSan) =="
  BUILD_DIR=build-sanitize scripts/build.sh -DJSYNC_BUILD_TESTS=ON -DJSYNC_BUILD_BENCH=OFF -DJSYNC_SANITIZE=ON
  echo "== tests under ASan + UBSan =="
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -LE long
fi
