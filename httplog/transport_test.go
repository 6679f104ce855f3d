package httplog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// recorderLog is a Recorder that keeps what it is told.
type recorderLog struct {
	mu       sync.Mutex
	begun    []*httplog.Call
	finished []httplog.Exchange
}

func (r *recorderLog) Begin(c *httplog.Call) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begun = append(r.begun, c)
	return "c" + string(rune('0'+len(r.begun)))
}

func (r *recorderLog) Finish(_ *httplog.Call, ex *httplog.Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = append(r.finished, *ex)
}

func (r *recorderLog) exchanges() []httplog.Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]httplog.Exchange(nil), r.finished...)
}

// The exchange a step collects is the one the recorder is told of: same id, same bodies, and the
// caller reads the answer unchanged.
func TestOneCaptureServesTheStepAndTheRecorder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Li-Uuid", "uuid-1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(append([]byte(`{"echo":`), append(body, '}')...))
	}))
	defer srv.Close()
	rec := &recorderLog{}
	client := &http.Client{Transport: &httplog.Transport{Recorder: rec}}
	ctx, col := httplog.Collect(httplog.WithStep(context.Background(), "api-call"))
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/rest/x?q=1", strings.NewReader(`"hi"`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != `{"echo":"hi"}` {
		t.Fatalf("the caller read %q through the transport", got)
	}
	collected, recorded := col.Exchanges(), rec.exchanges()
	if len(collected) != 1 || len(recorded) != 1 {
		t.Fatalf("collected %d, recorded %d exchanges; want one each", len(collected), len(recorded))
	}
	ex := collected[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"id from the recorder", ex.ID, "c1"},
		{"the recorder's id", recorded[0].ID, "c1"},
		{"step", ex.Step, "api-call"},
		{"method", ex.Request.Method, "POST"},
		{"url", ex.Request.URL, srv.URL + "/rest/x?q=1"},
		{"request body", string(ex.Request.Body), `"hi"`},
		{"request size", ex.Request.BodySize, int64(4)},
		{"status", ex.Status(), 201},
		{"response header", ex.Response.Header.Get("X-Li-Uuid"), "uuid-1"},
		{"response body", string(ex.Response.Body), `{"echo":"hi"}`},
		{"same body for the recorder", string(recorded[0].Response.Body), `{"echo":"hi"}`},
		{"not truncated", ex.Response.Truncated, false},
		{"failed", ex.Failed(), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if ex.Wait <= 0 || ex.Duration < ex.Wait {
		t.Errorf("timings: wait %v, duration %v", ex.Wait, ex.Duration)
	}
}

// Bodies longer than the limit stream through whole; the exchange keeps their first bytes and
// their real size.
func TestBodiesAreCappedNotCut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Write(bytes.Repeat([]byte("r"), int(n)*2))
	}))
	defer srv.Close()
	ctx, col := httplog.Collect(context.Background())
	client := &http.Client{Transport: &httplog.Transport{BodyLimit: 16}}
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, strings.NewReader(strings.Repeat("q", 40)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(all) != 80 {
		t.Fatalf("the caller read %d bytes, want all 80", len(all))
	}
	ex := col.Last()
	if !ex.Request.Truncated || ex.Request.BodySize != 40 || string(ex.Request.Body) != strings.Repeat("q", 16) {
		t.Errorf("request: truncated %v, size %d, body %q", ex.Request.Truncated, ex.Request.BodySize, ex.Request.Body)
	}
	if !ex.Response.Truncated || ex.Response.BodySize != 80 || len(ex.Response.Body) != 16 {
		t.Errorf("response: truncated %v, size %d, kept %d", ex.Response.Truncated, ex.Response.BodySize, len(ex.Response.Body))
	}
}

// A transport failure is an exchange too, classified; the caller gets the error unchanged.
func TestTransportFailuresAreClassified(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/token"
	ln.Close()
	ctx, col := httplog.Collect(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	_, err = (&http.Client{Transport: &httplog.Transport{}}).Do(req)
	if err == nil {
		t.Fatal("a closed port answered")
	}
	ex := col.Last()
	if ex == nil || ex.Response != nil || ex.ErrorKind != httplog.ErrorConnectionRefused || ex.Err == nil || !ex.Failed() {
		t.Fatalf("the refused call was captured as %+v", ex)
	}
	for err, want := range map[error]httplog.ErrorKind{
		context.Canceled:                     httplog.ErrorCanceled,
		context.DeadlineExceeded:             httplog.ErrorTimeout,
		&net.DNSError{Err: "x"}:              httplog.ErrorDNS,
		io.ErrUnexpectedEOF:                  httplog.ErrorReset,
		errors.New("tls: handshake failure"): httplog.ErrorTLS,
		errors.New("something else"):         httplog.ErrorOther,
	} {
		if got := httplog.Classify(err); got != want {
			t.Errorf("Classify(%v) = %s, want %s", err, got, want)
		}
	}
}

// A recording that ends before the answer is read abandons the call: it is finished once, as
// incomplete, and the caller still reads the whole answer.
func TestAbandonFinishesOnceAndTheCallerReadsOn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("late body")) }))
	defer srv.Close()
	rec := &recorderLog{}
	resp, err := (&http.Client{Transport: &httplog.Transport{Recorder: rec}}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec.begun[0].Abandon()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "late body" {
		t.Fatalf("the caller read %q after the call was abandoned", body)
	}
	done := rec.exchanges()
	if len(done) != 1 || done[0].ErrorKind != httplog.ErrorIncomplete || done[0].Status() != 200 || !done[0].Response.Truncated {
		t.Fatalf("abandoned call recorded as %+v (want once, incomplete, status 200)", done)
	}
}

// Collectors nest: an outer collector sees the calls of an inner one's context too.
func TestCollectorsNest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	outer, all := httplog.Collect(context.Background())
	inner, one := httplog.Collect(outer)
	client := &http.Client{Transport: &httplog.Transport{}}
	for _, ctx := range []context.Context{inner, outer} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(one.Exchanges()) != 1 || len(all.Exchanges()) != 2 {
		t.Errorf("inner saw %d, outer %d; want 1 and 2", len(one.Exchanges()), len(all.Exchanges()))
	}
}

// The skew is read from Date at the middle of the wait, Date's truncated second given back, and
// a median within two seconds of zero is none.
func TestClockSkew(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 400e6, time.UTC)
	answer := func(dateOffset time.Duration) httplog.Exchange {
		date := start.Truncate(time.Second).Add(dateOffset).Format(http.TimeFormat)
		return httplog.Exchange{Started: start, Wait: 200 * time.Millisecond, Duration: 300 * time.Millisecond,
			Response: &httplog.Response{Status: 200, Header: http.Header{"Date": {date}}}}
	}
	ahead := answer(5 * time.Minute)
	if s, ok := httplog.ClockSkew(&ahead); !ok || s != 5*time.Minute {
		t.Errorf("five minutes ahead measured %v, %v", s, ok)
	}
	if _, ok := httplog.ClockSkew(&httplog.Exchange{}); ok {
		t.Error("an exchange without an answer has no skew")
	}
	if s, ok := httplog.MeasureSkew([]httplog.Exchange{answer(time.Second), answer(0), answer(-time.Second)}); !ok || s != 0 {
		t.Errorf("a second either way is no skew, got %v", s)
	}
	if s, _ := httplog.MeasureSkew([]httplog.Exchange{answer(10 * time.Minute), answer(-3 * time.Minute), answer(-3 * time.Minute)}); s != -3*time.Minute {
		t.Errorf("the median of three samples is -3m, got %v", s)
	}
}
