#!/usr/bin/env bash
# Installs the Debian 12 packages journal-sync needs to build and test, if any are missing,
# plus any package names given as arguments. Idempotent and quiet when everything is present.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git ccache
  # The sanitizer + fuzz build (scripts/test.sh): clang 14, its sanitizer and libFuzzer
  # runtimes (only "recommended" by clang, so named here), llvm-symbolizer for stack traces.
  clang libclang-rt-14-dev llvm-14
  libssl-dev libsqlite3-dev libzstd-dev libcurl4-openssl-dev
  libboost-dev libboost-filesystem-dev
  nlohmann-json3-dev libcli11-dev libexpat1-dev
  libsecret-1-dev
  # The relay's scale-out (tools/relay): the hiredis client, and the Redis the tests start.
  libhiredis-dev redis-server
  libgtest-dev libgmock-dev libbenchmark-dev
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
