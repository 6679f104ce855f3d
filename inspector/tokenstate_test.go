package inspector

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

var received = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// linkedInToken is a LinkedIn member token as the token endpoint sends it: 60 days of access,
// 365 days of refresh.
func linkedInToken(t testing.TB) *oauthflow.Token {
	t.Helper()
	tok, err := oauthflow.ParseToken([]byte(`{"access_token":"AQV-access","expires_in":5184000,"refresh_token":"AQX-refresh","refresh_token_expires_in":31536000,"scope":"openid,profile,email"}`), received)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenStateBoundaries(t *testing.T) {
	tok := linkedInToken(t)
	expiry := received.Add(60 * 24 * time.Hour)
	soon := received.Add(54 * 24 * time.Hour) // 10% of 60 days left
	tests := []struct {
		name     string
		now      time.Time
		status   Status
		timeLeft time.Duration
		fraction float64
	}{
		{"just received", received, StatusValid, 60 * 24 * time.Hour, 0},
		{"half used", received.Add(30 * 24 * time.Hour), StatusValid, 30 * 24 * time.Hour, 0.5},
		{"one second before the 10% mark", soon.Add(-time.Second), StatusValid, 6*24*time.Hour + time.Second, -1},
		{"at the 10% mark", soon.Add(time.Nanosecond), StatusExpiringSoon, 6*24*time.Hour - time.Nanosecond, -1},
		{"one nanosecond before expiry", expiry.Add(-time.Nanosecond), StatusExpiringSoon, time.Nanosecond, -1},
		{"at expiry", expiry, StatusExpired, 0, 1},
		{"after expiry", expiry.Add(time.Hour), StatusExpired, -time.Hour, 1},
		{"clock before receipt", received.Add(-time.Hour), StatusValid, 60*24*time.Hour + time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := TokenState(tok, tt.now, StateOptions{})
			a := st.Access
			if a.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", a.Status, a.Reason, tt.status)
			}
			if a.TimeLeft != tt.timeLeft {
				t.Errorf("time left = %v, want %v", a.TimeLeft, tt.timeLeft)
			}
			if !a.Expiry.Equal(expiry) || a.Source != SourceExpiresIn {
				t.Errorf("expiry = %v from %s, want %v from expires_in", a.Expiry, a.Source, expiry)
			}
			if a.Lifetime != 60*24*time.Hour {
				t.Errorf("lifetime = %v", a.Lifetime)
			}
			if tt.fraction >= 0 && a.FractionUsed != tt.fraction {
				t.Errorf("fraction used = %v, want %v", a.FractionUsed, tt.fraction)
			}
		})
	}
}

func TestTokenStateShortLivedTokensUseTheMinimum(t *testing.T) {
	// zitadel: expires_in 299. 10% of that is 30 s, so the 60 s minimum decides.
	tok := &oauthflow.Token{AccessToken: "opaque", ExpiresIn: 299, ReceivedAt: received, Expiry: received.Add(299 * time.Second)}
	for _, tt := range []struct {
		left time.Duration
		want Status
	}{{61 * time.Second, StatusValid}, {60 * time.Second, StatusValid}, {59 * time.Second, StatusExpiringSoon}, {time.Second, StatusExpiringSoon}} {
		now := tok.Expiry.Add(-tt.left)
		if got := TokenState(tok, now, StateOptions{}).Access.Status; got != tt.want {
			t.Errorf("%v left: status %s, want %s", tt.left, got, tt.want)
		}
	}
}

func TestTokenStateSourcesAndDisagreement(t *testing.T) {
	key := newRSAKey(t, "k1")
	jwtExp := received.Add(time.Hour)
	access := sign(t, key, map[string]any{"iss": "x", "iat": received.Unix(), "exp": jwtExp.Unix()})

	t.Run("JWT exp beats expires_in and disagreement is reported", func(t *testing.T) {
		tok := &oauthflow.Token{AccessToken: access, ExpiresIn: 7200, ReceivedAt: received, Expiry: received.Add(2 * time.Hour)}
		a := TokenState(tok, received, StateOptions{}).Access
		if a.Source != SourceJWTExp || !a.Expiry.Equal(jwtExp) {
			t.Fatalf("chosen %s %v, want jwt-exp %v", a.Source, a.Expiry, jwtExp)
		}
		if len(a.Sources) != 2 || len(a.Disagreements) != 1 || !strings.Contains(a.Disagreements[0], "expires_in says 2026-01-01 02:00:00Z, jwt-exp says 2026-01-01 01:00:00Z (1h apart)") {
			t.Fatalf("sources %v, disagreements %q", a.Sources, a.Disagreements)
		}
	})
	t.Run("agreeing sources within tolerance are not a disagreement", func(t *testing.T) {
		tok := &oauthflow.Token{AccessToken: access, ExpiresIn: 3601, ReceivedAt: received.Add(30 * time.Second), Expiry: received.Add(3631 * time.Second)}
		if a := TokenState(tok, received, StateOptions{}).Access; len(a.Disagreements) != 0 {
			t.Fatalf("disagreements %q", a.Disagreements)
		}
	})
	t.Run("introspection expires_at beats everything", func(t *testing.T) {
		tok := &oauthflow.Token{AccessToken: access, ReceivedAt: received, Expiry: received.Add(2 * time.Hour)}
		view := NormalizeIntrospection(&oauthflow.Introspection{Active: true, Status: "active", ExpiresAt: received.Add(30 * time.Minute).Unix()}, "")
		a := TokenState(tok, received, StateOptions{Introspection: &view}).Access
		if a.Source != SourceIntrospectionExpiresAt || !a.Expiry.Equal(received.Add(30*time.Minute)) {
			t.Fatalf("chosen %s %v", a.Source, a.Expiry)
		}
		if len(a.Disagreements) != 2 {
			t.Errorf("want expires_in and jwt-exp both reported as disagreeing, got %q", a.Disagreements)
		}
	})
	t.Run("skew moves server-stated times onto the local clock", func(t *testing.T) {
		// The server runs 5 minutes ahead: its exp is 5 minutes later on its clock than on ours.
		tok := &oauthflow.Token{AccessToken: access, ReceivedAt: received}
		a := TokenState(tok, received, StateOptions{Skew: 5 * time.Minute}).Access
		if want := jwtExp.Add(-5 * time.Minute); !a.Expiry.Equal(want) {
			t.Fatalf("expiry %v, want %v", a.Expiry, want)
		}
		if a.TimeLeft != 55*time.Minute {
			t.Errorf("time left %v, want 55m", a.TimeLeft)
		}
	})
}

func TestTokenStateRevokedAndUnknown(t *testing.T) {
	tok := linkedInToken(t)
	tests := []struct {
		name string
		in   *oauthflow.Introspection
		opts StateOptions
		want Status
	}{
		{"LinkedIn status revoked", &oauthflow.Introspection{Active: false, Status: "revoked", ExpiresAt: received.Add(time.Hour).Unix()}, StateOptions{}, StatusRevoked},
		{"LinkedIn status expired", &oauthflow.Introspection{Active: false, Status: "expired"}, StateOptions{}, StatusExpired},
		{"RFC 7662 inactive before expiry", &oauthflow.Introspection{Active: false}, StateOptions{}, StatusRevoked},
		{"revoked by the client", nil, StateOptions{AccessRevoked: true}, StatusRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.in != nil {
				v := NormalizeIntrospection(tt.in, "")
				opts.Introspection = &v
			}
			if got := TokenState(tok, received.Add(time.Minute), opts).Access; got.Status != tt.want {
				t.Fatalf("status %s (%s), want %s", got.Status, got.Reason, tt.want)
			}
		})
	}
	t.Run("no expiry at all", func(t *testing.T) {
		st := TokenState(&oauthflow.Token{AccessToken: "opaque"}, received, StateOptions{})
		if st.Access.Status != StatusUnknown || st.Access.FractionUsed != -1 {
			t.Fatalf("access %+v", st.Access)
		}
		if st.Refresh.Status != StatusNone || st.Refresh.Reason != "no refresh token was issued" {
			t.Fatalf("refresh %+v", st.Refresh)
		}
	})
}

func TestNextActionFollowsLinkedInPolicy(t *testing.T) {
	tok := linkedInToken(t)
	noRefresh := *tok
	noRefresh.RefreshToken, noRefresh.RefreshTokenExpiresIn, noRefresh.RefreshExpiry = "", 0, time.Time{}
	day := 24 * time.Hour
	revoked := NormalizeIntrospection(&oauthflow.Introspection{Status: "revoked"}, "")
	tests := []struct {
		name string
		tok  *oauthflow.Token
		now  time.Time
		opts StateOptions
		want ActionKind
		why  string
	}{
		{"fresh token: use it", tok, received.Add(day), StateOptions{}, ActionUse, "valid for 59d"},
		{"expiring soon with a refresh token: use it until the refresh margin", tok, received.Add(58 * day), StateOptions{}, ActionUse, "refresh it when less than 1m is left"},
		{"within the refresh margin with a refresh token: refresh before it expires", tok, received.Add(60*day - 30*time.Second), StateOptions{}, ActionRefresh, "refresh it now"},
		{"expiring soon without a refresh token: keep using it", &noRefresh, received.Add(58 * day), StateOptions{}, ActionUse, "authorize again then"},
		{"access expired, refresh valid: refresh", tok, received.Add(61 * day), StateOptions{}, ActionRefresh, "access token is expired but the refresh token is valid"},
		{"access revoked, refresh valid: refresh", tok, received.Add(day), StateOptions{Introspection: &revoked}, ActionRefresh, "revoked"},
		{"access expired, no refresh token: re-authorize", &noRefresh, received.Add(61 * day), StateOptions{}, ActionReauthorize, "no refresh token was issued"},
		{"both expired: re-authorize", tok, received.Add(366 * day), StateOptions{}, ActionReauthorize, "both tokens are unusable"},
		{"access expired, refresh revoked: re-authorize", tok, received.Add(61 * day), StateOptions{RefreshRevoked: true}, ActionReauthorize, "refresh revoked"},
		{"access token given alone and expired: refresh if a refresh token is held", &oauthflow.Token{AccessToken: "a", ReceivedAt: received, Expiry: received.Add(time.Hour)},
			received.Add(2 * time.Hour), StateOptions{Alone: true}, ActionRefresh, "if you hold one"},
		{"refresh token given alone: refresh", &oauthflow.Token{RefreshToken: "r", ReceivedAt: received, RefreshExpiry: received.Add(365 * day)},
			received.Add(day), StateOptions{Alone: true}, ActionRefresh, "the access token is not known here but the refresh token is valid"},
	}
	// A refresh on day 340 gave a new 60-day access token; the refresh token still dies on day 365.
	late := *tok
	late.ReceivedAt = received.Add(340 * day)
	late.Expiry = late.ReceivedAt.Add(60 * day)
	refreshView := NormalizeIntrospection(&oauthflow.Introspection{Status: "active", AuthorizedAt: received.Unix(), ExpiresAt: received.Add(365 * day).Unix()}, "")
	tests = append(tests, struct {
		name string
		tok  *oauthflow.Token
		now  time.Time
		opts StateOptions
		want ActionKind
		why  string
	}{"refresh token expiring while the access token is fine: use, and say so", &late, received.Add(341 * day), StateOptions{RefreshIntrospection: &refreshView}, ActionUse, "the refresh token expires in 24d: plan a re-authorization"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NextAction(TokenState(tt.tok, tt.now, tt.opts))
			if a.Kind != tt.want || !strings.Contains(a.Reason, tt.why) {
				t.Fatalf("action %s %q, want %s containing %q", a.Kind, a.Reason, tt.want, tt.why)
			}
		})
	}
}

// TestNextActionRefreshesWhenTheLifecycleDoes: the action inspect and the TUI recommend must be
// what oauthdiag call (profile.Plan) does with the same token at the same moment, even while the
// token is already "expiring soon".
func TestNextActionRefreshesWhenTheLifecycleDoes(t *testing.T) {
	day := 24 * time.Hour
	linkedIn := linkedInToken(t) // 60 days of access
	zitadel := &oauthflow.Token{AccessToken: "opaque", RefreshToken: "r", ExpiresIn: 299, ReceivedAt: received, Expiry: received.Add(299 * time.Second)}
	for _, tt := range []struct {
		name string
		tok  *oauthflow.Token
		left time.Duration
		want ActionKind
	}{
		{"60-day token, 5 days left (expiring soon)", linkedIn, 5 * day, ActionUse},
		{"60-day token, 61 s left", linkedIn, 61 * time.Second, ActionUse},
		{"60-day token, a minute left", linkedIn, time.Minute, ActionRefresh},
		{"60-day token, 30 s left", linkedIn, 30 * time.Second, ActionRefresh},
		{"60-day token, expired", linkedIn, -time.Second, ActionRefresh},
		{"299-second token, 59 s left (expiring soon)", zitadel, 59 * time.Second, ActionUse},
		{"299-second token, 30 s left", zitadel, 30 * time.Second, ActionUse},
		{"299-second token, 29 s left", zitadel, 29 * time.Second, ActionRefresh},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.tok.Expiry.Add(-tt.left)
			plan := profile.Plan(&profile.StoredToken{Token: *tt.tok}, oauthflow.Config{}, now, 0)
			st := TokenState(tt.tok, now, StateOptions{})
			a := NextAction(st)
			if a.Kind != tt.want {
				t.Errorf("next action %s (%s), want %s; access token %s", a.Kind, a.Reason, tt.want, st.Access.Status)
			}
			if lifecycleRefreshes, refreshes := plan.Action == profile.ActionRefresh, a.Kind == ActionRefresh; lifecycleRefreshes != refreshes {
				t.Errorf("the lifecycle plans %s (%s), inspect says %s (%s)", plan.Action, plan.Reason, a.Kind, a.Reason)
			}
		})
	}
	// The warning stays: a 60-day token with 5 days left is expiring soon, yet used.
	if st := TokenState(linkedIn, linkedIn.Expiry.Add(-5*day), StateOptions{}); st.Access.Status != StatusExpiringSoon {
		t.Errorf("5 days left of 60: status %s, want %s", st.Access.Status, StatusExpiringSoon)
	}
	// A caller's own RefreshLead (the TUI's auto-refresh lead) may refresh earlier than the
	// lifecycle's margin, never later, and does not bring back the refresh at the last tenth.
	demo := &oauthflow.Token{AccessToken: "opaque", RefreshToken: "r", ReceivedAt: received, Expiry: received.Add(90 * time.Second)}
	lead := StateOptions{RefreshLead: 15 * time.Second}
	if a := NextAction(TokenState(demo, demo.Expiry.Add(-10*time.Second), lead)); a.Kind != ActionRefresh {
		t.Errorf("90-second token, 10 s left, 15 s lead: %s (%s), want refresh", a.Kind, a.Reason)
	}
	if a := NextAction(TokenState(linkedIn, linkedIn.Expiry.Add(-5*day), lead)); a.Kind != ActionUse {
		t.Errorf("60-day token, 5 days left, 15 s lead: %s (%s), want use", a.Kind, a.Reason)
	}
	if a := NextAction(TokenState(linkedIn, linkedIn.Expiry.Add(-30*time.Second), lead)); a.Kind != ActionRefresh {
		t.Errorf("60-day token, 30 s left, 15 s lead: %s (%s), want refresh at the lifecycle's minute", a.Kind, a.Reason)
	}
}

func TestMeasureSkew(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 400e6, time.UTC)
	obs := func(offsets ...time.Duration) []Observation {
		var out []Observation
		for _, d := range offsets {
			ex := httplog.Exchange{Started: at, Request: httplog.Request{Method: "GET", URL: "https://idp.example/userinfo"},
				Response: &httplog.Response{Status: 200, Header: http.Header{"Date": {at.Truncate(time.Second).Add(d).Format(http.TimeFormat)}}}}
			out = append(out, FromExchange(&ex))
		}
		return out
	}
	if _, ok := MeasureSkew(nil); ok {
		t.Error("no observations must give no measurement")
	}
	if s, ok := MeasureSkew(obs(time.Second)); !ok || s != 0 {
		t.Errorf("a one-second difference is below Date's resolution: got %v", s)
	}
	if s, _ := MeasureSkew(obs(5*time.Minute, 5*time.Minute+time.Second, time.Hour)); s != 5*time.Minute+time.Second {
		t.Errorf("median of three = %v, want 5m1s", s)
	}
	if s, _ := MeasureSkew(obs(-10 * time.Minute)); s != -10*time.Minute {
		t.Errorf("server behind: %v", s)
	}
}

func TestRenderState(t *testing.T) {
	out := RenderState(TokenState(linkedInToken(t), received.Add(30*24*time.Hour), StateOptions{}))
	for _, want := range []string{
		"access token: valid (sha256:",
		"  expires:   2026-03-02 00:00:00Z (in 30d), from expires_in",
		"  lifetime:  60d, 50% used",
		"refresh token: valid",
		"granted scopes: openid profile email",
		"next action: use: the access token is valid for 30d",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AQV-access") || strings.Contains(out, "AQX-refresh") {
		t.Errorf("the rendering shows a token:\n%s", out)
	}
}
