package inspector

import (
	"strconv"
	"time"
)

// formatUTC renders an instant as RFC 3339 in UTC, to the second.
func formatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// FormatUTC renders an instant the way every view shows it: UTC, to the second.
func FormatUTC(t time.Time) string { return formatUTC(t) }

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

// HumanDuration renders a duration with its two largest units: "59d 23h", "4m 10s", "750ms".
// Negative durations get a leading minus.
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

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
