package ui

import (
	"context"
	"errors"
	"net/http"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Every network or disk operation of the UI is one of these commands. They receive copies
// of what they need (never the model), run outside Update, and answer with a message
// tagged with the flow's run number so that results of an abandoned flow are dropped.

// stepDoneMsg reports a finished step and whatever it produced.
type stepDoneMsg struct {
	run       int
	step      stepID
	started   time.Time
	finished  time.Time
	exchanges []oauthflow.Exchange
	err       error
	notes     []string
	auto      bool // a refresh started by auto-refresh rather than by the user

	provider *oauthflow.Provider // Configure: the provider after discovery
	callback *oauthflow.Callback // Callback
	token    *oauthflow.Token    // Exchange, Refresh
	inspect  *inspection         // Inspect, Revoke (the introspection after revocation)
}

// authStartedMsg: the authorization request is built and the listener (if any) is up.
type authStartedMsg struct {
	run      int
	started  time.Time
	request  *oauthflow.AuthRequest
	listener *oauthflow.Listener
	err      error
}

// browserDoneMsg: the browser leg returned. A headless browser hands back the redirect;
// a desktop browser returns at once and the redirect comes to the listener.
type browserDoneMsg struct {
	run       int
	redirect  string
	delivered bool // the redirect was handed to the listener
	err       error
}

// redirectMsg: the redirect arrived (listener or paste), or waiting for it ended.
type redirectMsg struct {
	run      int
	redirect string
	err      error
}

// flowBackend is what the step commands run against.
type flowBackend struct {
	runner          *oauthflow.Runner
	httpClient      *http.Client // the recording client, for the JWKS
	discover        bool
	issuer          string
	discoveryURL    string
	browser         oauthflow.Browser
	listen          bool
	callbackTimeout time.Duration
	extraParams     map[string][]string
	observe         func(step, leg, rawURL string)     // records a browser leg; called inside commands
	saveToken       func(*oauthflow.Token, bool) error // persists a token; called inside commands
	guardRefresh    func(context.Context, *oauthflow.Token) (*oauthflow.Token, func(), error)
}

func (b flowBackend) now() time.Time { return b.runner.Now() }

func configureCmd(ctx context.Context, b flowBackend, run int) tea.Cmd {
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepConfigure, started: b.now()}
		p := b.runner.Config().Provider
		if b.discover {
			res, trace, err := b.runner.Discover(ctx, b.issuer, b.discoveryURL)
			msg.exchanges = trace.Exchanges()
			if err != nil {
				msg.err, msg.finished = err, b.now()
				return msg
			}
			p = oauthflow.MergeDiscovered(p, res.Provider)
			if res.ClaimedIssuer != "" && p.Issuer != "" && trimSlash(res.ClaimedIssuer) != trimSlash(p.Issuer) {
				msg.notes = append(msg.notes, "the document claims issuer "+res.ClaimedIssuer+", but "+p.Issuer+" is configured")
			}
			msg.notes = append(msg.notes, "endpoints read from "+res.Source)
		} else {
			msg.notes = append(msg.notes, "endpoints given explicitly: no discovery")
		}
		cfg := b.runner.Config()
		cfg.Provider = p
		msg.err = cfg.Validate()
		msg.provider = &p
		msg.finished = b.now()
		return msg
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// startAuthorizeCmd builds the authorization request and binds the loopback listener.
func startAuthorizeCmd(b flowBackend, run int) tea.Cmd {
	return func() tea.Msg {
		msg := authStartedMsg{run: run, started: b.now()}
		ar, err := b.runner.AuthorizationRequest(b.extraParams)
		if err != nil {
			msg.err = err
			return msg
		}
		msg.request = ar
		if b.observe != nil {
			b.observe(oauthflow.StepAuthorize, "authorization-url", ar.URL)
		}
		if b.listen && loopbackRedirect(ar.RedirectURI) {
			l, err := oauthflow.Listen(ar.RedirectURI)
			if err != nil {
				msg.err = err
				return msg
			}
			msg.listener = l
		}
		return msg
	}
}

// browserCmd hands the URL to the browser. A redirect it returns is delivered to the
// listener, so that the listener's wait is the one place a redirect arrives.
func browserCmd(ctx context.Context, br oauthflow.Browser, l *oauthflow.Listener, run int, authURL, redirectURI string) tea.Cmd {
	return func() tea.Msg {
		redirect, err := br.Authorize(ctx, authURL, redirectURI)
		delivered := false
		if err == nil && redirect != "" && l != nil {
			l.Deliver(redirect)
			redirect, delivered = "", true
		}
		return browserDoneMsg{run: run, redirect: redirect, delivered: delivered, err: err}
	}
}

// waitRedirectCmd waits for the redirect at the listener until the deadline.
func waitRedirectCmd(ctx context.Context, l *oauthflow.Listener, run int, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		u, err := l.Wait(ctx, timeout)
		return redirectMsg{run: run, redirect: u, err: err}
	}
}

// deliverCmd hands a pasted redirect to the waiting listener.
func deliverCmd(l *oauthflow.Listener, redirect string) tea.Cmd {
	return func() tea.Msg {
		l.Deliver(redirect)
		return nil
	}
}

func closeListenerCmd(l *oauthflow.Listener) tea.Cmd {
	if l == nil {
		return nil
	}
	return func() tea.Msg {
		_ = l.Close()
		return nil
	}
}

func callbackCmd(b flowBackend, run int, ar *oauthflow.AuthRequest, redirect string) tea.Cmd {
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepCallback, started: b.now()}
		if b.observe != nil {
			b.observe(oauthflow.StepCallback, "redirect", redirect)
		}
		cb, err := b.runner.ParseRedirect(ar, redirect)
		msg.callback, msg.err = cb, err
		if err == nil && cb.Iss != "" {
			msg.notes = append(msg.notes, "iss on the redirect matches the issuer (RFC 9207)")
		}
		if err == nil {
			msg.notes = append(msg.notes, "state matches the one sent")
		}
		msg.finished = b.now()
		return msg
	}
}

func exchangeCmd(ctx context.Context, b flowBackend, run int, ar *oauthflow.AuthRequest, cb *oauthflow.Callback) tea.Cmd {
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepExchange, started: b.now()}
		tok, trace, err := b.runner.ExchangeCode(ctx, ar, cb)
		msg.exchanges, msg.token, msg.err = trace.Exchanges(), tok, err
		if tok != nil {
			msg.notes = tokenNotes(tok, ar.Scopes)
			if b.saveToken != nil {
				if serr := b.saveToken(tok, false); serr != nil {
					msg.notes = append(msg.notes, "the token could not be saved: "+serr.Error())
				}
			}
		}
		msg.finished = b.now()
		return msg
	}
}

// callAPICmd calls userinfo (OpenID Connect) and the configured API URL, if any.
func callAPICmd(ctx context.Context, b flowBackend, run int, accessToken string, openid bool) tea.Cmd {
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepCallAPI, started: b.now()}
		eps := b.runner.Config().Provider.Endpoints
		ran := false
		if eps.Userinfo != "" && openid {
			ran = true
			_, trace, err := b.runner.Userinfo(ctx, accessToken)
			msg.exchanges = append(msg.exchanges, trace.Exchanges()...)
			if err != nil {
				msg.err, msg.finished = err, b.now()
				return msg
			}
		}
		if eps.API != "" {
			ran = true
			_, trace, err := b.runner.CallAPI(ctx, accessToken, oauthflow.APIRequest{URL: eps.API})
			msg.exchanges = append(msg.exchanges, trace.Exchanges()...)
			msg.err = err
		}
		if !ran {
			msg.err = &oauthflow.Error{Step: oauthflow.StepAPICall, Kind: oauthflow.KindConfig, Code: oauthflow.CodeNoEndpoint,
				Description: "no API to call: no userinfo endpoint (or no openid scope) and no API URL",
				Hint:        "pass --api-url with an endpoint the token may call"}
		}
		msg.finished = b.now()
		return msg
	}
}

func refreshCmd(ctx context.Context, b flowBackend, run int, current *oauthflow.Token, auto bool) tea.Cmd {
	refresh := ""
	if current != nil {
		refresh = current.RefreshToken
	}
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepRefresh, started: b.now(), auto: auto}
		if b.guardRefresh != nil {
			newer, release, err := b.guardRefresh(ctx, current)
			if err != nil {
				msg.err, msg.finished = err, b.now()
				return msg
			}
			defer release()
			if newer != nil {
				msg.token = newer
				msg.notes = []string{"another oauthdiag command already refreshed this profile's token: using it instead of refreshing again"}
				msg.finished = b.now()
				return msg
			}
		}
		tok, trace, err := b.runner.Refresh(ctx, refresh)
		msg.exchanges, msg.err = trace.Exchanges(), err
		if tok != nil {
			merged, notes := oauthflow.MergeRefreshed(current, tok)
			msg.token = merged
			msg.notes = notes
			if tok.ExpiresIn > 0 {
				msg.notes = append(msg.notes, "new access token expires in "+(time.Duration(tok.ExpiresIn)*time.Second).String())
			}
			if b.saveToken != nil {
				if serr := b.saveToken(merged, true); serr != nil {
					msg.notes = append(msg.notes, "the token could not be saved: "+serr.Error())
				}
			}
		}
		msg.finished = b.now()
		return msg
	}
}

func tokenNotes(t *oauthflow.Token, requested []string) []string {
	var notes []string
	if t.ExpiresIn > 0 {
		notes = append(notes, "access token expires in "+(time.Duration(t.ExpiresIn)*time.Second).String())
	} else {
		notes = append(notes, "no expires_in: the access token's lifetime is unknown")
	}
	switch {
	case t.RefreshToken == "":
		notes = append(notes, "no refresh token issued")
	case t.RefreshTokenExpiresIn > 0:
		notes = append(notes, "refresh token expires in "+(time.Duration(t.RefreshTokenExpiresIn)*time.Second).String())
	}
	if t.IDToken != "" {
		notes = append(notes, "an ID token came with it (see Inspect)")
	}
	if t.Scope != "" {
		var missing []string
		granted := t.GrantedScopes()
		for _, s := range requested {
			found := false
			for _, g := range granted {
				found = found || g == s
			}
			if !found {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			notes = append(notes, "requested but not granted: "+joinWords(missing))
		}
	}
	return notes
}

func revokeCmd(ctx context.Context, b flowBackend, run int, tok *oauthflow.Token) tea.Cmd {
	t := *tok
	return func() tea.Msg {
		msg := stepDoneMsg{run: run, step: stepRevoke, started: b.now()}
		trace, err := b.runner.Revoke(ctx, t.AccessToken, "access_token")
		msg.exchanges = trace.Exchanges()
		if err == nil && t.RefreshToken != "" {
			var t2 *oauthflow.Trace
			t2, err = b.runner.Revoke(ctx, t.RefreshToken, "refresh_token")
			msg.exchanges = append(msg.exchanges, t2.Exchanges()...)
		}
		if err == nil && b.runner.Config().Provider.Endpoints.Introspection != "" {
			in, trace, ierr := b.runner.IntrospectAs(ctx, oauthflow.StepIntrospectAfter, t.AccessToken, "access_token")
			msg.exchanges = append(msg.exchanges, trace.Exchanges()...)
			switch {
			case ierr != nil:
				msg.notes = append(msg.notes, "introspection after revocation failed: "+ierr.Error())
			case in.Active:
				err = &oauthflow.Error{Step: oauthflow.StepIntrospectAfter, Kind: oauthflow.KindValidation, Code: "revoked_token_active",
					Description: "the revoked access token is still reported active",
					Hint:        "the provider did not revoke it (RFC 7009 §2.2 says it must be invalidated): do not rely on revocation with this provider"}
			default:
				msg.notes = append(msg.notes, "introspection after revocation: the token is no longer active")
			}
		}
		msg.finished = b.now()
		return msg
	}
}

// errCancelled marks a step the user stopped.
var errCancelled = errors.New("stopped by the user")

func loopbackRedirect(redirectURI string) bool {
	u, err := parseURL(redirectURI)
	if err != nil || u.Scheme != "http" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}
