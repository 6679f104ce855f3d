# Settings shared by install.sh, start.sh and stop.sh (sourced, not run).
# Everything installed or written at run time lives under $PREFIX, never in the repository.
PEER_PREFIX_ROOT=${OAUTHDIAG_PEERS_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/oauthdiag/peers}
PREFIX=$PEER_PREFIX_ROOT/oidc-provider
PORT=${OAUTHDIAG_OIDC_PROVIDER_PORT:-9101}
ISSUER="http://127.0.0.1:$PORT"
# Upper bound on the server's lifetime, so a forgotten server cannot outlive a work session.
TTL=${OAUTHDIAG_PEER_TTL:-7200}
