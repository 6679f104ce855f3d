package sandbox

import (
	"net/url"
	"slices"
	"testing"
)

func TestIntrospectionShape(t *testing.T) {
	clock := newTestClock()
	tests := []struct {
		compliance Compliance
		wantKeys   []string
		wantScope  string
	}{
		{ComplianceLinkedIn, []string{"active", "auth_type", "authorized_at", "client_id", "created_at", "expires_at", "scope", "status"}, "email,openid,profile"},
		{ComplianceStrict, []string{"active", "aud", "auth_type", "authorized_at", "client_id", "created_at", "exp", "expires_at", "iat", "iss", "scope", "status", "sub", "token_type"}, "email openid profile"},
	}
	for _, tt := range tests {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance), WithClock(clock.Now))
			at := c.tokens("openid profile email").str("access_token")
			r := c.introspect(at)
			if got := keys(r.body); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("fields %v, want %v", got, tt.wantKeys)
			}
			now := clock.Now().Unix()
			if r.body["active"] != true || r.str("status") != "active" || r.str("scope") != tt.wantScope || r.str("auth_type") != "3L" ||
				r.str("client_id") != DefaultClientID || r.num("created_at") != now || r.num("authorized_at") != now ||
				r.num("expires_at") != now+5184000 {
				t.Errorf("introspection %s", r.raw)
			}
		})
	}
}

func TestIntrospectionOfUnknownAndForeignTokens(t *testing.T) {
	c := start(t, WithClient(DefaultClientID, DefaultClientSecret), WithClient("other", "other-secret"))
	at := c.tokens("openid").str("access_token")
	for name, r := range map[string]result{
		"unknown":          c.introspect("AQnothing"),
		"another client's": c.post("/oauth/v2/introspectToken", url.Values{"client_id": {"other"}, "client_secret": {"other-secret"}, "token": {at}}),
	} {
		if r.status != 200 || r.raw != `{"active":false}` {
			t.Errorf("%s token: %d %s, want exactly {\"active\":false}", name, r.status, r.raw)
		}
	}
}

func TestIntrospectionErrors(t *testing.T) {
	tests := []struct {
		name       string
		compliance Compliance
		form       url.Values
		status     int
		code, desc string
	}{
		{"no client_id", ComplianceLinkedIn, url.Values{"client_secret": {DefaultClientSecret}, "token": {"AQx"}}, 400, "invalid_request", msgInvalidClient},
		{"unknown client", ComplianceLinkedIn, url.Values{"client_id": {"x"}, "client_secret": {"y"}, "token": {"AQx"}}, 400, "invalid_request", msgInvalidClient},
		{"wrong secret", ComplianceLinkedIn, clientForm("client_secret", "nope", "token", "AQx"), 401, "invalid_client", msgInvalidSecret},
		{"no token", ComplianceLinkedIn, clientForm(), 400, "invalid_request", msgInvalidClient},
		{"unknown client strict", ComplianceStrict, url.Values{"client_id": {"x"}, "client_secret": {"y"}, "token": {"AQx"}}, 401, "invalid_client", ""},
		{"no token strict", ComplianceStrict, clientForm(), 400, "invalid_request", `A required parameter "token" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			wantOAuthError(t, c.post("/oauth/v2/introspectToken", tt.form), tt.status, tt.code, tt.desc)
		})
	}
}

func TestRevocation(t *testing.T) {
	t.Run("access token only", func(t *testing.T) {
		c := start(t)
		tok := c.tokens("openid profile")
		if r := c.post("/oauth/v2/revoke", clientForm("token", tok.str("access_token"))); r.status != 200 || r.raw != "" {
			t.Fatalf("revoke: %d %q", r.status, r.raw)
		}
		wantAPIError(t, c.api("/v2/userinfo", tok.str("access_token")), 401, 65601, "REVOKED_ACCESS_TOKEN", "The token has been revoked")
		if in := c.introspect(tok.str("access_token")); in.body["active"] != false || in.str("status") != "revoked" {
			t.Errorf("introspection: %s", in.raw)
		}
		if r := c.exchange(refreshForm(tok.str("refresh_token"))); r.status != 200 {
			t.Fatalf("the refresh token must survive: %d %s", r.status, r.raw)
		}
	})
	t.Run("refresh token takes its access tokens along", func(t *testing.T) {
		c := start(t)
		tok := c.tokens("openid profile")
		refreshed := c.exchange(refreshForm(tok.str("refresh_token"))).str("access_token")
		// HTTP Basic works here as well as the form.
		if r := c.post("/oauth/v2/revoke", url.Values{"token": {tok.str("refresh_token")}}, DefaultClientID+":"+DefaultClientSecret); r.status != 200 {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		for _, at := range []string{tok.str("access_token"), refreshed} {
			wantAPIError(t, c.api("/v2/userinfo", at), 401, 65601, "REVOKED_ACCESS_TOKEN", "The token has been revoked")
		}
		wantOAuthError(t, c.exchange(refreshForm(tok.str("refresh_token"))), 400, "invalid_request", msgGrantInvalid)
	})
	t.Run("unknown and foreign tokens get 200 and change nothing", func(t *testing.T) {
		c := start(t, WithClient(DefaultClientID, DefaultClientSecret), WithClient("other", "other-secret"))
		at := c.tokens("openid profile").str("access_token")
		for _, f := range []url.Values{
			clientForm("token", "AQunknown"),
			{"client_id": {"other"}, "client_secret": {"other-secret"}, "token": {at}},
		} {
			if r := c.post("/oauth/v2/revoke", f); r.status != 200 {
				t.Errorf("revoke %v: %d %s", f.Get("token"), r.status, r.raw)
			}
		}
		if r := c.api("/v2/userinfo", at); r.status != 200 {
			t.Errorf("another client revoked our token: %d %s", r.status, r.raw)
		}
	})
	t.Run("errors", func(t *testing.T) {
		c := start(t)
		wantOAuthError(t, c.post("/oauth/v2/revoke", clientForm()), 400, "invalid_request", `A required parameter "token" is missing`)
		wantOAuthError(t, c.post("/oauth/v2/revoke", clientForm("client_secret", "bad", "token", "AQx")), 401, "invalid_client", msgClientAuth)
	})
}

func TestRevokedTokenIntrospectionByMode(t *testing.T) {
	for _, tt := range []struct {
		compliance Compliance
		want       string
	}{
		{ComplianceLinkedIn, "revoked"},
		{ComplianceStrict, ""},
		{ComplianceLenient, "active"},
	} {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			at := c.tokens("openid profile").str("access_token")
			c.post("/oauth/v2/revoke", clientForm("token", at))
			r := c.introspect(at)
			if r.str("status") != tt.want || (r.body["active"] == true) != (tt.want == "active") {
				t.Fatalf("introspection after revoke: %s, want status %q", r.raw, tt.want)
			}
			if tt.compliance == ComplianceStrict && r.raw != `{"active":false}` {
				t.Errorf("strict inactive answer %s, want only active:false", r.raw)
			}
			// Even the lenient provider refuses the revoked token at the API.
			if api := c.api("/v2/userinfo", at); api.status != 401 {
				t.Errorf("API accepted a revoked token: %d", api.status)
			}
		})
	}
}

func TestIntrospectRefreshToken(t *testing.T) {
	c := start(t, WithRefreshTokenTTL(DefaultRefreshTokenTTL))
	rt := c.tokens("openid profile").str("refresh_token")
	r := c.introspect(rt)
	if r.body["active"] != true || r.str("auth_type") != "3L" || r.num("expires_at")-r.num("created_at") != 365*24*3600 {
		t.Errorf("refresh token introspection %s", r.raw)
	}
}
