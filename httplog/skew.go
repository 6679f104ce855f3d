package httplog

import (
	"slices"
	"time"
)

// SkewNoise is the clock difference a Date header cannot tell from none: Date has one-second
// resolution, and the answer spends part of a second on the way.
const SkewNoise = 2 * time.Second

// ClockSkew estimates the server's clock minus ours from one answer's Date header. The server
// stamped Date while we waited for the headers, so it is compared with the middle of that wait;
// Date drops the fraction of a second, so half a second is added back. The estimate is rounded to
// the second, all a Date header can tell; the half-open interval (S-0.5s, S+0.5s] maps to S, the
// values a skew of exactly S seconds can produce.
func ClockSkew(ex *Exchange) (time.Duration, bool) {
	date, ok := ex.ServerDate()
	if !ok {
		return 0, false
	}
	wait := ex.Wait
	if wait <= 0 {
		wait = ex.Duration
	}
	local := ex.Started.Add(wait / 2)
	d := date.Add(500 * time.Millisecond).Sub(local)
	return (d - time.Nanosecond).Round(time.Second), true
}

// CombineSkew is the median of several ClockSkew samples, so one slow answer does not dominate;
// a median within SkewNoise of zero is no measurable skew. ok is false without samples.
func CombineSkew(samples []time.Duration) (time.Duration, bool) {
	if len(samples) == 0 {
		return 0, false
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	m := sorted[len(sorted)/2]
	if m > -SkewNoise && m < SkewNoise {
		m = 0
	}
	return m, true
}

// MeasureSkew estimates the clock skew from every answer with a Date header (see CombineSkew).
func MeasureSkew(exchanges []Exchange) (time.Duration, bool) {
	var samples []time.Duration
	for i := range exchanges {
		if s, ok := ClockSkew(&exchanges[i]); ok {
			samples = append(samples, s)
		}
	}
	return CombineSkew(samples)
}
