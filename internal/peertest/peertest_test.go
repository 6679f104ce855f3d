package peertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func discoveredIssuer(t *testing.T, p *Peer) string {
	t.Helper()
	resp, err := http.Get(p.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Issuer
}

// authorizeStatus asks the peer's authorization endpoint to start a login for the confidential client
// with redirectURI, without following the answer: 302 to the login page when the URI is registered.
func authorizeStatus(t *testing.T, p *Peer, redirectURI string) int {
	t.Helper()
	u := p.Issuer + "auth?" + url.Values{"response_type": {"code"}, "client_id": {p.ClientID},
		"redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {"s"}}.Encode()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestZitadelServersAreIndependent: each server has its own port, issuer and client registry, so
// parallel tests cannot see each other's clients.
func TestZitadelServersAreIndependent(t *testing.T) {
	const extra = "http://127.0.0.1:8765/extra"
	a, err := StartZitadel("127.0.0.1:0", extra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	b := Zitadel(t)

	if a.Peer.Issuer == b.Issuer || discoveredIssuer(t, a.Peer) != a.Peer.Issuer || discoveredIssuer(t, b) != b.Issuer {
		t.Fatalf("issuers: %q and %q, want two different ones, each stated by its own discovery document", a.Peer.Issuer, b.Issuer)
	}
	if got := authorizeStatus(t, a.Peer, extra); got != http.StatusFound {
		t.Errorf("server with the extra redirect URI: HTTP %d, want 302 to its login page", got)
	}
	if got := authorizeStatus(t, b, extra); got != http.StatusBadRequest {
		t.Errorf("server without it: HTTP %d, want 400", got)
	}
}

func TestStartZitadelLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.test:0"} {
		if srv, err := StartZitadel(addr); err == nil {
			_ = srv.Close(context.Background())
			t.Errorf("StartZitadel(%q) listened; want a loopback-only error", addr)
		}
	}
}

func TestZitadelCloseStopsServing(t *testing.T) {
	srv, err := StartZitadel("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-srv.Done()
	if resp, err := http.Get(srv.Peer.DiscoveryURL()); err == nil {
		resp.Body.Close()
		t.Fatal("discovery still answers after Close")
	}
}

// TestProbeIssuer: a discovery document is accepted only from the issuer it names.
func TestProbeIssuer(t *testing.T) {
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer})
	}))
	t.Cleanup(srv.Close)

	issuer = srv.URL
	if got, err := probeIssuer(t.Context(), srv.URL+"/"); err != nil || got != srv.URL {
		t.Errorf("matching issuer: got %q, %v", got, err)
	}
	issuer = "http://127.0.0.1:1"
	if _, err := probeIssuer(t.Context(), srv.URL); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Errorf("foreign issuer: err = %v, want a mismatch error", err)
	}
	if _, err := probeIssuer(t.Context(), "http://127.0.0.1:1"); err == nil {
		t.Error("nothing listening: want an error")
	}
}
