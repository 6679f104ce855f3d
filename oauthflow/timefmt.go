package oauthflow

import (
	"strconv"
	"time"
)

// FormatUTC renders an instant the way every view shows it: UTC, to the second.
func FormatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// Relative says when t is relative to now: "in 4m 10s", "3h 2m ago", "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= -time.Second/2 && d < time.Second/2:
		return "now"
	case d > 0:
		return "in " + HumanDuration(d)
	}
	return HumanDuration(-d) + " ago"
}

// HumanDuration renders a duration the way people read it, with its two largest units: "59d 23h",
// "4m 10s", "40s", "750ms". Durations of a second or more are rounded to the second. Negative
// durations get a leading minus. It is the one duration format of every message and view.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + HumanDuration(-d)
	}
	if d < time.Second {
		if d == 0 {
			return "0s"
		}
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	d = d.Round(time.Second)
	units := []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	for i, u := range units {
		n := d / u.size
		if n == 0 {
			continue
		}
		out := strconv.FormatInt(int64(n), 10) + u.name
		if i+1 < len(units) {
			if m := (d % u.size) / units[i+1].size; m > 0 {
				out += " " + strconv.FormatInt(int64(m), 10) + units[i+1].name
			}
		}
		return out
	}
	return "0s"
}

// ExpirySentence says when a token's access and refresh tokens expire, counted from now: the one
// expiry sentence of the flow's notes, the lifecycle's decisions and the commands' summaries.
func ExpirySentence(t *Token, now time.Time) string {
	s := "the access token's lifetime is unknown"
	if !t.Expiry.IsZero() {
		s = "the access token expires in " + HumanDuration(t.Expiry.Sub(now))
	}
	switch {
	case t.RefreshToken == "":
		s += "; no refresh token was issued"
	case t.RefreshExpiry.IsZero():
		s += "; the refresh token has no stated expiry"
	default:
		s += "; the refresh token expires in " + HumanDuration(t.RefreshExpiry.Sub(now))
	}
	return s
}

// AbsDuration is the length of d, whatever its sign.
func AbsDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
