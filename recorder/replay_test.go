package recorder

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/oauthdiag/oauthdiag/httplog"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// sleeps records the waits of a replay instead of sleeping, advancing clock if given.
type sleeps struct {
	clock *testkit.Clock
	got   []time.Duration
}

func (s *sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	if s.clock != nil {
		s.clock.Advance(d)
	}
	return nil
}

func callIn(t *testing.T, s *Session, step string) string {
	t.Helper()
	for _, sum := range s.Entries() {
		if sum.Step == step {
			return sum.ID
		}
	}
	t.Fatalf("no %s call recorded", step)
	return ""
}

func TestReplayRetriesAFlakyAPI(t *testing.T) {
	srv := canarySandbox(t, sandbox.Happy)
	s := startSession(t, openStore(t))
	runFlow(t, s, srv.BaseURL(), "userinfo")
	orig := callIn(t, s, "userinfo")

	srv.SetScenario(sandbox.Flaky) // the next API call answers 503, the one after 200
	sl := &sleeps{}
	rp := &Replayer{Sleep: sl.Sleep, Rand: testkit.Counter()}
	res, err := rp.Replay(context.Background(), s, orig, Edit{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 2 || res.Attempts[0].Status() != 503 || res.Last().Status() != 200 {
		t.Fatalf("attempts: %v", statuses(res.Attempts))
	}
	for i, a := range res.Attempts {
		if a.ReplayOf != orig || a.Attempt != i+1 || a.Step != "userinfo" {
			t.Errorf("attempt %d recorded as replay of %q attempt %d at step %q", i+1, a.ReplayOf, a.Attempt, a.Step)
		}
	}
	if len(sl.got) != 1 || sl.got[0] < 0 || sl.got[0] >= 500*time.Millisecond || res.Waits[0].Reason != "backoff" {
		t.Errorf("waits %v (%+v): want one jittered backoff under 500ms", sl.got, res.Waits)
	}
	c := res.Comparison
	if c.OriginalID != orig || c.ReplayID != res.Last().ID || c.OriginalStatus != 200 || c.ReplayStatus != 200 || !c.BodiesEqual {
		t.Errorf("comparison %+v", c)
	}
	var uuid *HeaderChange
	for i := range c.Headers {
		if strings.EqualFold(c.Headers[i].Name, "X-Li-Uuid") {
			uuid = &c.Headers[i]
		}
	}
	if uuid == nil || uuid.Original == "" || uuid.Original == uuid.Replay {
		t.Errorf("comparison does not set the two x-li-uuid ids side by side: %+v", c.Headers)
	}
	// Every attempt is in the log, linked to the original.
	loaded, err := s.store.Load(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	var linked []int
	for _, sum := range loaded.Entries() {
		if sum.ReplayOf == orig {
			linked = append(linked, sum.Status)
		}
	}
	if len(linked) != 2 {
		t.Errorf("log holds replay attempts with statuses %v, want [503 200]", linked)
	}
}

func TestReplayHonoursRetryAfter(t *testing.T) {
	srv := canarySandbox(t, sandbox.Happy)
	s := startSession(t, openStore(t))
	runFlow(t, s, srv.BaseURL(), "userinfo")
	srv.SetScenario(sandbox.RateLimited) // two 429s with Retry-After: 1, then 200
	sl := &sleeps{}
	res, err := (&Replayer{Sleep: sl.Sleep, Rand: testkit.Counter()}).Replay(context.Background(), s, callIn(t, s, "userinfo"), Edit{})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res.Attempts); got != "429 429 200" {
		t.Fatalf("attempts %s, want 429 429 200", got)
	}
	if len(sl.got) != 2 || sl.got[0] != time.Second || sl.got[1] != time.Second || res.Waits[0].Reason != "Retry-After: 1" {
		t.Errorf("waits %v %+v, want two of 1s for Retry-After", sl.got, res.Waits)
	}
}

func statuses(es []Entry) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, strconv.Itoa(e.Status()))
	}
	return strings.Join(parts, " ")
}

func TestReplayStopsAtItsBounds(t *testing.T) {
	retryAfter := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	clock := testkit.NewStepClock(clockStart, time.Millisecond)
	s := startSession(t, openStore(t, WithClock(clock.Now)))
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL + "/v2/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	tests := []struct {
		name       string
		retryAfter string
		attempts   int
		note       string
	}{
		{"attempts", "", 4, "gave up after 4 attempts"},
		{"time budget", "12", 3, "would pass the 30s budget"},
	}
	for _, tt := range tests {
		retryAfter = tt.retryAfter
		sl := &sleeps{clock: clock}
		res, err := (&Replayer{Sleep: sl.Sleep, Rand: testkit.Counter()}).Replay(context.Background(), s, "c1", Edit{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Attempts) != tt.attempts || len(res.Notes) == 0 || !strings.Contains(res.Notes[len(res.Notes)-1], tt.note) {
			t.Errorf("%s: %d attempts, notes %q; want %d and %q", tt.name, len(res.Attempts), res.Notes, tt.attempts, tt.note)
		}
		var total time.Duration
		for _, d := range sl.got {
			total += d
		}
		if total > DefaultBackoff().MaxTotal {
			t.Errorf("%s: waited %s in all, over the budget", tt.name, total)
		}
	}
}

// echoServer keeps what the last request carried, so tests see what a replay really
// sent (the recording of the answer is redacted, as it should be).
type echoServer struct {
	*httptest.Server
	mu   sync.Mutex
	last map[string]string
}

func newEchoServer(t *testing.T) *echoServer {
	es := &echoServer{}
	es.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		got := map[string]string{
			"method": r.Method, "uri": r.RequestURI, "body": string(body),
			"basic": user + ":" + pass, "auth": r.Header.Get("Authorization"), "x_test": r.Header.Get("X-Test"),
		}
		es.mu.Lock()
		es.last = got
		es.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(got)
	}))
	t.Cleanup(es.Close)
	return es
}

func (es *echoServer) received() map[string]string {
	es.mu.Lock()
	defer es.mu.Unlock()
	return es.last
}

func TestReplayInANewProcessNeedsTheSecrets(t *testing.T) {
	srv := newEchoServer(t)
	st := openStore(t)
	s := startSession(t, st)
	client := &http.Client{Transport: s.Transport(nil)}
	const secret, refresh = "shh-client-secret-42", "AQW-refresh-token-0001"
	req, _ := http.NewRequest("POST", srv.URL+"/oauth/v2/accessToken", strings.NewReader(url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-client", secret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	s.Close()

	// Another process: the session's redactor no longer holds the values.
	later, err := st.Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Replayer{}).Replay(context.Background(), later, "c1", Edit{})
	var missing *MissingSecretsError
	if !errors.As(err, &missing) || len(missing.Missing) != 2 || missing.NeedsAccessToken() {
		t.Fatalf("replay without secrets: %v", err)
	}
	kinds := missing.Missing[0].Kind + "," + missing.Missing[1].Kind
	if !strings.Contains(kinds, KindClientSecret) || !strings.Contains(kinds, KindRefreshToken) {
		t.Errorf("missing kinds %s", kinds)
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("the error names the secret")
	}

	store := map[string]string{Fingerprint(secret): secret, Fingerprint(refresh): refresh}
	resolver := ResolverFunc(func(kind, fp string) (string, bool) { v, ok := store[fp]; return v, ok })
	newBody := "grant_type=refresh_token&refresh_token=" + Placeholder(KindRefreshToken, refresh) + "&scope=openid"
	res, err := (&Replayer{Resolve: resolver}).Replay(context.Background(), later, "c1", Edit{
		Method: "put", URL: srv.URL + "/other?x=1", SetHeaders: http.Header{"X-Test": {"yes"}}, Body: &newBody,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	want := map[string]string{
		"method": "PUT", "uri": "/other?x=1", "x_test": "yes",
		"basic": "my-client:" + secret,
		"body":  "grant_type=refresh_token&refresh_token=" + refresh + "&scope=openid",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("server received %s = %q, want %q", k, got[k], v)
		}
	}
	if strings.Contains(string(res.Last().Response.Body), secret) || strings.Contains(res.Last().Request.Header.Get("Authorization"), secret) {
		t.Error("the replay's recording holds the secret it resolved")
	}
}

func TestReplayWithAFreshToken(t *testing.T) {
	srv := newEchoServer(t)
	st := openStore(t)
	s := startSession(t, st)
	req, _ := http.NewRequest("GET", srv.URL+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer AQV-old-token-expired-123")
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	s.Close()
	later, _ := st.Load("latest")

	_, err = (&Replayer{}).Replay(context.Background(), later, "1", Edit{})
	var missing *MissingSecretsError
	if !errors.As(err, &missing) || !missing.NeedsAccessToken() {
		t.Fatalf("replay of a call whose token is gone: %v", err)
	}
	res, err := (&Replayer{}).Replay(context.Background(), later, "1", Edit{FreshToken: "AQV-fresh-token-456"})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.received()["auth"]; got != "Bearer AQV-fresh-token-456" {
		t.Errorf("server got Authorization %q", got)
	}
	if ref := res.Last().SecretRefs[KindAccessToken]; ref != Fingerprint("AQV-fresh-token-456") {
		t.Errorf("the replay's SecretRefs name %q, not the fresh token", ref)
	}
}

func TestObservedLegsAreNotReplayable(t *testing.T) {
	s := startSession(t, openStore(t))
	sum := s.Observe("authorize", httplog.LegAuthorizationURL, "https://www.linkedin.com/oauth/v2/authorization?client_id=x", "")
	if _, err := (&Replayer{}).Replay(context.Background(), s, sum.ID, Edit{}); !errors.Is(err, ErrNotReplayable) {
		t.Errorf("replaying a browser leg: %v", err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	serverDate := now.Add(-time.Hour) // the server's clock is an hour behind ours
	tests := []struct {
		header string
		date   time.Time
		want   time.Duration
		ok     bool
	}{
		{"1", time.Time{}, time.Second, true},
		{" 120 ", time.Time{}, 2 * time.Minute, true},
		{serverDate.Add(30 * time.Second).Format(http.TimeFormat), serverDate, 30 * time.Second, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), time.Time{}, 10 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), time.Time{}, 0, true},
		{"soon", time.Time{}, 0, false},
		{"-5", time.Time{}, 0, false},
		{"", time.Time{}, 0, false},
	}
	for _, tt := range tests {
		h := http.Header{"Retry-After": {tt.header}}
		if !tt.date.IsZero() {
			h.Set("Date", tt.date.Format(http.TimeFormat))
		}
		e := &Entry{Exchange: httplog.Exchange{Response: &httplog.Response{Status: 429, Header: h}}}
		got, ok := retryAfter(e, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q: %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBasicCredentialsRebuild(t *testing.T) {
	fill := func(s string) string { return strings.ReplaceAll(s, Placeholder(KindClientSecret, "p@ss"), "p@ss") }
	got := fillBasic("Basic my-client:"+Placeholder(KindClientSecret, "p@ss"), fill)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("my-client:p%40ss"))
	if got != want {
		t.Errorf("fillBasic = %q, want %q", got, want)
	}
}
