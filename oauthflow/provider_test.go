package oauthflow_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func TestParseAuthMethod(t *testing.T) {
	t.Parallel()
	cases := map[string]oauthflow.AuthMethod{
		"": oauthflow.AuthBasic, "basic": oauthflow.AuthBasic, "client_secret_basic": oauthflow.AuthBasic, " BASIC ": oauthflow.AuthBasic,
		"post": oauthflow.AuthPost, "client_secret_post": oauthflow.AuthPost,
		"none": oauthflow.AuthNone, "public": oauthflow.AuthNone,
	}
	for in, want := range cases {
		if got, err := oauthflow.ParseAuthMethod(in); err != nil || got != want {
			t.Errorf("ParseAuthMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := oauthflow.ParseAuthMethod("private_key_jwt")
	if err == nil || !strings.Contains(err.Error(), `"private_key_jwt"`) || !strings.Contains(err.Error(), "basic") {
		t.Errorf("an unknown method must be named with the choices: %v", err)
	}
}

func TestLinkedInPreset(t *testing.T) {
	t.Parallel()
	p := oauthflow.LinkedIn()
	want := oauthflow.Endpoints{
		Authorization: "https://www.linkedin.com/oauth/v2/authorization",
		Token:         "https://www.linkedin.com/oauth/v2/accessToken",
		Introspection: "https://www.linkedin.com/oauth/v2/introspectToken",
		Revocation:    "https://www.linkedin.com/oauth/v2/revoke",
		JWKS:          "https://www.linkedin.com/oauth/openid/jwks",
		Userinfo:      "https://api.linkedin.com/v2/userinfo",
	}
	if p.Endpoints != want {
		t.Errorf("endpoints %+v\nwant %+v", p.Endpoints, want)
	}
	if p.Issuer != "https://www.linkedin.com/oauth" || p.DiscoveryURL != "https://www.linkedin.com/oauth/.well-known/openid-configuration" {
		t.Errorf("issuer %q discovery %q: LinkedIn's issuer has been /oauth since 2024", p.Issuer, p.DiscoveryURL)
	}
	if p.AuthMethod != oauthflow.AuthPost || p.Introspection != oauthflow.IntrospectionLinkedIn || !slices.Equal(p.DefaultScopes, []string{"openid", "profile", "email"}) {
		t.Errorf("preset %+v", p)
	}
	at := oauthflow.LinkedInAt("http://127.0.0.1:8766/", "http://127.0.0.1:8766")
	if at.Endpoints.Token != "http://127.0.0.1:8766/oauth/v2/accessToken" || at.Endpoints.Userinfo != "http://127.0.0.1:8766/v2/userinfo" {
		t.Errorf("LinkedInAt endpoints %+v", at.Endpoints)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := oauthflow.Config{
		Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Authorization: "https://as.test/a", Token: "https://as.test/t"}},
		Client:   oauthflow.Client{ID: "c", Secret: "s", RedirectURI: oauthflow.DefaultRedirectURI, PKCE: true},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("a complete configuration: %v", err)
	}
	cases := []struct {
		name    string
		alter   func(c *oauthflow.Config)
		mention []string
	}{
		{"no client id", func(c *oauthflow.Config) { c.Client.ID = "" }, []string{"--client-id"}},
		{"no secret", func(c *oauthflow.Config) { c.Client.Secret = "" }, []string{"--client-secret", "OAUTHDIAG_CLIENT_SECRET", "--auth-method none"}},
		{"public client without PKCE", func(c *oauthflow.Config) {
			c.Client.AuthMethod, c.Client.Secret, c.Client.PKCE = oauthflow.AuthNone, "", false
		},
			[]string{"--no-pkce"}},
		{"no endpoints", func(c *oauthflow.Config) { c.Provider.Endpoints = oauthflow.Endpoints{} }, []string{"--auth-url", "--token-url", "--issuer"}},
		{"endpoint without scheme", func(c *oauthflow.Config) { c.Provider.Endpoints.Token = "as.test/token" }, []string{"token endpoint", "https://", "--token-url"}},
		{"optional endpoint malformed", func(c *oauthflow.Config) { c.Provider.Endpoints.Revocation = "https://" }, []string{"has no host", "--revoke-url"}},
		{"no redirect URI", func(c *oauthflow.Config) { c.Client.RedirectURI = "" }, []string{"--redirect-uri"}},
		{"several problems at once", func(c *oauthflow.Config) { c.Client.ID, c.Client.RedirectURI = "", "" }, []string{"--client-id", "--redirect-uri"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tc.alter(&c)
			err := c.Validate()
			e, ok := oauthflow.AsError(err)
			if !ok || e.Kind != oauthflow.KindConfig {
				t.Fatalf("Validate = %v, want a config error", err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err.Error(), m)
				}
			}
		})
	}
	public := good
	public.Client.AuthMethod, public.Client.Secret = oauthflow.AuthNone, ""
	if err := public.Validate(); err != nil {
		t.Errorf("a public client with PKCE needs no secret: %v", err)
	}
}

func TestSplitScopes(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"openid profile email":             {"openid", "profile", "email"},
		"r_liteprofile,r_emailaddress":     {"r_liteprofile", "r_emailaddress"},
		" openid,, profile\topenid\nemail": {"openid", "profile", "email"},
		"":                                 {},
	}
	for in, want := range cases {
		if got := oauthflow.SplitScopes(in); !slices.Equal(got, want) {
			t.Errorf("SplitScopes(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oauthflow.ScopeString([]string{"openid", "profile"}); got != "openid profile" {
		t.Errorf("ScopeString = %q", got)
	}
}
