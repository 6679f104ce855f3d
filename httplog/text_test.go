package httplog_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// An exchange reads as raw HTTP/1.1: request line with the target, Host, headers in name order,
// the body (JSON indented, keys and numbers as sent), then the status line and the answer.
func TestTextIsRawHTTP(t *testing.T) {
	ex := httplog.Exchange{
		Request: httplog.Request{Method: "POST", URL: "https://www.linkedin.com/oauth/v2/accessToken?x=1",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}},
			Body:   []byte("grant_type=authorization_code")},
		Response: &httplog.Response{Status: 200, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"b":1,"a":12345678901234567890}`)},
	}
	want := `POST /oauth/v2/accessToken?x=1 HTTP/1.1
Host: www.linkedin.com
Accept: application/json
Content-Type: application/x-www-form-urlencoded

grant_type=authorization_code

HTTP/1.1 200 OK
Content-Type: application/json

{
  "b": 1,
  "a": 12345678901234567890
}
`
	if got := httplog.Text(&ex, httplog.TextOptions{}); got != want {
		t.Errorf("Text =\n%s\nwant\n%s", got, want)
	}
}

// Long bodies are cut where asked, with a note; binary ones are described, not printed; a call
// without an answer says why.
func TestTextNotes(t *testing.T) {
	long := httplog.Exchange{Request: httplog.Request{Method: "GET", URL: "https://api.test/x"},
		Response: &httplog.Response{Status: 200, Header: http.Header{}, Body: []byte(strings.Repeat("a", 100))}}
	got := httplog.Text(&long, httplog.TextOptions{MaxBody: 10, CutNote: "… (%d more bytes; -v shows all)"})
	if !strings.Contains(got, "aaaaaaaaaa\n… (90 more bytes; -v shows all)") {
		t.Errorf("cut body:\n%s", got)
	}
	binary := httplog.Exchange{Request: httplog.Request{Method: "GET", URL: "https://api.test/x"},
		Response: &httplog.Response{Status: 200, Header: http.Header{}, Body: []byte{0xff, 0x00, 0xfe}, BodySize: 3}}
	if got := httplog.Text(&binary, httplog.TextOptions{}); !strings.Contains(got, "(3 bytes of binary body)") {
		t.Errorf("binary body:\n%s", got)
	}
	failed := httplog.Exchange{Request: httplog.Request{Method: "GET", URL: "https://api.test/x"},
		Error: "dial tcp: connection refused", ErrorKind: httplog.ErrorConnectionRefused}
	if got := httplog.Text(&failed, httplog.TextOptions{}); !strings.Contains(got, "(no response: connection-refused: dial tcp: connection refused)") {
		t.Errorf("no response:\n%s", got)
	}
	leg := httplog.Exchange{Leg: httplog.LegBrowserRedirect, Request: httplog.Request{URL: "http://127.0.0.1:8765/callback?error=access_denied"}}
	if got := httplog.Text(&leg, httplog.TextOptions{}); got != "GET http://127.0.0.1:8765/callback?error=access_denied\n" || !leg.Failed() {
		t.Errorf("browser leg: %q, failed %v", got, leg.Failed())
	}
}

// The JSON view flattens headers and names the call.
func TestView(t *testing.T) {
	ex := httplog.Exchange{ID: "c4", Duration: 1500 * time.Microsecond,
		Request:  httplog.Request{Method: "GET", URL: "https://api.test/me", Header: http.Header{"Accept": {"a", "b"}}},
		Response: &httplog.Response{Status: 401, Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}, Body: []byte("{}")}}
	v := httplog.ViewOf(&ex)
	if v.ID != "c4" || v.Status != 401 || v.RequestHeaders["Accept"] != "a, b" || v.ResponseBody != "{}" || v.DurationMS != 1.5 {
		t.Errorf("view %+v", v)
	}
}
