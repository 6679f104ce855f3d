package recorder

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// Closing a session while a request is still waiting for its answer records the call as
// incomplete; the answer that arrives afterwards reaches the caller unharmed.
func TestCloseWhileARequestIsInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.NewSession(SessionMeta{Provider: "in-flight"})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: s.Transport(nil)}
	type result struct {
		body string
		err  error
	}
	done := make(chan result)
	go func() {
		resp, err := client.Get(srv.URL + "/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{string(b), err}
	}()
	for len(s.Entries()) == 0 {
		runtime.Gosched()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	r := <-done
	if r.err != nil || r.body != `{"ok":true}` {
		t.Fatalf("the caller got %q, %v", r.body, r.err)
	}
	sums := s.Entries()
	if len(sums) != 1 || sums[0].Pending {
		t.Fatalf("the call must be recorded once, finished: %+v", sums)
	}
}
