package recorder

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/sandbox"
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

// A loaded session lists its calls exactly as the session that recorded them did.
func TestLoadedSummariesMatchTheRecordedOnes(t *testing.T) {
	srv := startSandbox(t, sandbox.ServerError)
	st := openStore(t)
	s := startSession(t, st)
	runFlow(t, s, srv.BaseURL())
	s.Observe("callback", LegBrowserRedirect, "http://127.0.0.1:8765/callback?error=access_denied&state=x", "")
	if resp, err := (&http.Client{Transport: s.Transport(nil)}).Get("http://127.0.0.1:1/unreachable"); err == nil {
		resp.Body.Close()
	}
	s.Flush()
	loaded, err := st.Load(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	live, again := s.Entries(), loaded.Entries()
	if len(live) < 5 || len(again) != len(live) {
		t.Fatalf("recorded %d calls, loaded %d", len(live), len(again))
	}
	for i := range live {
		if live[i] != again[i] {
			t.Errorf("call %d:\nrecorded %+v\nloaded   %+v", i, live[i], again[i])
		}
	}
}
