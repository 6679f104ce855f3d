#!/usr/bin/env bash
# Installs panva's oidc-provider (npm, version pinned by package-lock.json) into
# $OAUTHDIAG_PEERS_PREFIX/oidc-provider (default ~/.cache/oauthdiag/peers/oidc-provider).
# Idempotent: does nothing when the installed tree matches the lock file.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

fail() { echo "oidc-provider install: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node (>= 20) is required: apt-get install nodejs npm"
command -v npm >/dev/null || fail "npm is required: apt-get install npm"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || fail "node >= 20 is required, found $(node --version)"

mkdir -p "$PREFIX" || fail "cannot create $PREFIX (set OAUTHDIAG_PEERS_PREFIX to a writable folder)"
stamp=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)
if [ -d "$PREFIX/node_modules/oidc-provider" ] && [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" = "$stamp" ]; then
  cp "$HERE/server.mjs" "$PREFIX/server.mjs"
  echo "oidc-provider already installed in $PREFIX"
  exit 0
fi
cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/server.mjs" "$PREFIX/"
# npm ci installs exactly the locked tree (and removes a stale node_modules first).
(cd "$PREFIX" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in $PREFIX"
version=$(cd "$PREFIX" && node -p 'require("./node_modules/oidc-provider/package.json").version')
echo "$stamp" > "$PREFIX/.stamp"
echo "oidc-provider $version installed in $PREFIX"
