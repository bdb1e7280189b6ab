#!/usr/bin/env bash
# The main job: installs what is missing, builds jsync (only), and runs a three-device sync demo on
# the built-in folder provider (no account needed). A temporary folder stands in for the cloud.
#   scripts/demo.sh --gdrive     the same on the Google Drive emulator: each device links its
#                                account with the OAuth device code, then syncs over Drive v3.
#   scripts/demo.sh --onedrive   the same on the Microsoft Graph (OneDrive) emulator.
#   scripts/demo.sh --icloud     the same on the CloudKit Web Services emulator (iCloud, mode A):
#                                each device signs in the way `jsync link icloud --no-browser`
#                                asks (the printed sign-in address, opened once with curl).
set -euo pipefail
mode="folder"
case "${1:-}" in
  "") ;;
  --gdrive) mode="gdrive" ;;
  --onedrive) mode="onedrive" ;;
  --icloud) mode="icloud" ;;
  *) echo "usage: scripts/demo.sh [--gdrive | --onedrive | --icloud]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
if [ "$mode" != "folder" ] && [ ! -d "providers/$mode" ]; then
  echo "demo.sh: the $mode provider is not in this checkout yet (providers/$mode)" >&2; exit 2
fi
scripts/install-deps.sh
# Only what the demo runs: jsync (the folder provider is built into it), and for a cloud its
# plugin and the emulator. The test suite and benchmarks are not built.
targets="jsync jsync-relay"
[ "$mode" != "folder" ] && targets="jsync jsync-relay jsync_provider_$mode jsync-emulator"
TARGETS="$targets" BUILD_DIR=build scripts/build.sh >/dev/null
jsync="$PWD/build/tools/jsync/jsync"

work="$(mktemp -d /tmp/jsync-demo.XXXXXX)"
cloud="$work/cloud"
export JSYNC_PASSPHRASE="demo passphrase: correct horse battery staple"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
on() { local dev="$1"; shift; "$jsync" --home "$work/$dev" "$@"; }
body() { local f; f="$(mktemp "$work/body.XXXXXX")"; printf '%s\n' "$1" >"$f"; echo "$f"; }

if [ "$mode" = "folder" ]; then
  where=(--provider folder --location "$cloud")
  say "Three devices join one journal in $cloud"
else
  # The emulator keeps its files under $cloud, so the checks below read what the cloud stores.
  if [ "$mode" = "icloud" ]; then
    # CloudKit signs in through a browser redirect to a fixed loopback callback (the API
    # token's setting): the emulator and jsync agree on one port.
    callback_port="$(shuf -i 20000-60000 -n 1)"
    emulator_args=(cloudkit --callback-url "http://127.0.0.1:$callback_port/")
  else
    emulator_args=("$mode" --device-interval 0)
  fi
  "$PWD/build/tools/emulators/jsync-emulator" "${emulator_args[@]}" --port 0 --state "$cloud" \
    --auto-approve >"$work/emulator.out" 2>"$work/emulator.log" &
  emulator=$!
  trap 'kill "$emulator" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$work/emulator.out" ] && break; sleep 0.1; done
  base="$(head -n 1 "$work/emulator.out")"
  if [ "$mode" = "icloud" ]; then
    printf '{"cloudkit_api_base": "%s", "cloudkit_api_token": "jsync-test-api-token", "cloudkit_callback_port": %s}\n' \
      "$base/database/1/iCloud.org.journalsync.test/development" "$callback_port" >"$work/$mode.json"
  else
    printf '{"api_base": "%s", "auth_base": "%s", "client_id": "jsync-test-client"}\n' \
      "$base" "$base" >"$work/$mode.json"
  fi
  case "$mode" in
    gdrive) cloud_name="Google Drive"; hidden="the emulated Drive's appDataFolder" ;;
    onedrive) cloud_name="OneDrive (Microsoft Graph)"; hidden="the emulated OneDrive's app folder" ;;
    icloud) cloud_name="iCloud (CloudKit Web Services)"; hidden="a zone of the emulated CloudKit private database" ;;
  esac
  say "The $cloud_name emulator listens on $base; each device links its account"
  for dev in laptop phone tablet; do
    if [ "$mode" = "icloud" ]; then
      # What a person does: open the address `jsync link icloud --no-browser` prints.
      on "$dev" link icloud --config "$work/$mode.json" --no-browser 2>"$work/link-$dev.err" &
      link=$!
      url=""
      for _ in $(seq 200); do
        url="$(grep -o "$base/signin[^ ]*" "$work/link-$dev.err" | head -n 1 || true)"
        [ -n "$url" ] && break; sleep 0.05
      done
      [ -n "$url" ] && curl -s -L -o /dev/null "$url"
      wait "$link"
      sed "s/^/$dev: /" "$work/link-$dev.err"
    else
      on "$dev" link "$mode" --config "$work/$mode.json" --device-code 2>&1 | sed "s/^/$dev: /"
    fi
  done
  on laptop accounts
  where=(--provider "$mode")
  say "Three devices join one journal in $hidden"
fi
journal="$(on laptop init "${where[@]}" --device-name laptop)"
on phone init "${where[@]}" --device-name phone >/dev/null
on tablet init "${where[@]}" --device-name tablet >/dev/null
echo "journal $journal"

say "The laptop writes two entries and syncs"
walk="$(on laptop new --title "Sunday walk" --tag outdoors --body-file "$(body "Fog on the river, then sun by noon.")")"
plans="$(on laptop new --title "Plans for the week" --tag todo --body-file "$(body "Call the plumber. Finish chapter 3.")")"
on laptop sync
on phone sync
on tablet sync

say "The tablet goes offline and keeps writing"
on tablet edit "$walk" --add-tag weekend --body-file "$(body "Fog on the river, then sun by noon. Saw a heron.")"
on tablet new --title "Written on the train (offline)" --tag travel --body-file "$(body "No signal between stations.")" >/dev/null

say "Meanwhile the phone retitles the walk and deletes the plans; the laptop edits the plans"
on phone edit "$walk" --title "Sunday walk by the river"
on phone rm "$plans"
on laptop edit "$plans" --add-tag urgent
on phone sync
on laptop sync

say "The tablet comes back online; everyone syncs twice"
for round in 1 2; do
  for dev in laptop phone tablet; do printf '%-7s ' "$dev"; on "$dev" sync; done
done

for dev in laptop phone tablet; do
  say "Entries on the $dev"
  on "$dev" list
done

say "Do the devices agree?"
on laptop list --json >"$work/laptop.json"
status=0
for dev in phone tablet; do
  on "$dev" list --json >"$work/$dev.json"
  if cmp -s "$work/laptop.json" "$work/$dev.json"; then
    echo "$dev: identical to the laptop ($(sha256sum <"$work/$dev.json" | cut -c1-16))"
  else
    echo "$dev: DIFFERENT from the laptop"; diff "$work/laptop.json" "$work/$dev.json" || true; status=1
  fi
done
echo "(the plans survive the phone's delete: the laptop edited them concurrently, and edits win)"

say "Live: the laptop and the phone run jsync watch through a relay; the laptop writes"
relay_bin="$PWD/build/tools/relay/jsync-relay"
"$relay_bin" --listen 127.0.0.1:0 >"$work/relay.url" 2>"$work/relay.log" &
relay_pid=$!
for _ in $(seq 100); do [ -s "$work/relay.url" ] && break; sleep 0.05; done
relay_url="$(head -n 1 "$work/relay.url")"
echo "relay: $relay_url (it forwards sealed frames; it has no key)"
watch_pids=()
for dev in laptop phone; do
  on "$dev" relay set "$relay_url" >/dev/null
  "$jsync" --home "$work/$dev" watch 2>"$work/watch-$dev.log" &
  watch_pids+=($!)
done
for _ in $(seq 200); do
  grep -q "relay: connected" "$work/watch-laptop.log" 2>/dev/null &&
    grep -q "relay: connected" "$work/watch-phone.log" 2>/dev/null && break
  sleep 0.05
done
start_ms=$(date +%s%3N)
on laptop new --title "Written while the phone watches" >/dev/null
arrived=""
for _ in $(seq 500); do
  if on phone list | grep -q "Written while the phone watches"; then arrived=$(date +%s%3N); break; fi
done
if [ -n "$arrived" ]; then
  echo "the phone shows it $((arrived - start_ms)) ms after the laptop saved it (300 ms of that is the laptop's typing pause)"
else
  echo "the phone did not show it within the deadline"; status=1
fi
kill -TERM "${watch_pids[@]}" 2>/dev/null; wait "${watch_pids[@]}" 2>/dev/null || true
kill -TERM "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null || true
echo "what the phone's watcher logged:"; sed 's/^/  /' "$work/watch-phone.log"
if grep -qaF "Written while" "$work/relay.log"; then echo "LEAK: the relay logged a title"; status=1; fi

say "What the cloud holds: opaque ciphertext only"
(cd "$cloud" && find . -type f -printf '%10s  %p\n' | sort -k2)
first_change="$(find "$cloud" -type f -size +100c | sort | head -n 1)"
[ "$mode" = "folder" ] && first_change="$(find "$cloud" -name '*.jchg' | sort | head -n 1)"
echo; echo "first bytes of $(basename "$first_change"):"
od -A x -t x1z -N 128 "$first_change"
leaks=0
for secret in "Sunday walk" "Fog on the river" "heron" "plumber" "outdoors" "travel" "$JSYNC_PASSPHRASE"; do
  if grep -rqaF -- "$secret" "$cloud"; then echo "LEAK: '$secret' found in plaintext"; leaks=1; fi
done
[ "$leaks" -eq 0 ] && echo "no title, body, tag or passphrase appears in plaintext in the cloud folder"

echo; echo "demo folder: $work (remove it with: rm -rf $work)"
exit $(( status | leaks ))
