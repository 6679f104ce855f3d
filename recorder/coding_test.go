package recorder

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// A token inside a compressed body is redacted like any other: the recorder reads through
// gzip and deflate, and keeps no bytes of a coding it cannot read.
func TestCompressedBodiesAreRedactedOrNotKept(t *testing.T) {
	const token = "AQVcompressedCanaryToken0123456789"
	plain := `{"access_token":"` + token + `","expires_in":3600}`
	encode := map[string]func([]byte) []byte{
		"gzip": func(b []byte) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		},
		"deflate": func(b []byte) []byte {
			var buf bytes.Buffer
			zw := zlib.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		},
		"br": func(b []byte) []byte { return append([]byte("\x0b\x02\x80"), b...) }, // stands in for bytes we cannot decode
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coding := strings.TrimPrefix(r.URL.Path, "/")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", coding)
		w.Write(encode[coding]([]byte(plain)))
	}))
	defer srv.Close()
	s := startSession(t, openStore(t))
	client := &http.Client{Transport: s.Transport(nil)}
	for _, coding := range []string{"gzip", "deflate", "br"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+coding, nil)
		// Asking for a coding ourselves turns off Go's transparent gunzip.
		req.Header.Set("Accept-Encoding", coding)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	log, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "session log", log, map[string]string{"access_token": token})
	for i, coding := range []string{"gzip", "deflate", "br"} {
		e, err := s.Entry(callID(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		body := string(e.Response.Body)
		switch coding {
		case "br":
			if body != "" || !e.Response.Truncated || !strings.Contains(e.Note, "br-encoded") {
				t.Errorf("br: body %q truncated %v note %q; want no body and a note", body, e.Response.Truncated, e.Note)
			}
		default:
			if !strings.Contains(body, `"access_token": "[redacted:access_token:`) && !strings.Contains(body, `"access_token":"[redacted:access_token:`) {
				t.Errorf("%s: body recorded as %q, want the decoded text with the token redacted", coding, body)
			}
			if !e.Response.Uncompressed {
				t.Errorf("%s: the entry does not say its body was decoded", coding)
			}
		}
	}
}

// A token a response body hands out is redacted in that response's headers too.
func TestATokenInABodyIsRedactedInItsOwnHeaders(t *testing.T) {
	const token = "opaqueCanaryToken1234567890"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Debug", "issued "+token)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q}`, token)
	}))
	defer srv.Close()
	s := startSession(t, openStore(t))
	resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	e, err := s.Entry("c1")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Response.Header.Get("X-Debug"); strings.Contains(got, token) || !strings.Contains(got, "[redacted:access_token:") {
		t.Errorf("X-Debug recorded as %q", got)
	}
}

// The URL of a call still in flight, shown at once, has JWTs in its path redacted.
func TestAPendingCallShowsNoJWTInItsPath(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	s := startSession(t, openStore(t))
	events, stop := s.Subscribe()
	defer stop()
	go func() {
		if resp, err := (&http.Client{Transport: s.Transport(nil)}).Get(srv.URL + "/sessions/" + jwt); err == nil {
			resp.Body.Close()
		}
	}()
	ev := <-events
	if ev.Type != EventBegin || strings.Contains(ev.Call.URL, jwt) || !strings.Contains(ev.Call.URL, "[redacted:jwt:") {
		t.Errorf("pending call shown as %+v", ev)
	}
}
