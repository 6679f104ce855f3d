package recorder

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/oauthdiag/oauthdiag/httplog"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

func TestRecordsAnExchange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Date", "Fri, 14 Mar 2025 09:27:00 GMT")
		w.Header().Set("X-Li-Uuid", "AAYJ4F2GbW2hN6d5TfXXXQ==")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"echo":%q}`, body)
	}))
	defer srv.Close()
	clock := testkit.NewStepClock(clockStart, 7*time.Millisecond)
	st := openStore(t, WithClock(clock.Now), WithIDs(testkit.Counter()))
	s := startSession(t, st)
	if got, want := s.ID(), "20250314T092653Z-000102"; got != want {
		t.Errorf("session id %q, want %q (from the injected clock and randomness)", got, want)
	}

	ctx := httplog.WithStep(context.Background(), "api-call")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/rest/posts?x=1", strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("LinkedIn-Version", "202503")
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != `{"echo":"{\"text\":\"hi\"}"}` {
		t.Fatalf("the caller saw a different body through the recorder: %s", got)
	}

	e, err := s.Entry("c1")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"id", e.ID, "c1"},
		{"seq", e.Seq, 1},
		{"session", e.SessionID, s.ID()},
		{"step", e.Step, "api-call"},
		{"kind", e.Kind, KindHTTP},
		{"method", e.Request.Method, "POST"},
		{"url", e.Request.URL, srv.URL + "/rest/posts?x=1"},
		{"request header", e.Request.Header.Get("LinkedIn-Version"), "202503"},
		{"request body", string(e.Request.Body), `{"text":"hi"}`},
		{"request size", e.Request.BodySize, int64(13)},
		{"status", e.Status(), 201},
		{"response header", e.Response.Header.Get("X-Li-Uuid"), "AAYJ4F2GbW2hN6d5TfXXXQ=="},
		{"response body", string(e.Response.Body), string(got)},
		{"response size", e.Response.BodySize, int64(len(got))},
		{"server date", serverDate(e), time.Date(2025, 3, 14, 9, 27, 0, 0, time.UTC)},
		// Clock readings: session start, call start, headers, end; 7ms apart.
		{"wait", e.Wait, 7 * time.Millisecond},
		{"duration", e.Duration, 14 * time.Millisecond},
		{"failed", e.Failed(), false},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if e2, err := s.Entry("1"); err != nil || e2.ID != "c1" {
		t.Errorf(`Entry("1") = %v, %v; want c1`, e2.ID, err)
	}
}

func serverDate(e Entry) time.Time {
	d, _ := e.ServerDate()
	return d
}

func TestStoreLoadsByLatestPrefixAndFullID(t *testing.T) {
	clock := testkit.NewStepClock(clockStart, time.Hour)
	st := openStore(t, WithClock(clock.Now), WithIDs(testkit.Counter()))
	a, _ := st.NewSession(SessionMeta{Provider: "linkedin"})
	b, _ := st.NewSession(SessionMeta{Provider: "google"})
	c, _ := st.NewSession(SessionMeta{Provider: "okta"})
	for _, s := range []*Session{a, b, c} {
		s.Close()
	}
	infos, err := st.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 3 || infos[0].ID != c.ID() || infos[2].ID != a.ID() {
		t.Fatalf("Sessions() not newest first: %+v", infos)
	}
	tests := []struct {
		id      string
		want    string
		wantErr error
	}{
		{"latest", c.ID(), nil},
		{"", c.ID(), nil},
		{a.ID(), a.ID(), nil},
		{b.ID()[:12], b.ID(), nil},
		{"2025", "", ErrAmbiguous},
		{"1999", "", ErrNotFound},
		{"../etc", "", ErrNotFound},
	}
	for _, tt := range tests {
		s, err := st.Load(tt.id)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Load(%q) error %v, want %v", tt.id, err, tt.wantErr)
			}
			continue
		}
		if err != nil || s.ID() != tt.want {
			t.Errorf("Load(%q) = %v, %v; want %s", tt.id, s, err, tt.want)
		}
	}
	if _, err := openStore(t).Load("latest"); !errors.Is(err, ErrNoSessions) {
		t.Errorf("Load(latest) on an empty store: %v, want ErrNoSessions", err)
	}
}

func TestParseCallID(t *testing.T) {
	for in, want := range map[string]int{"7": 7, "c7": 7, "C12": 12, " 3 ": 3} {
		if got, err := ParseCallID(in); err != nil || got != want {
			t.Errorf("ParseCallID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "c", "x7", "0", "-1", "c1.5"} {
		if _, err := ParseCallID(in); !errors.Is(err, ErrBadCallID) {
			t.Errorf("ParseCallID(%q) error %v, want ErrBadCallID", in, err)
		}
	}
}

func TestFilesArePrivate(t *testing.T) {
	dir := t.TempDir() + "/state/sessions"
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, st)
	for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", path, fi.Mode().Perm(), want)
		}
	}
	// A directory left world-readable is made private again.
	os.Chmod(dir, 0o755)
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("Open left the session directory at %o", fi.Mode().Perm())
	}
}

func TestBodiesAreCappedAndBinaryIsBase64(t *testing.T) {
	binary := []byte{0xff, 0xfe, 0x00, 0x01, 0x80}
	var received int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received = len(b)
		if r.URL.Path == "/binary" {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(binary)
			return
		}
		w.Write(bytes.Repeat([]byte("0123456789"), 10))
	}))
	defer srv.Close()
	s := startSession(t, openStore(t, WithBodyLimit(16)))
	client := &http.Client{Transport: s.Transport(nil)}

	resp, err := client.Post(srv.URL+"/big", "text/plain", strings.NewReader(strings.Repeat("a", 40)))
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if received != 40 || len(all) != 100 {
		t.Fatalf("the cap changed the traffic: server got %d bytes, client read %d", received, len(all))
	}
	e, err := s.Entry("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Request.Truncated || e.Request.BodySize != 40 || string(e.Request.Body) != strings.Repeat("a", 16) {
		t.Errorf("request body: truncated=%v size=%d body=%q", e.Request.Truncated, e.Request.BodySize, e.Request.Body)
	}
	if !e.Response.Truncated || e.Response.BodySize != 100 || string(e.Response.Body) != "0123456789012345" {
		t.Errorf("response body: truncated=%v size=%d body=%q", e.Response.Truncated, e.Response.BodySize, e.Response.Body)
	}

	resp, err = client.Get(srv.URL + "/binary")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	e, _ = s.Entry("c2")
	if !bytes.Equal(e.Response.Body, binary) {
		t.Errorf("binary body read back as %x, want %x", e.Response.Body, binary)
	}
	if log, err := os.ReadFile(s.Path()); err != nil || !bytes.Contains(log, []byte(`"body_encoding":"base64"`)) {
		t.Errorf("the log does not keep the binary body as base64 (%v)", err)
	}
}

func TestBodyClosedEarlyIsRecordedAsPartial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 64<<10))
	}))
	defer srv.Close()
	s := startSession(t, openStore(t))
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	e, err := s.Entry("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Response.Truncated || e.Response.BodySize != 5 || string(e.Response.Body) != "xxxxx" {
		t.Errorf("early close: truncated=%v size=%d body=%q", e.Response.Truncated, e.Response.BodySize, e.Response.Body)
	}
}

func TestCloseRecordsUnreadBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "never read")
	}))
	defer srv.Close()
	st := openStore(t)
	s := startSession(t, st)
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !s.Entries()[0].Pending {
		t.Fatal("a call whose body is unread should be pending")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	loaded, err := st.Load(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	e, err := loaded.Entry("c1")
	if err != nil {
		t.Fatal(err)
	}
	if e.ErrorKind != httplog.ErrorIncomplete || e.Status() != 200 {
		t.Errorf("unread call recorded as status %d kind %q, want 200 and %q", e.Status(), e.ErrorKind, httplog.ErrorIncomplete)
	}
}

func TestTransportErrorsAreRecordedAndClassified(t *testing.T) {
	s := startSession(t, openStore(t))
	client := &http.Client{Transport: s.Transport(nil)}

	// Connection refused: a port that was just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/token?client_secret=hush-hush-123"
	ln.Close()

	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer slow.Close()
	defer close(block)
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelTimeout()

	tests := []struct {
		name string
		req  func() *http.Request
		want httplog.ErrorKind
	}{
		{"refused", func() *http.Request { r, _ := http.NewRequest("GET", refused, nil); return r }, httplog.ErrorConnectionRefused},
		{"canceled", func() *http.Request { r, _ := http.NewRequestWithContext(ctx, "GET", slow.URL, nil); return r }, httplog.ErrorCanceled},
		{"timeout", func() *http.Request { r, _ := http.NewRequestWithContext(timeoutCtx, "GET", slow.URL, nil); return r }, httplog.ErrorTimeout},
		{"tls", func() *http.Request { r, _ := http.NewRequest("GET", tlsSrv.URL, nil); return r }, httplog.ErrorTLS},
	}
	for i, tt := range tests {
		if _, err := client.Do(tt.req()); err == nil {
			t.Fatalf("%s: the call succeeded", tt.name)
		}
		e, err := s.Entry(callID(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if e.Response != nil || e.Error == "" || e.ErrorKind != tt.want || !e.Failed() {
			t.Errorf("%s: response %v, error %q, kind %q; want no response and kind %q", tt.name, e.Response, e.Error, e.ErrorKind, tt.want)
		}
		if strings.Contains(e.Error, "hush-hush-123") {
			t.Errorf("%s: the error message kept a secret: %s", tt.name, e.Error)
		}
	}
	if got := httplog.Classify(&net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true}); got != httplog.ErrorDNS {
		t.Errorf("httplog.Classify(DNSError) = %q", got)
	}
	if got := httplog.Classify(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}); got != httplog.ErrorTLS {
		t.Errorf("httplog.Classify(RecordHeaderError) = %q", got)
	}
}

func TestSubscribeShowsPendingThenFinished(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	s := startSession(t, openStore(t))
	events, stop := s.Subscribe()
	defer stop()
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL + "/v2/me?oauth2_access_token=AQV-secret-token-1")
		if err == nil {
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	begin := <-events
	if begin.Type != EventBegin || !begin.Call.Pending || begin.Call.ID != "c1" || begin.Call.Method != "GET" || begin.Call.URL != srv.URL+"/v2/me" {
		t.Fatalf("first event %+v, want a pending begin for c1", begin)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fin := <-events
	if fin.Type != EventFinish || fin.Call.Pending || fin.Call.Status != 200 || fin.Call.URL != srv.URL+"/v2/me?oauth2_access_token="+Placeholder(KindAccessToken, "AQV-secret-token-1") {
		t.Fatalf("second event %+v, want a finished c1 with status 200", fin)
	}
	stop()
	if _, open := <-events; open {
		t.Error("the channel stays open after the subscription ended")
	}
}

func TestSlowSubscriberIsToldToReload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s := startSession(t, openStore(t, WithEventBuffer(1)))
	events, stop := s.Subscribe()
	defer stop()
	client := &http.Client{Transport: s.Transport(nil)}
	get := func() {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	get() // begin delivered, finish dropped: the recorder did not wait
	get()
	if ev := <-events; ev.Type != EventBegin {
		t.Fatalf("first event %v", ev.Type)
	}
	get()
	if ev := <-events; ev.Type != EventLost {
		t.Fatalf("after falling behind the subscriber got %v, want %v", ev.Type, EventLost)
	}
	if n := len(s.Entries()); n != 3 {
		t.Errorf("Entries after reload: %d, want 3", n)
	}
}

func TestObserveRecordsBrowserLegs(t *testing.T) {
	s := startSession(t, openStore(t))
	sum := s.Observe("callback", httplog.LegBrowserRedirect, "http://127.0.0.1:8765/callback?error=user_cancelled_login&error_description=The+user+cancelled&state=st4te-value", "")
	e, err := s.Entry(sum.ID) // waits for the writer
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindObserved || e.Leg != httplog.LegBrowserRedirect || e.Step != "callback" {
		t.Errorf("observed entry: kind %q leg %q step %q", e.Kind, e.Leg, e.Step)
	}
	if strings.Contains(e.Request.URL, "st4te-value") || !strings.Contains(e.Request.URL, "error=user_cancelled_login") {
		t.Errorf("observed URL not redacted as expected: %s", e.Request.URL)
	}
	if sums := s.Entries(); !e.Failed() || len(sums) != 1 || !sums[0].Failed {
		t.Error("a redirect carrying error= should count as failed")
	}
}

// TestTwoProcessesAppendingToOneSessionLoseNothing: a second process (a replay) appends
// to a session the first is still recording. Each still reads its own calls back, and
// loading the log afterwards gives every call of both, each under an id of its own.
func TestTwoProcessesAppendingToOneSessionLoseNothing(t *testing.T) {
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	st := openStore(t)
	first := startSession(t, st)
	get := func(s *Session, path string) { recordGet(t, s, srv.URL+path) }
	get(first, "/a1")
	second, err := st.Load(first.ID()) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	get(first, "/a2")
	get(second, "/b1")
	get(first, "/a3")
	get(second, "/b2")

	for _, view := range []struct {
		s     *Session
		paths []string
	}{{first, []string{"/a1", "/a2", "/a3"}}, {second, []string{"/a1", "/b1", "/b2"}}} {
		for i, sum := range view.s.Entries() {
			e, err := view.s.Entry(sum.ID)
			if err != nil {
				t.Fatalf("reading back %s: %v", sum.ID, err)
			}
			if !strings.HasSuffix(e.Request.URL, view.paths[i]) {
				t.Errorf("%s reads back as %s, want %s", sum.ID, e.Request.URL, view.paths[i])
			}
		}
	}

	loaded, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	ids, paths := map[string]bool{}, map[string]bool{}
	err = loaded.Each(func(e Entry) error {
		if ids[e.ID] {
			t.Errorf("two calls loaded as %s", e.ID)
		}
		ids[e.ID] = true
		paths[e.Request.URL[len(srv.URL):]] = true
		if got, err := loaded.Entry(e.ID); err != nil || got.Request.URL != e.Request.URL {
			t.Errorf("Entry(%s) = %s, %v; Each gave %s", e.ID, got.Request.URL, err, e.Request.URL)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a1", "/a2", "/a3", "/b1", "/b2"} {
		if !paths[p] {
			t.Errorf("the call to %s was lost on loading (have %v)", p, paths)
		}
	}
}

// TestClashingCallNumbersAreAllKept: three processes give a call the same number; loading
// keeps all three, each under an id of its own.
func TestClashingCallNumbersAreAllKept(t *testing.T) {
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	st := openStore(t)
	first := startSession(t, st)
	recordGet(t, first, srv.URL+"/a1")
	second, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	third, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []struct {
		s    *Session
		path string
	}{{first, "/a2"}, {second, "/b2"}, {third, "/c2"}} {
		recordGet(t, rec.s, srv.URL+rec.path) // each numbers its call c2
	}
	second.Close()
	third.Close()
	loaded, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, sum := range loaded.Entries() {
		if other, dup := paths[sum.ID]; dup {
			t.Errorf("%s names both %s and %s", sum.ID, other, sum.URL)
		}
		paths[sum.ID] = sum.URL
	}
	if len(paths) != 4 {
		t.Errorf("loaded %d calls, want 4: %v", len(paths), paths)
	}
}

// TestOnceAWriterSeesAnotherProcessCallsItNumbersAfterThem: after a write lands behind
// calls another process appended, this session numbers its next calls after theirs, so
// those keep on loading the ids they were shown with. Only the call that was already
// numbered when the other calls appeared is renumbered.
func TestOnceAWriterSeesAnotherProcessCallsItNumbersAfterThem(t *testing.T) {
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	st := openStore(t)
	first := startSession(t, st)
	recordGet(t, first, srv.URL+"/a1")
	second, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	recordGet(t, second, srv.URL+"/b2")
	recordGet(t, second, srv.URL+"/b3")
	second.Close()
	recordGet(t, first, srv.URL+"/a2") // numbered c2 before its write shows b2 and b3
	recordGet(t, first, srv.URL+"/a3")
	shown := map[string]string{}
	for _, sum := range first.Entries() {
		shown[sum.URL[len(srv.URL):]] = sum.ID
	}
	loaded, err := st.Load(first.ID())
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range loaded.Entries() {
		path := sum.URL[len(srv.URL):]
		if id, ok := shown[path]; ok && path != "/a2" && id != sum.ID {
			t.Errorf("%s was shown as %s and loads as %s", path, id, sum.ID)
		}
	}
}

// recordGet makes one GET through s and waits until it is on disk.
func recordGet(t *testing.T, s *Session, url string) {
	t.Helper()
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.Flush() // on disk, for the other process's view of the log
}

func TestTornTailIsSkippedAndTheLogStaysAppendable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Path) }))
	defer srv.Close()
	st := openStore(t)
	s := startSession(t, st)
	client := &http.Client{Transport: s.Transport(nil)}
	for i := range 3 {
		resp, err := client.Get(fmt.Sprintf("%s/%d", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	s.Close()
	// A write cut short by a crash: half a record, no newline.
	f, _ := os.OpenFile(s.Path(), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`0badc0de {"type":"call","call":{"id":"c4","se`)
	f.Close()

	loaded, err := st.Load(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if n, skipped := len(loaded.Entries()), loaded.Skipped(); n != 3 || skipped != 1 {
		t.Fatalf("after a torn tail: %d calls, %d skipped; want 3 and 1", n, skipped)
	}
	resp, err := (&http.Client{Transport: loaded.Transport(nil)}).Get(srv.URL + "/after")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	loaded.Close()

	again, err := st.Load(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, sum := range again.Entries() {
		ids = append(ids, sum.ID)
	}
	if strings.Join(ids, ",") != "c1,c2,c3,c4" || again.Skipped() != 1 {
		t.Fatalf("after appending past a torn tail: calls %v, skipped %d", ids, again.Skipped())
	}
	if e, err := again.Entry("c4"); err != nil || string(e.Response.Body) != "/after" {
		t.Errorf("the call appended after the torn tail reads back as %v, %v", e.Response, err)
	}
	infos, _ := st.Sessions()
	if len(infos) != 1 || infos[0].Calls != 4 || infos[0].Skipped != 1 {
		t.Errorf("Sessions() = %+v", infos)
	}
}

// TestMemoryDoesNotGrowWithFlushedBodies records many calls with large bodies and checks
// that the heap holds summaries, not bodies: they are read back from disk on demand.
func TestMemoryDoesNotGrowWithFlushedBodies(t *testing.T) {
	const bodySize = 256 << 10
	body := bytes.Repeat([]byte("b"), bodySize)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	s := startSession(t, openStore(t))
	client := &http.Client{Transport: s.Transport(nil)}
	call := func(n int) {
		for range n {
			resp, err := client.Get(srv.URL + "/v2/userinfo")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	call(10)
	s.Flush()
	before := heap()
	call(100)
	s.Flush()
	after := heap()
	// 100 bodies are 25 MiB; their summaries are a few kilobytes.
	if grown := int64(after) - int64(before); grown > 4<<20 {
		t.Errorf("heap grew by %d KiB over 100 calls of %d KiB bodies", grown>>10, bodySize>>10)
	}
	e, err := s.Entry("c110")
	if err != nil || len(e.Response.Body) != bodySize {
		t.Errorf("body of the last call not readable from disk: %d bytes, %v", len(e.Response.Body), err)
	}
}

// TestUnwritableLogKeepsCallsInMemory: when the log cannot be written, the call still
// succeeds, stays readable from memory, and the failure is reported rather than lost.
func TestUnwritableLogKeepsCallsInMemory(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "kept") }))
	defer srv.Close()
	s := startSession(t, openStore(t))
	s.Close()
	// The log's path turns into a directory: no process, root included, can append to it.
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.Path(), 0o700); err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL)
	if err != nil {
		t.Fatalf("recording failure broke the call: %v", err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	e, err := s.Entry("c1")
	if err != nil || string(e.Response.Body) != "kept" {
		t.Fatalf("the call is lost: %v, %v", e.Response, err)
	}
	if s.Err() == nil {
		t.Error("Err() does not report the failed write")
	}
	if err := s.Close(); err == nil {
		t.Error("Close() does not report the failed write")
	}
}
