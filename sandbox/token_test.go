package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTokenResponseShape(t *testing.T) {
	tests := []struct {
		name       string
		compliance Compliance
		scope      string
		wantKeys   []string
		wantScope  string
	}{
		{"linkedin oidc", ComplianceLinkedIn, "openid profile email",
			[]string{"access_token", "expires_in", "id_token", "refresh_token", "refresh_token_expires_in", "scope", "token_type"},
			"email,openid,profile"},
		{"linkedin legacy, no openid", ComplianceLinkedIn, "r_liteprofile w_member_social",
			[]string{"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope", "token_type"},
			"r_liteprofile,w_member_social"},
		{"strict space-separated", ComplianceStrict, "profile openid",
			[]string{"access_token", "expires_in", "id_token", "refresh_token", "refresh_token_expires_in", "scope", "token_type"},
			"openid profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			r := c.tokens(tt.scope)
			if got := keys(r.body); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("fields %v, want %v", got, tt.wantKeys)
			}
			if r.str("scope") != tt.wantScope {
				t.Errorf("scope %q, want %q", r.str("scope"), tt.wantScope)
			}
			if r.str("token_type") != "Bearer" || r.num("expires_in") != 5184000 || r.num("refresh_token_expires_in") != 31536000 {
				t.Errorf("token_type/expires_in/refresh_token_expires_in: %s", r.raw)
			}
			for _, k := range []string{"access_token", "refresh_token"} {
				if v := r.str(k); !strings.HasPrefix(v, "AQ") || len(v) < 80 {
					t.Errorf("%s %q is not LinkedIn-like (AQ..., 80+ chars)", k, v)
				}
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", r.header)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	missing := func(p string) string { return `A required parameter "` + p + `" is missing` }
	type tc struct {
		name   string
		form   func(code string) url.Values
		basic  string
		status int
		code   string
		desc   string
	}
	without := func(key string) func(string) url.Values {
		return func(code string) url.Values { f := exchangeForm(code); f.Del(key); return f }
	}
	with := func(key, val string) func(string) url.Values {
		return func(code string) url.Values { f := exchangeForm(code); f.Set(key, val); return f }
	}
	linkedin := []tc{
		{"no grant_type", without("grant_type"), "", 400, "invalid_request", missing("grant_type")},
		{"unknown grant_type", with("grant_type", "password"), "", 400, "unsupported_grant_type", ""},
		{"no client_id", without("client_id"), "", 400, "invalid_request", missing("client_id")},
		{"no client_secret", without("client_secret"), "", 400, "invalid_request", missing("client_secret")},
		{"no code", without("code"), "", 400, "invalid_request", missing("code")},
		{"no redirect_uri", without("redirect_uri"), "", 400, "invalid_request", missing("redirect_uri")},
		{"unknown client", with("client_id", "nobody"), "", 401, "invalid_client", msgClientAuth},
		{"wrong secret", with("client_secret", "wrong"), "", 401, "invalid_client", msgClientAuth},
		{"unknown code", with("code", "AQnope"), "", 400, "invalid_request", msgCodeNotFound},
		{"other redirect_uri", with("redirect_uri", "http://127.0.0.1:8765/other"), "", 400, "invalid_redirect_uri", msgCodeMismatch},
		{"wrong verifier", with("code_verifier", strings.Repeat("x", 43)), "", 400, "invalid_redirect_uri", msgCodeMismatch},
		{"no verifier", without("code_verifier"), "", 400, "invalid_redirect_uri", msgCodeMismatch},
		{"basic and body disagree", with("client_id", "other"), DefaultClientID + ":" + DefaultClientSecret, 400, "invalid_request", ""},
		{"wrong secret via basic", without("client_secret"), DefaultClientID + ":wrong", 401, "invalid_client", msgClientAuth},
	}
	strict := []tc{
		{"no client_secret", without("client_secret"), "", 401, "invalid_client", ""},
		{"unknown code", with("code", "AQnope"), "", 400, "invalid_grant", "authorization code not found"},
		{"other redirect_uri", with("redirect_uri", "http://127.0.0.1:8765/other"), "", 400, "invalid_grant", "redirect_uri does not match the one in the authorization request"},
		{"wrong verifier", with("code_verifier", strings.Repeat("x", 43)), "", 400, "invalid_grant", "code_verifier does not match code_challenge (method S256)"},
		{"short verifier", with("code_verifier", "short"), "", 400, "invalid_grant", ""},
		{"basic plus body secret", func(code string) url.Values { f := exchangeForm(code); f.Del("client_id"); return f }, DefaultClientID + ":" + DefaultClientSecret, 400, "invalid_request", ""},
	}
	run := func(t *testing.T, compliance Compliance, cases []tc) {
		for _, tt := range cases {
			t.Run(string(compliance)+"/"+tt.name, func(t *testing.T) {
				c := start(t, WithCompliance(compliance))
				code := c.code(authQuery("openid profile"))
				var r result
				if tt.basic != "" {
					r = c.post("/oauth/v2/accessToken", tt.form(code), tt.basic)
				} else {
					r = c.exchange(tt.form(code))
				}
				wantOAuthError(t, r, tt.status, tt.code, tt.desc)
				if got := c.srv.Stats(); got.TokenErrors != 1 || got.AuthorizationCodeGrants != 0 {
					t.Errorf("stats %+v", got)
				}
			})
		}
	}
	run(t, ComplianceLinkedIn, linkedin)
	run(t, ComplianceStrict, strict)
}

func TestStrictBasicFailureCarriesChallenge(t *testing.T) {
	c := start(t, WithCompliance(ComplianceStrict))
	f := exchangeForm(c.code(authQuery("openid")))
	f.Del("client_id")
	f.Del("client_secret")
	r := c.post("/oauth/v2/accessToken", f, DefaultClientID+":wrong")
	wantOAuthError(t, r, 401, "invalid_client", "")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("WWW-Authenticate %q, want a Basic challenge", r.header.Get("WWW-Authenticate"))
	}
	// The same credentials, right, over Basic succeed.
	r = c.post("/oauth/v2/accessToken", f, DefaultClientID+":"+DefaultClientSecret)
	if r.status != 200 {
		t.Fatalf("Basic with the right secret: %d %s", r.status, r.raw)
	}
}

func TestTokenEndpointRejectsNonFormBody(t *testing.T) {
	c := start(t)
	req, _ := http.NewRequest(http.MethodPost, c.base+"/oauth/v2/accessToken", strings.NewReader(`{"grant_type":"authorization_code"}`))
	req.Header.Set("Content-Type", "application/json")
	wantOAuthError(t, c.do(req), 400, "invalid_request", `Content-Type must be application/x-www-form-urlencoded, not "application/json"`)
}

func TestCodeIsSingleUse(t *testing.T) {
	for _, tt := range []struct {
		compliance Compliance
		status     int
		code, desc string
	}{
		{ComplianceLinkedIn, 400, "invalid_request", msgCodeNotFound},
		{ComplianceStrict, 400, "invalid_grant", "authorization code has already been used"},
		{ComplianceLenient, 200, "", ""},
	} {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			form := exchangeForm(c.code(authQuery("openid profile")))
			first := c.exchange(form)
			if first.status != 200 {
				t.Fatalf("first exchange: %d %s", first.status, first.raw)
			}
			second := c.exchange(form)
			if tt.status == 200 {
				if second.status != 200 {
					t.Fatalf("lenient reuse: %d %s", second.status, second.raw)
				}
				return
			}
			wantOAuthError(t, second, tt.status, tt.code, tt.desc)
			// Strict mode revokes what the code bought (RFC 6749 section 4.1.2).
			wantActive := tt.compliance != ComplianceStrict
			if got := c.api("/v2/userinfo", first.str("access_token")).status == 200; got != wantActive {
				t.Errorf("first token usable after reuse = %v, want %v", got, wantActive)
			}
		})
	}
}

func TestCodeExpiresAfter30Minutes(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		ok   bool
	}{{AuthorizationCodeTTL - time.Second, true}, {AuthorizationCodeTTL, false}} {
		t.Run(tt.wait.String(), func(t *testing.T) {
			clock := newTestClock()
			c := start(t, WithClock(clock.Now))
			code := c.code(authQuery("openid"))
			clock.Advance(tt.wait)
			r := c.exchange(exchangeForm(code))
			if tt.ok {
				if r.status != 200 {
					t.Fatalf("exchange after %v: %d %s", tt.wait, r.status, r.raw)
				}
				return
			}
			wantOAuthError(t, r, 400, "invalid_redirect_uri", msgCodeMismatch)
		})
	}
}

func TestPKCE(t *testing.T) {
	tests := []struct {
		name, method, challenge, verifier string
		ok                                bool
	}{
		{"S256 match", "S256", challengeFor(testVerifier), testVerifier, true},
		{"S256 mismatch", "S256", challengeFor(testVerifier), testVerifier[:42] + "Y", false},
		{"S256 verifier sent as challenge", "S256", testVerifier, testVerifier, false},
		{"plain match", "plain", testVerifier, testVerifier, true},
		{"plain by default", "", testVerifier, testVerifier, true},
		{"plain mismatch", "plain", testVerifier, challengeFor(testVerifier), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, WithCompliance(ComplianceStrict))
			q := authQuery("openid")
			q.Set("code_challenge", tt.challenge)
			if tt.method == "" {
				q.Del("code_challenge_method")
			} else {
				q.Set("code_challenge_method", tt.method)
			}
			f := exchangeForm(c.code(q))
			f.Set("code_verifier", tt.verifier)
			r := c.exchange(f)
			if tt.ok != (r.status == 200) {
				t.Fatalf("exchange: %d %s, want ok=%v", r.status, r.raw, tt.ok)
			}
			if !tt.ok {
				wantOAuthError(t, r, 400, "invalid_grant", "")
			}
		})
	}
}

func TestPublicClientUsesPKCEWithoutSecret(t *testing.T) {
	c := start(t, WithClient("native-app", "", testRedirect))
	q := authQuery("openid profile")
	q.Set("client_id", "native-app")
	noPKCE := url.Values{}
	for k, v := range q {
		noPKCE[k] = v
	}
	noPKCE.Del("code_challenge")
	noPKCE.Del("code_challenge_method")
	if p := redirectParams(t, c.authorize(noPKCE)); p.Get("error") != "invalid_request" {
		t.Errorf("public client without PKCE: %v, want error=invalid_request", p)
	}
	f := exchangeForm(c.code(q))
	f.Set("client_id", "native-app")
	f.Del("client_secret")
	if r := c.exchange(f); r.status != 200 || r.str("access_token") == "" {
		t.Fatalf("public client exchange: %d %s", r.status, r.raw)
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"native-app"}}
	wantOAuthError(t, c.exchange(cc), 400, "unauthorized_client", "")
}

func TestLenientAcceptsClientMistakes(t *testing.T) {
	c := start(t, WithCompliance(ComplianceLenient))
	f := exchangeForm(c.code(authQuery("openid")))
	f.Set("client_secret", "wrong")
	f.Set("code_verifier", strings.Repeat("z", 43))
	f.Set("redirect_uri", "http://127.0.0.1:9999/elsewhere")
	if r := c.exchange(f); r.status != 200 {
		t.Fatalf("lenient exchange with wrong secret, verifier and redirect_uri: %d %s", r.status, r.raw)
	}
}

func TestTokenLifetimes(t *testing.T) {
	clock := newTestClock()
	c := start(t, WithClock(clock.Now), WithAccessTokenTTL(90*time.Second), WithRefreshTokenTTL(time.Hour))
	tok := c.tokens("openid profile")
	if tok.num("expires_in") != 90 || tok.num("refresh_token_expires_in") != 3600 {
		t.Fatalf("lifetimes: %s", tok.raw)
	}
	at, rt := tok.str("access_token"), tok.str("refresh_token")

	clock.Advance(89 * time.Second)
	if r := c.api("/v2/userinfo", at); r.status != 200 {
		t.Fatalf("token at 89 s: %d %s", r.status, r.raw)
	}
	clock.Advance(time.Second)
	wantAPIError(t, c.api("/v2/userinfo", at), 401, 65602, "EXPIRED_ACCESS_TOKEN", "Expired access token")
	if r := c.introspect(at); r.body["active"] != false || r.str("status") != "expired" {
		t.Errorf("introspection of expired token: %s", r.raw)
	}

	// 50 minutes in: the refresh token has 10 minutes left and a refresh does not extend it.
	clock.Advance(50*time.Minute - 90*time.Second)
	r := c.exchange(refreshForm(rt))
	if r.status != 200 || r.num("expires_in") != 90 || r.num("refresh_token_expires_in") != 600 || r.str("refresh_token") != rt {
		t.Fatalf("refresh at 50 min: %s", r.raw)
	}
	if _, ok := r.body["scope"]; ok {
		t.Errorf("LinkedIn's refresh response has no scope: %s", r.raw)
	}
	if got := c.api("/v2/userinfo", r.str("access_token")); got.status != 200 {
		t.Errorf("refreshed token: %d %s", got.status, got.raw)
	}

	// 59 min 30 s in: the new access token is capped at the refresh token's end.
	clock.Advance(9*time.Minute + 30*time.Second)
	r = c.exchange(refreshForm(rt))
	if r.status != 200 || r.num("expires_in") != 30 || r.num("refresh_token_expires_in") != 30 {
		t.Fatalf("refresh 30 s before the refresh token ends: %s", r.raw)
	}

	clock.Advance(30 * time.Second)
	wantOAuthError(t, c.exchange(refreshForm(rt)), 400, "invalid_request", msgGrantInvalid)
	if got := c.srv.Stats(); got.RefreshGrants != 2 || got.AuthorizationRequests != 1 {
		t.Errorf("stats %+v", got)
	}
}

func TestRefreshErrors(t *testing.T) {
	for _, tt := range []struct {
		compliance Compliance
		code, desc string
	}{
		{ComplianceLinkedIn, "invalid_request", msgGrantInvalid},
		{ComplianceStrict, "invalid_grant", "refresh token has been revoked"},
	} {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			rt := c.tokens("openid profile").str("refresh_token")
			wantOAuthError(t, c.exchange(refreshForm("")), 400, "invalid_request", `A required parameter "refresh_token" is missing`)
			if r := c.post("/oauth/v2/revoke", clientForm("token", rt)); r.status != 200 {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
			wantOAuthError(t, c.exchange(refreshForm(rt)), 400, tt.code, tt.desc)
		})
	}
}

func TestClientCredentialsGrant(t *testing.T) {
	c := start(t)
	r := c.exchange(url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if r.status != 200 || r.num("expires_in") != 1800 || r.str("refresh_token") != "" || r.str("id_token") != "" {
		t.Fatalf("client_credentials: %s", r.raw)
	}
	in := c.introspect(r.str("access_token"))
	if in.str("auth_type") != "2L" || in.body["active"] != true {
		t.Errorf("introspection of a 2L token: %s", in.raw)
	}
	if _, ok := in.body["scope"]; ok {
		t.Errorf("2L introspection must not carry scope: %s", in.raw)
	}
}

func TestNewScopeSetRevokesEarlierTokens(t *testing.T) {
	c := start(t)
	first := c.tokens("openid profile")
	same := c.tokens("profile openid")
	if r := c.api("/v2/userinfo", first.str("access_token")); r.status != 200 {
		t.Fatalf("same scope set must not revoke: %d %s", r.status, r.raw)
	}
	c.tokens("openid profile email")
	for _, tok := range []result{first, same} {
		wantAPIError(t, c.api("/v2/userinfo", tok.str("access_token")), 401, 65601, "REVOKED_ACCESS_TOKEN", "The token has been revoked")
	}
	wantOAuthError(t, c.exchange(refreshForm(first.str("refresh_token"))), 400, "invalid_request", msgGrantInvalid)
}
