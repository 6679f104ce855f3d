package inspector

import (
	"time"

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

// FlowContext gathers what a flow knew into a diagnosis Context: configuration, the newest
// token, the introspection, the discovery issuer and the ID token's claim checks (without the
// signature, which needs the JWKS: callers that fetched it may replace IDToken with VerifyJWT's
// result). now is the local clock.
func FlowContext(fr *oauthflow.FlowResult, cfg oauthflow.Config, now time.Time) Context {
	c := Context{Provider: cfg.Provider, Client: cfg.Client, Now: now}
	if fr == nil {
		return c
	}
	if fr.Provider.Name != "" || fr.Provider.Issuer != "" {
		c.Provider = fr.Provider
	}
	c.ClaimedIssuer = fr.ClaimedIssuer
	c.AuthRequest = fr.AuthRequest
	c.Token = fr.CurrentToken()
	for _, s := range fr.Steps {
		if s.Name == oauthflow.StepCallback && s.Status != oauthflow.StatusSkipped {
			c.CodeIssuedAt = s.Started.Add(s.Duration)
		}
	}
	if fr.Introspection != nil {
		v := NormalizeIntrospection(fr.Introspection, c.Provider.Introspection)
		c.Introspection = &v
	}
	skew, _ := MeasureSkew(FlowObservations(fr))
	if c.Token != nil {
		st := TokenState(c.Token, now, StateOptions{Skew: skew, Introspection: c.Introspection})
		c.State = &st
	}
	if fr.Token != nil && fr.Token.IDToken != "" {
		if j, err := DecodeJWT(fr.Token.IDToken); err == nil && j.Format == FormatJWT {
			opts := VerifyOptions{Issuer: expectedIssuer(c), Audience: cfg.Client.ID, Now: now, Skew: skew}
			if fr.AuthRequest != nil {
				opts.Nonce = fr.AuthRequest.Nonce
			}
			c.IDToken = &Verification{Format: FormatJWT, JWT: j, Checks: CheckClaims(j, opts)}
		}
	}
	return c
}

// expectedIssuer is the issuer ID tokens must carry: the one the discovery document states
// (OpenID Connect Discovery §4.3 makes it the exact value), else the configured one.
func expectedIssuer(c Context) string {
	if c.ClaimedIssuer != "" {
		return c.ClaimedIssuer
	}
	return c.Provider.Issuer
}

// DiagnoseFlow explains a finished flow: the failed step first, then what the configuration,
// clock, ID token, scopes and token state show. now is the local clock.
func DiagnoseFlow(fr *oauthflow.FlowResult, cfg oauthflow.Config, now time.Time) []Diagnosis {
	return Diagnose(FlowObservations(fr), FlowContext(fr, cfg, now))
}
