#!/usr/bin/env bash
# The conformance suite on the icloud-drive plugin with its location inside a root of a running
# iCloud Drive simulator (`jsync-emulator icloud-drive`), which copies every change to a second
# root and back, with delays, as iCloud Drive does between two Macs: the plugin's objects stay
# right while another "Mac" syncs the same folder.
#   icloud_drive_with_simulator.sh EMULATOR CONFORMANCE PLUGIN WORKDIR [conformance args]
set -euo pipefail
emulator="$1" conformance="$2" plugin="$3" work="$4"
shift 4
rm -rf "$work"
mkdir -p "$work/mac" "$work/other-mac" "$work/state" "$work/staging"
"$emulator" icloud-drive --port 0 --state "$work/state" --roots "$work/mac,$work/other-mac" \
  --delay-ms 20 --jitter-ms 30 --seed 13 >"$work/simulator.out" 2>"$work/simulator.err" &
simulator=$!
trap 'kill "$simulator" 2>/dev/null || true; wait "$simulator" 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$work/simulator.out" ] && break; sleep 0.05; done
if [ ! -s "$work/simulator.out" ]; then
  echo "the iCloud Drive simulator did not start:" >&2; cat "$work/simulator.err" >&2; exit 2
fi
"$conformance" --plugin "$plugin" --location "$work/mac" \
  --config "{\"staging\":\"$work/staging\"}" "$@"
