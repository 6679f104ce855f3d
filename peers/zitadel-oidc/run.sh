#!/usr/bin/env bash
# Runs the zitadel/oidc peer (the same server tests start in-process with peertest.Zitadel) in the
# foreground on 127.0.0.1:9102, for trying oauthdiag against it by hand. Ctrl-C stops it; it stops by
# itself after -ttl (default 2h). Extra flags go to the server: -addr, -redirect-uri, -ttl.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v go >/dev/null || { echo "zitadel-oidc: go is required" >&2; exit 1; }
cd "$ROOT"
exec go run ./internal/peertest/cmd/zitadel-op "$@"
