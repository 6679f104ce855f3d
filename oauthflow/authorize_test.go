package oauthflow_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func authConfig(scopes []string, pkce bool) oauthflow.Config {
	return oauthflow.Config{
		Provider: oauthflow.Provider{Name: "example", Endpoints: oauthflow.Endpoints{
			Authorization: "https://as.example.test/oauth/v2/authorization",
			Token:         "https://as.example.test/oauth/v2/accessToken",
		}},
		Client: oauthflow.Client{ID: "client id+1", Secret: "s", RedirectURI: "http://127.0.0.1:8765/callback", Scopes: scopes, PKCE: pkce},
	}
}

// pkceAlphabet is RFC 7636 §4.1's unreserved characters, 43 to 128 of them.
var pkceAlphabet = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func TestAuthorizationRequestCarriesEveryParameter(t *testing.T) {
	t.Parallel()
	r := oauthflow.NewRunner(authConfig([]string{"openid", "profile", "email"}, true), oauthflow.WithRandom(testkit.Random("every parameter")))
	ar, err := r.AuthorizationRequest(url.Values{"prompt": {"consent"}, "login_hint": {"a b@example.test"}})
	if err != nil {
		t.Fatalf("AuthorizationRequest: %v", err)
	}
	u, err := url.Parse(ar.URL)
	if err != nil {
		t.Fatalf("the authorization URL %q does not parse: %v", ar.URL, err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://as.example.test/oauth/v2/authorization" {
		t.Errorf("URL goes to %s, want the authorization endpoint", got)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             "client id+1",
		"redirect_uri":          "http://127.0.0.1:8765/callback",
		"scope":                 "openid profile email",
		"state":                 ar.State,
		"nonce":                 ar.Nonce,
		"code_challenge":        ar.Challenge,
		"code_challenge_method": "S256",
		"prompt":                "consent",
		"login_hint":            "a b@example.test",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("parameter %s = %q, want %q", k, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("URL has parameters %v, want exactly %d", q, len(want))
	}
	if q.Has("code_verifier") {
		t.Error("the code_verifier must never travel in the authorization URL")
	}
	if !strings.Contains(u.RawQuery, "scope=openid%20profile%20email") {
		t.Errorf("scope spaces must be encoded as %%20, got query %s", u.RawQuery)
	}
	if strings.Contains(u.RawQuery, "+") && !strings.Contains(u.RawQuery, "%2B") {
		t.Errorf("a '+' in the query would read as a space: %s", u.RawQuery)
	}
	if !strings.Contains(u.RawQuery, "client_id=client%20id%2B1") {
		t.Errorf("client_id must keep its literal '+' (as %%2B) and encode its space as %%20: %s", u.RawQuery)
	}
	if ar.RedirectURI != "http://127.0.0.1:8765/callback" || strings.Join(ar.Scopes, " ") != "openid profile email" {
		t.Errorf("AuthRequest records redirect %q scopes %v", ar.RedirectURI, ar.Scopes)
	}
}

func TestAuthorizationRequestSecretsAreFreshAndReproducible(t *testing.T) {
	t.Parallel()
	build := func(seed string) *oauthflow.AuthRequest {
		r := oauthflow.NewRunner(authConfig([]string{"openid"}, true), oauthflow.WithRandom(testkit.Random(seed)))
		ar, err := r.AuthorizationRequest(nil)
		if err != nil {
			t.Fatalf("AuthorizationRequest: %v", err)
		}
		return ar
	}
	a, again, other := build("one"), build("one"), build("two")
	if a.URL != again.URL || a.State != again.State || a.Verifier != again.Verifier || a.Nonce != again.Nonce {
		t.Errorf("the same randomness must give the same request:\n%+v\n%+v", a, again)
	}
	if a.State == other.State || a.Verifier == other.Verifier || a.Nonce == other.Nonce {
		t.Errorf("other randomness must give other values:\n%+v\n%+v", a, other)
	}
	if a.State == a.Nonce || a.State == a.Verifier || a.Nonce == a.Verifier {
		t.Errorf("state, nonce and verifier must be independent values: %+v", a)
	}
	if !pkceAlphabet.MatchString(a.Verifier) {
		t.Errorf("verifier %q is not 43..128 characters of RFC 7636's alphabet", a.Verifier)
	}
	if len(a.State) < 22 || len(a.Nonce) < 22 {
		t.Errorf("state %q and nonce %q must carry at least 128 bits", a.State, a.Nonce)
	}
	if a.Challenge != oauthflow.S256Challenge(a.Verifier) {
		t.Errorf("challenge %q is not S256(verifier)", a.Challenge)
	}

	// Two requests from one runner never share a state.
	r := oauthflow.NewRunner(authConfig([]string{"openid"}, true), oauthflow.WithRandom(testkit.Random("one runner")))
	first, _ := r.AuthorizationRequest(nil)
	second, _ := r.AuthorizationRequest(nil)
	if first.State == second.State || first.Verifier == second.Verifier {
		t.Error("consecutive requests reused a state or verifier")
	}
}

func TestS256ChallengeMatchesRFC7636AppendixB(t *testing.T) {
	t.Parallel()
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := oauthflow.S256Challenge(verifier); got != challenge {
		t.Errorf("S256Challenge(%q) = %q, want %q", verifier, got, challenge)
	}
}

func TestAuthorizationRequestOptionalParameters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		scopes        []string
		pkce          bool
		wantPKCE      bool
		wantNonce     bool
		wantScopeText string
	}{
		{name: "PKCE off sends no challenge and keeps no verifier", scopes: []string{"openid"}, pkce: false, wantNonce: true, wantScopeText: "openid"},
		{name: "nonce only with openid", scopes: []string{"r_liteprofile", "w_member_social"}, pkce: true, wantPKCE: true, wantScopeText: "r_liteprofile w_member_social"},
		{name: "no scopes falls back to the provider defaults", scopes: nil, pkce: true, wantPKCE: true, wantScopeText: "openid email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := authConfig(tc.scopes, tc.pkce)
			cfg.Provider.DefaultScopes = []string{"openid", "email"}
			if tc.scopes == nil {
				tc.wantNonce = true
			}
			r := oauthflow.NewRunner(cfg, oauthflow.WithRandom(testkit.Random("optional parameters")))
			ar, err := r.AuthorizationRequest(nil)
			if err != nil {
				t.Fatalf("AuthorizationRequest: %v", err)
			}
			u, _ := url.Parse(ar.URL)
			q := u.Query()
			if got := q.Has("code_challenge") || q.Has("code_challenge_method"); got != tc.wantPKCE {
				t.Errorf("PKCE parameters present = %v, want %v (%s)", got, tc.wantPKCE, ar.URL)
			}
			if (ar.Verifier != "") != tc.wantPKCE || (ar.Challenge != "") != tc.wantPKCE {
				t.Errorf("verifier %q challenge %q, want them set = %v", ar.Verifier, ar.Challenge, tc.wantPKCE)
			}
			if got := q.Has("nonce"); got != tc.wantNonce || (ar.Nonce != "") != tc.wantNonce {
				t.Errorf("nonce present = %v (AuthRequest.Nonce %q), want %v", got, ar.Nonce, tc.wantNonce)
			}
			if got := q.Get("scope"); got != tc.wantScopeText {
				t.Errorf("scope = %q, want %q", got, tc.wantScopeText)
			}
		})
	}
}

func TestAuthorizationRequestKeepsPlusInEndpointPath(t *testing.T) {
	t.Parallel()
	cfg := authConfig([]string{"openid", "profile"}, true)
	cfg.Provider.Endpoints.Authorization = "https://as.example.test/tenant+a/authorize?tenant=x+y"
	ar, err := oauthflow.NewRunner(cfg, oauthflow.WithRandom(testkit.Random("plus in path"))).AuthorizationRequest(nil)
	if err != nil {
		t.Fatalf("AuthorizationRequest: %v", err)
	}
	u, _ := url.Parse(ar.URL)
	if u.Path != "/tenant+a/authorize" {
		t.Errorf("the endpoint's path became %q; a '+' in a path is a literal plus", u.Path)
	}
	if got := u.Query().Get("tenant"); got != "x y" {
		t.Errorf("the endpoint's own query parameter became %q", got)
	}
	if got := u.Query().Get("scope"); got != "openid profile" {
		t.Errorf("scope = %q", got)
	}
}

func TestAuthorizationRequestRefusesABadEndpoint(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"", "as.example.test/authorize", "ftp://as.example.test/authorize"} {
		cfg := authConfig([]string{"openid"}, true)
		cfg.Provider.Endpoints.Authorization = ep
		_, err := oauthflow.NewRunner(cfg).AuthorizationRequest(nil)
		e, ok := oauthflow.AsError(err)
		if !ok || e.Kind != oauthflow.KindConfig || e.Code != oauthflow.CodeBadURL || e.Step != oauthflow.StepAuthorize {
			t.Errorf("endpoint %q: got %v, want a config error at authorize", ep, err)
			continue
		}
		if e.Hint == "" {
			t.Errorf("endpoint %q: the error says nothing about what to do: %v", ep, err)
		}
	}
}
