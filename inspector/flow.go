package inspector

import (
	"context"
	"net/http"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// FlowObservations turns every step of a flow that ran (failed or not) into an observation;
// skipped steps are left out. Successful steps still count: their Date headers measure the
// clock skew.
func FlowObservations(fr *oauthflow.FlowResult) []Observation {
	if fr == nil {
		return nil
	}
	var obs []Observation
	for _, s := range fr.Steps {
		if s.Status == oauthflow.StatusSkipped {
			continue
		}
		obs = append(obs, FromStep(s))
	}
	return obs
}

// Facts are what a flow knew that diagnosing its calls needs, without a secret. They are stored
// with the session, so that a bundle, a replay or a later TUI diagnose in the context the flow
// did: the configured and discovered issuer, the requested scopes, PKCE and nonce, the preset.
type Facts struct {
	Provider      oauthflow.Provider `json:"provider"`
	Client        oauthflow.Client   `json:"client"` // its secret is never serialised
	ClaimedIssuer string             `json:"claimed_issuer,omitempty"`
	Authorization *Authorization     `json:"authorization,omitempty"`
	// Token is the newest token with its secrets replaced: its expiries and granted scope stay.
	Token        *oauthflow.Token `json:"token,omitempty"`
	CodeIssuedAt time.Time        `json:"code_issued_at,omitzero"`
}

// FactsName is the name Facts are stored under with a session.
const FactsName = "flow-facts"

// FactsOf gathers what a flow knew; cfg is its configuration.
func FactsOf(fr *oauthflow.FlowResult, cfg oauthflow.Config) Facts {
	f := Facts{Provider: cfg.Provider, Client: cfg.Client}
	if fr == nil {
		return f
	}
	if fr.Provider.Name != "" || fr.Provider.Issuer != "" {
		f.Provider = fr.Provider
	}
	f.Provider.Discovered = nil
	f.ClaimedIssuer, f.CodeIssuedAt = fr.ClaimedIssuer, fr.CodeReceivedAt
	f.Authorization = AuthorizationOf(fr.AuthRequest)
	if t := fr.CurrentToken(); t != nil {
		f.Token = withoutSecrets(t)
	}
	return f
}

// withoutSecrets is a copy of t whose token strings are replaced by a mark of their presence.
func withoutSecrets(t *oauthflow.Token) *oauthflow.Token {
	c := *t
	hide := func(s *string) {
		if *s != "" {
			*s = "[redacted]"
		}
	}
	hide(&c.AccessToken)
	hide(&c.RefreshToken)
	hide(&c.IDToken)
	c.Raw = nil
	return &c
}

// Context is the diagnosis context the facts give at time now.
func (f Facts) Context(now time.Time) Context {
	return Context{Provider: f.Provider, Client: f.Client, Now: now, ClaimedIssuer: f.ClaimedIssuer,
		Authorization: f.Authorization, Token: f.Token, CodeIssuedAt: f.CodeIssuedAt}
}

// FlowContext gathers what a flow knew into a diagnosis Context: its facts, and the live token,
// introspection and ID token. idToken is VerifyIDToken's verdict, when one was made; without it
// the ID token's claims are checked (not its signature, which needs the JWKS). now is the local
// clock.
func FlowContext(fr *oauthflow.FlowResult, cfg oauthflow.Config, idToken *Verification, now time.Time) Context {
	c := FactsOf(fr, cfg).Context(now)
	if fr == nil {
		return c
	}
	c.Token = fr.CurrentToken()
	if fr.Introspection != nil {
		v := NormalizeIntrospection(fr.Introspection, c.Provider.Introspection)
		c.Introspection = &v
	}
	skew, _ := MeasureSkew(FlowObservations(fr))
	if c.Token != nil {
		st := TokenState(c.Token, now, StateOptions{Skew: skew, Introspection: c.Introspection})
		c.State = &st
	}
	c.IDToken = idToken
	if c.IDToken == nil && fr.Token != nil && fr.Token.IDToken != "" {
		if j, err := DecodeJWT(fr.Token.IDToken); err == nil && j.Format == FormatJWT {
			c.IDToken = &Verification{Format: FormatJWT, JWT: j, Checks: CheckClaims(j, idTokenExpectations(fr, cfg, now, skew))}
		}
	}
	return c
}

// idTokenExpectations are the checks an ID token of the flow must pass: the flow's expected
// issuer, the client as audience, the nonce it sent.
func idTokenExpectations(fr *oauthflow.FlowResult, cfg oauthflow.Config, now time.Time, skew time.Duration) VerifyOptions {
	opts := VerifyOptions{Issuer: fr.ExpectedIssuer(), Audience: cfg.Client.ID, Now: now, Skew: skew}
	if fr.AuthRequest != nil {
		opts.Nonce = fr.AuthRequest.Nonce
	}
	return opts
}

// VerifyIDToken verifies the ID token the flow received, signature included, fetching the JWKS
// through client (recorded under the step "id-token"). It returns nil when there is no ID token
// or no JWKS to check it with.
func VerifyIDToken(ctx context.Context, fr *oauthflow.FlowResult, cfg oauthflow.Config, client *http.Client, now time.Time) *Verification {
	if fr == nil || fr.Token == nil || fr.Token.IDToken == "" || fr.Provider.Endpoints.JWKS == "" {
		return nil
	}
	skew, _ := MeasureSkew(FlowObservations(fr))
	opts := idTokenExpectations(fr, cfg, now, skew)
	opts.JWKSURL, opts.HTTPClient = fr.Provider.Endpoints.JWKS, client
	v, err := VerifyJWT(httplog.WithStep(ctx, oauthflow.StepIDToken), fr.Token.IDToken, opts)
	if err != nil {
		return nil
	}
	return &v
}

// DiagnoseFlow explains a flow: the failed step first, then what the configuration, clock, ID
// token, scopes and token state show. idToken is VerifyIDToken's verdict, or nil. now is the
// local clock. The CLI and the TUI both diagnose a flow this way, so they agree.
func DiagnoseFlow(fr *oauthflow.FlowResult, cfg oauthflow.Config, idToken *Verification, now time.Time) []Diagnosis {
	return Diagnose(FlowObservations(fr), FlowContext(fr, cfg, idToken, now))
}

// DiagnoseExchanges diagnoses recorded exchanges (a session's calls) in a context.
func DiagnoseExchanges(exchanges []httplog.Exchange, ctx Context) []Diagnosis {
	obs := make([]Observation, 0, len(exchanges))
	for i := range exchanges {
		obs = append(obs, FromExchange(&exchanges[i]))
	}
	return Diagnose(obs, ctx)
}
