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
func (r *Runner) Discover(ctx context.Context, issuer, discoveryURL string) (*DiscoveryResult, *Trace, error) {
	ctx, trace := r.begin(ctx, StepDiscovery)
	urls := []string{discoveryURL}
	if discoveryURL == "" {
		var err error
		if urls, err = DiscoveryURLs(issuer); err != nil {
			return nil, trace, err
		}
	}
	var firstErr error
	for _, u := range urls {
		res, err := r.fetchDiscovery(ctx, u)
		if err == nil {
			return res, trace, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		// Only a missing document is worth another location; anything else is the real answer.
		if e, ok := AsError(err); !ok || e.Status != http.StatusNotFound {
			return nil, trace, err
		}
	}
	return nil, trace, firstErr
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
		if resp.StatusCode == http.StatusNotFound {
			e.Hint = "no discovery document at " + docURL + "; check --issuer, or give the endpoints with --auth-url and --token-url"
		}
		return nil, e
	}
	raw, err := decodeJSONObject(StepDiscovery, docURL, resp, body)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Issuer                   string   `json:"issuer"`
		AuthorizationEndpoint    string   `json:"authorization_endpoint"`
		TokenEndpoint            string   `json:"token_endpoint"`
		UserinfoEndpoint         string   `json:"userinfo_endpoint"`
		IntrospectionEndpoint    string   `json:"introspection_endpoint"`
		RevocationEndpoint       string   `json:"revocation_endpoint"`
		JWKSURI                  string   `json:"jwks_uri"`
		CodeChallengeMethods     []string `json:"code_challenge_methods_supported"`
		TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		IssParameterSupported    bool     `json:"authorization_response_iss_parameter_supported"`
	}
	// Field types can be wrong in the wild; decode leniently field by field.
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &Error{Step: StepDiscovery, Kind: KindFormat, Code: CodeNotJSON, Status: resp.StatusCode,
			Description: "discovery document has fields of the wrong type: " + err.Error(), Body: cut(body), Err: err}
	}
	var missing []string
	if doc.Issuer == "" {
		missing = append(missing, "issuer")
	}
	if doc.AuthorizationEndpoint == "" {
		missing = append(missing, "authorization_endpoint")
	}
	if doc.TokenEndpoint == "" {
		missing = append(missing, "token_endpoint")
	}
	if len(missing) > 0 {
		return nil, &Error{Step: StepDiscovery, Kind: KindValidation, Code: CodeDiscoveryIncomplete, Status: resp.StatusCode,
			Description: "discovery document at " + docURL + " lacks required " + strings.Join(missing, ", "),
			Hint:        "give the missing endpoints with --auth-url / --token-url (they override discovery)"}
	}
	generic := make(map[string]any, len(raw))
	for k, v := range raw {
		var x any
		if json.Unmarshal(v, &x) == nil {
			generic[k] = x
		}
	}
	p := Provider{
		Name:         hostOf(doc.Issuer),
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
	return &DiscoveryResult{Provider: p, ClaimedIssuer: doc.Issuer, Source: docURL}, nil
}

// MergeDiscovered lays a discovered provider under a configured one: explicit values win, gaps are
// filled from discovery, and the expected issuer stays the configured one when it was set.
func MergeDiscovered(configured, discovered Provider) Provider {
	out := discovered
	out.Endpoints = discovered.Endpoints.overlay(configured.Endpoints)
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
