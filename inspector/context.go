package inspector

import (
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// DefaultSkewTolerance is the clock difference tolerated before clock-skew is diagnosed: go-jose
// and most ID-token validators allow one minute of leeway, so more than that breaks them.
const DefaultSkewTolerance = time.Minute

// Context is what the client knows beside the observations: its configuration, its clock and its
// tokens. Every field is optional; rules use what is there.
type Context struct {
	Provider oauthflow.Provider
	Client   oauthflow.Client
	// Now is the local clock at diagnosis time (zero means time.Now; tests set it).
	Now time.Time
	// Token is the newest token the client holds.
	Token *oauthflow.Token
	// State is the token state; when nil and Token is set, it is computed.
	State *State
	// Introspection is the server's view of the access token.
	Introspection *IntrospectionView
	// IDToken is the ID token's verification (signature and claim checks).
	IDToken *Verification
	// ClaimedIssuer is the issuer the discovery document states.
	ClaimedIssuer string
	// Authorization is what the authorization request sent (redirect URI, PKCE, scopes).
	Authorization *Authorization
	// CodeIssuedAt is when the authorization code came back, to tell an expired code.
	CodeIssuedAt time.Time
	// SkewTolerance overrides DefaultSkewTolerance.
	SkewTolerance time.Duration
	// RequestedScopes overrides the scopes taken from Authorization or Client.
	RequestedScopes []string
}

// expectedIssuer is the issuer answers must carry, by oauthflow.FlowResult.ExpectedIssuer's rule:
// the configured one, else the one discovery stated.
func (c *Context) expectedIssuer() string {
	fr := oauthflow.FlowResult{Provider: c.Provider, ClaimedIssuer: c.ClaimedIssuer}
	return fr.ExpectedIssuer()
}

func (c *Context) skewTolerance() time.Duration {
	if c.SkewTolerance > 0 {
		return c.SkewTolerance
	}
	return DefaultSkewTolerance
}

func (c *Context) requestedScopes() []string {
	switch {
	case len(c.RequestedScopes) > 0:
		return c.RequestedScopes
	case c.Authorization != nil && len(c.Authorization.Scopes) > 0:
		return c.Authorization.Scopes
	case len(c.Client.Scopes) > 0:
		return c.Client.Scopes
	}
	return c.Provider.DefaultScopes
}

// Authorization is what an authorization request sent, as far as diagnosing needs it: no state,
// nonce or verifier, only whether they were sent.
type Authorization struct {
	RedirectURI string   `json:"redirect_uri"`
	Scopes      []string `json:"scopes"`
	PKCE        bool     `json:"pkce"`       // a code_challenge was sent
	Nonce       bool     `json:"nonce_sent"` // a nonce was sent
}

// AuthorizationOf is what diagnosing needs of an authorization request.
func AuthorizationOf(ar *oauthflow.AuthRequest) *Authorization {
	if ar == nil {
		return nil
	}
	return &Authorization{RedirectURI: ar.RedirectURI, Scopes: ar.Scopes, PKCE: ar.Challenge != "", Nonce: ar.Nonce != ""}
}

// isLinkedIn recognises the LinkedIn preset and anything built on it (the sandbox's
// "linkedin-sandbox"), whose introspection has LinkedIn's shape.
func (c *Context) isLinkedIn() bool {
	return strings.HasPrefix(c.Provider.Name, "linkedin") || c.Provider.Introspection == oauthflow.IntrospectionLinkedIn
}

// pkceSent says whether the authorization request carried a code_challenge, when known.
func (c *Context) pkceSent() (sent, known bool) {
	if c.Authorization != nil {
		return c.Authorization.PKCE, true
	}
	return false, false
}

// grantedScopes returns the scopes the server granted and where that came from; ok is false when
// no answer said (RFC 6749 §5.1: an absent scope means the requested one was granted).
func (c *Context) grantedScopes() (scopes []string, source string, ok bool) {
	if c.Token != nil && c.Token.Scope != "" {
		return oauthflow.SplitScopes(c.Token.Scope), "token response scope", true
	}
	if c.Introspection != nil && len(c.Introspection.Scopes) > 0 {
		return c.Introspection.Scopes, "introspection scope", true
	}
	return nil, "", false
}

func (c *Context) state() *State {
	if c.State != nil {
		return c.State
	}
	if c.Token == nil {
		return nil
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	s := TokenState(c.Token, now, StateOptions{Introspection: c.Introspection})
	c.State = &s
	return c.State
}
