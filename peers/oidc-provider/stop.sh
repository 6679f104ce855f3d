#!/usr/bin/env bash
# Stops the oidc-provider peer started by start.sh: signals only the pid recorded in server.pid.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

pidfile="$PREFIX/server.pid"
[ -f "$pidfile" ] || { echo "oidc-provider: not running (no $pidfile)"; exit 0; }
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  echo "oidc-provider: stopped pid $pid"
else
  echo "oidc-provider: pid $pid was not running"
fi
rm -f "$pidfile"
