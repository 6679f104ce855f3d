#!/usr/bin/env bash
# Starts the oidc-provider peer on 127.0.0.1:$OAUTHDIAG_OIDC_PROVIDER_PORT (default 9101), installing
# it first when needed. Waits until discovery answers, then prints the issuer on stdout.
# The server runs under `timeout $OAUTHDIAG_PEER_TTL` (default 7200 s); stop it with stop.sh.
# Files: $PREFIX/server.pid, $PREFIX/server.log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

fail() { echo "oidc-provider start: $*" >&2; exit 1; }
"$HERE/install.sh" >&2 || fail "install failed"
discovery="$ISSUER/.well-known/openid-configuration"

if [ -f "$PREFIX/server.pid" ] && kill -0 "$(cat "$PREFIX/server.pid")" 2>/dev/null; then
  curl -sf -o /dev/null --max-time 2 "$discovery" || fail "pid $(cat "$PREFIX/server.pid") is running but $discovery does not answer; run stop.sh"
  echo "already running (pid $(cat "$PREFIX/server.pid"))" >&2
  echo "$ISSUER"
  exit 0
fi
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
  fail "port $PORT is already in use by another program (set OAUTHDIAG_OIDC_PROVIDER_PORT)"
fi

cd "$PREFIX"
PORT=$PORT nohup timeout "$TTL" node server.mjs > server.log 2>&1 < /dev/null &
echo $! > server.pid
for _ in $(seq 1 100); do
  curl -sf -o /dev/null --max-time 2 "$discovery" && { echo "$ISSUER"; exit 0; }
  if ! kill -0 "$(cat server.pid)" 2>/dev/null; then
    cat server.log >&2
    rm -f server.pid
    fail "the server exited during start-up (log above)"
  fi
  sleep 0.2
done
cat server.log >&2
fail "$discovery did not answer within 20 s"
