#!/usr/bin/env bash
# Installs the servers the integration tests talk to on 127.0.0.1, if any are missing:
# rclone (its `serve webdav`) from Debian, libexpat1-dev for the WebDAV plugin's build, and the
# npm packages webdav-server, oauth2-mock-server, oidc-provider and ws (pinned in tests/peers/package-lock.json) under tests/peers/.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(rclone libexpat1-dev)
# Node and npm run the npm test peers; a machine that has them from elsewhere keeps its own.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
scripts/install-deps.sh "${packages[@]}"

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "install-test-peers: node and npm are needed for tests/peers (apt-get install nodejs npm)" >&2
  exit 1
}
# Every package the lock names must be present (a clone that ran an older lock lacks new ones).
need_ci=0
for pkg in webdav-server oauth2-mock-server oidc-provider ws; do
  [ -f "tests/peers/node_modules/$pkg/package.json" ] || need_ci=1
done
if [ "$need_ci" -eq 1 ]; then
  echo "install-test-peers: installing tests/peers (npm ci)" >&2
  (cd tests/peers && npm ci --silent --no-audit --no-fund)
fi
