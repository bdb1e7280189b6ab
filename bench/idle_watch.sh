#!/usr/bin/env bash
# What an idle `jsync watch` costs: one device, a journal with a few entries, the watcher left
# alone for SECONDS (default 600) on each provider — the folder provider, and the Drive and
# Graph (OneDrive) emulators, linked as a user links them (`jsync link ... --device-code`).
# Prints, per provider: requests the emulator received while idle (its request log; for the
# folder provider the watcher's own count of cycles), the watcher's CPU seconds and its RSS.
# The watchers run side by side, with the default poll (15 s -> 5 min).
#
#   bench/idle_watch.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${2:-${BUILD_DIR:-$root/build}}"
jsync="$build/tools/jsync/jsync"
emulator="$build/tools/emulators/jsync-emulator"
for f in "$jsync" "$emulator"; do
  [[ -x "$f" ]] || { echo "idle_watch: $f is missing: build jsync and jsync-emulator first" >&2; exit 1; }
done
tmp="$(mktemp -d "${TMPDIR:-/tmp}/jsync-idle.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export JSYNC_PASSPHRASE="idle bench passphrase" JSYNC_TOKEN_STORE=file

start_emulator() {  # NAME -> prints the base URL
  local name="$1"
  mkdir -p "$tmp/$name-state"
  "$emulator" "$name" --port 0 --state "$tmp/$name-state" --request-log "$tmp/$name.requests" \
    --auto-approve --device-interval 0 >"$tmp/$name.url" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$tmp/$name.url" ]] && break; sleep 0.1; done
  head -1 "$tmp/$name.url"
}

setup() {  # PROVIDER [BASE_URL]
  local provider="$1" base="${2:-}" home="$tmp/home-$1"
  if [[ -n "$base" ]]; then
    printf '{"api_base":"%s","auth_base":"%s","client_id":"jsync-test-client"}' "$base" "$base" \
      >"$tmp/$provider.json"
    "$jsync" --home "$home" link "$provider" --config "$tmp/$provider.json" --device-code \
      >/dev/null 2>"$tmp/$provider.link.err" || { cat "$tmp/$provider.link.err" >&2; exit 1; }
    "$jsync" --home "$home" init --provider "$provider" --device-name idle --scrypt-log-n 10 >/dev/null
  else
    "$jsync" --home "$home" init --provider folder --location "$tmp/cloud" --device-name idle \
      --scrypt-log-n 10 >/dev/null
  fi
  for i in 1 2 3; do "$jsync" --home "$home" new --title "entry $i" >/dev/null; done
  "$jsync" --home "$home" sync >/dev/null
}

setup folder
setup gdrive "$(start_emulator gdrive)"
setup onedrive "$(start_emulator onedrive)"

declare -A watcher before
for p in folder gdrive onedrive; do
  [[ -f "$tmp/$p.requests" ]] && before[$p]=$(wc -l <"$tmp/$p.requests") || before[$p]=0
  "$jsync" --home "$tmp/home-$p" watch --no-relay --verbose 2>"$tmp/$p.watch.log" &
  watcher[$p]=$!
  pids+=($!)
done
echo "idle for $seconds s ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
sleep "$seconds"

tick=$(getconf CLK_TCK)
echo
echo "| provider | requests while idle | sync cycles | requests / cycle | CPU s | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
for p in folder gdrive onedrive; do
  pid=${watcher[$p]}
  read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
  cpu=$(awk -v u="$utime" -v s="$stime" -v t="$tick" 'BEGIN {printf "%.2f", (u + s) / t}')
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  cycles=$(grep -c "sync (" "$tmp/$p.watch.log" || true)
  if [[ -f "$tmp/$p.requests" ]]; then
    requests=$(( $(wc -l <"$tmp/$p.requests") - ${before[$p]} ))
  else
    requests="(local files)"
  fi
  per="-"
  [[ "$requests" =~ ^[0-9]+$ && "$cycles" -gt 0 ]] && per=$(awk -v r="$requests" -v c="$cycles" 'BEGIN {printf "%.1f", r / c}')
  echo "| $p | $requests | $cycles | $per | $cpu | $rss |"
done
