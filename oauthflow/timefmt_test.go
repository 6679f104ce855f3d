package oauthflow_test

import (
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Durations read as people say them, to the nearest second above a second.
func TestHumanDurationAndRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 750 * time.Millisecond: "750ms", 4*time.Minute + 10*time.Second + 400*time.Millisecond: "4m 10s",
		4*time.Minute + 10*time.Second + 600*time.Millisecond: "4m 11s",
		3 * time.Hour: "3h", 59*24*time.Hour + 23*time.Hour + 59*time.Minute: "59d 23h", -90 * time.Second: "-1m 30s",
	} {
		if got := oauthflow.HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for tm, want := range map[time.Time]string{now.Add(250 * time.Second): "in 4m 10s", now.Add(-3 * time.Hour): "3h ago", now: "now"} {
		if got := oauthflow.Relative(tm, now); got != want {
			t.Errorf("Relative = %q, want %q", got, want)
		}
	}
}

// One sentence says when both tokens of a response expire.
func TestExpirySentence(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tok  oauthflow.Token
		want string
	}{
		{oauthflow.Token{Expiry: now.Add(time.Hour), RefreshToken: "r", RefreshExpiry: now.Add(365 * 24 * time.Hour)},
			"the access token expires in 1h; the refresh token expires in 365d"},
		{oauthflow.Token{Expiry: now.Add(90 * time.Second)}, "the access token expires in 1m 30s; no refresh token was issued"},
		{oauthflow.Token{RefreshToken: "r"}, "the access token's lifetime is unknown; the refresh token has no stated expiry"},
	} {
		if got := oauthflow.ExpirySentence(&tc.tok, now); got != tc.want {
			t.Errorf("ExpirySentence = %q, want %q", got, tc.want)
		}
	}
}
