package sandbox

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func (s *Server) setSigningKey(key *rsa.PrivateKey) error {
	if err := key.Validate(); err != nil {
		return fmt.Errorf("invalid RSA key: %w", err)
	}
	if key.N.BitLen() < 2048 {
		return fmt.Errorf("RSA key has %d bits; use at least 2048", key.N.BitLen())
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return fmt.Errorf("encode JWKS: %w", err)
	}
	s.key, s.kid, s.jwksJSON = key, pub.KeyID, set
	return nil
}

// idTokenClaims are the claims LinkedIn puts in its id_token.
type idTokenClaims struct {
	jwt.Claims
	Nonce         string  `json:"nonce,omitempty"`
	Name          string  `json:"name,omitempty"`
	GivenName     string  `json:"given_name,omitempty"`
	FamilyName    string  `json:"family_name,omitempty"`
	Picture       string  `json:"picture,omitempty"`
	Email         string  `json:"email,omitempty"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
	Locale        *locale `json:"locale,omitempty"`
}

// locale is LinkedIn's locale: an object, not the OIDC string, in both the
// id_token and userinfo. Clients that expect a string trip over it.
type locale struct {
	Country  string `json:"country"`
	Language string `json:"language"`
}

// signIDToken returns an RS256 id_token for the member as clientID sees them.
func (s *Server) signIDToken(issuer string, req authRequest, now time.Time) (string, error) {
	m := demoMember()
	claims := idTokenClaims{
		Claims: jwt.Claims{
			Issuer:   issuer,
			Subject:  subjectFor(req.clientID),
			Audience: jwt.Audience{req.clientID},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(IDTokenTTL)),
		},
		Nonce: req.nonce,
	}
	if hasScopes(req.scopes, "profile") {
		claims.Name = m.givenName + " " + m.familyName
		claims.GivenName, claims.FamilyName = m.givenName, m.familyName
		claims.Picture = s.pictureURL(issuer)
		claims.Locale = &locale{Country: m.country, Language: m.language}
	}
	if hasScopes(req.scopes, "email") {
		verified := true
		claims.Email, claims.EmailVerified = m.email, &verified
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("sandbox: id_token signer: %w", err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sandbox: sign id_token: %w", err)
	}
	return tok, nil
}

// pictureURL points at the sandbox itself so nothing ever leaves the machine.
func (s *Server) pictureURL(issuer string) string {
	return issuer[:len(issuer)-len("/oauth")] + "/media/profile-picture"
}

// providerMetadata is the OIDC discovery document; the strict-only fields are
// RFC 8414 and RFC 9207 additions LinkedIn's real document lacks.
type providerMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
}

func (s *Server) metadata(r *http.Request) providerMetadata {
	base := s.baseFor(r)
	c := s.cfg.compliance
	md := providerMetadata{
		Issuer:                            base + "/oauth",
		AuthorizationEndpoint:             base + "/oauth/v2/authorization",
		TokenEndpoint:                     base + "/oauth/v2/accessToken",
		UserinfoEndpoint:                  base + "/v2/userinfo",
		JWKSURI:                           base + "/oauth/openid/jwks",
		ResponseTypesSupported:            []string{"code"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ScopesSupported:                   []string{"openid", "profile", "email"},
		ClaimsSupported:                   []string{"iss", "aud", "iat", "exp", "sub", "name", "given_name", "family_name", "picture", "email", "email_verified", "locale"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic", "none"},
		CodeChallengeMethodsSupported:     []string{"S256", "plain"},
	}
	switch c {
	case ComplianceStrict:
		md.IntrospectionEndpoint = base + "/oauth/v2/introspectToken"
		md.RevocationEndpoint = base + "/oauth/v2/revoke"
		md.GrantTypesSupported = []string{"authorization_code", "refresh_token", "client_credentials"}
		md.AuthorizationResponseISSSupported = true
		md.RevocationAuthMethodsSupported = []string{"client_secret_post", "client_secret_basic", "none"}
		md.IntrospectionAuthMethodsSupported = []string{"client_secret_post", "client_secret_basic"}
	case ComplianceLenient:
		md.CodeChallengeMethodsSupported = nil
	}
	return md
}

// handleDiscovery serves /oauth/.well-known/openid-configuration. As at
// LinkedIn, the introspection and revocation endpoints are not listed except
// in strict mode.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.DiscoveryRequests++ })
	writeMetadata(w, s.metadata(r))
}

// handleASMetadata serves RFC 8414's path form of the issuer's metadata, in
// strict mode only (LinkedIn has none).
func (s *Server) handleASMetadata(w http.ResponseWriter, r *http.Request) {
	if s.cfg.compliance != ComplianceStrict {
		http.NotFound(w, r)
		return
	}
	s.bump(func(st *Stats) { st.DiscoveryRequests++ })
	writeMetadata(w, s.metadata(r))
}

func writeMetadata(w http.ResponseWriter, md providerMetadata) {
	body, err := json.Marshal(md)
	if err != nil {
		http.Error(w, "sandbox: encode metadata: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(body)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.JWKSRequests++ })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(s.jwksJSON)
}

// bump updates the counters under the lock.
func (s *Server) bump(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}
