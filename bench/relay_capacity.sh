#!/usr/bin/env bash
# Relay capacity (issue 14): connections held and frames/s forwarded by one jsync-relay
# instance, and by two on one Redis, with their CPU seconds and RSS over the measured window.
#   bench/relay_capacity.sh [BUILD_DIR] [extra relay_loadgen flags]
# Default load: 10,000 idle connections; 100 rooms x 3 devices at 10 frames/s each.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
bin="$build/bench/relay_loadgen"
[ -x "$bin" ] || { echo "relay_capacity: build relay_loadgen first (TARGETS=relay_loadgen)" >&2; exit 1; }
# Each connection is a descriptor in the load generator and one in a relay.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "descriptors: $(ulimit -n)"
echo
echo "| relays | idle | devices | connections held | ramp-up s | frames/s sent | frames/s forwarded | latency p50 ms | p99 ms | relay CPU s (window), RSS | open/failed/closed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
"$bin" --instances 1 "$@"
"$bin" --instances 2 "$@"
