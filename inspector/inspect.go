package inspector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Token kinds Inspect understands.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
	KindID      = "id"
)

// InspectOptions say what is known about a token and how far to look.
type InspectOptions struct {
	// Kind is access, refresh or id; "" guesses from the token (a JWT with nonce, at_hash or
	// auth_time is an ID token).
	Kind string
	// Runner, when set, provides the provider (JWKS URL, introspection endpoint, issuer) and
	// makes the introspection call.
	Runner *oauthflow.Runner
	// Introspect asks the provider about the token when the runner knows an introspection endpoint.
	Introspect bool
	// Token is the token response the raw token came from (a stored token), for its expiry
	// fields and the other token of the pair.
	Token *oauthflow.Token
	// ClaimedIssuer is the issuer the discovery document states.
	ClaimedIssuer string
	// HTTPClient fetches the JWKS (a recording client, say); nil means the runner's defaults.
	HTTPClient *http.Client
	// Verify sets expectations beyond the provider's: Audience, Nonce, a JWKSURL or KeySet.
	Verify VerifyOptions
	// Now is the local clock; Skew the server's clock minus it (from a stored token, say).
	Now  time.Time
	Skew time.Duration
}

// Inspection is everything known about one token.
type Inspection struct {
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
	Format      Format `json:"format"`
	// DecodeError is set when the token looks like a JWT but does not decode.
	DecodeError   string             `json:"decode_error,omitempty"`
	JWT           *JWT               `json:"jwt,omitempty"`
	Verification  *Verification      `json:"verification,omitempty"`
	Introspection *IntrospectionView `json:"introspection,omitempty"`
	// IntrospectionSkipped says why no introspection was made.
	IntrospectionSkipped string `json:"introspection_skipped,omitempty"`
	// State and Next are absent for ID tokens, which are not sent to APIs.
	State      *State     `json:"state,omitempty"`
	Next       *Action    `json:"next_action,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// IDToken is the verification of the ID token that came with a stored token response.
	IDToken   *Verification    `json:"id_token,omitempty"`
	Scopes    *ScopeComparison `json:"scopes,omitempty"`
	Diagnoses []Diagnosis      `json:"diagnoses"`
}

// Inspect decodes raw, verifies it when it is a JWT, introspects it when asked and possible,
// computes its state and diagnoses what it finds. Network failures (JWKS, introspection) become
// check verdicts and diagnoses, not errors; the error is for input that is not a token.
func Inspect(ctx context.Context, raw string, opts InspectOptions) (*Inspection, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("no token given: pass it as an argument, or - to read it from stdin")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return nil, errors.New("the token contains whitespace: pass one token, without the \"Bearer \" prefix or a JSON body around it")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var cfg oauthflow.Config
	if opts.Runner != nil {
		cfg = opts.Runner.Config()
	}
	ins := &Inspection{Fingerprint: recorder.Fingerprint(raw), Format: DetectFormat(raw), Diagnoses: []Diagnosis{}}
	j, err := DecodeJWT(raw)
	if err != nil {
		ins.DecodeError = err.Error()
	} else if j.Format == FormatJWT {
		ins.JWT = j
	} else if j.Format == FormatJWE {
		ins.JWT = j // the protected header is readable
	}
	ins.Kind = opts.Kind
	if ins.Kind == "" {
		ins.Kind = guessKind(ins.JWT, opts.Token, raw)
	}

	vopts := verifyOptionsFor(opts, cfg, ins.Kind, now)
	if ins.Format == FormatJWT && ins.JWT != nil {
		v, err := VerifyJWT(ctx, raw, vopts)
		if err == nil {
			ins.Verification = &v
		}
	}

	var obs []Observation
	var view *IntrospectionView
	switch {
	case ins.Kind == KindID:
		ins.IntrospectionSkipped = "ID tokens are verified, not introspected"
	case !opts.Introspect:
		ins.IntrospectionSkipped = "not requested"
	case opts.Runner == nil || cfg.Provider.Endpoints.Introspection == "":
		ins.IntrospectionSkipped = "no introspection endpoint known (--introspect-url, or a provider whose discovery lists one)"
	case cfg.Client.ID == "" || (cfg.Client.Secret == "" && cfg.Client.AuthMethod != oauthflow.AuthNone):
		ins.IntrospectionSkipped = "introspection needs the client's credentials (--client-id and OAUTHDIAG_CLIENT_SECRET)"
	default:
		hint := "access_token"
		if ins.Kind == KindRefresh {
			hint = "refresh_token"
		}
		var in *oauthflow.Introspection
		step := opts.Runner.Report(ctx, oauthflow.StepIntrospect, func(ctx context.Context) (err error) {
			in, err = opts.Runner.Introspect(ctx, raw, hint)
			return err
		})
		if step.Err != nil {
			ins.IntrospectionSkipped = "the introspection call failed: see the diagnosis"
		}
		obs = append(obs, FromStep(step))
		if in != nil {
			v := NormalizeIntrospection(in, cfg.Provider.Introspection)
			view = &v
			ins.Introspection = view
		}
	}
	skew := opts.Skew
	if measured, ok := MeasureSkew(obs); ok && skew == 0 {
		skew = measured
	}

	dctx := Context{Provider: cfg.Provider, Client: cfg.Client, Now: now, ClaimedIssuer: opts.ClaimedIssuer, Introspection: view}
	if ins.Kind == KindID {
		dctx.IDToken = ins.Verification
	} else {
		tok := tokenFor(raw, ins.Kind, opts.Token)
		sopts := StateOptions{Skew: skew, Alone: opts.Token == nil}
		// The state without the server's view, to compare with it; then the state with it.
		before := TokenState(tok, now, sopts)
		if view != nil {
			ins.Mismatches = Compare(before, *view)
			if ins.Kind == KindRefresh {
				sopts.RefreshIntrospection = view
			} else {
				sopts.Introspection = view
			}
		}
		st := TokenState(tok, now, sopts)
		next := NextAction(st)
		ins.State, ins.Next = &st, &next
		dctx.Token, dctx.State = tok, &st
		if opts.Token != nil && opts.Token.IDToken != "" {
			idOpts := verifyOptionsFor(opts, cfg, KindID, now)
			if v, err := VerifyJWT(ctx, opts.Token.IDToken, idOpts); err == nil && v.Format == FormatJWT {
				ins.IDToken = &v
				dctx.IDToken = &v
			}
		}
		if granted, _, ok := dctx.grantedScopes(); ok && len(dctx.requestedScopes()) > 0 {
			d := ScopeDiff(dctx.requestedScopes(), granted)
			ins.Scopes = &d
		}
	}
	ins.Diagnoses = Diagnose(obs, dctx)
	if ins.Diagnoses == nil {
		ins.Diagnoses = []Diagnosis{}
	}
	return ins, nil
}

// guessKind: the token that came in a response is known; a JWT that carries ID-token claims is
// an ID token; anything else is taken for an access token.
func guessKind(j *JWT, tok *oauthflow.Token, raw string) string {
	if tok != nil {
		switch raw {
		case tok.RefreshToken:
			return KindRefresh
		case tok.IDToken:
			return KindID
		}
	}
	if j != nil && j.Format == FormatJWT {
		if typ, _ := j.Header["typ"].(string); strings.EqualFold(typ, "at+jwt") {
			return KindAccess
		}
		for _, c := range []string{"nonce", "at_hash", "auth_time", "c_hash"} {
			if _, ok := j.Claims[c]; ok {
				return KindID
			}
		}
	}
	return KindAccess
}

func tokenFor(raw, kind string, known *oauthflow.Token) *oauthflow.Token {
	if known != nil {
		t := *known
		switch kind {
		case KindRefresh:
			t.RefreshToken = raw
		default:
			t.AccessToken = raw
		}
		return &t
	}
	if kind == KindRefresh {
		return &oauthflow.Token{RefreshToken: raw}
	}
	return &oauthflow.Token{AccessToken: raw}
}

// verifyOptionsFor fills the expectations from the provider: its JWKS, its issuer (the one the
// discovery document states wins), and for ID tokens the client_id as audience.
func verifyOptionsFor(opts InspectOptions, cfg oauthflow.Config, kind string, now time.Time) VerifyOptions {
	v := opts.Verify
	v.Now, v.Skew = now, opts.Skew
	if v.HTTPClient == nil {
		v.HTTPClient = opts.HTTPClient
	}
	if v.JWKSURL == "" && v.KeySet == nil {
		v.JWKSURL = cfg.Provider.Endpoints.JWKS
	}
	if v.Issuer == "" {
		v.Issuer = opts.ClaimedIssuer
		if v.Issuer == "" {
			v.Issuer = cfg.Provider.Issuer
		}
	}
	if v.Audience == "" && kind == KindID {
		v.Audience = cfg.Client.ID
	}
	return v
}

// RenderInspection renders an inspection as plain text, times in UTC and relative to now.
func RenderInspection(ins *Inspection, now time.Time) string {
	var b strings.Builder
	section := func(title string) { fmt.Fprintf(&b, "\n== %s\n", title) }
	fmt.Fprintf(&b, "token:  %s (%s token, %s)\n", ins.Fingerprint, ins.Kind, ins.Format.Describe())
	if ins.DecodeError != "" {
		fmt.Fprintf(&b, "decode: %s\n", ins.DecodeError)
	}
	if ins.State != nil {
		section("state")
		b.WriteString(RenderState(*ins.State))
	}
	if ins.JWT != nil {
		section("decoded")
		b.WriteString(RenderJWT(ins.JWT, now))
	}
	if ins.Verification != nil {
		section("checks")
		b.WriteString(RenderVerification(*ins.Verification))
	}
	if ins.IDToken != nil {
		section("ID token")
		b.WriteString(RenderJWT(ins.IDToken.JWT, now))
		b.WriteString(RenderVerification(*ins.IDToken))
	}
	section("introspection")
	if ins.Introspection != nil {
		b.WriteString(RenderIntrospection(*ins.Introspection, now))
	} else {
		fmt.Fprintf(&b, "skipped: %s\n", ins.IntrospectionSkipped)
	}
	for _, m := range ins.Mismatches {
		fmt.Fprintf(&b, "mismatch %s: local %s, server %s: %s\n", m.Field, m.Local, m.Server, m.Detail)
	}
	if ins.Scopes != nil {
		section("scopes")
		b.WriteString(ins.Scopes.Text() + "\n")
	}
	section("diagnosis")
	b.WriteString(RenderDiagnoses(ins.Diagnoses))
	return b.String()
}
