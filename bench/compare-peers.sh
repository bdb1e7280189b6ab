#!/usr/bin/env bash
# Replays one editing trace with journal-sync's text CRDT and, in the same run, with Yjs,
# Automerge and Loro (installed from the npm registry into a temporary folder), and prints a
# table of apply / encode / load figures with ours as ratios to each peer's.
#
#   bench/compare-peers.sh [TRACE.json[.gz]] [peer ...]     (peers: yjs automerge loro)
# Default trace: tests/data/traces/automerge-paper.json.gz. Needs node and npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trace="${1:-$root/tests/data/traces/automerge-paper.json.gz}"
shift || true
peers=("$@")
[ -f "$trace" ] || { echo "compare-peers: no trace at $trace" >&2; exit 1; }
command -v npm >/dev/null || { echo "compare-peers: needs node and npm" >&2; exit 1; }

build="${BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DJSYNC_BUILD_TESTS=OFF \
  -DJSYNC_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target text_trace_bench >/dev/null 2>&1

work="$(mktemp -d /tmp/jsync-peers.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp "$root/bench/peers/replay.mjs" "$work/"
(cd "$work" && npm init -y >/dev/null 2>&1 &&
  npm install --silent --no-audit --no-fund yjs@13 @automerge/automerge@3 loro-crdt@1 >/dev/null 2>&1)
versions="$(cd "$work" && node -e '
  for (const p of ["yjs", "@automerge/automerge", "loro-crdt"])
    process.stdout.write(p + "@" + require("./node_modules/" + p + "/package.json").version + " ")')"

echo "trace: $trace"
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u '+%Y-%m-%d')"
echo "peers: $versions(node $(node --version))"
echo
"$build/bench/text_trace_bench" --json "$trace" >"$work/results.jsonl"
node --expose-gc "$work/replay.mjs" "$trace" "${peers[@]}" >>"$work/results.jsonl"

node - "$work/results.jsonl" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse);
const ours = rows[0];
const fmt = (v, d = 1) => v.toFixed(d).padStart(11);
console.log('library'.padEnd(14) + 'apply ms'.padStart(11) + 'ops/s'.padStart(11) +
            'encode ms'.padStart(11) + 'bytes'.padStart(11) + 'load ms'.padStart(11) + '  ok');
for (const r of rows) {
  console.log(r.name.padEnd(14) + fmt(r.apply_ms) + fmt(r.ops_per_s, 0) + fmt(r.encode_ms) +
              fmt(r.encoded_bytes, 0) + fmt(r.load_ms, 2) + '  ' + (r.ok === false ? 'NO' : 'yes'));
}
console.log('\njournal-sync relative to each peer (apply and load: times faster; size: fraction of theirs)');
for (const r of rows.slice(1)) {
  console.log(`  vs ${r.name.padEnd(10)} apply ${(r.apply_ms / ours.apply_ms).toFixed(1)}x faster, ` +
              `encode ${(r.encode_ms / ours.encode_ms).toFixed(1)}x faster, ` +
              `size ${(ours.encoded_bytes / r.encoded_bytes).toFixed(2)} of theirs, ` +
              `load ${(r.load_ms / ours.load_ms).toFixed(1)}x faster`);
}
if (rows.some((r) => r.ok === false)) process.exit(1);
JS
