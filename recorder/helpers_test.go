package recorder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// Canary values: they must never reach a byte of output.
const (
	canaryClientID     = "canary-client"
	canaryClientSecret = "CANARY-client-secret-5f0c1e"
	canaryVerifier     = "CANARY-pkce-verifier-0123456789abcdefghijklmnopqrstuv"
	canaryState        = "CANARY-state-9a8b7c6d"
	canaryRedirect     = "http://127.0.0.1:8765/callback"
)

// clockStart is where the tests' stepping clocks start.
var clockStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func openStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	st, err := Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func startSession(t testing.TB, st *Store) *Session {
	t.Helper()
	s, err := st.NewSession(SessionMeta{
		Provider: "linkedin", ClientID: canaryClientID, RedirectURI: canaryRedirect,
		Scopes: []string{"openid", "profile", "email"}, ToolVersion: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Redactor().AddSecret(KindClientSecret, canaryClientSecret)
	return s
}

// canarySandbox runs the LinkedIn-like sandbox on loopback with the canary client.
func canarySandbox(t testing.TB, sc sandbox.Scenario) *sandbox.Server {
	t.Helper()
	return testkit.StartSandbox(t, sandbox.WithScenario(sc), sandbox.WithAutoConsent(true),
		sandbox.WithClient(canaryClientID, canaryClientSecret, canaryRedirect))
}

// flowSecrets are every secret value a flow handled, as the flow saw them.
type flowSecrets struct {
	code, access, refresh, id string
}

func (f flowSecrets) all() map[string]string {
	m := map[string]string{
		"client_secret": canaryClientSecret, "code_verifier": canaryVerifier, "state": canaryState,
		"code": f.code, "access_token": f.access, "id_token": f.id,
	}
	if f.refresh != "" {
		m["refresh_token"] = f.refresh
	}
	return m
}

// runFlow drives a whole authorization-code flow with PKCE against the sandbox through
// a recording client, the way the flow package would: discovery, the authorization
// redirect (observed), the token exchange, userinfo, introspection, a refresh and a
// revocation. The step label travels on the request context.
// With stopAfter set, the flow ends after that step.
func runFlow(t testing.TB, s *Session, base string, stopAfter ...string) flowSecrets {
	t.Helper()
	client := &http.Client{
		Transport:     s.Transport(nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var got flowSecrets
	do := func(step, method, u string, form url.Values, bearer string) (int, []byte) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		ctx := httplog.WithStep(context.Background(), step)
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusFound {
			return resp.StatusCode, []byte(resp.Header.Get("Location"))
		}
		return resp.StatusCode, b
	}

	do("discovery", "GET", base+"/oauth/.well-known/openid-configuration", nil, "")

	sum := sha256.Sum256([]byte(canaryVerifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {canaryClientID}, "redirect_uri": {canaryRedirect},
		"state": {canaryState}, "scope": {"openid profile email"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	authURL := base + "/oauth/v2/authorization?" + q.Encode()
	s.Observe("authorize", httplog.LegAuthorizationURL, authURL, "sent the user here")
	status, loc := do("authorize", "GET", authURL, nil, "")
	if status != http.StatusFound {
		t.Fatalf("authorization answered %d, want a redirect: %s", status, loc)
	}
	s.Observe("callback", httplog.LegBrowserRedirect, string(loc), "")
	cb, err := url.Parse(string(loc))
	if err != nil {
		t.Fatal(err)
	}
	got.code = cb.Query().Get("code")

	status, tok := do("exchange", "POST", base+"/oauth/v2/accessToken", url.Values{
		"grant_type": {"authorization_code"}, "code": {got.code}, "redirect_uri": {canaryRedirect},
		"client_id": {canaryClientID}, "client_secret": {canaryClientSecret}, "code_verifier": {canaryVerifier},
	}, "")
	if status != http.StatusOK {
		t.Fatalf("token exchange answered %d: %s", status, tok)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if err := json.Unmarshal(tok, &tr); err != nil {
		t.Fatal(err)
	}
	got.access, got.refresh, got.id = tr.AccessToken, tr.RefreshToken, tr.IDToken

	do("userinfo", "GET", base+"/v2/userinfo", nil, got.access)
	if len(stopAfter) > 0 && stopAfter[0] == "userinfo" {
		s.Flush()
		return got
	}
	do("introspect", "POST", base+"/oauth/v2/introspectToken", url.Values{
		"client_id": {canaryClientID}, "client_secret": {canaryClientSecret}, "token": {got.access},
	}, "")
	if got.refresh != "" {
		do("refresh", "POST", base+"/oauth/v2/accessToken", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {got.refresh},
			"client_id": {canaryClientID}, "client_secret": {canaryClientSecret},
		}, "")
	}
	do("revoke", "POST", base+"/oauth/v2/revoke", url.Values{
		"client_id": {canaryClientID}, "client_secret": {canaryClientSecret}, "token": {got.access},
	}, "")
	s.Flush() // every call on disk, for readers of the log
	return got
}

// assertNoCanary fails if any secret value appears in data.
func assertNoCanary(t testing.TB, where string, data []byte, secrets map[string]string) {
	t.Helper()
	for kind, v := range secrets {
		if v == "" {
			continue
		}
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("%s contains the raw %s", where, kind)
		}
		if esc := url.QueryEscape(v); esc != v && bytes.Contains(data, []byte(esc)) {
			t.Errorf("%s contains the URL-escaped %s", where, kind)
		}
	}
}
