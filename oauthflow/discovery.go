package oauthflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DiscoveryResult is what discovery found, including the issuer the document itself claims.
type DiscoveryResult struct {
	Provider Provider
	// ClaimedIssuer is the document's "issuer" value; it can differ from the one asked for.
	ClaimedIssuer string
	// Source is the URL the document came from.
	Source string
	// Supplied names the required fields the document lacks that the configured endpoints fill.
	Supplied []string
}

// DiscoveryURLs lists where a configuration for issuer may live: the OpenID Connect location first,
// then RFC 8414's, which inserts the well-known segment between host and path.
func DiscoveryURLs(issuer string) ([]string, error) {
	u, err := url.Parse(strings.TrimSpace(issuer))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &Error{Step: StepDiscovery, Kind: KindConfig, Code: CodeBadURL,
			Description: fmt.Sprintf("issuer %q is not an http(s) URL", issuer),
			Hint:        "pass the issuer as printed by the provider, e.g. https://accounts.example.com"}
	}
	oidc := strings.TrimRight(u.String(), "/") + "/.well-known/openid-configuration"
	path := strings.TrimRight(u.EscapedPath(), "/")
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path
	return []string{oidc, rfc8414}, nil
}

// Discover reads the provider configuration for issuer (or from discoveryURL when given), trying the
// OpenID Connect location and then RFC 8414's. The result's endpoints are what the document lists;
// callers overlay explicit endpoints over them because real documents omit endpoints that exist.
func (r *Runner) Discover(ctx context.Context, issuer, discoveryURL string) (*DiscoveryResult, error) {
	ctx, _ = r.begin(ctx, StepDiscovery)
	urls := []string{discoveryURL}
	if discoveryURL == "" {
		var err error
		if urls, err = DiscoveryURLs(issuer); err != nil {
			return nil, err
		}
	}
	var firstErr error
	for _, u := range urls {
		res, err := r.fetchDiscovery(ctx, u)
		if err == nil {
			return res, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		// Only a missing document is worth another location; anything else is the real answer.
		if e, ok := AsError(err); !ok || e.Status != http.StatusNotFound {
			return nil, err
		}
	}
	return nil, firstErr
}

func (r *Runner) fetchDiscovery(ctx context.Context, docURL string) (*DiscoveryResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return nil, &Error{Step: StepDiscovery, Kind: KindConfig, Code: CodeBadURL, Description: fmt.Sprintf("bad discovery URL %q", docURL), Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, body, err := r.do(ctx, StepDiscovery, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		e := responseError(StepDiscovery, resp.StatusCode, resp.Header, body, r.now())
		switch {
		case resp.StatusCode == http.StatusNotFound:
			e.Hint = "no discovery document at " + docURL + "; check --issuer, or give the endpoints with --auth-url and --token-url"
		case e.Hint == "":
			e.Hint = "the server answered an error instead of its configuration; retry later, or give the endpoints with --auth-url and --token-url"
		}
		return nil, e
	}
	raw, err := decodeJSONObject(StepDiscovery, docURL, resp, body)
	if err != nil {
		return nil, err
	}
	// Field types can be wrong in the wild (a boolean sent as "true", a list as one string): decode
	// field by field, so one sloppy optional field does not hide the endpoints. A required field of
	// the wrong type counts as missing.
	var wrongType []string
	field := func(name string, dst any) {
		if v, ok := raw[name]; ok && string(v) != "null" && json.Unmarshal(v, dst) != nil {
			wrongType = append(wrongType, name)
		}
	}
	var doc struct {
		Issuer, AuthorizationEndpoint, TokenEndpoint, UserinfoEndpoint  string
		IntrospectionEndpoint, RevocationEndpoint, JWKSURI              string
		CodeChallengeMethods, TokenEndpointAuthMethods, ScopesSupported []string
		IssParameterSupported                                           bool
	}
	field("issuer", &doc.Issuer)
	field("authorization_endpoint", &doc.AuthorizationEndpoint)
	field("token_endpoint", &doc.TokenEndpoint)
	field("userinfo_endpoint", &doc.UserinfoEndpoint)
	field("introspection_endpoint", &doc.IntrospectionEndpoint)
	field("revocation_endpoint", &doc.RevocationEndpoint)
	field("jwks_uri", &doc.JWKSURI)
	field("code_challenge_methods_supported", &doc.CodeChallengeMethods)
	field("token_endpoint_auth_methods_supported", &doc.TokenEndpointAuthMethods)
	field("authorization_response_iss_parameter_supported", &doc.IssParameterSupported)
	field("scopes_supported", &doc.ScopesSupported)
	// A missing endpoint the configuration supplies (--auth-url, --token-url) is no failure: that is
	// the way out the error below offers.
	configured := r.cfg.Provider.Endpoints
	var missing, supplied []string
	for _, f := range []struct{ name, value, configured string }{
		{"issuer", doc.Issuer, ""},
		{"authorization_endpoint", doc.AuthorizationEndpoint, configured.Authorization},
		{"token_endpoint", doc.TokenEndpoint, configured.Token},
	} {
		name := f.name
		if contains(wrongType, f.name) {
			name += " (not a string)"
		} else if f.value != "" {
			continue
		}
		if f.configured != "" {
			supplied = append(supplied, name)
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		hint := "give the missing endpoints with --auth-url / --token-url (they override discovery)"
		if missing[0] == "issuer" || strings.HasPrefix(missing[0], "issuer ") {
			hint = "this is not a valid provider configuration: check --issuer / --discovery-url, or drop them and give the endpoints with --auth-url and --token-url"
		}
		return nil, &Error{Step: StepDiscovery, Kind: KindValidation, Code: CodeDiscoveryIncomplete, Status: resp.StatusCode,
			Header: resp.Header.Clone(), Body: cut(body),
			Description: "discovery document at " + docURL + " lacks required " + strings.Join(missing, ", "),
			Hint:        hint}
	}
	generic := make(map[string]any, len(raw))
	for k, v := range raw {
		var x any
		if json.Unmarshal(v, &x) == nil {
			generic[k] = x
		}
	}
	p := Provider{
		Name:         HostOf(doc.Issuer),
		Issuer:       doc.Issuer,
		DiscoveryURL: docURL,
		Endpoints: Endpoints{
			Authorization: doc.AuthorizationEndpoint,
			Token:         doc.TokenEndpoint,
			Userinfo:      doc.UserinfoEndpoint,
			Introspection: doc.IntrospectionEndpoint,
			Revocation:    doc.RevocationEndpoint,
			JWKS:          doc.JWKSURI,
		},
		CodeChallengeMethods:  doc.CodeChallengeMethods,
		IssParameterSupported: doc.IssParameterSupported,
		Introspection:         IntrospectionRFC7662,
		DefaultScopes:         oidcDefaultScopes(doc.ScopesSupported),
		Discovered:            generic,
	}
	if len(doc.TokenEndpointAuthMethods) > 0 {
		// RFC 8414 §2: the default when absent is client_secret_basic.
		switch {
		case contains(doc.TokenEndpointAuthMethods, string(AuthBasic)):
			p.AuthMethod = AuthBasic
		case contains(doc.TokenEndpointAuthMethods, string(AuthPost)):
			p.AuthMethod = AuthPost
		}
	}
	return &DiscoveryResult{Provider: p, ClaimedIssuer: doc.Issuer, Source: docURL, Supplied: supplied}, nil
}

// MergeDiscovered lays a discovered provider under a configured one: explicit values win, gaps are
// filled from discovery, and the expected issuer stays the configured one when it was set.
func MergeDiscovered(configured, discovered Provider) Provider {
	out := discovered
	out.Endpoints = discovered.Endpoints.Overlay(configured.Endpoints)
	if configured.Name != "" {
		out.Name = configured.Name
	}
	if configured.Issuer != "" {
		out.Issuer = configured.Issuer
	}
	if configured.AuthMethod != "" {
		out.AuthMethod = configured.AuthMethod
	}
	if configured.Introspection != "" {
		out.Introspection = configured.Introspection
	}
	if len(configured.DefaultScopes) > 0 {
		out.DefaultScopes = configured.DefaultScopes
	}
	if len(configured.APIHeaders) > 0 {
		out.APIHeaders = configured.APIHeaders
	}
	if len(out.CodeChallengeMethods) == 0 {
		out.CodeChallengeMethods = configured.CodeChallengeMethods
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// oidcDefaultScopes is what to ask an OpenID Connect provider for when the user names no scope:
// openid, plus profile and email where offered. A plain OAuth server gets no default: its scopes
// mean nothing to us.
func oidcDefaultScopes(supported []string) []string {
	if !contains(supported, "openid") {
		return nil
	}
	scopes := []string{"openid"}
	for _, s := range []string{"profile", "email"} {
		if contains(supported, s) {
			scopes = append(scopes, s)
		}
	}
	return scopes
}
