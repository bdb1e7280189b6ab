#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest), then again in a clang
# AddressSanitizer + UndefinedBehaviorSanitizer build, which also holds the libFuzzer targets:
# each runs for JSYNC_FUZZ_SECONDS (default 30) after the tests. Long soak tests are opt-in:
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
  echo "== build (clang, ASan + UBSan, fuzz targets) =="
  # clang for the fuzz targets (-DJSYNC_FUZZ); a folder configured with another compiler once
  # is started over, since CMake keeps the first compiler it saw.
  if [ -f build-sanitize/CMakeCache.txt ] &&
     ! grep -q '^CMAKE_CXX_COMPILER_ID:[A-Z]*=Clang$\|^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' \
       build-sanitize/CMakeCache.txt; then
    rm -rf build-sanitize
  fi
  CC=clang CXX=clang++ BUILD_DIR=build-sanitize scripts/build.sh -DJSYNC_BUILD_TESTS=ON \
    -DJSYNC_BUILD_BENCH=OFF -DJSYNC_SANITIZE=ON -DJSYNC_FUZZ=ON
  echo "== tests under ASan + UBSan =="
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -LE long
  echo "== fuzz targets (${JSYNC_FUZZ_SECONDS:-30} s each) =="
  fuzz/run.sh build-sanitize "${JSYNC_FUZZ_SECONDS:-30}"
fi
