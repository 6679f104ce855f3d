package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// authFailure is a rejected authorization request: an HTML error page when the
// redirect_uri cannot be trusted (unknown client, unregistered redirect_uri), as
// at LinkedIn, otherwise an error redirect back to the client.
type authFailure struct {
	page    bool
	title   string
	details []string
	code    string // redirect: error
	desc    string // redirect: error_description; page: the message
}

// LinkedIn's cancellation descriptions.
const (
	descCancelledLogin     = "The user cancelled LinkedIn login"
	descCancelledAuthorize = "The user cancelled the authorization"
)

// pkceValue is RFC 7636's code_verifier / code_challenge alphabet and length.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s.bump(func(st *Stats) { st.AuthorizationRequests++ })
	req, fail := s.validateAuthorization(r.URL.Query())
	if fail != nil {
		if fail.page {
			renderError(w, http.StatusBadRequest, fail.title, fail.desc, fail.details...)
			return
		}
		s.redirectError(w, r, req, fail.code, fail.desc, http.StatusFound)
		return
	}
	if s.Scenario() == UserCancel {
		s.bump(func(st *Stats) { st.Cancellations++ })
		s.redirectCancelled(w, r, req, "user_cancelled_login", descCancelledLogin, http.StatusFound)
		return
	}
	if s.cfg.autoConsent {
		s.redirectWithCode(w, r, req, http.StatusFound)
		return
	}
	idBytes, err := s.randomBytes(24)
	if err != nil {
		renderError(w, http.StatusInternalServerError, "Sandbox error", err.Error())
		return
	}
	p := &pendingAuthorization{id: base64.RawURLEncoding.EncodeToString(idBytes), req: req, createdAt: s.now()}
	s.mu.Lock()
	s.prune(p.createdAt)
	s.pending[p.id] = p
	s.mu.Unlock()
	renderPage(w, http.StatusOK, "login", loginPage{Title: "Sign in", ClientID: req.clientID, RequestID: p.id})
}

// validateAuthorization checks an authorization request in LinkedIn's order:
// client and redirect_uri first (failures there get a page), then the rest
// (failures there are redirected back with error, error_description and state).
func (s *Server) validateAuthorization(q url.Values) (authRequest, *authFailure) {
	req := authRequest{
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		nonce:       q.Get("nonce"),
	}
	lenient := s.cfg.compliance == ComplianceLenient
	strict := s.cfg.compliance == ComplianceStrict
	if req.clientID == "" {
		return req, &authFailure{page: true, title: "Invalid request", desc: `The "client_id" parameter is missing.`}
	}
	c, ok := s.clients[req.clientID]
	if !ok {
		return req, &authFailure{page: true, title: "Invalid client",
			desc:    fmt.Sprintf("The application %q is not registered.", req.clientID),
			details: []string{"Registered client ids: " + strings.Join(s.clientIDs(), ", ")}}
	}
	if req.redirectURI == "" {
		return req, &authFailure{page: true, title: "Invalid request", desc: `The "redirect_uri" parameter is missing.`}
	}
	mismatch := &authFailure{page: true, title: "Bummer, something went wrong",
		desc: "The redirect_uri does not match the registered value",
		details: []string{"Sent: " + req.redirectURI,
			"Registered: " + strings.Join(c.redirectURIs, ", "),
			"The match is exact: scheme, host, port, path and trailing slash."}}
	if s.Scenario() == RedirectMismatch {
		return req, mismatch
	}
	if !c.allowsRedirect(req.redirectURI) && !(lenient && absoluteHTTP(req.redirectURI)) {
		return req, mismatch
	}

	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return req, &authFailure{code: "invalid_request", desc: `A required parameter "response_type" is missing`}
	default:
		return req, &authFailure{code: "unsupported_response_type", desc: fmt.Sprintf(`response_type %q is not supported; use "code"`, rt)}
	}

	scope := q.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return req, &authFailure{code: "invalid_request", desc: `You need to pass the "scope" parameter`}
	}
	req.scopes = parseScopes(scope)
	known := knownScopes()
	for _, sc := range req.scopes {
		if _, ok := known[sc]; ok {
			continue
		}
		code := "unauthorized_scope_error"
		if strict {
			code = "invalid_scope"
		}
		return req, &authFailure{code: code, desc: fmt.Sprintf("Scope %q is not authorized for your application", sc)}
	}

	req.challenge = q.Get("code_challenge")
	req.challengeMethod = q.Get("code_challenge_method")
	switch {
	case req.challenge == "" && req.challengeMethod != "":
		return req, &authFailure{code: "invalid_request", desc: "code_challenge_method was sent without code_challenge"}
	case req.challenge == "" && c.public():
		return req, &authFailure{code: "invalid_request", desc: "code_challenge is required: this client has no secret, so it must use PKCE"}
	case req.challenge != "":
		if req.challengeMethod == "" {
			req.challengeMethod = "plain" // RFC 7636 section 4.3 default
		}
		if req.challengeMethod != "S256" && req.challengeMethod != "plain" {
			return req, &authFailure{code: "invalid_request", desc: fmt.Sprintf("code_challenge_method %q is not supported; use S256 or plain", req.challengeMethod)}
		}
		if strict && !pkceValue.MatchString(req.challenge) {
			return req, &authFailure{code: "invalid_request", desc: "code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]"}
		}
	}
	return req, nil
}

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (s *Server) clientIDs() []string {
	ids := make([]string, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// redirectWithCode issues a code for req and sends the browser back with it.
func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, status int) {
	code, err := s.newOpaque(codeBytes)
	if err != nil {
		renderError(w, http.StatusInternalServerError, "Sandbox error", err.Error())
		return
	}
	now := s.now()
	s.mu.Lock()
	s.prune(now)
	s.codes[code] = &authCode{req: req, issuedAt: now, expiresAt: now.Add(AuthorizationCodeTTL)}
	s.stats.CodesIssued++
	s.mu.Unlock()
	s.redirectBack(w, r, req, url.Values{"code": {code}}, status)
}

// redirectCancelled answers a cancellation: LinkedIn's user_cancelled_* codes,
// or RFC 6749's access_denied in strict mode.
func (s *Server) redirectCancelled(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string, status int) {
	if s.cfg.compliance == ComplianceStrict {
		code = "access_denied"
	}
	s.redirectError(w, r, req, code, desc, status)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string, status int) {
	s.redirectBack(w, r, req, url.Values{"error": {code}, "error_description": {desc}}, status)
}

// redirectBack sends the browser to the client's redirect_uri with params,
// state, and (strict mode, RFC 9207) iss.
func (s *Server) redirectBack(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values, status int) {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		renderError(w, http.StatusBadRequest, "Invalid redirect_uri", "The redirect_uri is not a valid URL.", err.Error())
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	if s.cfg.compliance == ComplianceStrict {
		q.Set("iss", s.issuerFor(r))
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), status)
}

// findPending reads a login or consent form and finds its pending request,
// answering with an error page when there is none.
func (s *Server) findPending(w http.ResponseWriter, r *http.Request) (*pendingAuthorization, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		renderError(w, http.StatusBadRequest, "Invalid form", "The form could not be read.", err.Error())
		return nil, false
	}
	id := r.PostForm.Get("request_id")
	now := s.now()
	s.mu.Lock()
	s.prune(now)
	p := s.pending[id]
	if p != nil && now.Sub(p.createdAt) > LoginPageTTL {
		delete(s.pending, id)
		p = nil
	}
	s.mu.Unlock()
	if p == nil {
		renderError(w, http.StatusBadRequest, "This page has expired",
			"This sign-in page has expired or was already used. Start again from the application.",
			fmt.Sprintf("Sign-in pages stay usable for %v.", LoginPageTTL))
		return nil, false
	}
	return p, true
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	p, ok := s.findPending(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.mu.Lock()
		delete(s.pending, p.id)
		s.stats.Cancellations++
		s.mu.Unlock()
		s.redirectCancelled(w, r, p.req, "user_cancelled_login", descCancelledLogin, http.StatusSeeOther)
		return
	}
	key, password := r.PostForm.Get("session_key"), r.PostForm.Get("session_password")
	if strings.TrimSpace(key) == "" || password == "" {
		renderPage(w, http.StatusBadRequest, "login", loginPage{Title: "Sign in", ClientID: p.req.clientID,
			RequestID: p.id, SessionKey: key, Error: "Enter an email (or phone) and a password: any non-empty values work."})
		return
	}
	s.mu.Lock()
	p.signedIn = true
	s.stats.Logins++
	s.mu.Unlock()
	known := knownScopes()
	lines := make([]scopeLine, 0, len(p.req.scopes))
	for _, sc := range p.req.scopes {
		lines = append(lines, scopeLine{Name: sc, Text: known[sc]})
	}
	renderPage(w, http.StatusOK, "consent", consentPage{Title: "Allow access", ClientID: p.req.clientID,
		RequestID: p.id, RedirectURI: p.req.redirectURI, Scopes: lines})
}

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	p, ok := s.findPending(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	signedIn := p.signedIn
	if signedIn {
		delete(s.pending, p.id) // a consent page answers once
	}
	s.mu.Unlock()
	if !signedIn {
		renderError(w, http.StatusBadRequest, "Sign in first", "This authorization request has not been signed in yet.")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.bump(func(st *Stats) { st.Cancellations++ })
		s.redirectCancelled(w, r, p.req, "user_cancelled_authorize", descCancelledAuthorize, http.StatusSeeOther)
		return
	}
	s.bump(func(st *Stats) { st.Consents++ })
	s.redirectWithCode(w, r, p.req, http.StatusSeeOther)
}
