package oauthflow_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// peerFlowCase is one client of one real authorization server and what the whole flow must show.
type peerFlowCase struct {
	name   string
	peer   func(testing.TB) *peertest.Peer
	client func(p *peertest.Peer) (id, secret string)
	method oauthflow.AuthMethod
	// introspects: the server lets this client introspect. zitadel refuses a public client (RFC 7662
	// lets it require client authentication); oidc-provider answers it.
	introspects    bool
	rotatesRefresh bool
	sendsIss       bool   // RFC 9207 iss on the redirect
	sub            string // userinfo sub of the peer's user
	extra          url.Values
}

func peerFlowCases() []peerFlowCase {
	basic := func(p *peertest.Peer) (string, string) { return p.ClientID, p.ClientSecret }
	post := func(p *peertest.Peer) (string, string) { return p.PostClientID, p.PostClientSecret }
	public := func(p *peertest.Peer) (string, string) { return p.PublicClientID, "" }
	// oidc-provider keeps offline_access (and so issues the refresh token to confidential clients
	// by its default policy) only with prompt=consent.
	consent := url.Values{"prompt": {"consent"}}
	return []peerFlowCase{
		{name: "zitadel basic", peer: peertest.Zitadel, client: basic, method: oauthflow.AuthBasic, introspects: true, rotatesRefresh: true, sub: "id1"},
		{name: "zitadel public PKCE", peer: peertest.Zitadel, client: public, method: oauthflow.AuthNone, introspects: false, rotatesRefresh: true, sub: "id1"},
		{name: "oidc-provider basic", peer: peertest.OIDCProvider, client: basic, method: oauthflow.AuthBasic, introspects: true, sendsIss: true, sub: "alice", extra: consent},
		{name: "oidc-provider post", peer: peertest.OIDCProvider, client: post, method: oauthflow.AuthPost, introspects: true, sendsIss: true, sub: "alice", extra: consent},
		{name: "oidc-provider public PKCE", peer: peertest.OIDCProvider, client: public, method: oauthflow.AuthNone, introspects: true, rotatesRefresh: true, sendsIss: true, sub: "alice", extra: consent},
	}
}

func TestPeerFlows(t *testing.T) {
	t.Parallel()
	for _, tc := range peerFlowCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.peer(t)
			id, secret := tc.client(p)
			cfg := oauthflow.Config{
				Provider: oauthflow.Provider{Issuer: p.Issuer},
				Client: oauthflow.Client{ID: id, Secret: secret, AuthMethod: tc.method, RedirectURI: p.RedirectURI,
					Scopes: []string{"openid", "profile", "email", "offline_access"}, PKCE: true},
			}
			r := oauthflow.NewRunner(cfg)
			fr := r.RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: p.Issuer,
				Browser: &browser.Headless{Username: p.Username, Password: p.Password}, ExtraAuthParams: tc.extra})
			if !fr.OK {
				t.Fatalf("the flow failed: %s", stepStatuses(fr))
			}
			byName := map[string]oauthflow.StepReport{}
			for _, s := range fr.Steps {
				byName[s.Name] = s
				want := oauthflow.StatusOK
				switch {
				case s.Name == oauthflow.StepAPICall:
					want = oauthflow.StatusSkipped
				case !tc.introspects && (s.Name == oauthflow.StepIntrospect || s.Name == oauthflow.StepIntrospectAfter):
					want = oauthflow.StatusSkipped
				}
				if s.Status != want {
					t.Errorf("step %s is %s, want %s (%v)", s.Name, s.Status, want, s.Notes)
				}
			}

			// Discovery found the peer and every endpoint the flow needs.
			ep := fr.Provider.Endpoints
			if fr.ClaimedIssuer != p.Issuer || ep.Introspection == "" || ep.Revocation == "" || ep.Userinfo == "" {
				t.Errorf("discovery gave issuer %q endpoints %+v", fr.ClaimedIssuer, ep)
			}

			// The authorization request carried PKCE S256 and the extra parameters.
			q := mustQuery(t, fr.AuthRequest.URL)
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauthflow.S256Challenge(fr.AuthRequest.Verifier) {
				t.Errorf("authorization URL without PKCE S256: %s", fr.AuthRequest.URL)
			}
			for k := range tc.extra {
				if q.Get(k) != tc.extra.Get(k) {
					t.Errorf("extra parameter %s = %q", k, q.Get(k))
				}
			}
			if got := fr.Callback.Iss != ""; got != tc.sendsIss {
				t.Errorf("iss on the redirect = %q, want one = %v", fr.Callback.Iss, tc.sendsIss)
			}

			// The exchange authenticated the client the configured way and sent the verifier.
			ex := byName[oauthflow.StepExchange].Exchanges
			if len(ex) != 1 {
				t.Fatalf("exchange recorded %d requests", len(ex))
			}
			checkClientAuth(t, ex[0].Request, tc.method, id, secret)
			if form := mustForm(t, ex[0].Request.Body); form.Get("code_verifier") != fr.AuthRequest.Verifier || form.Get("code") != fr.Callback.Code {
				t.Errorf("exchange form %v lacks the code or verifier", form)
			}

			tok := fr.Token
			if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" || tok.ExpiresIn <= 0 || tok.Expiry.IsZero() {
				t.Errorf("token response lacks fields: %+v", tok)
			}
			if fr.Userinfo == nil || fr.Userinfo.Status != http.StatusOK {
				t.Fatalf("userinfo %+v", fr.Userinfo)
			}
			if claims, _ := fr.Userinfo.JSON.(map[string]any); claims["sub"] != tc.sub {
				t.Errorf("userinfo sub = %v, want %q", claims["sub"], tc.sub)
			}
			if tc.introspects {
				if fr.Introspection == nil || !fr.Introspection.Active || fr.IntrospectionAfterRevoke == nil || fr.IntrospectionAfterRevoke.Active {
					t.Errorf("introspection before %+v / after revocation %+v: want active, then inactive", fr.Introspection, fr.IntrospectionAfterRevoke)
				}
			} else {
				// The refusal is shown, with the call the server refused.
				for _, name := range []string{oauthflow.StepIntrospect, oauthflow.StepIntrospectAfter} {
					s := byName[name]
					if len(s.Exchanges) != 1 || s.HTTPStatus() != http.StatusUnauthorized || len(s.Notes) == 0 || !strings.Contains(s.Notes[0], "public client") {
						t.Errorf("%s: status %d notes %v exchanges %d", name, s.HTTPStatus(), s.Notes, len(s.Exchanges))
					}
				}
			}

			if fr.Refreshed == nil || fr.Refreshed.AccessToken == "" || fr.Refreshed.AccessToken == tok.AccessToken {
				t.Fatalf("refresh gave %+v", fr.Refreshed)
			}
			rotated := fr.Refreshed.RefreshToken != "" && fr.Refreshed.RefreshToken != tok.RefreshToken
			if rotated != tc.rotatesRefresh {
				t.Errorf("refresh token rotated = %v, want %v (notes %v)", rotated, tc.rotatesRefresh, byName[oauthflow.StepRefresh].Notes)
			}
			revoke := byName[oauthflow.StepRevoke].Exchanges
			if len(revoke) != 2 {
				t.Fatalf("revocation made %d requests, want the access and the refresh token", len(revoke))
			}
			for _, ex := range revoke {
				checkClientAuth(t, ex.Request, tc.method, id, secret)
			}

			// Revocation really happened: the tokens no longer work.
			current := fr.CurrentToken()
			if _, err := r.Userinfo(t.Context(), current.AccessToken); err == nil {
				t.Error("userinfo still accepts the revoked access token")
			} else if e, ok := oauthflow.AsError(err); !ok || (e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden) {
				// zitadel answers 403, oidc-provider 401.
				t.Errorf("userinfo with the revoked access token = %v, want HTTP 401 or 403", err)
			}
			_, err := r.Refresh(t.Context(), current.RefreshToken)
			if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindOAuth || e.Code != "invalid_grant" {
				t.Errorf("refresh with the revoked refresh token = %v, want invalid_grant", err)
			}
		})
	}
}

// checkClientAuth asserts how a captured request authenticated the client.
func checkClientAuth(t *testing.T, req httplog.Request, method oauthflow.AuthMethod, id, secret string) {
	t.Helper()
	form := mustForm(t, req.Body)
	authz := req.Header.Get("Authorization")
	switch method {
	case oauthflow.AuthBasic:
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		if authz != want || form.Has("client_secret") {
			t.Errorf("%s: Authorization %q, secret in form %v; want Basic only", req.URL, authz, form.Has("client_secret"))
		}
	case oauthflow.AuthPost:
		if authz != "" || form.Get("client_id") != id || form.Get("client_secret") != secret {
			t.Errorf("%s: Authorization %q form %v; want the credentials in the form only", req.URL, authz, form)
		}
	case oauthflow.AuthNone:
		if authz != "" || form.Get("client_id") != id || form.Has("client_secret") {
			t.Errorf("%s: Authorization %q form %v; want client_id only", req.URL, authz, form)
		}
	}
}

func mustForm(t *testing.T, body []byte) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("request body %q is not a form: %v", body, err)
	}
	return v
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("URL %q: %v", raw, err)
	}
	return u.Query()
}

// TestPeerFlowErrors: real servers' refusals reach the right step with the right type.
func TestPeerFlowErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		peer  func(testing.TB) *peertest.Peer
		alter func(p *peertest.Peer, cfg *oauthflow.Config)
		step  string
		kind  oauthflow.ErrorKind
		code  string
	}{
		{name: "zitadel wrong secret", peer: peertest.Zitadel,
			alter: func(p *peertest.Peer, cfg *oauthflow.Config) { cfg.Client.Secret = "wrong" },
			step:  "exchange", kind: oauthflow.KindOAuth, code: "invalid_client"},
		{name: "oidc-provider wrong secret", peer: peertest.OIDCProvider,
			alter: func(p *peertest.Peer, cfg *oauthflow.Config) { cfg.Client.Secret = "wrong" },
			step:  "exchange", kind: oauthflow.KindOAuth, code: "invalid_client"},
		{name: "zitadel unregistered redirect URI", peer: peertest.Zitadel,
			alter: func(p *peertest.Peer, cfg *oauthflow.Config) {
				cfg.Client.RedirectURI = "http://127.0.0.1:8765/not-registered"
			},
			step: "authorize", kind: oauthflow.KindBrowser, code: oauthflow.CodeBrowserStopped},
		{name: "oidc-provider unregistered redirect URI", peer: peertest.OIDCProvider,
			alter: func(p *peertest.Peer, cfg *oauthflow.Config) {
				cfg.Client.RedirectURI = "http://127.0.0.1:8765/not-registered"
			},
			step: "authorize", kind: oauthflow.KindBrowser, code: oauthflow.CodeBrowserStopped},
		{name: "oidc-provider expecting another issuer", peer: peertest.OIDCProvider,
			alter: func(p *peertest.Peer, cfg *oauthflow.Config) { cfg.Provider.Issuer = "https://login.example.test" },
			step:  "callback", kind: oauthflow.KindValidation, code: oauthflow.CodeIssuerMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.peer(t)
			cfg := oauthflow.Config{
				Provider: oauthflow.Provider{Issuer: p.Issuer},
				Client: oauthflow.Client{ID: p.ClientID, Secret: p.ClientSecret, AuthMethod: oauthflow.AuthBasic,
					RedirectURI: p.RedirectURI, Scopes: []string{"openid", "profile"}, PKCE: true},
			}
			tc.alter(p, &cfg)
			fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: p.Issuer,
				Browser: &browser.Headless{Username: p.Username, Password: p.Password}})
			e := checkFailsAt(t, fr, tc.step)
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got kind %v code %q, want %v %q (%v)", e.Kind, e.Code, tc.kind, tc.code, e)
			}
			if tc.step == "authorize" && (e.Status < 400 || !strings.Contains(e.Description, "instead of redirecting back") || e.Hint == "") {
				t.Errorf("the stopped page's status and text must be shown: %v", e)
			}
		})
	}
}
