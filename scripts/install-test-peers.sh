#!/usr/bin/env bash
# Installs the servers the integration tests talk to on 127.0.0.1, if any are missing:
# rclone (its `serve webdav`) from Debian, libexpat1-dev for the WebDAV plugin's build, and the
# npm package webdav-server (pinned in tests/peers/package-lock.json) under tests/peers/.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(rclone libexpat1-dev)
# Node and npm run the npm test peers; a machine that has them from elsewhere keeps its own.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-peers: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-test-peers: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "install-test-peers: node and npm are needed for tests/peers (apt-get install nodejs npm)" >&2
  exit 1
}
if [ ! -f tests/peers/node_modules/webdav-server/package.json ]; then
  echo "install-test-peers: installing tests/peers (npm ci)" >&2
  (cd tests/peers && npm ci --silent --no-audit --no-fund)
fi
