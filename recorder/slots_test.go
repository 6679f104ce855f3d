package recorder

import (
	"testing"
	"time"
)

// A call's summary comes back from the session's compact slots as it went in, with its
// start time in UTC.
func TestSlotsKeepEverySummaryField(t *testing.T) {
	started := time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	sums := []Summary{
		{ID: "c7", Seq: 7, Step: "userinfo", Kind: KindHTTP, Method: "GET", URL: "https://api.linkedin.com/v2/userinfo",
			Status: 500, Started: started, Duration: 42 * time.Millisecond, Error: "boom", ErrorKind: ErrorReset,
			ReplayOf: "c3", Attempt: 2, Failed: true},
		{ID: "c8", Seq: 8, Kind: KindObserved, Leg: LegAuthorizationURL, Method: "GET", URL: "https://www.linkedin.com/oauth/v2/authorization", Pending: true},
		{ID: "c9", Seq: 9, Method: "POST"},
		{ID: "c10", Seq: 10}, // nothing but its number
	}
	var strs strTable
	for _, want := range sums {
		sl := strs.pack(&want, 100, 200)
		got := strs.summary(&sl)
		if !want.Started.IsZero() {
			want.Started = want.Started.UTC()
		}
		if got != want {
			t.Errorf("packed and unpacked:\n got %+v\nwant %+v", got, want)
		}
		if sl.off != 100 || sl.n != 200 {
			t.Errorf("%s: record at %d+%d, want 100+200", want.ID, sl.off, sl.n)
		}
	}
	// Repeated strings are stored once.
	before := len(strs.strs)
	for i := range 100 {
		sum := Summary{ID: callID(20 + i), Seq: 20 + i, Step: "userinfo", Kind: KindHTTP, Method: "GET", URL: "https://api.linkedin.com/v2/userinfo"}
		strs.pack(&sum, 0, 0)
	}
	if added := len(strs.strs) - before; added != 0 {
		t.Errorf("100 calls to a known URL added %d strings", added)
	}
}
