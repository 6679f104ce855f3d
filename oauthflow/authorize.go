package oauthflow

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// AuthRequest is one authorization request: the URL to send the user to and the values the
// callback and the code exchange must match. Verifier, State and Nonce are secrets of this run.
type AuthRequest struct {
	URL         string
	State       string
	Nonce       string // set when openid is requested
	Verifier    string // PKCE code_verifier; empty without PKCE
	Challenge   string // PKCE code_challenge (S256)
	RedirectURI string
	Scopes      []string
}

// randomToken returns n random bytes, base64url without padding (43 chars for 32 bytes, within
// RFC 7636's 43..128 verifier length).
func randomToken(rd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// S256Challenge is RFC 7636's code_challenge for a verifier.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauth2Config adapts our configuration to golang.org/x/oauth2.
func (r *Runner) oauth2Config() *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if m := r.authMethod(); m == AuthPost || m == AuthNone {
		style = oauth2.AuthStyleInParams
	}
	secret := r.cfg.Client.Secret
	if r.authMethod() == AuthNone {
		secret = ""
	}
	return &oauth2.Config{
		ClientID:     r.cfg.Client.ID,
		ClientSecret: secret,
		RedirectURL:  r.cfg.Client.RedirectURI,
		Scopes:       r.scopes(),
		Endpoint: oauth2.Endpoint{
			AuthURL:   r.cfg.Provider.Endpoints.Authorization,
			TokenURL:  r.cfg.Provider.Endpoints.Token,
			AuthStyle: style,
		},
	}
}

func (r *Runner) scopes() []string {
	if len(r.cfg.Client.Scopes) > 0 {
		return r.cfg.Client.Scopes
	}
	return r.cfg.Provider.DefaultScopes
}

// AuthorizationRequest builds the authorization URL with a fresh state, PKCE S256 (unless the client
// turned it off) and a nonce when openid is requested. extra adds parameters (prompt=consent, say).
func (r *Runner) AuthorizationRequest(extra url.Values) (*AuthRequest, error) {
	if err := CheckURL(r.cfg.Provider.Endpoints.Authorization); err != nil {
		return nil, &Error{Step: StepAuthorize, Kind: KindConfig, Code: CodeBadURL, Description: "authorization endpoint: " + err.Error(), Hint: "set --auth-url or --issuer"}
	}
	ar := &AuthRequest{RedirectURI: r.cfg.Client.RedirectURI, Scopes: r.scopes()}
	var err error
	if ar.State, err = randomToken(r.random, 16); err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{}
	if r.cfg.Client.PKCE {
		if ar.Verifier, err = randomToken(r.random, 32); err != nil {
			return nil, err
		}
		ar.Challenge = S256Challenge(ar.Verifier)
		opts = append(opts, oauth2.S256ChallengeOption(ar.Verifier))
	}
	if hasScope(ar.Scopes, "openid") {
		if ar.Nonce, err = randomToken(r.random, 16); err != nil {
			return nil, err
		}
		opts = append(opts, oauth2.SetAuthURLParam("nonce", ar.Nonce))
	}
	for k, vs := range extra {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	// url.Values encodes spaces as '+'; %20 is what providers document and every decoder accepts.
	// A literal '+' was already escaped to %2B, so in the query this touches only spaces; the
	// endpoint's path is left alone, where '+' is a literal plus.
	full := r.oauth2Config().AuthCodeURL(ar.State, opts...)
	if base, query, ok := strings.Cut(full, "?"); ok {
		full = base + "?" + strings.ReplaceAll(query, "+", "%20")
	}
	ar.URL = full
	return ar, nil
}
