package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Token is a token response with every field the provider sent and absolute expiry times computed
// at receipt. It holds secrets: redact before showing or storing outside the token store.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// Scope is the granted scope as sent; empty when the response had none (RFC 6749 §5.1: then
	// the granted scope equals the requested one).
	Scope     string `json:"scope,omitempty"`
	ExpiresIn int64  `json:"expires_in,omitempty"`
	// RefreshTokenExpiresIn is LinkedIn's refresh_token_expires_in: the refresh token's remaining
	// lifetime, which a refresh does not restart.
	RefreshTokenExpiresIn int64     `json:"refresh_token_expires_in,omitempty"`
	ReceivedAt            time.Time `json:"received_at"`
	Expiry                time.Time `json:"expiry,omitzero"`         // zero when the server did not say
	RefreshExpiry         time.Time `json:"refresh_expiry,omitzero"` // zero when unknown
	// Raw is the response body's fields, known and unknown alike.
	Raw map[string]json.RawMessage `json:"raw,omitempty"`
}

// GrantedScopes splits Scope on spaces and commas.
func (t *Token) GrantedScopes() []string { return SplitScopes(t.Scope) }

// Extra returns a field of the raw response decoded as a string or number text.
func (t *Token) Extra(key string) string {
	v, ok := t.Raw[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(v))
}

// ParseToken reads a token endpoint's JSON body. Numbers sent as strings are accepted, as some
// servers do that.
func ParseToken(body []byte, receivedAt time.Time) (*Token, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	t := &Token{Raw: raw, ReceivedAt: receivedAt}
	str := func(k string) string {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	num := func(k string) int64 { return jsonInt(raw, k) }
	t.AccessToken = str("access_token")
	t.TokenType = str("token_type")
	t.RefreshToken = str("refresh_token")
	t.IDToken = str("id_token")
	t.Scope = str("scope")
	t.ExpiresIn = num("expires_in")
	t.RefreshTokenExpiresIn = num("refresh_token_expires_in")
	if t.ExpiresIn > 0 {
		t.Expiry = receivedAt.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	if t.RefreshTokenExpiresIn > 0 {
		t.RefreshExpiry = receivedAt.Add(time.Duration(t.RefreshTokenExpiresIn) * time.Second)
	}
	return t, nil
}

// ExchangeCode trades the authorization code for tokens, sending the PKCE verifier when one was used.
func (r *Runner) ExchangeCode(ctx context.Context, ar *AuthRequest, cb *Callback) (*Token, error) {
	ctx, col := r.begin(ctx, StepExchange)
	if cb == nil || cb.Code == "" {
		return nil, &Error{Step: StepExchange, Kind: KindValidation, Code: CodeMissingCode, Description: "no authorization code to exchange"}
	}
	var opts []oauth2.AuthCodeOption
	if ar != nil && ar.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(ar.Verifier))
	}
	conf := r.oauth2Config()
	if ar != nil && ar.RedirectURI != "" {
		conf.RedirectURL = ar.RedirectURI
	}
	_, err := conf.Exchange(r.oauthContext(ctx), cb.Code, opts...)
	tok, terr := r.tokenFrom(StepExchange, col, err)
	return tok, terr
}

// Refresh uses a refresh token. If the provider rotates refresh tokens, the result carries the new
// one; if it sends none, the result keeps RefreshToken empty and callers keep the old one.
func (r *Runner) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	ctx, col := r.begin(ctx, StepRefresh)
	if refreshToken == "" {
		return nil, &Error{Step: StepRefresh, Kind: KindUnavailable, Code: CodeNoRefreshToken,
			Description: "no refresh token was issued, so the access token cannot be renewed without the user",
			Hint:        "request offline_access (OIDC providers) or, on LinkedIn, have the app approved for programmatic refresh tokens; until then re-authorize when the access token expires"}
	}
	if r.cfg.Provider.Endpoints.Token == "" {
		return nil, &Error{Step: StepRefresh, Kind: KindConfig, Code: CodeNoEndpoint, Description: "no token endpoint", Hint: "set --token-url or --issuer"}
	}
	src := r.oauth2Config().TokenSource(r.oauthContext(ctx), &oauth2.Token{RefreshToken: refreshToken})
	_, err := src.Token()
	tok, terr := r.tokenFrom(StepRefresh, col, err)
	return tok, terr
}

// ClientCredentials gets an application token (two-legged, no user).
func (r *Runner) ClientCredentials(ctx context.Context, scopes []string) (*Token, error) {
	ctx, col := r.begin(ctx, StepClientCreds)
	style := oauth2.AuthStyleInHeader
	if m := r.authMethod(); m == AuthPost || m == AuthNone {
		style = oauth2.AuthStyleInParams
	}
	conf := clientcredentials.Config{ClientID: r.cfg.Client.ID, ClientSecret: r.cfg.Client.Secret,
		TokenURL: r.cfg.Provider.Endpoints.Token, Scopes: scopes, AuthStyle: style}
	_, err := conf.Token(r.oauthContext(ctx))
	tok, terr := r.tokenFrom(StepClientCreds, col, err)
	return tok, terr
}

// oauthContext hands our capturing client to golang.org/x/oauth2.
func (r *Runner) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, r.client)
}

// tokenFrom builds the Token from the exchange as received, so every field the provider sent is
// kept and errors are typed from the real body rather than from x/oauth2's summary.
func (r *Runner) tokenFrom(step string, col *httplog.Collector, oauthErr error) (*Token, error) {
	ex := col.Last()
	if ex == nil {
		if oauthErr == nil {
			oauthErr = errors.New("no request was made")
		}
		return nil, &Error{Step: step, Kind: KindConfig, Code: CodeBadURL, Description: oauthErr.Error(), Err: oauthErr}
	}
	if ex.Response == nil {
		// The client's own error says more than the transport's: an http.Client timeout reaches the
		// transport as a bare "request canceled" and only the client's *url.Error reports Timeout().
		cause := ex.Err
		if oauthErr != nil || cause == nil {
			cause = oauthErr
		}
		return nil, transportError(step, ex.Request.URL, cause)
	}
	resp := ex.Response
	if resp.Status < 200 || resp.Status > 299 {
		return nil, responseError(step, resp.Status, resp.Header, resp.Body, r.now())
	}
	fake := &http.Response{StatusCode: resp.Status, Header: resp.Header}
	if _, err := decodeJSONObject(step, ex.Request.URL, fake, resp.Body); err != nil {
		return nil, err
	}
	tok, err := ParseToken(resp.Body, ex.Started.Add(ex.Duration))
	if err != nil {
		return nil, &Error{Step: step, Kind: KindFormat, Code: CodeNotJSON, Status: resp.Status, Body: cut(resp.Body), Description: err.Error(), Err: err}
	}
	if tok.AccessToken == "" {
		return nil, &Error{Step: step, Kind: KindFormat, Code: CodeMissingField, Status: resp.Status, Header: resp.Header.Clone(), Body: cut(resp.Body),
			Description: "the token response has no access_token", Hint: "the provider answered 2xx without a token: check the token endpoint URL"}
	}
	return tok, nil
}

// Revoke asks the provider to revoke a token (RFC 7009). hint is "access_token" or "refresh_token".
func (r *Runner) Revoke(ctx context.Context, token, hint string) error {
	ctx, _ = r.begin(ctx, StepRevoke)
	ep := r.cfg.Provider.Endpoints.Revocation
	if ep == "" {
		return &Error{Step: StepRevoke, Kind: KindUnavailable, Code: CodeNoEndpoint,
			Description: "no revocation endpoint is known", Hint: "set --revoke-url; without one, tokens can only be dropped locally"}
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := r.newForm(ctx, ep, form)
	if err != nil {
		return err
	}
	resp, body, err := r.do(ctx, StepRevoke, req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return responseError(StepRevoke, resp.StatusCode, resp.Header, body, r.now())
	}
	return nil
}

// Introspection is an introspection answer: RFC 7662 fields plus LinkedIn's introspectToken ones.
type Introspection struct {
	Active    bool   `json:"active"`
	Status    string `json:"status,omitempty"` // LinkedIn: active | expired | revoked
	Scope     string `json:"scope,omitempty"`  // space-separated (RFC 7662) or comma-separated (LinkedIn)
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       any    `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Nbf       int64  `json:"nbf,omitempty"`
	// LinkedIn's fields (epoch seconds).
	ExpiresAt    int64  `json:"expires_at,omitempty"`
	CreatedAt    int64  `json:"created_at,omitempty"`
	AuthorizedAt int64  `json:"authorized_at,omitempty"`
	AuthType     string `json:"auth_type,omitempty"`
	// Raw keeps every field, known or not.
	Raw map[string]json.RawMessage `json:"raw,omitempty"`
}

// Introspect asks the provider about a token (RFC 7662; LinkedIn's introspectToken has the same request).
func (r *Runner) Introspect(ctx context.Context, token, hint string) (*Introspection, error) {
	return r.introspect(ctx, StepIntrospect, token, hint)
}

// IntrospectAs is Introspect recorded under another step name (e.g. after revocation).
func (r *Runner) IntrospectAs(ctx context.Context, step, token, hint string) (*Introspection, error) {
	return r.introspect(ctx, step, token, hint)
}

func (r *Runner) introspect(ctx context.Context, step, token, hint string) (*Introspection, error) {
	ctx, _ = r.begin(ctx, step)
	ep := r.cfg.Provider.Endpoints.Introspection
	if ep == "" {
		return nil, &Error{Step: step, Kind: KindUnavailable, Code: CodeNoEndpoint,
			Description: "no introspection endpoint is known", Hint: "set --introspect-url"}
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := r.newForm(ctx, ep, form)
	if err != nil {
		return nil, err
	}
	resp, body, err := r.do(ctx, step, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(step, resp.StatusCode, resp.Header, body, r.now())
	}
	raw, err := decodeJSONObject(step, ep, resp, body)
	if err != nil {
		return nil, err
	}
	in, err := ParseIntrospection(raw)
	if err != nil {
		return nil, &Error{Step: step, Kind: KindFormat, Code: CodeMissingField, Status: resp.StatusCode, Body: cut(body), Description: err.Error(), Err: err}
	}
	return in, nil
}

// ParseIntrospection reads an introspection body leniently: numbers as strings and a missing
// "active" with LinkedIn's "status" are both accepted.
func ParseIntrospection(raw map[string]json.RawMessage) (*Introspection, error) {
	in := &Introspection{Raw: raw}
	b, _ := json.Marshal(raw)
	type lenient struct {
		Active    *bool  `json:"active"`
		Status    string `json:"status"`
		Scope     any    `json:"scope"`
		ClientID  string `json:"client_id"`
		Username  string `json:"username"`
		TokenType string `json:"token_type"`
		Sub       string `json:"sub"`
		Aud       any    `json:"aud"`
		Iss       string `json:"iss"`
		AuthType  string `json:"auth_type"`
	}
	var l lenient
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("introspection answer has fields of the wrong type: %w", err)
	}
	switch {
	case l.Active != nil:
		in.Active = *l.Active
	case l.Status != "":
		in.Active = strings.EqualFold(l.Status, "active")
	default:
		return nil, errors.New(`introspection answer has neither "active" nor "status"`)
	}
	in.Status, in.ClientID, in.Username, in.TokenType, in.Sub, in.Aud, in.Iss, in.AuthType =
		l.Status, l.ClientID, l.Username, l.TokenType, l.Sub, l.Aud, l.Iss, l.AuthType
	switch s := l.Scope.(type) {
	case string:
		in.Scope = s
	case []any:
		parts := make([]string, 0, len(s))
		for _, p := range s {
			parts = append(parts, fmt.Sprint(p))
		}
		in.Scope = strings.Join(parts, " ")
	}
	num := func(k string) int64 { return jsonInt(raw, k) }
	in.Exp, in.Iat, in.Nbf = num("exp"), num("iat"), num("nbf")
	in.ExpiresAt, in.CreatedAt, in.AuthorizedAt = num("expires_at"), num("created_at"), num("authorized_at")
	return in, nil
}

// APIResponse is the answer to an authenticated API call.
type APIResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the body decoded, when it is JSON.
	JSON any
}

// APIRequest describes an authenticated call.
type APIRequest struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Userinfo GETs the OpenID Connect userinfo endpoint with the access token.
func (r *Runner) Userinfo(ctx context.Context, accessToken string) (*APIResponse, error) {
	ep := r.cfg.Provider.Endpoints.Userinfo
	if ep == "" {
		return nil, &Error{Step: StepUserinfo, Kind: KindUnavailable, Code: CodeNoEndpoint, Description: "no userinfo endpoint is known", Hint: "set --userinfo-url"}
	}
	return r.call(ctx, StepUserinfo, accessToken, APIRequest{Method: http.MethodGet, URL: ep})
}

// CallAPI makes an authenticated API call (any method, URL, headers, body) with the Bearer token.
func (r *Runner) CallAPI(ctx context.Context, accessToken string, req APIRequest) (*APIResponse, error) {
	return r.call(ctx, StepAPICall, accessToken, req)
}

// CallAPIAs is CallAPI recorded under another step name.
func (r *Runner) CallAPIAs(ctx context.Context, step, accessToken string, req APIRequest) (*APIResponse, error) {
	return r.call(ctx, step, accessToken, req)
}

func (r *Runner) call(ctx context.Context, step, accessToken string, ar APIRequest) (*APIResponse, error) {
	ctx, _ = r.begin(ctx, step)
	method := ar.Method
	if method == "" {
		method = http.MethodGet
	}
	var body *strings.Reader
	if ar.Body != nil {
		body = strings.NewReader(string(ar.Body))
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, ar.URL, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, ar.URL, nil)
	}
	if err != nil || CheckURL(ar.URL) != nil {
		return nil, &Error{Step: step, Kind: KindConfig, Code: CodeBadURL, Description: fmt.Sprintf("bad API URL %q", ar.URL), Err: err, Hint: "give a full https:// URL"}
	}
	for k, v := range r.cfg.Provider.APIHeaders {
		req.Header.Set(k, v)
	}
	for k, vs := range ar.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, respBody, err := r.do(ctx, step, req)
	if err != nil {
		return nil, err
	}
	out := &APIResponse{Status: resp.StatusCode, Header: resp.Header.Clone(), Body: respBody}
	var j any
	if json.Unmarshal(respBody, &j) == nil {
		out.JSON = j
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, responseError(step, resp.StatusCode, resp.Header, respBody, r.now())
	}
	if step == StepUserinfo {
		// OIDC Core §5.3.2: userinfo answers a JSON object (or a JWT, which we do not request).
		if _, err := decodeJSONObject(step, ar.URL, resp, respBody); err != nil {
			return out, err
		}
	}
	return out, nil
}

// jsonInt reads a numeric field that some servers send as a string ("3600"); absent or
// unreadable is 0.
func jsonInt(raw map[string]json.RawMessage, key string) int64 {
	v, ok := raw[key]
	if !ok {
		return 0
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		return int64(f)
	}
	n, _ := strconv.ParseInt(strings.Trim(string(v), `"`), 10, 64)
	return n
}

// MergeRefreshed applies a refresh response to the token it refreshed. A new refresh token
// replaces the old one; when none is sent the old one stays, with its expiry (LinkedIn's
// refresh token lifetime does not restart). Granted scope and ID token carry over when the
// response omits them (RFC 6749 §5.1: an omitted scope is unchanged). The notes say what
// happened to the refresh token.
func MergeRefreshed(old, fresh *Token) (*Token, []string) {
	t := *fresh
	if old == nil {
		return &t, nil
	}
	var notes []string
	switch {
	case t.RefreshToken == "":
		t.RefreshToken, t.RefreshExpiry, t.RefreshTokenExpiresIn = old.RefreshToken, old.RefreshExpiry, 0
		notes = append(notes, "no new refresh token was sent: the old one stays in use")
	case t.RefreshToken != old.RefreshToken:
		notes = append(notes, "the refresh token was rotated: the new one replaces the old")
	default:
		notes = append(notes, "the same refresh token came back: it was not rotated")
		if t.RefreshExpiry.IsZero() {
			t.RefreshExpiry = old.RefreshExpiry
		}
	}
	if !old.RefreshExpiry.IsZero() && t.RefreshExpiry.After(old.RefreshExpiry.Add(time.Minute)) {
		notes = append(notes, "the refresh made the refresh token live longer (sliding expiry)")
	}
	if t.Scope == "" {
		t.Scope = old.Scope
	}
	if t.IDToken == "" {
		t.IDToken = old.IDToken
	}
	return &t, notes
}

// DefaultMargin is a tenth of the token's lifetime, at most a minute.
func DefaultMargin(t *Token) time.Duration {
	life := t.Expiry.Sub(t.ReceivedAt)
	if life <= 0 {
		return time.Minute
	}
	return min(time.Minute, life/10)
}
