// Package peertest gives tests real third-party OpenID Providers to talk to: zitadel/oidc run in-process,
// and panva's oidc-provider run by the scripts in peers/. Both listen on 127.0.0.1 only.
//
// The peers are independent implementations with their own quirks (see peers/README.md), so code that
// works against them and against the sandbox is not just consistent with itself.
package peertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// DefaultRedirectURI is registered for every client of every peer. The public clients are native
// clients, which also accept it on any other loopback port (RFC 8252 section 7.3).
const DefaultRedirectURI = "http://127.0.0.1:8765/callback"

// Peer describes a running authorization server and what is registered on it.
type Peer struct {
	Name   string
	Issuer string // exactly as the discovery document states it

	ClientID, ClientSecret         string // confidential, client_secret_basic
	PostClientID, PostClientSecret string // client_secret_post ("" when the peer has none)
	PublicClientID                 string // token endpoint auth method none, PKCE required
	CCClientID, CCClientSecret     string // may use the client_credentials grant
	CCScope                        string // scope to ask for with client_credentials ("" = none)

	RedirectURI        string // registered for every client
	Username, Password string // a user the login page accepts
}

// DiscoveryURL is the peer's OpenID Provider configuration document.
func (p *Peer) DiscoveryURL() string {
	return strings.TrimSuffix(p.Issuer, "/") + "/.well-known/openid-configuration"
}

// Environment variables read by OIDCProvider.
const (
	EnvOIDCProviderURL = "OAUTHDIAG_OIDC_PROVIDER_URL" // issuer of a running oidc-provider peer
	EnvRequirePeers    = "OAUTHDIAG_REQUIRE_PEERS"     // "1": a missing peer fails the test instead of skipping it
)

const defaultOIDCProviderIssuer = "http://127.0.0.1:9101"

// OIDCProvider returns panva's oidc-provider started by peers/oidc-provider/start.sh, found at
// $OAUTHDIAG_OIDC_PROVIDER_URL or else at http://127.0.0.1:9101. When it does not answer, the test is
// skipped with a message saying how to start it, or fails when OAUTHDIAG_REQUIRE_PEERS=1 (as in CI, so
// that nothing is skipped silently).
func OIDCProvider(t testing.TB) *Peer {
	t.Helper()
	issuer := os.Getenv(EnvOIDCProviderURL)
	if issuer == "" {
		issuer = defaultOIDCProviderIssuer
	}
	discovered, err := probeIssuer(t.Context(), issuer)
	if err != nil {
		msg := fmt.Sprintf("oidc-provider peer is not available: %v; start it with `peers/oidc-provider/start.sh` "+
			"(or point %s at a running one)", err, EnvOIDCProviderURL)
		if os.Getenv(EnvRequirePeers) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return &Peer{
		Name:             "oidc-provider",
		Issuer:           discovered,
		ClientID:         "diag-client",
		ClientSecret:     "diag-secret",
		PostClientID:     "diag-client-post",
		PostClientSecret: "diag-secret-post",
		PublicClientID:   "diag-public",
		CCClientID:       "diag-client",
		CCClientSecret:   "diag-secret",
		CCScope:          "api:read",
		RedirectURI:      DefaultRedirectURI,
		// devInteractions accepts any login name and ignores the password; alice has profile claims.
		Username: "alice",
		Password: "any",
	}
}

// probeIssuer fetches the discovery document of issuer and returns the issuer it states, which must be
// issuer itself (up to a trailing slash).
func probeIssuer(ctx context.Context, issuer string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	docURL := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return "", fmt.Errorf("bad issuer URL %q: %w", issuer, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("no answer from %s: %w", docURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", docURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered HTTP %d", docURL, resp.StatusCode)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%s is not a discovery document: %w", docURL, err)
	}
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return "", fmt.Errorf("%s belongs to issuer %q, not %q (another server on that port?)", docURL, doc.Issuer, issuer)
	}
	return doc.Issuer, nil
}
