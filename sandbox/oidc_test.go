package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestDiscovery(t *testing.T) {
	tests := []struct {
		compliance      Compliance
		wantIntrospect  bool
		wantPKCEMethods bool
		wantISSFlag     bool
		wantRFC8414     bool
	}{
		{ComplianceLinkedIn, false, true, false, false},
		{ComplianceStrict, true, true, true, true},
		{ComplianceLenient, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			r := c.get("/oauth/.well-known/openid-configuration", nil)
			b := c.base
			want := map[string]string{
				"issuer":                 b + "/oauth",
				"authorization_endpoint": b + "/oauth/v2/authorization",
				"token_endpoint":         b + "/oauth/v2/accessToken",
				"userinfo_endpoint":      b + "/v2/userinfo",
				"jwks_uri":               b + "/oauth/openid/jwks",
			}
			for k, v := range want {
				if r.str(k) != v {
					t.Errorf("%s = %q, want %q", k, r.str(k), v)
				}
			}
			if r.str("issuer") != c.srv.Issuer() {
				t.Errorf("issuer %q != Issuer() %q", r.str("issuer"), c.srv.Issuer())
			}
			for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported",
				"scopes_supported", "claims_supported", "token_endpoint_auth_methods_supported"} {
				if _, ok := r.body[k].([]any); !ok {
					t.Errorf("%s missing: %s", k, r.raw)
				}
			}
			if algs := r.body["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
				t.Errorf("algs %v", algs)
			}
			_, hasIntrospect := r.body["introspection_endpoint"]
			_, hasRevoke := r.body["revocation_endpoint"]
			_, hasPKCE := r.body["code_challenge_methods_supported"]
			if hasIntrospect != tt.wantIntrospect || hasRevoke != tt.wantIntrospect || hasPKCE != tt.wantPKCEMethods ||
				(r.body["authorization_response_iss_parameter_supported"] == true) != tt.wantISSFlag {
				t.Errorf("document %s", r.raw)
			}
			as := c.get("/.well-known/oauth-authorization-server/oauth", nil)
			if (as.status == 200) != tt.wantRFC8414 || (tt.wantRFC8414 && as.str("issuer") != c.srv.Issuer()) {
				t.Errorf("RFC 8414 metadata: %d %s", as.status, as.raw)
			}
		})
	}
}

func TestIDTokenVerifiesWithJWKS(t *testing.T) {
	clock := newTestClock()
	c := start(t, WithClock(clock.Now))
	tok := c.tokens("openid profile email")

	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(c.get("/oauth/openid/jwks", nil).raw), &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID == "" || set.Keys[0].Algorithm != "RS256" || !set.Keys[0].IsPublic() {
		t.Fatalf("JWKS keys %+v", set.Keys)
	}
	parsed, err := jwt.ParseSigned(tok.str("id_token"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse id_token: %v", err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in JWKS", parsed.Headers[0].KeyID)
	}
	var std jwt.Claims
	var extra struct {
		Nonce         string `json:"nonce"`
		Name          string `json:"name"`
		GivenName     string `json:"given_name"`
		FamilyName    string `json:"family_name"`
		Email         string `json:"email"`
		Picture       string `json:"picture"`
		EmailVerified bool   `json:"email_verified"`
		Locale        struct {
			Country  string `json:"country"`
			Language string `json:"language"`
		} `json:"locale"`
	}
	if err := parsed.Claims(keys[0].Key, &std, &extra); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := std.Validate(jwt.Expected{Issuer: c.srv.Issuer(), AnyAudience: jwt.Audience{DefaultClientID}, Time: clock.Now()}); err != nil {
		t.Fatalf("claims: %v", err)
	}
	if extra.Nonce != "n-456" || extra.Email != "ada.lovelace@example.com" || !extra.EmailVerified || extra.Name != "Ada Lovelace" ||
		extra.GivenName != "Ada" || extra.FamilyName != "Lovelace" || extra.Picture != c.base+"/media/profile-picture" || extra.Locale.Country != "US" {
		t.Errorf("claims %+v", extra)
	}
	if !std.IssuedAt.Time().Equal(clock.Now()) || !std.Expiry.Time().Equal(clock.Now().Add(IDTokenTTL)) {
		t.Errorf("iat %v exp %v, want clock time and +%v", std.IssuedAt.Time(), std.Expiry.Time(), IDTokenTTL)
	}
	if std.Subject == "" || std.Subject != c.api("/v2/userinfo", tok.str("access_token")).str("sub") {
		t.Errorf("id_token sub %q does not match userinfo sub", std.Subject)
	}
	// A client pinning LinkedIn's pre-2024 issuer (the host alone) must fail.
	if err := std.Validate(jwt.Expected{Issuer: c.base, Time: clock.Now()}); err == nil {
		t.Error("the old host-only issuer validated")
	}
}

func TestIDTokenClaimsFollowScopes(t *testing.T) {
	c := start(t)
	tok := c.tokens("openid")
	parsed, err := jwt.ParseSigned(tok.str("id_token"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := parsed.Claims(&testKey().PublicKey, &claims); err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(claims))
	for k := range claims {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []string{"aud", "exp", "iat", "iss", "nonce", "sub"}; !slices.Equal(got, want) {
		t.Errorf("openid-only claims %v, want %v", got, want)
	}
}

func TestHandlerWithoutStartUsesRequestHost(t *testing.T) {
	s := New(WithSigningKey(testKey()))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	c := &testClient{t: t, srv: s, base: ts.URL, hc: ts.Client()}
	if r := c.get("/oauth/.well-known/openid-configuration", nil); r.str("issuer") != ts.URL+"/oauth" {
		t.Errorf("issuer %q, want %q", r.str("issuer"), ts.URL+"/oauth")
	}
	if s.BaseURL() != "" || s.Issuer() != "" {
		t.Errorf("BaseURL %q Issuer %q before Start", s.BaseURL(), s.Issuer())
	}
}
