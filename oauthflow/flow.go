package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// StepStatus is how a step of a flow ended.
type StepStatus string

const (
	StatusOK      StepStatus = "ok"
	StatusFailed  StepStatus = "failed"
	StatusSkipped StepStatus = "skipped"
)

// StepReport is one step of a flow as it happened.
type StepReport struct {
	Name      string
	Status    StepStatus
	Started   time.Time
	Duration  time.Duration
	Exchanges []Exchange
	Err       error
	// Notes are facts worth showing that are not failures (e.g. "refresh token rotated").
	Notes []string
}

// HTTPStatus is the status of the step's last HTTP answer, 0 when there was none.
func (s StepReport) HTTPStatus() int {
	for i := len(s.Exchanges) - 1; i >= 0; i-- {
		if s.Exchanges[i].Response != nil {
			return s.Exchanges[i].Response.Status
		}
	}
	if e, ok := AsError(s.Err); ok {
		return e.Status
	}
	return 0
}

// FlowOptions steer RunFlow.
type FlowOptions struct {
	// Discover reads the provider configuration from Issuer (or DiscoveryURL) first.
	Discover     bool
	Issuer       string
	DiscoveryURL string
	// Browser takes the user through the authorization URL; nil means SystemBrowser.
	Browser Browser
	// Listen runs the loopback listener for the redirect (needed unless the browser returns it).
	Listen          bool
	CallbackTimeout time.Duration
	ExtraAuthParams url.Values
	// APIRequest, when URL is set, is made after userinfo as the "api-call" step.
	APIRequest APIRequest
	// SkipRevoke leaves the tokens alive (they are the user's to keep).
	SkipRevoke bool
	// OnStep, if set, is called as each step finishes (for live output).
	OnStep func(StepReport)
	// Observe, if set, is told about the browser legs the flow does not make itself:
	// the authorization URL the user is sent to and the redirect that came back.
	Observe func(step, kind, rawURL string)
}

// FlowResult is a whole flow: every step and what it produced.
type FlowResult struct {
	OK                       bool
	Steps                    []StepReport
	Provider                 Provider
	ClaimedIssuer            string
	AuthRequest              *AuthRequest
	Callback                 *Callback
	Token                    *Token
	Refreshed                *Token
	Userinfo                 *APIResponse
	API                      *APIResponse
	Introspection            *Introspection
	IntrospectionAfterRevoke *Introspection
}

// FailedStep returns the first failed step, or nil.
func (f *FlowResult) FailedStep() *StepReport {
	for i := range f.Steps {
		if f.Steps[i].Status == StatusFailed {
			return &f.Steps[i]
		}
	}
	return nil
}

// CurrentToken is the newest token of the flow: the refreshed one, merged with the first as
// MergeRefreshed does, if a refresh happened.
func (f *FlowResult) CurrentToken() *Token {
	if f.Refreshed == nil {
		return f.Token
	}
	t, _ := MergeRefreshed(f.Token, f.Refreshed)
	return t
}

// RunFlow walks the whole Authorization Code flow: discovery, authorization, callback, code
// exchange, userinfo, an API call, introspection, refresh, revocation and introspection after it.
// It stops at the first failure; the remaining steps are reported as skipped.
func (r *Runner) RunFlow(ctx context.Context, opts FlowOptions) *FlowResult {
	fr := &FlowResult{Provider: r.cfg.Provider}
	failed := false
	report := func(name string, started time.Time, trace *Trace, err error, notes ...string) bool {
		s := r.finishedStep(name, started, trace, err, notes)
		failed = failed || err != nil
		fr.Steps = append(fr.Steps, s)
		if opts.OnStep != nil {
			opts.OnStep(s)
		}
		return err == nil
	}
	skip := func(name, why string) {
		s := StepReport{Name: name, Status: StatusSkipped, Started: r.now(), Notes: []string{why}}
		fr.Steps = append(fr.Steps, s)
		if opts.OnStep != nil {
			opts.OnStep(s)
		}
	}
	// skipRefused records an introspection a public client was refused: RFC 7662 §2.1 lets the
	// server require client authentication, which a public client cannot give, so the refusal is
	// the server's policy, not a fault of the flow. The exchange stays in the record.
	skipRefused := func(name string, started time.Time, trace *Trace, err error) {
		s := StepReport{Name: name, Status: StatusSkipped, Started: started, Duration: r.now().Sub(started), Exchanges: trace.Exchanges(),
			Notes: []string{"the provider does not let a public client introspect (" + err.Error() + "); introspect with a confidential client to see the token's state"}}
		fr.Steps = append(fr.Steps, s)
		if opts.OnStep != nil {
			opts.OnStep(s)
		}
	}
	skipRest := func(names ...string) {
		for _, n := range names {
			skip(n, "not run: an earlier step failed")
		}
	}
	allAfter := func(step string) []string {
		order := []string{StepDiscovery, StepAuthorize, StepCallback, StepExchange, StepUserinfo, StepAPICall, StepIntrospect, StepRefresh, StepRevoke, StepIntrospectAfter}
		for i, s := range order {
			if s == step {
				return order[i+1:]
			}
		}
		return nil
	}

	// Discovery.
	if opts.Discover {
		started := r.now()
		res, trace, err := r.Discover(ctx, opts.Issuer, opts.DiscoveryURL)
		var notes []string
		if err == nil {
			fr.ClaimedIssuer = res.ClaimedIssuer
			merged := MergeDiscovered(r.cfg.Provider, res.Provider)
			if len(res.Supplied) > 0 {
				notes = append(notes, "the document lacks "+strings.Join(res.Supplied, ", ")+": the configured endpoints are used")
			}
			if merged.Issuer != "" && res.ClaimedIssuer != "" && !sameIssuer(merged.Issuer, res.ClaimedIssuer) {
				notes = append(notes, "the document claims issuer "+res.ClaimedIssuer+", but "+merged.Issuer+" is configured: ID tokens will be checked against the configured one")
			}
			r.SetProvider(merged)
			fr.Provider = merged
		}
		if !report(StepDiscovery, started, trace, err, notes...) {
			skipRest(allAfter(StepDiscovery)...)
			return fr
		}
	} else {
		skip(StepDiscovery, "endpoints given explicitly")
	}
	// Authorization, callback and code exchange: the part `oauthdiag call` shares (Authorize).
	g, failedAt := r.authorizeCode(ctx, AuthorizeOptions{Browser: opts.Browser, Listen: opts.Listen,
		CallbackTimeout: opts.CallbackTimeout, ExtraAuthParams: opts.ExtraAuthParams, Observe: opts.Observe}, report)
	fr.AuthRequest, fr.Callback, fr.Token = g.request, g.callback, g.token
	if failedAt != "" {
		skipRest(allAfter(failedAt)...)
		return fr
	}
	ar, tok := g.request, g.token

	// Userinfo: only for OpenID Connect requests with a known endpoint.
	var started time.Time
	if r.cfg.Provider.Endpoints.Userinfo != "" && hasScope(ar.Scopes, "openid") {
		started = r.now()
		ui, trace, err := r.Userinfo(ctx, tok.AccessToken)
		fr.Userinfo = ui
		if !report(StepUserinfo, started, trace, err) {
			skipRest(allAfter(StepUserinfo)...)
			return fr
		}
	} else {
		skip(StepUserinfo, "no userinfo endpoint or no openid scope")
	}

	if opts.APIRequest.URL != "" || r.cfg.Provider.Endpoints.API != "" {
		req := opts.APIRequest
		if req.URL == "" {
			req.URL = r.cfg.Provider.Endpoints.API
		}
		started = r.now()
		api, trace, err := r.CallAPI(ctx, tok.AccessToken, req)
		fr.API = api
		if !report(StepAPICall, started, trace, err) {
			skipRest(allAfter(StepAPICall)...)
			return fr
		}
	} else {
		skip(StepAPICall, "no API URL given (--api-url)")
	}

	if r.cfg.Provider.Endpoints.Introspection != "" {
		started = r.now()
		in, trace, err := r.Introspect(ctx, tok.AccessToken, "access_token")
		fr.Introspection = in
		var notes []string
		if err == nil && !in.Active {
			err = &Error{Step: StepIntrospect, Kind: KindValidation, Code: "token_inactive",
				Description: "the access token just issued is reported inactive" + statusSuffix(in),
				Hint:        "the provider already considers the token unusable; see the diagnosis"}
		}
		if r.publicClientRefused(err) {
			fr.Introspection = nil
			skipRefused(StepIntrospect, started, trace, err)
		} else if !report(StepIntrospect, started, trace, err, notes...) {
			skipRest(allAfter(StepIntrospect)...)
			return fr
		}
	} else {
		skip(StepIntrospect, "no introspection endpoint (--introspect-url)")
	}

	started = r.now()
	refreshed, trace, err := r.Refresh(ctx, tok.RefreshToken)
	fr.Refreshed = refreshed
	var rNotes []string
	if refreshed != nil {
		_, rNotes = MergeRefreshed(tok, refreshed)
	}
	if !report(StepRefresh, started, trace, err, rNotes...) {
		skipRest(allAfter(StepRefresh)...)
		return fr
	}

	current := fr.CurrentToken()
	if opts.SkipRevoke {
		skip(StepRevoke, "revocation not requested")
		skip(StepIntrospectAfter, "revocation not requested")
	} else if r.cfg.Provider.Endpoints.Revocation == "" {
		skip(StepRevoke, "no revocation endpoint (--revoke-url)")
		skip(StepIntrospectAfter, "no revocation endpoint")
	} else {
		started = r.now()
		trace, err := r.Revoke(ctx, current.AccessToken, "access_token")
		all := trace.Exchanges()
		if err == nil && current.RefreshToken != "" {
			var t2 *Trace
			t2, err = r.Revoke(ctx, current.RefreshToken, "refresh_token")
			all = append(all, t2.Exchanges()...)
		}
		merged := &Trace{exchanges: all}
		if !report(StepRevoke, started, merged, err) {
			skipRest(StepIntrospectAfter)
			return fr
		}
		if r.cfg.Provider.Endpoints.Introspection != "" {
			started = r.now()
			in, trace, err := r.IntrospectAs(ctx, StepIntrospectAfter, current.AccessToken, "access_token")
			fr.IntrospectionAfterRevoke = in
			if err == nil && in.Active {
				err = &Error{Step: StepIntrospectAfter, Kind: KindValidation, Code: "revoked_token_active",
					Description: "the revoked access token is still reported active",
					Hint:        "the provider did not revoke it (RFC 7009 §2.2 says it must be invalidated): do not rely on revocation with this provider"}
			}
			if r.publicClientRefused(err) {
				fr.IntrospectionAfterRevoke = nil
				skipRefused(StepIntrospectAfter, started, trace, err)
			} else {
				report(StepIntrospectAfter, started, trace, err, "introspection after revocation"+statusSuffix(in))
			}
		} else {
			skip(StepIntrospectAfter, "no introspection endpoint")
		}
	}
	fr.OK = !failed
	return fr
}

// codeGrant is what the authorization legs produced; a field is nil when its step was not reached.
type codeGrant struct {
	request  *AuthRequest
	callback *Callback
	token    *Token
}

// finishedStep is the report of a step that started at started and ends now, failed when err is set.
func (r *Runner) finishedStep(name string, started time.Time, trace *Trace, err error, notes []string) StepReport {
	s := StepReport{Name: name, Status: StatusOK, Started: started, Duration: r.now().Sub(started), Exchanges: trace.Exchanges(), Err: err, Notes: notes}
	if err != nil {
		s.Status = StatusFailed
	}
	return s
}

// reportFunc records a finished step (failed when err is set) and tells whether it succeeded.
type reportFunc func(name string, started time.Time, trace *Trace, err error, notes ...string) bool

// authorizeCode runs the authorization request, the browser, the callback and the code exchange,
// reporting each step as it ends. It stops at the first failure and returns the step that failed
// ("" when all succeeded); that step's error is the one reported. RunFlow and Authorize both run
// these steps through it.
func (r *Runner) authorizeCode(ctx context.Context, opts AuthorizeOptions, report reportFunc) (g codeGrant, failedAt string) {
	if err := r.cfg.Validate(); err != nil {
		report(StepAuthorize, r.now(), &Trace{}, withStep(err, StepAuthorize))
		return g, StepAuthorize
	}
	observe := func(step, kind, u string) {
		if opts.Observe != nil {
			opts.Observe(step, kind, u)
		}
	}

	// Authorization: build the URL, start the listener, hand the URL to the browser.
	started := r.now()
	ar, err := r.AuthorizationRequest(opts.ExtraAuthParams)
	if err != nil {
		report(StepAuthorize, started, &Trace{}, withStep(err, StepAuthorize))
		return g, StepAuthorize
	}
	g.request = ar
	observe(StepAuthorize, "authorization-url", ar.URL)
	var listener *Listener
	var listenErr error
	browser := opts.Browser
	if browser == nil {
		browser = SystemBrowser{}
	}
	if opts.Listen {
		listener, listenErr = Listen(ar.RedirectURI)
		if listenErr != nil {
			// A browser command may still print the redirect itself; only a real browser needs the port.
			if _, isCmd := browser.(CommandBrowser); !isCmd {
				// Reported at authorize (the user is not sent to log in), so the error says so too.
				if e, ok := AsError(listenErr); ok {
					e.Step = StepAuthorize
				}
				report(StepAuthorize, started, &Trace{}, listenErr)
				return g, StepAuthorize
			}
		} else {
			defer listener.Close()
		}
	}
	redirect, err := browser.Authorize(ctx, ar.URL, ar.RedirectURI)
	if err != nil {
		report(StepAuthorize, started, &Trace{}, browserError(err))
		return g, StepAuthorize
	}
	// The URL is a note, not an exchange: the browser made that request, not us.
	report(StepAuthorize, started, &Trace{}, nil, "authorization URL: "+ar.URL)

	// Callback.
	started = r.now()
	if redirect == "" {
		if listener == nil {
			err := listenErr
			if err == nil {
				err = &Error{Step: StepCallback, Kind: KindConfig, Code: CodeBadURL,
					Description: "the browser did not return the redirect and no listener runs", Hint: "use the loopback listener or paste the redirect URL"}
			}
			report(StepCallback, started, &Trace{}, withStep(err, StepCallback))
			return g, StepCallback
		}
		timeout := opts.CallbackTimeout
		if timeout == 0 {
			timeout = 5 * time.Minute
		}
		if redirect, err = listener.Wait(ctx, timeout); err != nil {
			report(StepCallback, started, &Trace{}, err)
			return g, StepCallback
		}
	}
	observe(StepCallback, "redirect", redirect)
	cb, err := r.ParseRedirect(ar, redirect)
	g.callback = cb
	cbNotes := []string{"redirect: " + redirect}
	if cb != nil && cb.Iss != "" && err == nil {
		cbNotes = append(cbNotes, "iss on the redirect matches (RFC 9207)")
	}
	if !report(StepCallback, started, &Trace{}, err, cbNotes...) {
		return g, StepCallback
	}

	// Code exchange.
	started = r.now()
	tok, trace, err := r.ExchangeCode(ctx, ar, cb)
	g.token = tok
	var exNotes []string
	if tok != nil {
		exNotes = tokenNotes(tok, ar.Scopes)
	}
	if !report(StepExchange, started, trace, err, exNotes...) {
		return g, StepExchange
	}
	return g, ""
}

// publicClientRefused tells whether err is an introspection endpoint refusing a public client
// for lack of client authentication.
func (r *Runner) publicClientRefused(err error) bool {
	if r.authMethod() != AuthNone {
		return false
	}
	e, ok := AsError(err)
	if !ok {
		return false
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		e.Code == "invalid_client" || e.Code == "unauthorized_client"
}

func statusSuffix(in *Introspection) string {
	if in == nil {
		return ""
	}
	if in.Status != "" {
		return ": status " + in.Status
	}
	if in.Active {
		return ": active"
	}
	return ": inactive"
}

func tokenNotes(t *Token, requested []string) []string {
	var notes []string
	if t.ExpiresIn > 0 {
		notes = append(notes, "access token expires in "+(time.Duration(t.ExpiresIn)*time.Second).String())
	} else {
		notes = append(notes, "no expires_in: the access token's lifetime is unknown")
	}
	if t.RefreshToken == "" {
		notes = append(notes, "no refresh token issued")
	} else if t.RefreshTokenExpiresIn > 0 {
		notes = append(notes, "refresh token expires in "+(time.Duration(t.RefreshTokenExpiresIn)*time.Second).String())
	}
	if t.Scope != "" {
		var missing []string
		granted := t.GrantedScopes()
		for _, s := range requested {
			if !hasScope(granted, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			notes = append(notes, "requested but not granted: "+strings.Join(missing, " "))
		}
	}
	return notes
}

// browserError types what a Browser returned: a page the browser stopped on (an unregistered
// redirect URI, an unknown client) becomes a KindBrowser *Error with the page's status and text.
func browserError(err error) error {
	if e, ok := AsError(err); ok {
		if e.Step == "" {
			e.Step = StepAuthorize
		}
		return e
	}
	var pe *PageError
	if errors.As(err, &pe) {
		return &Error{Step: StepAuthorize, Kind: KindBrowser, Code: CodeBrowserStopped, Status: pe.Status, Body: pe.Text,
			Description: fmt.Sprintf("the authorization page stopped with HTTP %d instead of redirecting back: %s", pe.Status, pe.Text),
			Hint:        "the provider refused the request before login: check that the client_id is right and the redirect URI is registered exactly (scheme, host, port, path, trailing slash)",
			Err:         err}
	}
	return &Error{Step: StepAuthorize, Kind: KindBrowser, Code: CodeBrowserStopped, Description: err.Error(), Err: err}
}

// withStep sets the step on an *Error that has none.
func withStep(err error, step string) error {
	var e *Error
	if errors.As(err, &e) && e.Step == "" {
		e.Step = step
	}
	return err
}
