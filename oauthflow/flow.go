package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"
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
	Name     string
	Status   StepStatus
	Started  time.Time
	Duration time.Duration
	// Exchanges are the HTTP calls the step made and the browser legs it saw, each with the id
	// the session log gave it.
	Exchanges []httplog.Exchange
	Err       error
	// Notes are facts worth showing that are not failures (e.g. "refresh token rotated").
	Notes []string
}

// HTTPStatus is the status of the step's last HTTP answer, 0 when there was none.
func (s StepReport) HTTPStatus() int {
	for i := len(s.Exchanges) - 1; i >= 0; i-- {
		if s.Exchanges[i].Leg == "" && s.Exchanges[i].Response != nil {
			return s.Exchanges[i].Response.Status
		}
	}
	if e, ok := AsError(s.Err); ok {
		return e.Status
	}
	return 0
}

// CallIDs are the ids of the recorded calls the step made, in order.
func (s StepReport) CallIDs() []string {
	var ids []string
	for _, ex := range s.Exchanges {
		if ex.ID != "" {
			ids = append(ids, ex.ID)
		}
	}
	return ids
}

// Steps is the order of the Authorization Code flow, from discovery to the introspection that
// proves the revocation.
var flowSteps = []string{StepDiscovery, StepAuthorize, StepCallback, StepExchange, StepUserinfo, StepAPICall,
	StepIntrospect, StepRefresh, StepRevoke, StepIntrospectAfter}

// Steps returns the steps of the flow in order.
func Steps() []string { return append([]string(nil), flowSteps...) }

// FlowOptions steer a flow.
type FlowOptions struct {
	// Discover reads the provider configuration from Issuer (or DiscoveryURL) first.
	Discover     bool
	Issuer       string
	DiscoveryURL string
	// Browser takes the user through the authorization URL; nil means the desktop browser.
	Browser browser.Browser
	// Listen runs the loopback listener for the redirect (needed unless the browser returns it).
	Listen          bool
	CallbackTimeout time.Duration // default 5 minutes
	ExtraAuthParams url.Values
	// APIRequest, when URL is set, is made after userinfo as the "api-call" step.
	APIRequest APIRequest
	// SkipRevoke leaves the tokens alive (they are the user's to keep).
	SkipRevoke bool
	// Token starts the flow with a token already held (a stored one): the steps that use a token
	// can run without an authorization.
	Token *Token
	// EndpointsKnown says the provider's configuration is complete (discovery done elsewhere), so
	// the steps need no discovery step first.
	EndpointsKnown bool
	// AcceptPaste makes the callback wait for a redirect the user pastes (Deliver) when there is no
	// listener and the browser returned none; without it that is a configuration error.
	AcceptPaste bool
	// OnStep, if set, is called as each step finishes (for live output).
	OnStep func(StepReport)
	// Observe, if set, is told about the browser legs the flow does not make itself (the
	// authorization URL the user is sent to and the redirect that came back) and returns them as
	// recorded; the step reports them among its exchanges.
	Observe func(step, leg, rawURL string) httplog.Exchange
}

// FlowResult is the state of a flow: every step so far and what it produced.
type FlowResult struct {
	OK            bool
	Steps         []StepReport
	Provider      Provider
	ClaimedIssuer string
	// Discovered says discovery read the provider's configuration.
	Discovered bool
	// EndpointsKnown says the endpoints are settled: discovery ran (or was not needed).
	EndpointsKnown bool
	AuthRequest    *AuthRequest
	Callback       *Callback
	Token          *Token // the token the code exchange (or the caller) provided
	Refreshed      *Token // the last refresh response, as sent
	// Current is the token in use: Token, with every refresh applied (MergeRefreshed).
	Current                  *Token
	Userinfo                 *APIResponse
	API                      *APIResponse
	Introspection            *Introspection
	IntrospectionAfterRevoke *Introspection
	Revoked                  bool
	// CodeReceivedAt is when the authorization code came back.
	CodeReceivedAt time.Time
}

// FailedStep returns the first failed step, or nil.
func (f FlowResult) FailedStep() *StepReport {
	for i := range f.Steps {
		if f.Steps[i].Status == StatusFailed {
			return &f.Steps[i]
		}
	}
	return nil
}

// Step returns the last report of the named step, or nil if it has not run.
func (f FlowResult) Step(name string) *StepReport {
	for i := len(f.Steps) - 1; i >= 0; i-- {
		if f.Steps[i].Name == name {
			return &f.Steps[i]
		}
	}
	return nil
}

// CurrentToken is the newest token of the flow: the exchanged one with every refresh applied.
func (f FlowResult) CurrentToken() *Token {
	if f.Current != nil {
		return f.Current
	}
	return f.Token
}

// ExpectedIssuer is the issuer the provider's answers must carry (the redirect's iss, ID tokens):
// the configured one when the user pinned one, else the one the discovery document states. A
// document that claims another issuer than the pinned one does not change what is trusted: the
// disagreement is reported (an issuer mismatch), not followed, as a mix-up defence requires.
func (f FlowResult) ExpectedIssuer() string {
	if f.Provider.Issuer != "" {
		return f.Provider.Issuer
	}
	return f.ClaimedIssuer
}

// RequestedScopes are the scopes the authorization asked for.
func (f FlowResult) RequestedScopes() []string {
	if f.AuthRequest != nil {
		return f.AuthRequest.Scopes
	}
	return nil
}

func (f FlowResult) stepOK(name string) bool {
	s := f.Step(name)
	return s != nil && s.Status == StatusOK
}

// Ready says whether a step can run now; the error says what must happen first.
func (f FlowResult) Ready(step string) error {
	switch step {
	case StepDiscovery:
		return nil
	case StepAuthorize:
		if !f.EndpointsKnown {
			return errors.New("run discovery first: the endpoints come from it")
		}
	case StepCallback:
		if !f.stepOK(StepAuthorize) || f.AuthRequest == nil {
			return errors.New("authorize first: the callback validates its redirect")
		}
	case StepExchange:
		if f.Callback == nil || f.Callback.Code == "" || !f.stepOK(StepCallback) {
			return errors.New("a validated callback with a code is needed first")
		}
	case StepUserinfo, StepAPICall, StepIntrospect, StepRefresh, StepRevoke:
		if f.CurrentToken() == nil {
			return errors.New("no token yet: run the code exchange first")
		}
		if !f.EndpointsKnown {
			return errors.New("run discovery first: the endpoints come from it")
		}
		if f.Revoked && step != StepIntrospect {
			return errors.New("the tokens were revoked: start a new flow")
		}
	case StepIntrospectAfter:
		if s := f.Step(StepRevoke); s == nil || s.Status == StatusFailed {
			return errors.New("revoke first: this introspection checks the revocation")
		}
	default:
		return fmt.Errorf("unknown step %q", step)
	}
	return nil
}

// Flow is one run of the Authorization Code flow: its state and its steps. The CLI runs the steps
// in a loop (RunFlow); the TUI runs them one command at a time; the token lifecycle and the probe
// run the ones they need. Steps run one at a time; Result may be read meanwhile.
type Flow struct {
	r    *Runner
	opts FlowOptions

	run sync.Mutex // held while a step runs

	mu       sync.Mutex // guards the fields below
	state    FlowResult
	listener *Listener
	// listenErr is why the listener could not start, for a callback that then has no redirect.
	listenErr error
	redirect  string      // the redirect the browser returned itself
	pasted    chan string // a redirect delivered by the user while the callback waits
}

// NewFlow starts a flow with the runner's configuration.
func (r *Runner) NewFlow(opts FlowOptions) *Flow {
	f := &Flow{r: r, opts: opts, pasted: make(chan string, 1)}
	f.state.Provider, f.state.EndpointsKnown = r.cfg.Provider, opts.EndpointsKnown
	if opts.Token != nil {
		t := *opts.Token
		f.state.Token, f.state.Current = &t, &t
	}
	return f
}

// Result is a copy of the flow's state.
func (f *Flow) Result() FlowResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.state
	s.Steps = append([]StepReport(nil), s.Steps...)
	return s
}

// Runner is the runner the flow's steps use.
func (f *Flow) Runner() *Runner { return f.r }

// UseToken makes tok the token in use: one obtained outside the flow (another command refreshed
// the same stored token meanwhile, say).
func (f *Flow) UseToken(tok *Token) {
	t := *tok
	f.update(func(s *FlowResult) {
		s.Current, s.Revoked = &t, false
		if s.Token == nil {
			s.Token = &t
		}
	})
}

// Deliver hands the waiting callback a redirect URL the user pasted.
func (f *Flow) Deliver(redirect string) {
	f.mu.Lock()
	l := f.listener
	f.mu.Unlock()
	if l != nil {
		l.Deliver(redirect)
		return
	}
	select {
	case f.pasted <- redirect:
	default: // one is waiting already
	}
}

// Close releases the loopback listener, if one runs.
func (f *Flow) Close() error {
	f.mu.Lock()
	l := f.listener
	f.listener = nil
	f.mu.Unlock()
	if l != nil {
		return l.Close()
	}
	return nil
}

// RunFlow walks the whole Authorization Code flow: discovery, authorization, callback, code
// exchange, userinfo, an API call, introspection, refresh, revocation and introspection after it.
// It stops at the first failure; the remaining steps are reported as skipped.
func (r *Runner) RunFlow(ctx context.Context, opts FlowOptions) *FlowResult {
	f := r.NewFlow(opts)
	defer f.Close()
	f.RunSteps(ctx, flowSteps...)
	fr := f.Result()
	return &fr
}

// RunSteps runs the named steps in order, stopping at the first failure: the steps after it are
// reported as skipped. It returns the failed step's error.
func (f *Flow) RunSteps(ctx context.Context, steps ...string) error {
	return f.runSteps(ctx, true, steps...)
}

// runSteps is RunSteps; without reportSkips the steps after a failure are left out.
func (f *Flow) runSteps(ctx context.Context, reportSkips bool, steps ...string) error {
	var failure error
	for _, name := range steps {
		if failure != nil {
			if !reportSkips {
				break
			}
			f.record(StepReport{Name: name, Status: StatusSkipped, Started: f.r.now(), Notes: []string{"not run: an earlier step failed"}})
			continue
		}
		if rep := f.Step(ctx, name); rep.Status == StatusFailed {
			failure = rep.Err
		}
	}
	f.mu.Lock()
	f.state.OK = failure == nil
	f.mu.Unlock()
	return failure
}

// Step runs one step and returns its report, which is also kept in the flow's state. Running an
// earlier step again starts over from it: a new authorization forgets the code and the tokens.
func (f *Flow) Step(ctx context.Context, name string) StepReport {
	f.run.Lock()
	defer f.run.Unlock()
	f.mu.Lock()
	st := f.state
	f.mu.Unlock()
	if err := st.Ready(name); err != nil {
		// Not run, so not part of the flow's record: the caller is told why.
		return StepReport{Name: name, Status: StatusFailed, Started: f.r.now(),
			Err: &Error{Step: name, Kind: KindConfig, Code: CodeNotReady, Description: err.Error()}}
	}
	f.forgetFrom(name)
	started := f.r.now()
	ctx, col := httplog.Collect(httplog.WithStep(ctx, name))
	rep := f.runStep(ctx, name, col)
	rep.Name, rep.Started = name, started
	rep.Duration = f.r.now().Sub(started)
	rep.Exchanges = col.Exchanges()
	switch {
	case rep.Status != "":
	case rep.Err != nil:
		rep.Status = StatusFailed
	default:
		rep.Status = StatusOK
	}
	return f.record(rep)
}

// record keeps a finished step in the state and tells OnStep.
func (f *Flow) record(rep StepReport) StepReport {
	f.mu.Lock()
	f.state.Steps = append(f.state.Steps, rep)
	f.mu.Unlock()
	if f.opts.OnStep != nil {
		f.opts.OnStep(rep)
	}
	return rep
}

// forgetFrom drops the reports of step and the steps after it, and what they produced that a
// rerun replaces. Discovery again keeps the tokens; a new authorization does not.
func (f *Flow) forgetFrom(step string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &f.state
	var l *Listener
	switch step {
	case StepDiscovery, StepAuthorize, StepCallback, StepExchange:
		i := indexOf(flowSteps, step)
		kept := s.Steps[:0]
		for _, r := range s.Steps {
			if indexOf(flowSteps, r.Name) < i {
				kept = append(kept, r)
			}
		}
		s.Steps = kept
		s.OK = false
	default:
		// Steps that use the token can run again; the new report replaces the old.
		kept := s.Steps[:0]
		for _, r := range s.Steps {
			if r.Name != step {
				kept = append(kept, r)
			}
		}
		s.Steps = kept
		return
	}
	if step == StepAuthorize {
		s.AuthRequest = nil
		l, f.listener, f.listenErr, f.redirect = f.listener, nil, nil, ""
	}
	if step == StepAuthorize || step == StepCallback {
		s.Callback, s.CodeReceivedAt = nil, time.Time{}
	}
	if step == StepAuthorize || step == StepCallback || step == StepExchange {
		s.Token, s.Current, s.Refreshed, s.Revoked = nil, nil, nil, false
		s.Userinfo, s.API, s.Introspection, s.IntrospectionAfterRevoke = nil, nil, nil, nil
	}
	if l != nil {
		go l.Close()
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return len(list)
}

func skipped(why string) StepReport {
	return StepReport{Status: StatusSkipped, Notes: []string{why}}
}

func failed(err error, notes ...string) StepReport {
	return StepReport{Err: err, Notes: notes}
}

// update changes the state under the lock.
func (f *Flow) update(fn func(s *FlowResult)) {
	f.mu.Lock()
	fn(&f.state)
	f.mu.Unlock()
}

// runStep does the work of one step.
func (f *Flow) runStep(ctx context.Context, name string, col *httplog.Collector) StepReport {
	r := f.r
	f.mu.Lock()
	st := f.state
	f.mu.Unlock()
	switch name {
	case StepDiscovery:
		return f.discover(ctx)
	case StepAuthorize:
		return f.authorize(ctx, col)
	case StepCallback:
		return f.callback(ctx, st, col)
	case StepExchange:
		tok, err := r.ExchangeCode(ctx, st.AuthRequest, st.Callback)
		if tok == nil {
			return failed(err)
		}
		f.update(func(s *FlowResult) { s.Token, s.Current, s.Refreshed = tok, tok, nil })
		return StepReport{Err: err, Notes: tokenNotes(tok, st.AuthRequest.Scopes)}
	case StepUserinfo:
		if r.cfg.Provider.Endpoints.Userinfo == "" || !hasScope(f.scopes(st), "openid") {
			return skipped("no userinfo endpoint or no openid scope")
		}
		ui, err := r.Userinfo(ctx, st.CurrentToken().AccessToken)
		f.update(func(s *FlowResult) { s.Userinfo = ui })
		return failed(err)
	case StepAPICall:
		req := f.opts.APIRequest
		if req.URL == "" {
			req.URL = r.cfg.Provider.Endpoints.API
		}
		if req.URL == "" {
			return skipped("no API URL given (--api-url)")
		}
		api, err := r.CallAPI(ctx, st.CurrentToken().AccessToken, req)
		f.update(func(s *FlowResult) { s.API = api })
		return failed(err)
	case StepIntrospect:
		return f.introspect(ctx, StepIntrospect, st.CurrentToken().AccessToken)
	case StepRefresh:
		current := st.CurrentToken()
		fresh, err := r.Refresh(ctx, current.RefreshToken)
		if fresh == nil {
			return failed(err)
		}
		merged, notes := MergeRefreshed(current, fresh)
		notes = append(notes, "refreshed: "+ExpirySentence(merged, merged.ReceivedAt))
		f.update(func(s *FlowResult) { s.Current, s.Refreshed = merged, fresh })
		return StepReport{Notes: notes}
	case StepRevoke:
		if f.opts.SkipRevoke {
			return skipped("revocation not requested")
		}
		if r.cfg.Provider.Endpoints.Revocation == "" {
			return skipped("no revocation endpoint (--revoke-url)")
		}
		tok := st.CurrentToken()
		err := r.Revoke(ctx, tok.AccessToken, "access_token")
		if err == nil && tok.RefreshToken != "" {
			err = r.Revoke(ctx, tok.RefreshToken, "refresh_token")
		}
		if err == nil {
			f.update(func(s *FlowResult) { s.Revoked = true })
		}
		return failed(err)
	case StepIntrospectAfter:
		if rev := st.Step(StepRevoke); rev.Status == StatusSkipped {
			return StepReport{Status: StatusSkipped, Notes: rev.Notes}
		}
		return f.introspect(ctx, StepIntrospectAfter, st.CurrentToken().AccessToken)
	}
	return failed(fmt.Errorf("unknown step %q", name))
}

func (f *Flow) scopes(st FlowResult) []string {
	if s := st.RequestedScopes(); len(s) > 0 {
		return s
	}
	return f.r.scopes()
}

func (f *Flow) discover(ctx context.Context) StepReport {
	r := f.r
	if !f.opts.Discover {
		f.update(func(s *FlowResult) { s.EndpointsKnown = true })
		return skipped("endpoints given explicitly")
	}
	f.update(func(s *FlowResult) { s.EndpointsKnown = false })
	res, err := r.Discover(ctx, f.opts.Issuer, f.opts.DiscoveryURL)
	if err != nil {
		return failed(err)
	}
	merged := MergeDiscovered(r.cfg.Provider, res.Provider)
	var notes []string
	if merged.Issuer != "" && res.ClaimedIssuer != "" && !SameIssuer(merged.Issuer, res.ClaimedIssuer) {
		notes = append(notes, "the document claims issuer "+res.ClaimedIssuer+", but "+merged.Issuer+" is configured: the redirect's iss and ID tokens are checked against the configured one")
	}
	if len(res.Supplied) > 0 {
		notes = append(notes, "the document lacks "+strings.Join(res.Supplied, ", ")+": the configured endpoints are used")
	}
	notes = append(notes, "endpoints read from "+res.Source)
	r.SetProvider(merged)
	f.update(func(s *FlowResult) {
		s.Provider, s.ClaimedIssuer, s.Discovered, s.EndpointsKnown = merged, res.ClaimedIssuer, true, true
	})
	return StepReport{Notes: notes}
}

// authorize builds the authorization request, starts the listener and hands the URL to the
// browser. A browser that sees the redirect returns it; otherwise it comes to the listener.
func (f *Flow) authorize(ctx context.Context, col *httplog.Collector) StepReport {
	r := f.r
	if err := r.cfg.Validate(); err != nil {
		return failed(withStep(err, StepAuthorize))
	}
	ar, err := r.AuthorizationRequest(f.opts.ExtraAuthParams)
	if err != nil {
		return failed(withStep(err, StepAuthorize))
	}
	f.update(func(s *FlowResult) { s.AuthRequest = ar })
	f.observe(col, StepAuthorize, httplog.LegAuthorizationURL, ar.URL)
	br := f.opts.Browser
	if br == nil {
		br = browser.System{}
	}
	if f.opts.Listen {
		l, err := Listen(ar.RedirectURI)
		if err != nil {
			// A browser command may still print the redirect itself; only a real browser needs the port.
			if _, isCmd := br.(browser.Command); !isCmd {
				// Reported at authorize (the user is not sent to log in), so the error says so too.
				if e, ok := AsError(err); ok {
					e.Step = StepAuthorize
				}
				return failed(err)
			}
		}
		f.mu.Lock()
		f.listener, f.listenErr = l, err
		f.mu.Unlock()
	}
	redirect, err := br.Authorize(ctx, ar.URL, ar.RedirectURI)
	if err != nil {
		f.Close()
		return failed(browserError(err))
	}
	f.mu.Lock()
	f.redirect = redirect
	f.mu.Unlock()
	return StepReport{Notes: []string{"authorization URL: " + ar.URL}}
}

// callback waits for the redirect (unless the browser brought it) and validates it: state,
// iss (RFC 9207) and an error= answer.
func (f *Flow) callback(ctx context.Context, st FlowResult, col *httplog.Collector) StepReport {
	f.mu.Lock()
	redirect, l, listenErr := f.redirect, f.listener, f.listenErr
	f.mu.Unlock()
	defer f.Close()
	if redirect == "" {
		timeout := f.opts.CallbackTimeout
		if timeout == 0 {
			timeout = 5 * time.Minute
		}
		var err error
		switch {
		case l != nil:
			redirect, err = l.Wait(ctx, timeout)
		case listenErr != nil:
			err = withStep(listenErr, StepCallback)
		case f.opts.AcceptPaste:
			redirect, err = f.waitPasted(ctx, timeout)
		default:
			err = &Error{Step: StepCallback, Kind: KindConfig, Code: CodeBadURL,
				Description: "the browser did not return the redirect and no listener runs", Hint: "use the loopback listener or paste the redirect URL"}
		}
		if err != nil {
			return failed(err)
		}
	}
	f.observe(col, StepCallback, httplog.LegBrowserRedirect, redirect)
	cb, err := f.r.parseRedirect(st.AuthRequest, st.ExpectedIssuer(), redirect)
	f.update(func(s *FlowResult) { s.Callback, s.CodeReceivedAt = cb, f.r.now() })
	notes := []string{"redirect: " + redirect}
	if err == nil {
		notes = append(notes, "state matches the one sent")
		if cb.Iss != "" {
			notes = append(notes, "iss on the redirect matches (RFC 9207)")
		}
	}
	return StepReport{Err: err, Notes: notes}
}

// waitPasted waits for a redirect the user pastes (Deliver), without a listener.
func (f *Flow) waitPasted(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case u := <-f.pasted:
		return u, nil
	case <-t.C:
		return "", &Error{Step: StepCallback, Kind: KindTimeout, Code: CodeCallbackTimeout,
			Description: fmt.Sprintf("no redirect was pasted within %s", timeout),
			Hint:        "finish the login in the browser, then paste the URL it was redirected to"}
	case <-ctx.Done():
		return "", &Error{Step: StepCallback, Kind: KindTimeout, Code: CodeCanceled, Description: "stopped waiting for the redirect", Err: ctx.Err()}
	}
}

// observe records a browser leg and files it among the step's exchanges.
func (f *Flow) observe(col *httplog.Collector, step, leg, rawURL string) {
	ex := httplog.Exchange{Step: step, Leg: leg, Started: f.r.now(), Request: httplog.Request{Method: http.MethodGet, URL: rawURL}}
	if f.opts.Observe != nil {
		recorded := f.opts.Observe(step, leg, rawURL)
		ex.ID = recorded.ID
	}
	col.Add(ex)
}

// introspect asks about the access token, as the introspection step or the one after revocation.
func (f *Flow) introspect(ctx context.Context, step, token string) StepReport {
	r := f.r
	if r.cfg.Provider.Endpoints.Introspection == "" {
		return skipped("no introspection endpoint (--introspect-url)")
	}
	in, err := r.IntrospectAs(ctx, step, token, "access_token")
	var notes []string
	switch {
	case err != nil:
	case step == StepIntrospect && !in.Active:
		err = &Error{Step: StepIntrospect, Kind: KindValidation, Code: CodeTokenInactive,
			Description: "the access token is reported inactive" + statusSuffix(in),
			Hint:        "the provider already considers the token unusable; see the diagnosis"}
	case step == StepIntrospectAfter && in.Active:
		err = &Error{Step: StepIntrospectAfter, Kind: KindValidation, Code: CodeRevokedTokenActive,
			Description: "the revoked access token is still reported active",
			Hint:        "the provider did not revoke it (RFC 7009 §2.2 says it must be invalidated): do not rely on revocation with this provider"}
	case step == StepIntrospectAfter:
		notes = append(notes, "introspection after revocation"+statusSuffix(in))
	}
	if r.publicClientRefused(err) {
		// RFC 7662 §2.1 lets the server require client authentication, which a public client cannot
		// give, so the refusal is the server's policy, not a fault of the flow.
		return StepReport{Status: StatusSkipped, Notes: []string{"the provider does not let a public client introspect (" + err.Error() + "); introspect with a confidential client to see the token's state"}}
	}
	f.update(func(s *FlowResult) {
		if step == StepIntrospect {
			s.Introspection = in
		} else {
			s.IntrospectionAfterRevoke = in
		}
	})
	return StepReport{Err: err, Notes: notes}
}

// Authorization is the outcome of an authorization flow.
type Authorization struct {
	Token  *Token
	Scopes []string // the scopes requested
	Steps  []StepReport
}

// Exchanges are every exchange of the authorization's steps.
func (a *Authorization) Exchanges() []httplog.Exchange {
	var out []httplog.Exchange
	for _, s := range a.Steps {
		out = append(out, s.Exchanges...)
	}
	return out
}

// Authorize runs the user-facing part of the flow: the authorization request, the browser, the
// callback and the code exchange, the flow's own steps. The provider's endpoints must be known
// (discovery done). It stops at the first failed step and returns that step's error.
func (r *Runner) Authorize(ctx context.Context, opts FlowOptions) (*Authorization, error) {
	opts.EndpointsKnown = true
	f := r.NewFlow(opts)
	defer f.Close()
	err := f.runSteps(ctx, false, StepAuthorize, StepCallback, StepExchange)
	fr := f.Result()
	res := &Authorization{Steps: fr.Steps}
	if fr.AuthRequest != nil {
		res.Scopes = fr.AuthRequest.Scopes
	}
	if err != nil {
		return res, err
	}
	res.Token = fr.Token
	return res, nil
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
	notes = append(notes, ExpirySentence(t, t.ReceivedAt))
	if t.ExpiresIn <= 0 {
		notes = append(notes, "the answer had no expires_in")
	}
	if t.IDToken != "" {
		notes = append(notes, "an ID token came with it")
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

// browserError types what a browser returned: a page it stopped on (an unregistered redirect
// URI, an unknown client) becomes a KindBrowser *Error with the page's status and text; a browser
// that could not start, or a bad --browser-cmd, is a configuration error.
func browserError(err error) error {
	if e, ok := AsError(err); ok {
		if e.Step == "" {
			e.Step = StepAuthorize
		}
		return e
	}
	var pe *browser.PageError
	var launch *browser.LaunchError
	var cmdLine *browser.CommandLineError
	var cmdErr *browser.CommandError
	switch {
	case errors.As(err, &pe):
		return &Error{Step: StepAuthorize, Kind: KindBrowser, Code: CodeBrowserStopped, Status: pe.Status, Body: pe.Text,
			Description: fmt.Sprintf("the authorization page stopped with HTTP %d instead of redirecting back: %s", pe.Status, pe.Text),
			Hint:        "the provider refused the request before login: check that the client_id is right and the redirect URI is registered exactly (scheme, host, port, path, trailing slash)",
			Err:         err}
	case errors.As(err, &launch):
		return &Error{Step: StepAuthorize, Kind: KindConfig, Code: CodeBrowserStopped, Description: err.Error(), Err: err}
	case errors.As(err, &cmdLine):
		return &Error{Step: StepAuthorize, Kind: KindConfig, Code: CodeBadURL, Description: err.Error(), Err: err}
	case errors.Is(err, browser.ErrNothingPasted):
		return &Error{Step: StepAuthorize, Kind: KindValidation, Code: CodeBadURL, Description: err.Error(), Err: err}
	case errors.As(err, &cmdErr):
		return &Error{Step: StepAuthorize, Kind: KindBrowser, Code: CodeBrowserStopped, Description: err.Error(), Err: err}
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
