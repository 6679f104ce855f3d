package profile_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// lcStart is where the clock a test moves by hand starts; the sandbox and the client share it.
var lcStart = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

const (
	lcAccessTTL  = 10 * time.Minute
	lcRefreshTTL = time.Hour
)

// lcEnv is a sandbox with short token lifetimes and the directories of one user's token state.
type lcEnv struct {
	sb       *sandbox.Server
	base     string
	clock    *testkit.Clock
	tokens   string // token store directory
	locks    string
	provider oauthflow.Provider
}

func newLCEnv(t *testing.T, opts ...sandbox.Option) *lcEnv {
	t.Helper()
	clock := testkit.NewClock(lcStart)
	opts = append([]sandbox.Option{sandbox.WithClock(clock.Now), sandbox.WithAutoConsent(true),
		sandbox.WithAccessTokenTTL(lcAccessTTL), sandbox.WithRefreshTokenTTL(lcRefreshTTL)}, opts...)
	sb := testkit.StartSandbox(t, opts...)
	base := sb.BaseURL()
	dir := t.TempDir()
	return &lcEnv{sb: sb, base: base, clock: clock, tokens: filepath.Join(dir, "tokens"), locks: filepath.Join(dir, "locks"),
		provider: oauthflow.LinkedInAt(base, base)}
}

func (e *lcEnv) config() oauthflow.Config {
	return oauthflow.Config{Provider: e.provider, Client: oauthflow.Client{ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret,
		RedirectURI: sandbox.DefaultRedirectURI, PKCE: true}}
}

// lifecycle is what one command run builds: its own Runner, store and lock on the shared directories.
func (e *lcEnv) lifecycle(opts ...oauthflow.Option) *profile.Lifecycle {
	r := oauthflow.NewRunner(e.config(), append([]oauthflow.Option{oauthflow.WithClock(e.clock.Now)}, opts...)...)
	return &profile.Lifecycle{
		Runner:  r,
		Store:   profile.NewFileStore(e.tokens, e.clock.Now),
		Profile: "li",
		Lock:    profile.ProfileLocker(e.locks, 10*time.Second),
		Authorize: func(ctx context.Context, why profile.Decision) (*oauthflow.Authorization, error) {
			return r.Authorize(ctx, oauthflow.FlowOptions{Browser: &browser.Headless{}})
		},
	}
}

func lcToken(t *testing.T, l *profile.Lifecycle) (*oauthflow.Token, *profile.Decision) {
	t.Helper()
	tok, d, err := l.Token(t.Context())
	if err != nil {
		t.Fatalf("Token: %v (decision %+v)", err, d)
	}
	if tok == nil || tok.AccessToken == "" {
		t.Fatalf("Token returned no access token (decision %+v)", d)
	}
	return tok, d
}

func lcExpect(t *testing.T, d *profile.Decision, action profile.Action, cause profile.Cause) {
	t.Helper()
	if d.Action != action || d.Cause != cause {
		t.Fatalf("decision = %s/%s (%s), want %s/%s", d.Action, d.Cause, d.Reason, action, cause)
	}
}

func TestLifecycleAuthorizesOnceThenReusesTheToken(t *testing.T) {
	e := newLCEnv(t)
	tok, d := lcToken(t, e.lifecycle())
	lcExpect(t, d, profile.ActionAuthorize, profile.CauseNoToken)
	if !strings.Contains(d.Reason, "no token is stored") {
		t.Errorf("reason %q does not say why it authorizes", d.Reason)
	}
	stored, err := profile.NewFileStore(e.tokens, nil).Load("li")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Token.AccessToken != tok.AccessToken || !stored.Token.Expiry.Equal(e.clock.Now().Add(lcAccessTTL)) ||
		!stored.Token.RefreshExpiry.Equal(e.clock.Now().Add(lcRefreshTTL)) || strings.Join(stored.Scopes, " ") != "openid profile email" {
		t.Fatalf("stored token = %+v", stored)
	}
	before := e.sb.Stats()

	// A later run (a new process: new runner, new store instance) uses the cached token.
	e.clock.Advance(lcAccessTTL / 2)
	tok2, d2 := lcToken(t, e.lifecycle())
	lcExpect(t, d2, profile.ActionUse, profile.CauseValid)
	if tok2.AccessToken != tok.AccessToken {
		t.Fatal("the second run got another access token")
	}
	if d2.Reason != "using the cached access token (expires in 5m)" {
		t.Errorf("reason = %q", d2.Reason)
	}
	after := e.sb.Stats()
	if after.AuthorizationRequests != 1 || after.TokenRequests != before.TokenRequests || after.DiscoveryRequests != before.DiscoveryRequests {
		t.Fatalf("the second run talked to the provider: before %+v, after %+v", before, after)
	}
}

func TestLifecycleRefreshesAnExpiredAccessTokenOnce(t *testing.T) {
	e := newLCEnv(t)
	first, _ := lcToken(t, e.lifecycle())
	firstStored, _ := profile.NewFileStore(e.tokens, nil).Load("li")

	e.clock.Advance(lcAccessTTL + 2*time.Minute)
	tok, d := lcToken(t, e.lifecycle())
	lcExpect(t, d, profile.ActionRefresh, profile.CauseExpired)
	if !strings.Contains(d.Reason, "the access token expired 2m ago; refreshing with the refresh token (valid for 48m)") {
		t.Errorf("reason = %q", d.Reason)
	}
	if tok.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the old access token")
	}
	st := e.sb.Stats()
	if st.RefreshGrants != 1 || st.AuthorizationRequests != 1 {
		t.Fatalf("want exactly one refresh and no new authorization: %+v", st)
	}
	stored, _ := profile.NewFileStore(e.tokens, nil).Load("li")
	if stored.Token.AccessToken != tok.AccessToken || stored.Refreshes != 1 {
		t.Fatalf("the refreshed token was not stored: %+v", stored)
	}
	// LinkedIn returns the same refresh token with its remaining lifetime: the expiry must not move.
	if stored.Token.RefreshToken != firstStored.Token.RefreshToken || !stored.Token.RefreshExpiry.Equal(firstStored.Token.RefreshExpiry) {
		t.Fatalf("refresh token or its expiry changed: %v -> %v", firstStored.Token.RefreshExpiry, stored.Token.RefreshExpiry)
	}
	if stored.Token.Scope != firstStored.Token.Scope || stored.Token.IDToken != firstStored.Token.IDToken {
		t.Errorf("granted scope or ID token lost in the refresh: %q %q", stored.Token.Scope, firstStored.Token.Scope)
	}
	if !stored.AuthorizedAt.Equal(firstStored.AuthorizedAt) {
		t.Error("a refresh changed the authorization time")
	}

	// And the next run uses the refreshed token without another refresh.
	_, d3 := lcToken(t, e.lifecycle())
	lcExpect(t, d3, profile.ActionUse, profile.CauseValid)
	if e.sb.Stats().RefreshGrants != 1 {
		t.Fatal("a valid refreshed token was refreshed again")
	}
}

func TestLifecycleRefreshesAheadOfExpiry(t *testing.T) {
	e := newLCEnv(t)
	lcToken(t, e.lifecycle())
	// The default margin is a tenth of the 10-minute lifetime: one minute.
	e.clock.Advance(lcAccessTTL - 59*time.Second)
	_, d := lcToken(t, e.lifecycle())
	lcExpect(t, d, profile.ActionRefresh, profile.CauseExpiring)
	if !strings.Contains(d.Reason, "expires in 59s (less than the 1m margin)") {
		t.Errorf("reason = %q", d.Reason)
	}
	if e.sb.Stats().RefreshGrants != 1 {
		t.Fatal("no refresh")
	}
}

func TestLifecycleReauthorizesWhenBothTokensExpired(t *testing.T) {
	e := newLCEnv(t)
	first, _ := lcToken(t, e.lifecycle())
	e.clock.Advance(lcRefreshTTL + time.Minute)
	var told profile.Decision
	l := e.lifecycle()
	inner := l.Authorize
	l.Authorize = func(ctx context.Context, why profile.Decision) (*oauthflow.Authorization, error) {
		told = why
		return inner(ctx, why)
	}
	tok, d := lcToken(t, l)
	lcExpect(t, d, profile.ActionAuthorize, profile.CauseRefreshExpired)
	if told.Cause != profile.CauseRefreshExpired || !strings.Contains(told.Reason, "the access token expired 51m ago, and the refresh token expired 1m ago") {
		t.Errorf("the authorization was told %q", told.Reason)
	}
	st := e.sb.Stats()
	if st.AuthorizationRequests != 2 || st.RefreshGrants != 0 || st.TokenErrors != 0 {
		t.Fatalf("want a second authorization and no refresh attempt with the dead refresh token: %+v", st)
	}
	if tok.AccessToken == first.AccessToken {
		t.Fatal("no new token")
	}
}

func TestLifecycleReauthorizesWhenTheRefreshTokenWasRevoked(t *testing.T) {
	e := newLCEnv(t)
	l := e.lifecycle()
	lcToken(t, l)
	stored, _ := l.Store.Load("li")
	if err := l.Runner.Revoke(t.Context(), stored.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(lcAccessTTL + time.Minute)
	_, d := lcToken(t, e.lifecycle())
	lcExpect(t, d, profile.ActionAuthorize, profile.CauseRefreshRejected)
	if !strings.Contains(d.Reason, "the provider refused the refresh token (invalid_request: ") || !strings.HasSuffix(d.Reason, ": authorizing again") {
		t.Errorf("reason = %q", d.Reason)
	}
	if len(d.Steps) < 2 || d.Steps[0].Name != oauthflow.StepRefresh || d.Steps[0].Status != oauthflow.StatusFailed {
		t.Errorf("the failed refresh is not among the steps: %+v", d.Steps)
	}
	if st := e.sb.Stats(); st.AuthorizationRequests != 2 || st.TokenErrors != 1 {
		t.Fatalf("want one refused refresh, then one authorization: %+v", st)
	}
}

func TestLifecycleRefreshFailureThatIsNotARefusalIsAnError(t *testing.T) {
	e := newLCEnv(t)
	lcToken(t, e.lifecycle())
	e.clock.Advance(lcAccessTTL + time.Minute)
	e.sb.Close() // the provider is down: authorizing again would not help
	_, d, err := e.lifecycle().Token(t.Context())
	oe, ok := oauthflow.AsError(err)
	if !ok || oe.Kind != oauthflow.KindTransport || d.Action != profile.ActionRefresh {
		t.Fatalf("Token with the provider down = %v (decision %s), want the transport error of the refresh", err, d.Action)
	}
	// The stored token is untouched, ready for when the provider is back.
	if _, err := profile.NewFileStore(e.tokens, nil).Load("li"); err != nil {
		t.Fatal(err)
	}
}

func TestLifecycleUsesANearlyExpiredTokenWhenTheEarlyRefreshFails(t *testing.T) {
	e := newLCEnv(t)
	tok, _ := lcToken(t, e.lifecycle())
	e.clock.Advance(lcAccessTTL - 30*time.Second)
	e.sb.Close()
	got, d, err := e.lifecycle().Token(t.Context())
	if err != nil || got.AccessToken != tok.AccessToken || d.Action != profile.ActionUse {
		t.Fatalf("Token = %v, %v, %s", got, err, d.Action)
	}
	if len(d.Notes) == 0 || !strings.Contains(d.Notes[len(d.Notes)-1], "still valid for 30s: using it") {
		t.Errorf("notes %q do not explain", d.Notes)
	}
}

// TestLifecycleConcurrentRunsRefreshOnce races two commands (each with its own runner, store and
// lock instance, as two processes have) into an expired token. The first to refresh holds its
// request until the second has read the store, or 300 ms, so that without the lock both would
// read the expired token and refresh twice.
func TestLifecycleConcurrentRunsRefreshOnce(t *testing.T) {
	e := newLCEnv(t)
	lcToken(t, e.lifecycle())
	e.clock.Advance(lcAccessTTL + time.Minute)

	loaded := make(chan struct{}, 2)
	holdRefresh := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if httplog.StepOf(req.Context()) == oauthflow.StepRefresh {
			select {
			case <-loaded:
			case <-time.After(300 * time.Millisecond):
			}
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	var wg sync.WaitGroup
	results := make([]*profile.Decision, 2)
	tokens := make([]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		l := e.lifecycle(oauthflow.WithHTTPClient(&http.Client{Transport: holdRefresh}))
		l.Store = notifyingStore{TokenStore: l.Store, loaded: loaded}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, d, err := l.Token(context.Background())
			results[i], errs[i] = d, err
			if tok != nil {
				tokens[i] = tok.AccessToken
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := e.sb.Stats(); st.RefreshGrants != 1 || st.TokenErrors != 0 {
		t.Fatalf("two concurrent runs made %d refreshes (%d refused), want 1", st.RefreshGrants, st.TokenErrors)
	}
	if tokens[0] != tokens[1] {
		t.Fatal("the two runs ended with different access tokens")
	}
	actions := results[0].Action.String() + "+" + results[1].Action.String()
	if actions != "refresh+use" && actions != "use+refresh" {
		t.Fatalf("actions = %s, want one refresh and one use of its result", actions)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type notifyingStore struct {
	profile.TokenStore
	loaded chan struct{}
}

func (s notifyingStore) Load(p string) (*profile.StoredToken, error) {
	t, err := s.TokenStore.Load(p)
	s.loaded <- struct{}{}
	return t, err
}

func TestLifecycleRejectedTokenIsRenewedOnce(t *testing.T) {
	e := newLCEnv(t)
	tok, _ := lcToken(t, e.lifecycle())

	// An API refuses the token although it looks valid: refresh.
	l := e.lifecycle()
	got, d, err := l.Rejected(t.Context(), tok.AccessToken, "the API answered 401 (Invalid access token)")
	if err != nil || got.AccessToken == tok.AccessToken {
		t.Fatalf("Rejected = %v, %v", got, err)
	}
	lcExpect(t, d, profile.ActionRefresh, profile.CauseRejected)
	if !strings.HasPrefix(d.Reason, "the API answered 401 (Invalid access token); refreshing with the refresh token") {
		t.Errorf("reason = %q", d.Reason)
	}
	// Another command that was refused the same old token finds the renewed one instead of refreshing again.
	got2, d2, err := e.lifecycle().Rejected(t.Context(), tok.AccessToken, "the API answered 401")
	if err != nil || got2.AccessToken != got.AccessToken {
		t.Fatalf("second Rejected = %v, %v", got2, err)
	}
	lcExpect(t, d2, profile.ActionUse, profile.CauseRenewedElsewhere)
	if e.sb.Stats().RefreshGrants != 1 {
		t.Fatalf("refreshes = %d, want 1", e.sb.Stats().RefreshGrants)
	}
}

func TestLifecycleForcedRefreshWithoutRefreshTokenNeedsTheUser(t *testing.T) {
	e := newLCEnv(t, sandbox.WithScenario(sandbox.NoRefreshToken))
	lcToken(t, e.lifecycle())
	l := e.lifecycle()
	l.Authorize = nil // as the refresh command, which opens no browser
	_, d, err := l.Refresh(t.Context())
	var ar *profile.AuthorizationRequiredError
	if !errors.As(err, &ar) || d.Cause != profile.CauseNoRefreshToken {
		t.Fatalf("Refresh = %v (%s), want AuthorizationRequiredError for no_refresh_token", err, d.Cause)
	}
	if err.Error() != "a refresh was requested, but no refresh token was issued: the user must authorize again" {
		t.Errorf("message = %q", err)
	}
	if st := e.sb.Stats(); st.TokenRequests != 1 {
		t.Fatalf("a refresh without a refresh token was sent: %+v", st)
	}
}

func TestLifecycleReportsACorruptEntryAndAuthorizes(t *testing.T) {
	e := newLCEnv(t)
	if err := os.MkdirAll(e.tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.tokens, "li.json")
	os.WriteFile(path, []byte(`{"format":1,"token":{"access_tok`), 0o600)
	_, d := lcToken(t, e.lifecycle())
	lcExpect(t, d, profile.ActionAuthorize, profile.CauseCorrupt)
	if d.Corrupt == nil || d.Corrupt.MovedTo == "" || len(d.Notes) == 0 || !strings.Contains(d.Notes[0], d.Corrupt.MovedTo) {
		t.Fatalf("the corrupt entry is not reported with where it went: %+v", d)
	}
	if b, err := os.ReadFile(d.Corrupt.MovedTo); err != nil || !strings.HasPrefix(string(b), `{"format":1`) {
		t.Fatalf("moved-aside copy: %q %v", b, err)
	}
	if _, err := profile.NewFileStore(e.tokens, nil).Load("li"); err != nil {
		t.Fatalf("the new token was not stored in place: %v", err)
	}
}

func TestLifecycleMeasuresTheServerClockSkew(t *testing.T) {
	clientClock := testkit.NewClock(lcStart)
	serverClock := func() time.Time { return clientClock.Now().Add(3*time.Minute + 20*time.Second) }
	e := newLCEnv(t, sandbox.WithClock(serverClock))
	e.clock = clientClock
	_, d := lcToken(t, e.lifecycle())
	if d.Token.ServerSkew != 3*time.Minute+20*time.Second {
		t.Fatalf("measured skew = %s, want 3m20s", d.Token.ServerSkew)
	}
	// Expiries computed from expires_in are on our clock already: the skew must not shorten them.
	if !d.Token.Token.Expiry.Equal(clientClock.Now().Add(lcAccessTTL)) {
		t.Fatalf("expiry = %v, want %v", d.Token.Token.Expiry, clientClock.Now().Add(lcAccessTTL))
	}
	_, d2 := lcToken(t, e.lifecycle())
	if len(d2.Notes) == 0 || !strings.Contains(d2.Notes[0], "the provider's clock is 3m 20s ahead of this machine's") {
		t.Fatalf("the skew is not shown: %q", d2.Notes)
	}
}

func TestLifecycleLogoutRevokesBothAndDeletes(t *testing.T) {
	e := newLCEnv(t)
	l := e.lifecycle()
	lcToken(t, l)
	stored, _ := l.Store.Load("li")

	res, err := e.lifecycle().Logout(t.Context(), profile.LogoutOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stored || !res.Deleted || res.RevocationFailed() || len(res.Revocations) != 2 {
		t.Fatalf("logout = %+v", res)
	}
	for _, r := range res.Revocations {
		if !r.Attempted || r.Err != nil {
			t.Errorf("%s: attempted %v, err %v", r.Token, r.Attempted, r.Err)
		}
	}
	if in := res.Revocations[0].Introspection; in == nil || in.Active || in.Status != "revoked" {
		t.Fatalf("introspection after logout = %+v, want revoked", in)
	}
	if st := e.sb.Stats(); st.Revocations != 2 {
		t.Fatalf("revocation requests = %d, want 2", st.Revocations)
	}
	// Nothing is left: not in the store, not on disk.
	if _, err := l.Store.Load("li"); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("after logout Load = %v", err)
	}
	assertNoTokenFiles(t, e.tokens)
	// And the provider refuses the old refresh token.
	if _, err := l.Runner.Refresh(t.Context(), stored.Token.RefreshToken); err == nil {
		t.Fatal("the refresh token still works after logout")
	}
	// A second logout finds nothing to do.
	res2, err := e.lifecycle().Logout(t.Context(), profile.LogoutOptions{})
	if err != nil || res2.Stored || len(res2.Revocations) != 0 {
		t.Fatalf("second logout = %+v, %v", res2, err)
	}
}

func TestLifecycleLogoutDeletesEvenWhenRevocationFails(t *testing.T) {
	e := newLCEnv(t)
	lcToken(t, e.lifecycle())
	e.sb.Close()
	res, err := e.lifecycle().Logout(t.Context(), profile.LogoutOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RevocationFailed() || !res.Deleted {
		t.Fatalf("logout with the provider down = %+v; want failed revocations and the token deleted", res)
	}
	for _, r := range res.Revocations {
		if _, ok := oauthflow.AsError(r.Err); !ok {
			t.Errorf("%s: error %v is not typed", r.Token, r.Err)
		}
	}
	assertNoTokenFiles(t, e.tokens)
}

func TestLifecycleLogoutWithoutRevocationEndpoint(t *testing.T) {
	e := newLCEnv(t)
	e.provider.Endpoints.Revocation = ""
	lcToken(t, e.lifecycle())
	res, err := e.lifecycle().Logout(t.Context(), profile.LogoutOptions{})
	if err != nil || !res.Deleted || res.RevocationFailed() {
		t.Fatalf("logout = %+v, %v", res, err)
	}
	for _, r := range res.Revocations {
		if r.Attempted || !strings.Contains(r.Skipped, "no revocation endpoint") {
			t.Errorf("%s: %+v", r.Token, r)
		}
	}
	if e.sb.Stats().Revocations != 0 {
		t.Fatal("revocation sent without an endpoint")
	}
}

func assertNoTokenFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files left in %s: %v", dir, names)
	}
}

// TestPlan covers the decision table without a server.
func TestPlan(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := oauthflow.Config{Provider: oauthflow.LinkedIn(), Client: oauthflow.Client{ID: "86abc", Scopes: []string{"openid", "profile"}}}
	tok := func(access, refresh time.Duration, rt string) *profile.StoredToken {
		st := &profile.StoredToken{Token: oauthflow.Token{AccessToken: "a", RefreshToken: rt, ReceivedAt: now.Add(-time.Hour)},
			Scopes: []string{"openid", "profile", "email"}, ClientID: "86abc", Issuer: "https://www.linkedin.com/oauth"}
		if access != 0 {
			st.Token.Expiry = now.Add(access)
		}
		if refresh != 0 {
			st.Token.RefreshExpiry = now.Add(refresh)
		}
		return st
	}
	with := func(st *profile.StoredToken, f func(*profile.StoredToken)) *profile.StoredToken {
		f(st)
		return st
	}
	cases := []struct {
		name   string
		st     *profile.StoredToken
		action profile.Action
		cause  profile.Cause
		reason string
	}{
		{"nothing stored", nil, profile.ActionAuthorize, profile.CauseNoToken, "no token is stored for this profile: authorizing"},
		{"valid", tok(59*24*time.Hour, 300*24*time.Hour, "r"), profile.ActionUse, profile.CauseValid, "using the cached access token (expires in 59d)"},
		{"unknown lifetime", tok(0, 0, ""), profile.ActionUse, profile.CauseUnknownLifetime, "using the cached access token (the provider never said when the access token expires)"},
		{"expired, refresh valid", tok(-2*time.Minute, 4*24*time.Hour, "r"), profile.ActionRefresh, profile.CauseExpired,
			"the access token expired 2m ago; refreshing with the refresh token (valid for 4d)"},
		{"expired, refresh lifetime unknown", tok(-time.Second, 0, "r"), profile.ActionRefresh, profile.CauseExpired,
			"the access token expired 1s ago; refreshing with the refresh token (its lifetime is unknown)"},
		{"expiring, refresh valid", tok(30*time.Second, time.Hour, "r"), profile.ActionRefresh, profile.CauseExpiring,
			"the access token expires in 30s (less than the 1m margin); refreshing with the refresh token (valid for 1h)"},
		{"expired, no refresh token", tok(-time.Hour, 0, ""), profile.ActionAuthorize, profile.CauseNoRefreshToken,
			"the access token expired 1h ago, and no refresh token was issued: authorizing again"},
		{"both expired", tok(-3*time.Hour, -time.Hour-5*time.Minute, "r"), profile.ActionAuthorize, profile.CauseRefreshExpired,
			"the access token expired 3h ago, and the refresh token expired 1h 5m ago: authorizing again"},
		{"expiring, refresh expired: use it while it lasts", tok(20*time.Second, -time.Minute, "r"), profile.ActionUse, profile.CauseExpiringNoRefresh,
			"using the cached access token (expires in 20s; the refresh token expired 1m ago, so the user must authorize again after that)"},
		{"other client", with(tok(time.Hour, 0, ""), func(s *profile.StoredToken) { s.ClientID = "old" }), profile.ActionAuthorize, profile.CauseClientChanged,
			"the stored token belongs to client_id old, but 86abc is configured: authorizing again"},
		{"other issuer", with(tok(time.Hour, 0, ""), func(s *profile.StoredToken) { s.Issuer = "https://www.linkedin.com" }), profile.ActionAuthorize, profile.CauseProviderChanged,
			"the stored token was issued by https://www.linkedin.com, but https://www.linkedin.com/oauth is configured: authorizing again"},
		{"issuer differs only by a slash", with(tok(time.Hour, 0, ""), func(s *profile.StoredToken) { s.Issuer += "/" }), profile.ActionUse, profile.CauseValid,
			"using the cached access token (expires in 1h)"},
		{"scope added", with(tok(time.Hour, 0, ""), func(s *profile.StoredToken) { s.Scopes = []string{"openid"} }), profile.ActionAuthorize, profile.CauseScopesChanged,
			"scope profile is requested, but the stored token was authorized for openid: authorizing again"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := profile.Plan(c.st, cfg, now, 0)
			if d.Action != c.action || d.Cause != c.cause || d.Reason != c.reason {
				t.Fatalf("Plan = %s/%s %q\nwant  %s/%s %q", d.Action, d.Cause, d.Reason, c.action, c.cause, c.reason)
			}
		})
	}
}

func TestPlanMarginFollowsTheLifetime(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// zitadel's 299-second tokens: a tenth is just under 30 s.
	st := &profile.StoredToken{Token: oauthflow.Token{AccessToken: "a", RefreshToken: "r", ReceivedAt: now.Add(-270 * time.Second), Expiry: now.Add(29 * time.Second)}}
	if d := profile.Plan(st, oauthflow.Config{}, now, 0); d.Action != profile.ActionRefresh {
		t.Fatalf("29 s left of 299: %s (%s)", d.Action, d.Reason)
	}
	st.Token.Expiry = now.Add(31 * time.Second)
	if d := profile.Plan(st, oauthflow.Config{}, now, 0); d.Action != profile.ActionUse {
		t.Fatalf("31 s left of 299: %s (%s)", d.Action, d.Reason)
	}
	if d := profile.Plan(st, oauthflow.Config{}, now, 5*time.Minute); d.Action != profile.ActionRefresh {
		t.Fatalf("an explicit margin is not honoured: %s", d.Action)
	}
}

// TestLifecycleTakesAJWTExpiryThroughTheSkew checks a provider that sends no expires_in: the
// access token's exp (on the server's clock) becomes our expiry after correcting for the skew.
func TestLifecycleTakesAJWTExpiryThroughTheSkew(t *testing.T) {
	clock := testkit.NewClock(lcStart)
	skew := 10 * time.Minute // the server runs ahead
	serverNow := func() time.Time { return clock.Now().Add(skew) }
	exp := serverNow().Add(time.Hour).Unix()
	jwt := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d}`, exp))) + ".sig"
	srv := newJSONServer(t, serverNow, `{"access_token":"`+jwt+`","token_type":"Bearer"}`)
	cfg := oauthflow.Config{Provider: oauthflow.Provider{Name: "jwt", Endpoints: oauthflow.Endpoints{Authorization: srv + "/authorize", Token: srv + "/token"}},
		Client: oauthflow.Client{ID: "c", Secret: "s", RedirectURI: "http://127.0.0.1:1/cb", PKCE: true, Scopes: []string{"x"}}}
	r := oauthflow.NewRunner(cfg, oauthflow.WithClock(clock.Now))
	l := &profile.Lifecycle{Runner: r, Store: profile.NewFileStore(t.TempDir(), nil), Profile: "jwt",
		Authorize: func(ctx context.Context, _ profile.Decision) (*oauthflow.Authorization, error) {
			ar, _ := r.AuthorizationRequest(nil)
			tctx, trace := httplog.Collect(ctx)

			tok, err := r.ExchangeCode(tctx, ar, &oauthflow.Callback{Code: "c"})
			return &oauthflow.Authorization{Token: tok, Steps: []oauthflow.StepReport{{Name: oauthflow.StepExchange, Exchanges: trace.Exchanges()}}}, err
		}}
	_, d := lcToken(t, l)
	if d.Token.ServerSkew != skew {
		t.Fatalf("skew = %s", d.Token.ServerSkew)
	}
	if want := clock.Now().Add(time.Hour); !d.Token.Token.Expiry.Equal(want) {
		t.Fatalf("expiry = %v, want %v (exp converted to our clock)", d.Token.Token.Expiry, want)
	}
	clock.Advance(59*time.Minute + 30*time.Second)
	if _, d2 := lcToken(t, l); d2.Action != profile.ActionUse || d2.Cause != profile.CauseExpiringNoRefresh {
		t.Fatalf("30 s before the corrected expiry: %s/%s", d2.Action, d2.Cause)
	}
}

// newJSONServer answers every request with body and a Date header from now.
func newJSONServer(t *testing.T, now func() time.Time, body string) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", now().UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	})}
	ln, err := lcListen()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func lcListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// TestLifecycleAgainstZitadel runs the lifecycle against a real OpenID Provider that rotates
// refresh tokens: rotation is followed, concurrent runs do not burn the rotated token, and logout
// leaves tokens the provider reports inactive.
func TestLifecycleAgainstZitadel(t *testing.T) {
	peer := peertest.Zitadel(t)
	clock := testkit.NewClock(time.Now())
	discoverer := oauthflow.NewRunner(oauthflow.Config{})
	found, err := discoverer.Discover(t.Context(), peer.Issuer, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauthflow.Config{Provider: found.Provider, Client: oauthflow.Client{ID: peer.ClientID, Secret: peer.ClientSecret,
		RedirectURI: peer.RedirectURI, PKCE: true, Scopes: []string{"openid", "profile", "offline_access"}}}
	dir := t.TempDir()
	var mu sync.Mutex
	var authorizations, refreshes int
	counting := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if httplog.StepOf(req.Context()) == oauthflow.StepRefresh {
			mu.Lock()
			refreshes++
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	run := func() *profile.Lifecycle {
		r := oauthflow.NewRunner(cfg, oauthflow.WithClock(clock.Now), oauthflow.WithHTTPClient(&http.Client{Transport: counting}))
		return &profile.Lifecycle{Runner: r, Store: profile.NewFileStore(filepath.Join(dir, "tokens"), clock.Now), Profile: "zitadel",
			Lock: profile.ProfileLocker(filepath.Join(dir, "locks"), 10*time.Second),
			Authorize: func(ctx context.Context, _ profile.Decision) (*oauthflow.Authorization, error) {
				mu.Lock()
				authorizations++
				mu.Unlock()
				return r.Authorize(ctx, oauthflow.FlowOptions{Browser: &browser.Headless{Username: peer.Username, Password: peer.Password}})
			}}
	}

	_, d := lcToken(t, run())
	lcExpect(t, d, profile.ActionAuthorize, profile.CauseNoToken)
	first := d.Token
	if first.Token.RefreshToken == "" || first.Token.Expiry.IsZero() {
		t.Fatalf("zitadel gave no refresh token or expiry: %+v", first.Token)
	}

	clock.Advance(first.Token.Expiry.Sub(clock.Now()) + time.Second)
	_, d = lcToken(t, run())
	lcExpect(t, d, profile.ActionRefresh, profile.CauseExpired)
	second := d.Token
	if second.Token.RefreshToken == first.Token.RefreshToken {
		t.Fatal("zitadel did not rotate the refresh token")
	}
	if !slicesContain(d.Notes, "the refresh token was rotated: the new one replaces the old") {
		t.Errorf("notes %q do not mention the rotation", d.Notes)
	}
	if _, err := run().Runner.Refresh(t.Context(), first.Token.RefreshToken); err == nil {
		t.Fatal("the rotated-out refresh token still works: the test proves nothing about rotation")
	}

	// Two runs at the next expiry: one refresh; the other must not spend the rotated-out token.
	clock.Advance(second.Token.Expiry.Sub(clock.Now()) + time.Second)
	mu.Lock()
	refreshesBefore := refreshes
	mu.Unlock()
	var wg sync.WaitGroup
	decisions := make([]*profile.Decision, 2)
	for i := range 2 {
		l := run()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, d, err := l.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			decisions[i] = d
		}()
	}
	wg.Wait()
	if refreshes-refreshesBefore != 1 || authorizations != 1 {
		t.Fatalf("the concurrent runs made %d refreshes (want 1) and %d authorizations in all (want 1)", refreshes-refreshesBefore, authorizations)
	}

	stored, _ := run().Store.Load("zitadel")
	res, err := run().Logout(t.Context(), profile.LogoutOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.RevocationFailed() || !res.Deleted {
		t.Fatalf("logout = %+v", res)
	}
	for _, r := range res.Revocations {
		if !r.Attempted || r.Err != nil {
			t.Fatalf("%s: attempted %v, %v", r.Token, r.Attempted, r.Err)
		}
	}
	if in := res.Revocations[0].Introspection; res.Revocations[0].IntrospectErr != nil || in == nil || in.Active {
		t.Fatalf("introspection after logout: %+v, %v; want inactive", in, res.Revocations[0].IntrospectErr)
	}
	if _, err := run().Runner.Refresh(t.Context(), stored.Token.RefreshToken); err == nil {
		t.Fatal("the refresh token still works after logout")
	}
	assertNoTokenFiles(t, filepath.Join(dir, "tokens"))
}

func slicesContain(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestLifecycleLogoutWithoutRevocation(t *testing.T) {
	e := newLCEnv(t)
	lcToken(t, e.lifecycle())
	l := e.lifecycle()
	l.Prepare = func(context.Context) error { t.Error("Prepare ran for a local-only logout"); return nil }
	res, err := l.Logout(t.Context(), profile.LogoutOptions{SkipRevoke: true, Verify: true})
	if err != nil || !res.Deleted || res.RevocationFailed() {
		t.Fatalf("logout = %+v, %v", res, err)
	}
	for _, r := range res.Revocations {
		if r.Attempted || r.Skipped != "revocation was not requested" {
			t.Errorf("%s: %+v", r.Token, r)
		}
	}
	if st := e.sb.Stats(); st.Revocations != 0 || st.Introspections != 0 {
		t.Fatalf("a local-only logout talked to the provider: %+v", st)
	}
	assertNoTokenFiles(t, e.tokens)
}

func TestAuthorizeReportsStepsAndBrowserLegs(t *testing.T) {
	e := newLCEnv(t)
	r := oauthflow.NewRunner(e.config(), oauthflow.WithClock(e.clock.Now))
	var legs []string
	var steps []string
	a, err := r.Authorize(t.Context(), oauthflow.FlowOptions{Browser: &browser.Headless{},
		Observe: func(step, leg, u string) httplog.Exchange {
			legs = append(legs, step+"/"+leg)
			return httplog.Exchange{}
		},
		OnStep: func(s oauthflow.StepReport) { steps = append(steps, s.Name+":"+string(s.Status)) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(legs, ",") != "authorize/authorization-url,callback/browser-redirect" {
		t.Errorf("browser legs = %v", legs)
	}
	if strings.Join(steps, ",") != "authorize:ok,callback:ok,exchange:ok" || len(a.Steps) != 3 {
		t.Errorf("steps = %v", steps)
	}
	if strings.Join(a.Scopes, " ") != "openid profile email" || a.Token.AccessToken == "" {
		t.Errorf("authorization = %+v", a)
	}

	// A configuration that cannot work fails in the authorize step, before any browser.
	bad := e.config()
	bad.Client.RedirectURI = ""
	_, err = oauthflow.NewRunner(bad).Authorize(t.Context(), oauthflow.FlowOptions{Browser: &browser.Headless{}})
	if oe, ok := oauthflow.AsError(err); !ok || oe.Step != oauthflow.StepAuthorize || oe.Kind != oauthflow.KindConfig {
		t.Fatalf("bad configuration: %v", err)
	}
	if e.sb.Stats().AuthorizationRequests != 1 {
		t.Fatal("the bad configuration reached the provider")
	}
}
