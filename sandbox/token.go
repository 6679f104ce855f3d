package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// tokenResponse is the token endpoint's answer, fields in LinkedIn's order.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope,omitempty"`
	TokenType             string `json:"token_type"`
	IDToken               string `json:"id_token,omitempty"`
}

// Opaque value sizes in random bytes; with the "AQ" prefix tokens are 130
// characters and codes 88, in LinkedIn's range.
const (
	tokenBytes = 96
	codeBytes  = 64
)

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.TokenRequests++ })
	resp, e := s.serveToken(w, r)
	if e != nil {
		s.bump(func(st *Stats) { st.TokenErrors++ })
		s.writeOAuthError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) (tokenResponse, *oauthError) {
	form, e := s.readForm(w, r)
	if e != nil {
		return tokenResponse{}, e
	}
	grant := form.Get("grant_type")
	switch grant {
	case "authorization_code", "refresh_token", "client_credentials":
	case "":
		return tokenResponse{}, missingParam("grant_type")
	default:
		return tokenResponse{}, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			desc: fmt.Sprintf("grant_type %q is not supported; use authorization_code, refresh_token or client_credentials", grant)}
	}
	v := vocabulary{s.cfg.compliance}
	if s.Scenario() == BadSecret {
		_, _, basic := r.BasicAuth()
		return tokenResponse{}, v.badClient(basic)
	}
	c, e := s.tokenEndpointClient(r, form)
	if e != nil {
		return tokenResponse{}, e
	}
	switch grant {
	case "authorization_code":
		return s.grantAuthorizationCode(r, c, form)
	case "refresh_token":
		return s.grantRefresh(c, form)
	default:
		return s.grantClientCredentials(c, form)
	}
}

// readForm reads a form-encoded body. LinkedIn also reads parameters from the
// query string; strict mode takes the body only, as RFC 6749 requires.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest(fmt.Sprintf("Content-Type must be application/x-www-form-urlencoded, not %q", r.Header.Get("Content-Type")))
	}
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("the request body could not be read as a form: " + err.Error())
	}
	if s.cfg.compliance != ComplianceStrict {
		return r.Form, nil
	}
	for _, p := range []string{"client_secret", "code", "code_verifier", "refresh_token", "token"} {
		if r.URL.Query().Has(p) {
			return nil, invalidRequest(fmt.Sprintf("%s was sent in the URL; send it in the request body", p))
		}
	}
	return r.PostForm, nil
}

// authFault is why client authentication failed; each endpoint words it its own way.
type authFault int

const (
	faultNone authFault = iota
	faultConflict
	faultMissingID
	faultUnknownClient
	faultMissingSecret
	faultBadSecret
)

// identifyClient reads client credentials from the form (LinkedIn's way) or
// HTTP Basic (RFC 6749 section 2.3.1; values are form-encoded inside Basic).
// A public client needs no secret; lenient mode accepts a wrong one.
func (s *Server) identifyClient(r *http.Request, form url.Values) (*client, bool, authFault, string) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	bid, bsecret, basic := r.BasicAuth()
	if basic {
		bid, bsecret = formUnescape(bid), formUnescape(bsecret)
		if id != "" && id != bid {
			return nil, basic, faultConflict, "client_id in the body does not match the HTTP Basic credentials"
		}
		if form.Has("client_secret") && s.cfg.compliance == ComplianceStrict {
			return nil, basic, faultConflict, "the client authenticated with HTTP Basic and client_secret in the body; use one method"
		}
		id, secret = bid, bsecret
	}
	if id == "" {
		return nil, basic, faultMissingID, ""
	}
	c, ok := s.clients[id]
	if !ok {
		return nil, basic, faultUnknownClient, ""
	}
	if c.public() {
		return c, basic, faultNone, ""
	}
	if secret == "" {
		return nil, basic, faultMissingSecret, ""
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 && s.cfg.compliance != ComplianceLenient {
		return nil, basic, faultBadSecret, ""
	}
	return c, basic, faultNone, ""
}

func formUnescape(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// tokenEndpointClient authenticates the client of the token and revocation
// endpoints.
func (s *Server) tokenEndpointClient(r *http.Request, form url.Values) (*client, *oauthError) {
	c, basic, fault, detail := s.identifyClient(r, form)
	v := vocabulary{s.cfg.compliance}
	switch fault {
	case faultConflict:
		return nil, invalidRequest(detail)
	case faultMissingID:
		return nil, missingParam("client_id")
	case faultUnknownClient, faultBadSecret:
		return nil, v.badClient(basic)
	case faultMissingSecret:
		return nil, v.missingSecret(basic)
	}
	return c, nil
}

func (s *Server) grantAuthorizationCode(r *http.Request, c *client, form url.Values) (tokenResponse, *oauthError) {
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	if code == "" {
		return tokenResponse{}, missingParam("code")
	}
	if redirectURI == "" {
		return tokenResponse{}, missingParam("redirect_uri")
	}
	values, err := s.newOpaqueValues(2)
	if err != nil {
		return tokenResponse{}, serverError(err)
	}
	now := s.now()
	at, rt, req, e := s.redeemCode(c, code, redirectURI, verifier, values, now)
	if e != nil {
		return tokenResponse{}, e
	}
	resp := tokenResponse{AccessToken: at.value, ExpiresIn: seconds(at.expiresAt.Sub(now)),
		Scope: formatScopes(at.scopes, s.cfg.compliance), TokenType: "Bearer"}
	if rt != nil {
		resp.RefreshToken, resp.RefreshTokenExpiresIn = rt.value, seconds(rt.expiresAt.Sub(now))
	}
	if hasScopes(req.scopes, "openid") {
		idt, err := s.signIDToken(s.issuerFor(r), req, now)
		if err != nil {
			return tokenResponse{}, serverError(err)
		}
		resp.IDToken = idt
	}
	return resp, nil
}

// redeemCode checks the code and issues the tokens, all under the lock so a
// code is redeemed at most once even by concurrent requests.
func (s *Server) redeemCode(c *client, code, redirectURI, verifier string, values []string, now time.Time) (*accessToken, *refreshToken, authRequest, *oauthError) {
	v := vocabulary{s.cfg.compliance}
	lenient := s.cfg.compliance == ComplianceLenient
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[code]
	if ac == nil {
		return nil, nil, authRequest{}, v.codeNotFound()
	}
	if s.scenario == CodeReuse {
		ac.used = true // as if a double submission had redeemed it a moment ago
		return nil, nil, authRequest{}, v.codeReused()
	}
	if ac.used && !lenient {
		if v.strict() {
			// RFC 6749 section 4.1.2: revoke what the code already bought.
			for _, t := range ac.tokens {
				t.revoked = true
			}
			if ac.refresh != nil {
				ac.refresh.revoke()
			}
		}
		return nil, nil, authRequest{}, v.codeReused()
	}
	if ac.req.clientID != c.id {
		return nil, nil, authRequest{}, v.codeMismatch("the authorization code was issued to another client")
	}
	if !now.Before(ac.expiresAt) {
		return nil, nil, authRequest{}, v.codeMismatch(fmt.Sprintf("the authorization code expired (codes live %v)", AuthorizationCodeTTL))
	}
	if ac.req.redirectURI != redirectURI && !lenient {
		return nil, nil, authRequest{}, v.codeMismatch("redirect_uri does not match the one in the authorization request")
	}
	if problem := pkceProblem(ac.req, verifier, v.strict()); problem != "" && !lenient {
		return nil, nil, authRequest{}, v.codeMismatch(problem)
	}
	ac.used = true
	at, rt := s.issueMemberTokens(c.id, ac.req.scopes, values, now)
	ac.tokens = append(ac.tokens, at)
	if rt != nil {
		ac.refresh = rt
	}
	s.stats.AuthorizationCodeGrants++
	return at, rt, ac.req, nil
}

// pkceProblem checks the code_verifier against the authorization request's
// challenge (RFC 7636 section 4.6); "" means it passes.
func pkceProblem(req authRequest, verifier string, strict bool) string {
	if req.challenge == "" {
		if verifier != "" && strict {
			return "code_verifier was sent but the authorization request had no code_challenge"
		}
		return ""
	}
	if verifier == "" {
		return "code_verifier is missing; the authorization request carried a code_challenge"
	}
	if strict && !pkceValue.MatchString(verifier) {
		return "code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-]"
	}
	computed := verifier
	if req.challengeMethod == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		computed = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(computed), []byte(req.challenge)) != 1 {
		return fmt.Sprintf("code_verifier does not match code_challenge (method %s)", req.challengeMethod)
	}
	return ""
}

// issueMemberTokens creates a 3-legged access token and, unless the scenario
// withholds it, a refresh token. As at LinkedIn, authorizing a different scope
// set revokes the client's earlier member tokens (and, through their refresh
// tokens, the ones refreshed from them). Called with s.mu held.
func (s *Server) issueMemberTokens(clientID string, scopes []string, values []string, now time.Time) (*accessToken, *refreshToken) {
	// All live member tokens of a client share one scope set, so only a change
	// of scope set has anything to revoke.
	ep := s.epochs[clientID]
	if ep == nil || !sameScopeSet(ep.scopes, scopes) {
		if ep != nil {
			for _, t := range ep.tokens {
				t.revoked = true
				if t.refresh != nil {
					t.refresh.revoke()
				}
			}
		}
		ep = &scopeEpoch{scopes: scopes}
		s.epochs[clientID] = ep
	}
	at := &accessToken{value: values[0], clientID: clientID, scopes: scopes, authType: "3L",
		createdAt: now, expiresAt: now.Add(s.cfg.accessTTL), authorizedAt: now}
	s.access[at.value] = at
	ep.tokens = append(ep.tokens, at)
	if s.scenario == NoRefreshToken {
		return at, nil
	}
	rt := &refreshToken{value: values[1], clientID: clientID, scopes: scopes, createdAt: now,
		expiresAt: now.Add(s.cfg.refreshTTL), authorizedAt: now, accessTokens: []*accessToken{at}}
	at.refresh = rt
	s.refresh[rt.value] = rt
	return at, rt
}

func (s *Server) grantRefresh(c *client, form url.Values) (tokenResponse, *oauthError) {
	v := vocabulary{s.cfg.compliance}
	value := form.Get("refresh_token")
	if value == "" {
		return tokenResponse{}, missingParam("refresh_token")
	}
	if s.Scenario() == NoRefreshToken {
		return tokenResponse{}, v.refreshNotAllowed()
	}
	values, err := s.newOpaqueValues(1)
	if err != nil {
		return tokenResponse{}, serverError(err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.refresh[value]
	if rt == nil || rt.clientID != c.id {
		return tokenResponse{}, v.badRefresh("refresh token not found")
	}
	switch refreshStatus(rt, now, s.scenario, false) {
	case statusRevoked:
		return tokenResponse{}, v.badRefresh("refresh token has been revoked")
	case statusExpired:
		return tokenResponse{}, v.badRefresh("refresh token expired at " + rt.expiresAt.UTC().Format(time.RFC3339))
	}
	// The refresh token's lifetime is not extended; the new access token dies
	// with it at the latest.
	exp := now.Add(s.cfg.accessTTL)
	if exp.After(rt.expiresAt) {
		exp = rt.expiresAt
	}
	at := &accessToken{value: values[0], clientID: c.id, scopes: rt.scopes, authType: "3L", createdAt: now,
		expiresAt: exp, authorizedAt: rt.authorizedAt, fromRefresh: true, refresh: rt}
	rt.accessTokens = append(rt.accessTokens, at)
	s.access[at.value] = at
	s.stats.RefreshGrants++
	resp := tokenResponse{AccessToken: at.value, ExpiresIn: seconds(exp.Sub(now)), RefreshToken: rt.value,
		RefreshTokenExpiresIn: seconds(rt.expiresAt.Sub(now)), TokenType: "Bearer"}
	if v.strict() {
		// LinkedIn's refresh response has no scope; RFC 6749 section 5.1 wants it
		// when it may differ from the request, and it costs nothing to send.
		resp.Scope = formatScopes(rt.scopes, s.cfg.compliance)
	}
	return resp, nil
}

func (s *Server) grantClientCredentials(c *client, form url.Values) (tokenResponse, *oauthError) {
	if c.public() {
		return tokenResponse{}, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client",
			desc: "client_credentials needs a confidential client (one with a client_secret)"}
	}
	values, err := s.newOpaqueValues(1)
	if err != nil {
		return tokenResponse{}, serverError(err)
	}
	scopes := parseScopes(form.Get("scope"))
	now := s.now()
	at := &accessToken{value: values[0], clientID: c.id, scopes: scopes, authType: "2L",
		createdAt: now, expiresAt: now.Add(ClientCredentialsTTL), authorizedAt: now}
	s.mu.Lock()
	s.access[at.value] = at
	s.stats.ClientCredentialsGrants++
	s.mu.Unlock()
	resp := tokenResponse{AccessToken: at.value, ExpiresIn: seconds(ClientCredentialsTTL), TokenType: "Bearer"}
	if s.cfg.compliance == ComplianceStrict && len(scopes) > 0 {
		resp.Scope = formatScopes(scopes, s.cfg.compliance)
	}
	return resp, nil
}

func (s *Server) newOpaqueValues(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		v, err := s.newOpaque(tokenBytes)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func serverError(err error) *oauthError {
	return &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: err.Error()}
}

// introspection is LinkedIn's introspection answer; the RFC 7662 members at the
// end are filled in strict mode only.
type introspection struct {
	Active       bool   `json:"active"`
	ClientID     string `json:"client_id,omitempty"`
	AuthorizedAt int64  `json:"authorized_at,omitempty"`
	CreatedAt    int64  `json:"created_at,omitempty"`
	Status       string `json:"status,omitempty"`
	ExpiresAt    int64  `json:"expires_at,omitempty"`
	Scope        string `json:"scope,omitempty"`
	AuthType     string `json:"auth_type,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
	Exp          int64  `json:"exp,omitempty"`
	Iat          int64  `json:"iat,omitempty"`
	Sub          string `json:"sub,omitempty"`
	Aud          string `json:"aud,omitempty"`
	Iss          string `json:"iss,omitempty"`
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.Introspections++ })
	resp, e := s.serveIntrospect(w, r)
	if e != nil {
		s.writeOAuthError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) (introspection, *oauthError) {
	strict := s.cfg.compliance == ComplianceStrict
	form, e := s.readForm(w, r)
	if e != nil {
		return introspection{}, e
	}
	var c *client
	if strict {
		if c, e = s.tokenEndpointClient(r, form); e != nil {
			return introspection{}, e
		}
	} else {
		cl, basic, fault, detail := s.identifyClient(r, form)
		switch fault {
		case faultConflict:
			return introspection{}, invalidRequest(detail)
		case faultMissingID, faultUnknownClient:
			return introspection{}, invalidRequest(msgInvalidClient)
		case faultMissingSecret, faultBadSecret:
			return introspection{}, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: msgInvalidSecret, basic: basic}
		}
		c = cl
	}
	value := form.Get("token")
	if value == "" {
		if strict {
			return introspection{}, missingParam("token")
		}
		return introspection{}, invalidRequest(msgInvalidClient)
	}

	now := s.now()
	// Lenient mode forgets revocations done through /revoke (not the scenario's).
	ignoreRevoked := s.cfg.compliance == ComplianceLenient
	s.mu.Lock()
	sc := s.scenario
	var out introspection
	var status tokenStatus
	var scopes []string
	var isAccess bool
	switch at, rt := s.access[value], s.refresh[value]; {
	case at != nil && at.clientID == c.id:
		status = accessStatus(at, now, sc, ignoreRevoked)
		scopes, isAccess = at.scopes, true
		out = introspection{ClientID: at.clientID, AuthorizedAt: at.authorizedAt.Unix(), CreatedAt: at.createdAt.Unix(),
			ExpiresAt: at.expiresAt.Unix(), AuthType: at.authType}
	case rt != nil && rt.clientID == c.id:
		status = refreshStatus(rt, now, sc, ignoreRevoked)
		scopes = rt.scopes
		out = introspection{ClientID: rt.clientID, AuthorizedAt: rt.authorizedAt.Unix(), CreatedAt: rt.createdAt.Unix(),
			ExpiresAt: rt.expiresAt.Unix(), AuthType: "3L"}
	default:
		s.mu.Unlock()
		return introspection{Active: false}, nil // unknown, or another client's: RFC 7662 says inactive
	}
	s.mu.Unlock()

	out.Active = status == statusActive
	out.Status = string(status)
	if out.AuthType == "3L" {
		out.Scope = formatScopes(scopes, s.cfg.compliance) // LinkedIn: 3-legged tokens only
	}
	if !strict {
		return out, nil
	}
	if !out.Active {
		return introspection{Active: false}, nil // RFC 7662 section 2.2: nothing more about inactive tokens
	}
	out.Scope = formatScopes(scopes, s.cfg.compliance)
	out.Exp, out.Iat, out.Aud, out.Iss = out.ExpiresAt, out.CreatedAt, c.id, s.issuerFor(r)
	if isAccess {
		out.TokenType = "Bearer"
	}
	if out.AuthType == "3L" {
		out.Sub = subjectFor(c.id)
	}
	return out, nil
}

// handleRevoke revokes an access or refresh token (RFC 7009). Unknown tokens,
// and tokens of other clients, get 200 too, so the endpoint reveals nothing.
// Revoking a refresh token also revokes the access tokens issued from it.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.Revocations++ })
	form, e := s.readForm(w, r)
	if e == nil {
		var c *client
		if c, e = s.tokenEndpointClient(r, form); e == nil {
			value := form.Get("token")
			if value == "" {
				e = missingParam("token")
			} else {
				s.revokeToken(c.id, value)
			}
		}
	}
	if e != nil {
		s.writeOAuthError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revokeToken(clientID, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at := s.access[value]; at != nil && at.clientID == clientID {
		at.revoked = true
		return
	}
	if rt := s.refresh[value]; rt != nil && rt.clientID == clientID {
		rt.revoke()
	}
}
