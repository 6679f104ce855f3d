package profile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Action is what the token lifecycle does to get a usable access token.
type Action int

const (
	ActionUse       Action = iota + 1 // use the stored access token
	ActionRefresh                     // get a new access token with the refresh token
	ActionAuthorize                   // send the user through the authorization flow
)

func (a Action) String() string {
	switch a {
	case ActionUse:
		return "use"
	case ActionRefresh:
		return "refresh"
	case ActionAuthorize:
		return "authorize"
	}
	return "unknown"
}

// MarshalText makes actions readable in JSON.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Cause is a stable code for why the lifecycle chose its action.
type Cause string

const (
	CauseValid             Cause = "access_valid"           // the access token is good for longer than the margin
	CauseUnknownLifetime   Cause = "lifetime_unknown"       // the provider never said when it expires
	CauseExpiringNoRefresh Cause = "expiring_unrenewable"   // nearly expired and cannot be refreshed: used while it lasts
	CauseNoToken           Cause = "no_token"               // nothing stored for the profile
	CauseCorrupt           Cause = "corrupt_entry"          // the stored entry was unreadable and moved aside
	CauseClientChanged     Cause = "client_changed"         // stored for another client_id
	CauseProviderChanged   Cause = "provider_changed"       // stored for another issuer or token endpoint
	CauseScopesChanged     Cause = "scopes_changed"         // a scope is requested that the stored token was not asked for
	CauseExpiring          Cause = "access_expiring"        // within the margin: refreshed ahead of time
	CauseExpired           Cause = "access_expired"         // expired: refreshed
	CauseNoRefreshToken    Cause = "no_refresh_token"       // expired and no refresh token was issued
	CauseRefreshExpired    Cause = "refresh_expired"        // both tokens expired
	CauseRefreshRejected   Cause = "refresh_rejected"       // the provider refused the refresh token (revoked, expired)
	CauseForced            Cause = "refresh_requested"      // the user asked for a refresh
	CauseRejected          Cause = "access_rejected"        // an API call refused the access token
	CauseRenewedElsewhere  Cause = "renewed_by_another_run" // another command renewed it while this one waited
)

// Decision says what the lifecycle did and why, in words for people and codes for programs.
type Decision struct {
	Profile string
	Action  Action
	Cause   Cause
	// Why describes the state of the tokens ("the access token expired 2m ago").
	Why string
	// Reason is the whole sentence: the state and what is done about it.
	Reason string
	// Token is the token in use after the decision; nil when none could be obtained.
	Token *StoredToken
	// Steps are the refresh and authorization steps that were made, in order.
	Steps []oauthflow.StepReport
	// Notes are facts worth showing: rotation, clock skew, an entry moved aside, a failed save.
	Notes []string
	// Corrupt is set when the stored entry was unreadable (it has been moved aside).
	Corrupt *CorruptEntryError
}

// AuthorizationRequiredError is returned when only a new authorization would help and the
// Lifecycle has no Authorize function (a command that cannot open a browser).
type AuthorizationRequiredError struct{ Decision Decision }

func (e *AuthorizationRequiredError) Error() string {
	return e.Decision.Why + ": the user must authorize again"
}

// Lifecycle keeps a profile's token usable the way providers ask clients to: reuse the stored
// access token; refresh it when it has expired or is about to; authorize again only when neither
// token can be used; never get a token per call. A Lifecycle serves one command; it is not meant
// for concurrent use, but separate processes (or Lifecycles) on the same profile are serialised by
// Lock, so that they do one refresh between them rather than two that invalidate each other.
type Lifecycle struct {
	Runner  *oauthflow.Runner
	Store   TokenStore
	Profile string
	// Now is the clock for every expiry decision; nil means the Runner's.
	Now func() time.Time
	// Margin: an access token with less than this left is refreshed ahead of time. Zero means a
	// tenth of the token's lifetime, at most a minute.
	Margin time.Duration
	// Authorize runs the authorization flow (a CLI opens a browser, a TUI its own screen); it is
	// told why. nil makes the lifecycle return *AuthorizationRequiredError instead.
	Authorize func(ctx context.Context, why Decision) (*oauthflow.Authorization, error)
	// Lock serialises commands on the same profile (see ProfileLocker); nil means no locking.
	Lock func(ctx context.Context, profile string) (unlock func(), err error)
	// Prepare, if set, runs once before the first request to the provider (for example discovery,
	// so that a cached token costs no request at all).
	Prepare func(ctx context.Context) error

	mu       sync.Mutex
	prepared bool
}

func (l *Lifecycle) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return l.Runner.Now()
}

// PrepareOnce runs Prepare unless it has run already, for a caller that needs the provider's
// configuration before the lifecycle does.
func (l *Lifecycle) PrepareOnce(ctx context.Context) error { return l.prepare(ctx) }

func (l *Lifecycle) prepare(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.prepared || l.Prepare == nil {
		return nil
	}
	if err := l.Prepare(ctx); err != nil {
		return err
	}
	l.prepared = true
	return nil
}

func (l *Lifecycle) lock(ctx context.Context) (func(), error) {
	if l.Lock == nil {
		return func() {}, nil
	}
	return l.Lock(ctx, l.Profile)
}

// Token returns a usable access token: the stored one, a refreshed one, or a new authorization.
// The decision says which and why. A failed decision still returns it (with the steps made).
func (l *Lifecycle) Token(ctx context.Context) (*oauthflow.Token, *Decision, error) {
	return l.obtain(ctx, nil)
}

// Refresh refreshes the stored token now, whatever its expiry. When the refresh token cannot be
// used it authorizes again (or returns *AuthorizationRequiredError without Authorize).
func (l *Lifecycle) Refresh(ctx context.Context) (*oauthflow.Token, *Decision, error) {
	return l.obtain(ctx, &override{cause: CauseForced, why: "a refresh was requested"})
}

// Rejected is called when an API refused accessToken although it looked valid (revoked, or the
// clocks disagree). Unless another command has already replaced the stored token, it refreshes
// (or authorizes again); why describes the refusal.
func (l *Lifecycle) Rejected(ctx context.Context, accessToken, why string) (*oauthflow.Token, *Decision, error) {
	return l.obtain(ctx, &override{cause: CauseRejected, why: why, rejected: accessToken})
}

type override struct {
	cause    Cause
	why      string
	rejected string
}

func (l *Lifecycle) obtain(ctx context.Context, o *override) (*oauthflow.Token, *Decision, error) {
	d := &Decision{Profile: l.Profile}
	unlock, err := l.lock(ctx)
	if err != nil {
		return nil, d, err
	}
	defer unlock()

	st, err := l.Store.Load(l.Profile)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotStored):
		st = nil
	case errors.As(err, &d.Corrupt):
		st = nil
		d.Notes = append(d.Notes, d.Corrupt.Error())
	default:
		return nil, d, fmt.Errorf("reading the stored token (%s): %w", l.Store.Where(l.Profile), err)
	}
	plan := Plan(st, l.Runner.Config(), l.now(), l.Margin)
	plan.Profile, plan.Corrupt, plan.Notes = l.Profile, d.Corrupt, append(d.Notes, plan.Notes...)
	*d = plan
	if st == nil && d.Corrupt != nil {
		d.Cause = CauseCorrupt
		d.Why = "the stored token was unreadable and has been moved aside"
		d.Reason = d.Why + ": authorizing"
	}
	if o != nil && st != nil {
		l.applyOverride(d, st, o)
	}

	switch d.Action {
	case ActionUse:
		d.Token = st
		return &st.Token, d, nil
	case ActionRefresh:
		tok, err := l.refresh(ctx, d, st)
		if tok != nil || err != nil {
			return tok, d, err
		}
		// The refresh token was refused: only the user can help now.
	}
	return l.authorize(ctx, d)
}

// applyOverride turns a forced refresh or a rejected access token into a decision, unless
// another command renewed the token while this one waited for the lock.
func (l *Lifecycle) applyOverride(d *Decision, st *StoredToken, o *override) {
	if o.rejected != "" && st.Token.AccessToken != o.rejected {
		d.Action, d.Cause = ActionUse, CauseRenewedElsewhere
		d.Why = "another oauthdiag command renewed the token meanwhile"
		d.Reason = d.Why + ": using the new one"
		return
	}
	switch d.Cause {
	case CauseClientChanged, CauseProviderChanged, CauseScopesChanged:
		return // the stored token is of no use whatever happens
	}
	now := l.now()
	d.Cause, d.Why = o.cause, o.why
	if usable, why := refreshUsable(st, now); usable {
		d.Action = ActionRefresh
		d.Reason = fmt.Sprintf("%s; refreshing with the refresh token (%s)", d.Why, why)
		return
	} else if o.cause == CauseForced {
		d.Cause = refreshCause(st)
		d.Why = "a refresh was requested, but " + why
	} else {
		d.Why += ", and " + why
	}
	d.Action = ActionAuthorize
	d.Reason = d.Why + ": authorizing again"
}

// refresh runs the refresh and stores the result. It returns (nil, nil) when the provider refused
// the refresh token, after turning d into an authorization decision.
func (l *Lifecycle) refresh(ctx context.Context, d *Decision, st *StoredToken) (*oauthflow.Token, error) {
	if err := l.prepare(ctx); err != nil {
		return nil, err
	}
	f := l.Runner.NewFlow(oauthflow.FlowOptions{Token: &st.Token, EndpointsKnown: true})
	step := f.Step(ctx, oauthflow.StepRefresh)
	d.Steps = append(d.Steps, step)
	err := step.Err
	if err != nil {
		if refreshRefused(err) {
			d.Action, d.Cause = ActionAuthorize, CauseRefreshRejected
			d.Why = "the provider refused the refresh token (" + errorSummary(err) + ")"
			d.Reason = d.Why + ": authorizing again"
			return nil, nil
		}
		if left := st.Token.Expiry.Sub(l.now()); d.Cause == CauseExpiring && left > 0 {
			// The token still works for a while: a failed early refresh need not stop the call.
			d.Action, d.Token = ActionUse, st
			d.Notes = append(d.Notes, fmt.Sprintf("the early refresh failed (%v); the access token is still valid for %s: using it", err, oauthflow.HumanDuration(left)))
			return &st.Token, nil
		}
		return nil, fmt.Errorf("refreshing the token: %w", err)
	}
	fr := f.Result()
	next, notes := Persisted(l.Runner.Config(), fr.CurrentToken(), nil, step.Exchanges, st, l.now())
	d.Notes = append(d.Notes, step.Notes...)
	d.Notes = append(d.Notes, notes...)
	d.Notes = append(d.Notes, "refreshed: "+oauthflow.ExpirySentence(&next.Token, l.now()))
	l.save(d, next)
	d.Token = next
	return &next.Token, nil
}

func (l *Lifecycle) authorize(ctx context.Context, d *Decision) (*oauthflow.Token, *Decision, error) {
	if l.Authorize == nil {
		return nil, d, &AuthorizationRequiredError{Decision: *d}
	}
	if err := l.prepare(ctx); err != nil {
		return nil, d, err
	}
	res, err := l.Authorize(ctx, *d)
	if res != nil {
		d.Steps = append(d.Steps, res.Steps...)
	}
	if err != nil {
		return nil, d, err
	}
	if res == nil || res.Token == nil {
		return nil, d, errors.New("the authorization returned no token")
	}
	now := l.now()
	st, notes := Persisted(l.Runner.Config(), res.Token, res.Scopes, res.Exchanges(), nil, now)
	d.Notes = append(d.Notes, notes...)
	d.Notes = append(d.Notes, "authorized: "+oauthflow.ExpirySentence(&st.Token, now))
	if st.Token.RefreshToken == "" {
		d.Notes = append(d.Notes, "no refresh token was issued: when the access token expires, the user must authorize again")
	}
	l.save(d, st)
	d.Token = st
	return &st.Token, d, nil
}

// save stores st; a failure does not cost the user the token in hand, so it becomes a note.
func (l *Lifecycle) save(d *Decision, st *StoredToken) {
	st.SavedAt = l.now()
	if err := l.Store.Save(l.Profile, st); err != nil {
		d.Notes = append(d.Notes, fmt.Sprintf("the new token could not be stored (%v): the next run will have to obtain one again", err))
	}
}

// Plan decides what to do with a stored token (nil: none) for the configuration cfg at time now,
// without doing it. margin 0 means the default (a tenth of the lifetime, at most a minute).
func Plan(st *StoredToken, cfg oauthflow.Config, now time.Time, margin time.Duration) Decision {
	d := Decision{}
	authorize := func(c Cause, why string) Decision {
		d.Action, d.Cause, d.Why = ActionAuthorize, c, why
		d.Reason = why + ": authorizing again"
		if c == CauseNoToken {
			d.Reason = why + ": authorizing"
		}
		return d
	}
	if st == nil {
		return authorize(CauseNoToken, "no token is stored for this profile")
	}
	if oauthflow.AbsDuration(st.ServerSkew) >= 2*time.Second {
		side := "ahead of"
		if st.ServerSkew < 0 {
			side = "behind"
		}
		d.Notes = append(d.Notes, fmt.Sprintf("the provider's clock is %s %s this machine's (from its Date header); times it states are corrected for that", oauthflow.HumanDuration(oauthflow.AbsDuration(st.ServerSkew)), side))
	}
	if st.ClientID != "" && cfg.Client.ID != "" && st.ClientID != cfg.Client.ID {
		return authorize(CauseClientChanged, fmt.Sprintf("the stored token belongs to client_id %s, but %s is configured", st.ClientID, cfg.Client.ID))
	}
	if st.Issuer != "" && cfg.Provider.Issuer != "" {
		if !oauthflow.SameIssuer(st.Issuer, cfg.Provider.Issuer) {
			return authorize(CauseProviderChanged, fmt.Sprintf("the stored token was issued by %s, but %s is configured", st.Issuer, cfg.Provider.Issuer))
		}
	} else if st.TokenEndpoint != "" && cfg.Provider.Endpoints.Token != "" && st.TokenEndpoint != cfg.Provider.Endpoints.Token {
		return authorize(CauseProviderChanged, fmt.Sprintf("the stored token came from %s, but the token endpoint is now %s", st.TokenEndpoint, cfg.Provider.Endpoints.Token))
	}
	want := cfg.Client.Scopes
	if len(want) == 0 {
		want = cfg.Provider.DefaultScopes
	}
	if len(st.Scopes) > 0 {
		var missing []string
		for _, s := range want {
			if !slices.Contains(st.Scopes, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return authorize(CauseScopesChanged, fmt.Sprintf("scope %s is requested, but the stored token was authorized for %s", strings.Join(missing, " "), strings.Join(st.Scopes, " ")))
		}
	}

	if st.Token.Expiry.IsZero() {
		d.Action, d.Cause = ActionUse, CauseUnknownLifetime
		d.Why = "the provider never said when the access token expires"
		d.Reason = "using the cached access token (" + d.Why + ")"
		return d
	}
	if margin <= 0 {
		margin = oauthflow.DefaultMargin(&st.Token)
	}
	left := st.Token.Expiry.Sub(now)
	if left > margin {
		d.Action, d.Cause = ActionUse, CauseValid
		d.Why = "the access token expires in " + oauthflow.HumanDuration(left)
		d.Reason = "using the cached access token (expires in " + oauthflow.HumanDuration(left) + ")"
		return d
	}
	access := "the access token expired " + oauthflow.HumanDuration(-left) + " ago"
	cause := CauseExpired
	if left > 0 {
		access = fmt.Sprintf("the access token expires in %s (less than the %s margin)", oauthflow.HumanDuration(left), oauthflow.HumanDuration(margin))
		cause = CauseExpiring
	}
	usable, rwhy := refreshUsable(st, now)
	if !usable {
		if left > 0 {
			// Still valid: use it while it lasts rather than make the user log in early.
			d.Action, d.Cause = ActionUse, CauseExpiringNoRefresh
			d.Why = access + ", and " + rwhy
			d.Reason = fmt.Sprintf("using the cached access token (expires in %s; %s, so the user must authorize again after that)", oauthflow.HumanDuration(left), rwhy)
			return d
		}
		return authorize(refreshCause(st), access+", and "+rwhy)
	}
	d.Action, d.Cause, d.Why = ActionRefresh, cause, access
	d.Reason = fmt.Sprintf("%s; refreshing with the refresh token (%s)", access, rwhy)
	return d
}

// refreshUsable says whether the stored refresh token can be tried, and describes it.
func refreshUsable(st *StoredToken, now time.Time) (bool, string) {
	if st.Token.RefreshToken == "" {
		return false, "no refresh token was issued"
	}
	if st.Token.RefreshExpiry.IsZero() {
		return true, "its lifetime is unknown"
	}
	left := st.Token.RefreshExpiry.Sub(now)
	if left <= 0 {
		return false, "the refresh token expired " + oauthflow.HumanDuration(-left) + " ago"
	}
	return true, "valid for " + oauthflow.HumanDuration(left)
}

func refreshCause(st *StoredToken) Cause {
	if st.Token.RefreshToken == "" {
		return CauseNoRefreshToken
	}
	return CauseRefreshExpired
}

// refreshRefused tells a refresh token the provider will not take (revoked, expired, or from
// another client) from failures that authorizing again would not cure (network, bad client
// secret, server errors).
func refreshRefused(err error) bool {
	e, ok := oauthflow.AsError(err)
	if !ok || e.Kind != oauthflow.KindOAuth {
		return false
	}
	switch e.Code {
	case "invalid_grant", "invalid_token", "unauthorized_client":
		return true
	case "invalid_request":
		// LinkedIn answers a revoked or expired refresh token with invalid_request.
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnauthorized
	}
	return false
}

func errorSummary(err error) string {
	if e, ok := oauthflow.AsError(err); ok && e.Code != "" {
		if e.Description != "" {
			return e.Code + ": " + e.Description
		}
		return e.Code
	}
	return err.Error()
}

// Persisted is the record to store for a token a flow obtained: a new authorization's (prev nil;
// scopes are the ones it requested) or a refresh of prev (tok is then the merged token in use).
// The provider's clock skew is measured from the exchanges that brought the token, and a token
// whose response had no expires_in gets the expiry its JWT states. Every command that saves a
// token, the TUI included, goes through it, so a token is stored the same way whoever got it.
// The notes say what was inferred.
func Persisted(cfg oauthflow.Config, tok *oauthflow.Token, scopes []string, exchanges []httplog.Exchange, prev *StoredToken, now time.Time) (*StoredToken, []string) {
	var st StoredToken
	skew, measured := httplog.MeasureSkew(exchanges)
	if prev != nil {
		st = *prev
		st.Refreshes++
		if !measured {
			skew = prev.ServerSkew
		}
	} else {
		st = StoredToken{Scopes: scopes, Issuer: cfg.Provider.Issuer, TokenEndpoint: cfg.Provider.Endpoints.Token,
			ClientID: cfg.Client.ID, AuthorizedAt: tok.ReceivedAt}
		if len(st.Scopes) == 0 {
			st.Scopes = cfg.Client.Scopes
			if len(st.Scopes) == 0 {
				st.Scopes = cfg.Provider.DefaultScopes
			}
		}
	}
	st.Token, st.ServerSkew, st.SavedAt = *tok, skew, now
	return &st, fillExpiryFromJWT(&st)
}

// fillExpiryFromJWT gives a token whose response had no expires_in the expiry its JWT access
// token states, converted from the server's clock to ours.
func fillExpiryFromJWT(st *StoredToken) []string {
	if !st.Token.Expiry.IsZero() {
		return nil
	}
	exp, ok := jwtExpiry(st.Token.AccessToken)
	if !ok {
		return nil
	}
	st.Token.Expiry = st.ServerToLocal(exp)
	note := "the response had no expires_in: the expiry comes from the access token's exp claim"
	if st.ServerSkew != 0 {
		note += fmt.Sprintf(", corrected for the provider's clock skew of %s", st.ServerSkew)
	}
	return []string{note}
}

// jwtExpiry reads the exp claim of a JWT without verifying it: it only schedules a refresh.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > math.MaxInt32*4 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
