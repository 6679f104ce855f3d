package inspector

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Status is a token's state.
type Status string

const (
	StatusValid        Status = "valid"
	StatusExpiringSoon Status = "expiring-soon"
	StatusExpired      Status = "expired"
	StatusRevoked      Status = "revoked"
	StatusUnknown      Status = "unknown"
	// StatusNone: the client holds no such token (no refresh token was issued, say).
	StatusNone Status = "none"
)

func (s Status) String() string { return string(s) }

// usable says whether a token in this state can still be sent.
func (s Status) usable() bool {
	return s == StatusValid || s == StatusExpiringSoon || s == StatusUnknown
}

// ExpirySource names where an expiry time came from.
type ExpirySource string

const (
	SourceExpiresIn              ExpirySource = "expires_in"
	SourceRefreshExpiresIn       ExpirySource = "refresh_token_expires_in"
	SourceJWTExp                 ExpirySource = "jwt-exp"
	SourceIntrospectionExp       ExpirySource = "introspection-exp"
	SourceIntrospectionExpiresAt ExpirySource = "introspection-expires_at"
	SourceUnknown                ExpirySource = "unknown"
)

// sourceRank orders sources by authority: the server's current word (introspection) beats a
// signed claim, which beats a lifetime counted from our own receipt time.
func sourceRank(s ExpirySource) int {
	switch s {
	case SourceIntrospectionExpiresAt, SourceIntrospectionExp:
		return 3
	case SourceJWTExp:
		return 2
	case SourceExpiresIn, SourceRefreshExpiresIn:
		return 1
	}
	return 0
}

// Expiry thresholds for StatusExpiringSoon: a token is expiring soon when less than
// SoonFraction of its lifetime or less than SoonMinimum is left, whichever is more. The fraction
// makes a 60-day LinkedIn token "expiring soon" 6 days ahead, a warning in time to plan for it;
// the minimum covers short-lived tokens (5 minutes at zitadel) and tokens of unknown lifetime.
// The status only warns: NextAction says refresh at oauthflow.DefaultMargin, as oauthdiag call does.
const (
	DefaultSoonFraction = 0.10
	DefaultSoonMinimum  = 60 * time.Second
	// DisagreementTolerance is how far two expiry sources may differ before it is reported:
	// expires_in counts from the receipt time, so latency and second rounding shift it a little.
	DisagreementTolerance = 60 * time.Second
)

// ExpiryClaim is one source's statement of a token's expiry.
type ExpiryClaim struct {
	Source ExpirySource `json:"source"`
	Expiry time.Time    `json:"expiry"`
}

// TokenInfo is the state of one token.
type TokenInfo struct {
	Kind        string `json:"kind"` // access | refresh
	Present     bool   `json:"present"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Format      Format `json:"format,omitempty"`
	// IssuedAt is the start of the lifetime used for FractionUsed (zero when unknown).
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// Expiry is the chosen expiry on the local clock (zero when unknown) and Source says whence.
	Expiry  time.Time     `json:"expiry,omitzero"`
	Source  ExpirySource  `json:"source"`
	Sources []ExpiryClaim `json:"sources,omitempty"`
	// Disagreements describe sources whose expiries differ by more than DisagreementTolerance.
	Disagreements []string `json:"disagreements,omitempty"`
	// TimeLeft is negative once expired; Lifetime and FractionUsed are 0 / -1 when unknown.
	TimeLeft     time.Duration `json:"time_left_ns"`
	Lifetime     time.Duration `json:"lifetime_ns,omitempty"`
	FractionUsed float64       `json:"fraction_used"`
	Status       Status        `json:"status"`
	Reason       string        `json:"reason"`
}

// State is the state of a client's tokens at one moment.
type State struct {
	// Now is the local time the state was computed for.
	Now time.Time `json:"now"`
	// Skew is the server clock minus the local one, applied to server-stated times.
	Skew          time.Duration `json:"skew_ns,omitempty"`
	Access        TokenInfo     `json:"access"`
	Refresh       TokenInfo     `json:"refresh"`
	GrantedScopes []string      `json:"granted_scopes,omitempty"`
	// refreshLead is the caller's own least refresh margin (StateOptions.RefreshLead), 0 if none.
	refreshLead time.Duration
}

// StateOptions refine TokenState.
type StateOptions struct {
	// Skew is the measured server clock minus the local one (see MeasureSkew). Expiry times the
	// server states in absolute terms (JWT exp, introspection) are moved onto the local clock.
	Skew time.Duration
	// Introspection is the server's view of the access token; RefreshIntrospection of the
	// refresh token.
	Introspection        *IntrospectionView
	RefreshIntrospection *IntrospectionView
	// Revoked marks tokens the client itself revoked.
	AccessRevoked, RefreshRevoked bool
	// Alone says the token was given without its token response: whether the other token of
	// the pair exists is unknown (not "none issued").
	Alone bool
	// SoonFraction and SoonMinimum override the DefaultSoon* thresholds.
	SoonFraction float64
	SoonMinimum  time.Duration
	// RefreshLead is the least time before expiry at which NextAction says refresh, for a
	// caller that refreshes on its own schedule (the TUI's auto-refresh). Without it the advice
	// is what oauthdiag call does: refresh within oauthflow.DefaultMargin.
	RefreshLead time.Duration
}

// TokenState computes the state of tok's access and refresh tokens at now (local clock), from
// every expiry source available: expires_in and refresh_token_expires_in (counted from receipt),
// a JWT exp claim, and introspection's exp or LinkedIn's expires_at. The most authoritative source
// wins (introspection, then JWT, then the token response) and disagreements are listed.
func TokenState(tok *oauthflow.Token, now time.Time, opts StateOptions) State {
	st := State{Now: now, Skew: opts.Skew, refreshLead: max(opts.RefreshLead, 0)}
	if tok == nil {
		tok = &oauthflow.Token{}
	}
	st.GrantedScopes = oauthflow.SplitScopes(tok.Scope)
	if len(st.GrantedScopes) == 0 && opts.Introspection != nil {
		st.GrantedScopes = opts.Introspection.Scopes
	}
	toLocal := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.Add(-opts.Skew)
	}

	access := tokenInput{kind: "access", value: tok.AccessToken, received: tok.ReceivedAt, revoked: opts.AccessRevoked, alone: opts.Alone}
	if !tok.Expiry.IsZero() {
		access.claims = append(access.claims, ExpiryClaim{SourceExpiresIn, tok.Expiry})
	} else if tok.ExpiresIn > 0 && !tok.ReceivedAt.IsZero() {
		access.claims = append(access.claims, ExpiryClaim{SourceExpiresIn, tok.ReceivedAt.Add(time.Duration(tok.ExpiresIn) * time.Second)})
	}
	access.addJWT(toLocal)
	access.addIntrospection(opts.Introspection, toLocal)

	refresh := tokenInput{kind: "refresh", value: tok.RefreshToken, received: tok.ReceivedAt, revoked: opts.RefreshRevoked, alone: opts.Alone}
	if !tok.RefreshExpiry.IsZero() {
		refresh.claims = append(refresh.claims, ExpiryClaim{SourceRefreshExpiresIn, tok.RefreshExpiry})
	} else if tok.RefreshTokenExpiresIn > 0 && !tok.ReceivedAt.IsZero() {
		refresh.claims = append(refresh.claims, ExpiryClaim{SourceRefreshExpiresIn, tok.ReceivedAt.Add(time.Duration(tok.RefreshTokenExpiresIn) * time.Second)})
	}
	refresh.addJWT(toLocal)
	refresh.addIntrospection(opts.RefreshIntrospection, toLocal)

	frac, minimum := opts.SoonFraction, opts.SoonMinimum
	if frac <= 0 {
		frac = DefaultSoonFraction
	}
	if minimum <= 0 {
		minimum = DefaultSoonMinimum
	}
	st.Access = access.evaluate(now, frac, minimum)
	st.Refresh = refresh.evaluate(now, frac, minimum)
	return st
}

type tokenInput struct {
	kind     string
	value    string
	received time.Time
	issued   time.Time // from iat, created_at or authorized_at
	claims   []ExpiryClaim
	intro    *IntrospectionView
	revoked  bool
	alone    bool
}

func (in *tokenInput) addJWT(toLocal func(time.Time) time.Time) {
	if in.value == "" {
		return
	}
	j, err := DecodeJWT(in.value)
	if err != nil || j.Format != FormatJWT {
		return
	}
	if exp, ok := j.Time("exp"); ok {
		in.claims = append(in.claims, ExpiryClaim{SourceJWTExp, toLocal(exp)})
	}
	if iat, ok := j.Time("iat"); ok && in.issued.IsZero() {
		in.issued = toLocal(iat)
	}
}

func (in *tokenInput) addIntrospection(v *IntrospectionView, toLocal func(time.Time) time.Time) {
	if v == nil {
		return
	}
	in.intro = v
	if !v.Expiry.IsZero() {
		in.claims = append(in.claims, ExpiryClaim{v.ExpirySource, toLocal(v.Expiry)})
	}
	// A LinkedIn refresh token lives from the member's authorization, not from its own issue.
	start := v.IssuedAt
	if in.kind == "refresh" && !v.AuthorizedAt.IsZero() {
		start = v.AuthorizedAt
	}
	if !start.IsZero() && in.issued.IsZero() {
		in.issued = toLocal(start)
	}
}

func (in *tokenInput) evaluate(now time.Time, soonFraction float64, soonMinimum time.Duration) TokenInfo {
	ti := TokenInfo{Kind: in.kind, Present: in.value != "", Source: SourceUnknown, FractionUsed: -1}
	if !ti.Present && in.intro == nil && in.alone {
		ti.Status, ti.Reason = StatusUnknown, "not given: only the other token was inspected"
		return ti
	}
	if !ti.Present && in.intro == nil {
		ti.Status = StatusNone
		ti.Reason = "no " + in.kind + " token"
		if in.kind == "refresh" {
			ti.Reason = "no refresh token was issued"
		}
		return ti
	}
	if ti.Present {
		ti.Fingerprint = recorder.Fingerprint(in.value)
		ti.Format = DetectFormat(in.value)
	}
	ti.Sources = slices.Clone(in.claims)
	// The chosen source: highest rank, the later one listed on ties.
	best := -1
	for i, c := range in.claims {
		if best < 0 || sourceRank(c.Source) >= sourceRank(in.claims[best].Source) {
			best = i
		}
	}
	if best >= 0 {
		ti.Expiry, ti.Source = in.claims[best].Expiry, in.claims[best].Source
		for _, c := range in.claims {
			if d := c.Expiry.Sub(ti.Expiry); d > DisagreementTolerance || d < -DisagreementTolerance {
				ti.Disagreements = append(ti.Disagreements, fmt.Sprintf("%s says %s, %s says %s (%s apart)",
					c.Source, oauthflow.FormatUTC(c.Expiry), ti.Source, oauthflow.FormatUTC(ti.Expiry), oauthflow.HumanDuration(oauthflow.AbsDuration(d))))
			}
		}
	}
	// Lifetime start: the token's own issue time if stated, else when we received it.
	ti.IssuedAt = in.issued
	if ti.IssuedAt.IsZero() {
		ti.IssuedAt = in.received
	}
	if !ti.Expiry.IsZero() {
		ti.TimeLeft = ti.Expiry.Sub(now)
		if !ti.IssuedAt.IsZero() && ti.Expiry.After(ti.IssuedAt) {
			ti.Lifetime = ti.Expiry.Sub(ti.IssuedAt)
			used := float64(now.Sub(ti.IssuedAt)) / float64(ti.Lifetime)
			ti.FractionUsed = math.Max(0, math.Min(1, used))
		}
	}

	switch {
	case in.revoked:
		ti.Status, ti.Reason = StatusRevoked, "revoked by this client"
	case in.intro != nil && in.intro.Status == "revoked":
		ti.Status, ti.Reason = StatusRevoked, "introspection reports status revoked"
	case in.intro != nil && in.intro.Status == "expired":
		ti.Status, ti.Reason = StatusExpired, "introspection reports status expired"
	case !ti.Expiry.IsZero() && !now.Before(ti.Expiry):
		ti.Status = StatusExpired
		ti.Reason = fmt.Sprintf("expired %s ago (%s)", oauthflow.HumanDuration(-ti.TimeLeft), ti.Source)
		if ti.TimeLeft == 0 {
			ti.Reason = fmt.Sprintf("expires this instant (%s)", ti.Source)
		}
	case in.intro != nil && !in.intro.Active:
		// RFC 7662 says only "inactive": with the expiry still ahead, revocation (or another
		// invalidation) is the explanation left.
		ti.Status, ti.Reason = StatusRevoked, "introspection reports the token inactive before its expiry"
	case ti.Expiry.IsZero():
		ti.Status, ti.Reason = StatusUnknown, "no expiry known (no expires_in, no JWT exp, no introspection)"
		if in.intro != nil && in.intro.Active {
			ti.Status, ti.Reason = StatusValid, "introspection reports it active; expiry unknown"
		}
	case ti.TimeLeft < soonMinimum || (ti.Lifetime > 0 && float64(ti.TimeLeft) < soonFraction*float64(ti.Lifetime)):
		ti.Status = StatusExpiringSoon
		ti.Reason = fmt.Sprintf("expires in %s (%s)", oauthflow.HumanDuration(ti.TimeLeft), ti.Source)
	default:
		ti.Status = StatusValid
		ti.Reason = fmt.Sprintf("expires in %s (%s)", oauthflow.HumanDuration(ti.TimeLeft), ti.Source)
	}
	return ti
}

// ActionKind is what the client should do next with its tokens.
type ActionKind string

const (
	ActionUse         ActionKind = "use"
	ActionRefresh     ActionKind = "refresh"
	ActionReauthorize ActionKind = "reauthorize"
)

func (a ActionKind) String() string { return string(a) }

// Action is the next step with its reason.
type Action struct {
	Kind   ActionKind `json:"kind"`
	Reason string     `json:"reason"`
}

// NextAction applies LinkedIn's documented policy, which is sound for any provider: use the
// access token while it is valid, refresh it when less than oauthflow.DefaultMargin is left (the
// margin oauthdiag call refreshes at, so that the advice is what call does), and ask the member to
// authorize again only when both tokens are expired or revoked (or there is nothing to refresh with).
func NextAction(s State) Action {
	a, r := s.Access, s.Refresh
	canRefresh := r.Present && r.Status.usable()
	switch a.Status {
	case StatusValid, StatusExpiringSoon:
		margin := max(refreshMargin(a), s.refreshLead)
		if !a.Expiry.IsZero() && a.TimeLeft <= margin {
			if canRefresh {
				return Action{ActionRefresh, "the access token expires in " + oauthflow.HumanDuration(a.TimeLeft) + " (less than the " + oauthflow.HumanDuration(margin) + " margin): refresh it now, before it expires"}
			}
			return Action{ActionUse, "the access token expires in " + oauthflow.HumanDuration(a.TimeLeft) + " and there is no usable refresh token: the member will have to authorize again then"}
		}
		reason := "the access token is valid"
		if !a.Expiry.IsZero() {
			reason += " for " + oauthflow.HumanDuration(a.TimeLeft)
		}
		if a.Status == StatusExpiringSoon {
			if canRefresh {
				reason += ", nearly at its end: refresh it when less than " + oauthflow.HumanDuration(margin) + " is left"
			} else {
				reason += " and there is no usable refresh token: the member will have to authorize again then"
			}
		}
		if r.Status == StatusExpiringSoon {
			reason += "; the refresh token expires in " + oauthflow.HumanDuration(r.TimeLeft) + ": plan a re-authorization before then"
		}
		return Action{ActionUse, reason}
	case StatusUnknown:
		if a.Present {
			return Action{ActionUse, "the access token's expiry is unknown: use it and refresh (or re-authorize) when the API answers 401"}
		}
	}
	// The access token is expired, revoked, absent or not given.
	what := map[Status]string{StatusExpired: "expired", StatusRevoked: "revoked", StatusNone: "missing", StatusUnknown: "not known here"}[a.Status]
	if canRefresh {
		return Action{ActionRefresh, "the access token is " + what + " but the refresh token is " + string(r.Status) + ": refresh"}
	}
	switch {
	case !r.Present && r.Status == StatusUnknown:
		// Only the access token was given: re-authorizing is for when the refresh token is gone too.
		return Action{ActionRefresh, "the access token is " + what + ": refresh it with its refresh token if you hold one; without one, the member must authorize again"}
	case r.Status == StatusNone:
		return Action{ActionReauthorize, "the access token is " + what + " and no refresh token was issued: the member must authorize again"}
	}
	return Action{ActionReauthorize, "both tokens are unusable (access " + what + ", refresh " + string(r.Status) + "): the member must authorize again"}
}

// refreshMargin is the margin the lifecycle refreshes the access token at, for the lifetime the
// state found (an unknown lifetime gets the lifecycle's default, a minute).
func refreshMargin(ti TokenInfo) time.Duration {
	if ti.Lifetime <= 0 {
		return oauthflow.DefaultMargin(&oauthflow.Token{})
	}
	return oauthflow.DefaultMargin(&oauthflow.Token{ReceivedAt: ti.IssuedAt, Expiry: ti.Expiry})
}

// MeasureSkew estimates the server clock minus the local clock from the Date headers of the
// observations (the median, so one slow answer does not dominate). ok is false without any.
// Date has one-second resolution, so differences under two seconds mean nothing.
func MeasureSkew(obs []Observation) (skew time.Duration, ok bool) {
	var samples []time.Duration
	for _, o := range obs {
		if o.HasSkew {
			samples = append(samples, o.Skew)
		}
	}
	return httplog.CombineSkew(samples)
}

// RenderState renders the state of both tokens and the next action as plain text.
func RenderState(s State) string {
	var b strings.Builder
	for _, ti := range []TokenInfo{s.Access, s.Refresh} {
		fmt.Fprintf(&b, "%s token: %s", ti.Kind, ti.Status)
		if ti.Present {
			fmt.Fprintf(&b, " (%s, %s)", ti.Fingerprint, ti.Format)
		}
		b.WriteByte('\n')
		if ti.Status == StatusNone {
			fmt.Fprintf(&b, "  %s\n", ti.Reason)
			continue
		}
		if !ti.Expiry.IsZero() {
			fmt.Fprintf(&b, "  expires:   %s (%s), from %s\n", oauthflow.FormatUTC(ti.Expiry), oauthflow.Relative(ti.Expiry, s.Now), ti.Source)
		}
		if ti.Lifetime > 0 {
			fmt.Fprintf(&b, "  lifetime:  %s, %.0f%% used\n", oauthflow.HumanDuration(ti.Lifetime), ti.FractionUsed*100)
		}
		fmt.Fprintf(&b, "  why:       %s\n", ti.Reason)
		for _, d := range ti.Disagreements {
			fmt.Fprintf(&b, "  disagree:  %s\n", d)
		}
	}
	if s.Skew != 0 {
		fmt.Fprintf(&b, "clock skew: server is %s %s (applied)\n", oauthflow.HumanDuration(oauthflow.AbsDuration(s.Skew)), map[bool]string{true: "ahead", false: "behind"}[s.Skew > 0])
	}
	if len(s.GrantedScopes) > 0 {
		fmt.Fprintf(&b, "granted scopes: %s\n", strings.Join(s.GrantedScopes, " "))
	}
	a := NextAction(s)
	fmt.Fprintf(&b, "next action: %s: %s\n", a.Kind, a.Reason)
	return b.String()
}
