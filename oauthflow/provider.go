package oauthflow

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// AuthMethod is how the client authenticates at the token, introspection and revocation endpoints.
type AuthMethod string

const (
	AuthBasic AuthMethod = "client_secret_basic" // HTTP Basic (RFC 6749 §2.3.1, the default)
	AuthPost  AuthMethod = "client_secret_post"  // client_id and client_secret in the form body (LinkedIn)
	AuthNone  AuthMethod = "none"                // public client: client_id only, PKCE carries the proof
)

// ParseAuthMethod accepts the RFC names and the short forms basic, post and none.
func ParseAuthMethod(s string) (AuthMethod, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "basic", string(AuthBasic):
		return AuthBasic, nil
	case "post", string(AuthPost):
		return AuthPost, nil
	case "none", "public":
		return AuthNone, nil
	}
	return "", fmt.Errorf("unknown client auth method %q: use basic (client_secret_basic), post (client_secret_post) or none (public client)", s)
}

// IntrospectionShape tells which introspection response a provider sends.
type IntrospectionShape string

const (
	IntrospectionRFC7662  IntrospectionShape = "rfc7662"
	IntrospectionLinkedIn IntrospectionShape = "linkedin" // adds status, expires_at, authorized_at, created_at, auth_type; comma-separated scope
)

// Endpoints are a provider's URLs. Empty means unknown.
type Endpoints struct {
	Authorization string `json:"authorization_endpoint,omitempty"`
	Token         string `json:"token_endpoint,omitempty"`
	Userinfo      string `json:"userinfo_endpoint,omitempty"`
	Introspection string `json:"introspection_endpoint,omitempty"`
	Revocation    string `json:"revocation_endpoint,omitempty"`
	JWKS          string `json:"jwks_uri,omitempty"`
	API           string `json:"api_url,omitempty"` // the URL the "api-call" step GETs with the access token
}

// Overlay returns e with every non-empty field of o put over it.
func (e Endpoints) Overlay(o Endpoints) Endpoints {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&e.Authorization, o.Authorization)
	set(&e.Token, o.Token)
	set(&e.Userinfo, o.Userinfo)
	set(&e.Introspection, o.Introspection)
	set(&e.Revocation, o.Revocation)
	set(&e.JWKS, o.JWKS)
	set(&e.API, o.API)
	return e
}

// Provider is everything the flow needs to know about an authorization server.
type Provider struct {
	Name      string    `json:"name"`             // "linkedin", an issuer's host, or "custom"
	Issuer    string    `json:"issuer,omitempty"` // the issuer the client expects (OIDC iss)
	Endpoints Endpoints `json:"endpoints"`
	// DiscoveryURL is where the configuration was (or would be) read; empty when none is used.
	DiscoveryURL string `json:"discovery_url,omitempty"`
	// AuthMethod is the provider's preferred client authentication, used when the client has no choice of its own.
	AuthMethod           AuthMethod         `json:"auth_method,omitempty"`
	Introspection        IntrospectionShape `json:"introspection_shape,omitempty"`
	CodeChallengeMethods []string           `json:"code_challenge_methods_supported,omitempty"`
	// IssParameterSupported is RFC 9207's authorization_response_iss_parameter_supported.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// DefaultScopes are used when the user names none.
	DefaultScopes []string `json:"default_scopes,omitempty"`
	// APIHeaders are added to API calls (LinkedIn's versioned /rest/ APIs need LinkedIn-Version).
	APIHeaders map[string]string `json:"api_headers,omitempty"`
	// Discovered is the discovery document as received, when one was read.
	Discovered map[string]any `json:"-"`
}

// LinkedIn is the preset for LinkedIn's OAuth 2.0 and OpenID Connect endpoints. LinkedIn wants the
// client credentials in the form body and publishes its discovery document under /oauth/, not at
// the host root; introspection and revocation are not in that document.
func LinkedIn() Provider {
	return LinkedInAt("https://www.linkedin.com", "https://api.linkedin.com")
}

// LinkedInAt is the LinkedIn preset with other hosts, e.g. the embedded sandbox serving both.
func LinkedInAt(wwwBase, apiBase string) Provider {
	wwwBase = strings.TrimRight(wwwBase, "/")
	apiBase = strings.TrimRight(apiBase, "/")
	return Provider{
		Name:         "linkedin",
		Issuer:       wwwBase + "/oauth",
		DiscoveryURL: wwwBase + "/oauth/.well-known/openid-configuration",
		Endpoints: Endpoints{
			Authorization: wwwBase + "/oauth/v2/authorization",
			Token:         wwwBase + "/oauth/v2/accessToken",
			Introspection: wwwBase + "/oauth/v2/introspectToken",
			Revocation:    wwwBase + "/oauth/v2/revoke",
			JWKS:          wwwBase + "/oauth/openid/jwks",
			Userinfo:      apiBase + "/v2/userinfo",
		},
		AuthMethod:           AuthPost,
		Introspection:        IntrospectionLinkedIn,
		CodeChallengeMethods: []string{"S256"},
		DefaultScopes:        []string{"openid", "profile", "email"},
	}
}

// Client is the application's registration at the provider.
type Client struct {
	ID          string     `json:"client_id"`
	Secret      string     `json:"-"` // never serialised
	RedirectURI string     `json:"redirect_uri"`
	Scopes      []string   `json:"scopes"`
	AuthMethod  AuthMethod `json:"auth_method"`
	PKCE        bool       `json:"pkce"`
}

// DefaultRedirectURI is a loopback redirect, the kind native apps register (RFC 8252 §7.3).
const DefaultRedirectURI = "http://127.0.0.1:8765/callback"

// Config is a provider and a client: what a flow runs with.
type Config struct {
	Provider Provider `json:"provider"`
	Client   Client   `json:"client"`
}

// Validate checks what every flow needs and names the flag that fixes each gap.
func (c Config) Validate() error {
	var problems []string
	if c.Client.ID == "" {
		problems = append(problems, "no client_id (--client-id)")
	}
	if c.Client.AuthMethod != AuthNone && c.Client.Secret == "" {
		problems = append(problems, "no client secret (--client-secret, OAUTHDIAG_CLIENT_SECRET, or --auth-method none for a public client)")
	}
	if c.Client.AuthMethod == AuthNone && !c.Client.PKCE {
		problems = append(problems, "a public client (--auth-method none) needs PKCE: drop --no-pkce")
	}
	check := func(name, flag, v string, required bool) {
		if v == "" {
			if required {
				problems = append(problems, fmt.Sprintf("no %s endpoint (%s, or --issuer for discovery)", name, flag))
			}
			return
		}
		if err := CheckURL(v); err != nil {
			problems = append(problems, fmt.Sprintf("%s endpoint: %v (%s)", name, err, flag))
		}
	}
	check("authorization", "--auth-url", c.Provider.Endpoints.Authorization, true)
	check("token", "--token-url", c.Provider.Endpoints.Token, true)
	check("userinfo", "--userinfo-url", c.Provider.Endpoints.Userinfo, false)
	check("introspection", "--introspect-url", c.Provider.Endpoints.Introspection, false)
	check("revocation", "--revoke-url", c.Provider.Endpoints.Revocation, false)
	check("JWKS", "--jwks-url", c.Provider.Endpoints.JWKS, false)
	check("API", "--api-url", c.Provider.Endpoints.API, false)
	if c.Client.RedirectURI == "" {
		problems = append(problems, "no redirect URI (--redirect-uri)")
	} else if err := CheckURL(c.Client.RedirectURI); err != nil {
		problems = append(problems, fmt.Sprintf("redirect URI: %v (--redirect-uri)", err))
	}
	if len(problems) == 0 {
		return nil
	}
	return &Error{Kind: KindConfig, Code: CodeBadURL, Description: "configuration incomplete: " + strings.Join(problems, "; ")}
}

// CheckURL says why v is not an absolute http(s) URL, or nil.
func CheckURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", v, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with https:// (or http:// for loopback)", v)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", v)
	}
	return nil
}

// ScopeString joins scopes the way the authorization request wants them.
func ScopeString(scopes []string) string { return strings.Join(scopes, " ") }

// SplitScopes splits a scope string on spaces and commas: RFC 6749 uses spaces, LinkedIn's
// introspection answers with commas.
func SplitScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	out := f[:0]
	for _, v := range f {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func hasScope(scopes []string, s string) bool { return slices.Contains(scopes, s) }

// HostOf is the host (and port) of a URL, for messages.
func HostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// PresetNames are the names Preset knows, for help and completion.
func PresetNames() []string { return []string{"linkedin"} }

// Preset returns the provider preset of that name.
func Preset(name string) (Provider, error) {
	switch strings.ToLower(name) {
	case "linkedin":
		return LinkedIn(), nil
	}
	return Provider{}, fmt.Errorf("unknown provider preset %q: the preset is linkedin; for any other provider set issuer or the endpoint URLs", name)
}
