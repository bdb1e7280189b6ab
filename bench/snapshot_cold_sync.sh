#!/usr/bin/env bash
# Cold sync of a new device through a snapshot at N entries (default 100,000): make_journal
# builds and syncs the journal (its sync writes the snapshot), then a new device joins on the
# folder provider and on the Drive emulator at LATENCY ms (default 20), each measured in its own
# process. Prints one JSON line per run.
#   bench/snapshot_cold_sync.sh [BUILD_DIR] [ENTRIES] [LATENCY]
set -euo pipefail
build="${1:-build}"
entries="${2:-100000}"
latency="${3:-20}"
work="$(mktemp -d "${TMPDIR:-/tmp}/snapshot-cold-XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "building a journal of $entries entries in $work" >&2
"$build/bench/make_journal" --dir "$work/journal" --entries "$entries" --sync >&2
ls -la "$work/journal/cloud"/*/snapshots >&2
"$build/bench/snapshot_cold_sync_bench" measure --backend folder --cloud "$work/journal/cloud" \
  --home "$work/reader-folder" --json
"$build/bench/snapshot_cold_sync_bench" seed --cloud "$work/journal/cloud" --state "$work/drive"
"$build/bench/snapshot_cold_sync_bench" measure --backend gdrive --cloud "$work/journal/cloud" \
  --state "$work/drive" --latency "$latency" --home "$work/reader-gdrive" --json
