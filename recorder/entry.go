package recorder

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind says whether an entry is an HTTP exchange the tool made or a browser leg it only saw.
type Kind string

const (
	// KindHTTP is an exchange made through the recording transport.
	KindHTTP Kind = "http"
	// KindObserved is a browser leg: a URL the user was sent to or a redirect received.
	KindObserved Kind = "observed"
)

// Browser legs passed to Session.Observe.
const (
	LegAuthorizationURL = "authorization-url"
	LegBrowserRedirect  = "browser-redirect"
)

// ErrorKind classifies a transport failure so callers can branch without reading messages.
type ErrorKind string

const (
	ErrorTimeout           ErrorKind = "timeout"
	ErrorDNS               ErrorKind = "dns"
	ErrorConnectionRefused ErrorKind = "connection-refused"
	ErrorTLS               ErrorKind = "tls"
	ErrorReset             ErrorKind = "reset"
	ErrorCanceled          ErrorKind = "canceled"
	ErrorIncomplete        ErrorKind = "incomplete" // the session closed before the body was read
	ErrorOther             ErrorKind = "other"
)

// BodyEncodingBase64 marks a body stored as base64 because it is not UTF-8 text.
const BodyEncodingBase64 = "base64"

// Request is the recorded, redacted request.
type Request struct {
	Method       string      `json:"method"`
	URL          string      `json:"url"`
	Proto        string      `json:"proto,omitempty"`
	Header       http.Header `json:"header,omitempty"`
	Body         string      `json:"body,omitempty"`
	BodyEncoding string      `json:"body_encoding,omitempty"`
	BodySize     int64       `json:"body_size"`
	Truncated    bool        `json:"truncated,omitempty"` // Body holds only the first bytes
}

// Response is the recorded, redacted response.
type Response struct {
	Status       int         `json:"status"`
	Proto        string      `json:"proto,omitempty"`
	Header       http.Header `json:"header,omitempty"`
	Body         string      `json:"body,omitempty"`
	BodyEncoding string      `json:"body_encoding,omitempty"`
	BodySize     int64       `json:"body_size"`
	Truncated    bool        `json:"truncated,omitempty"` // Body holds only the first bytes, or the reader stopped early
	Uncompressed bool        `json:"uncompressed,omitempty"`
}

// Entry is one recorded call. Everything in it is already redacted.
type Entry struct {
	ID         string        `json:"id"`
	SessionID  string        `json:"session_id"`
	Seq        int           `json:"seq"`
	Step       string        `json:"step,omitempty"`
	Kind       Kind          `json:"kind"`
	Leg        string        `json:"leg,omitempty"` // for KindObserved: LegAuthorizationURL or LegBrowserRedirect
	Note       string        `json:"note,omitempty"`
	Started    time.Time     `json:"started"`
	Duration   time.Duration `json:"duration_ns"`
	Wait       time.Duration `json:"wait_ns,omitempty"` // until the response headers arrived
	Request    Request       `json:"request"`
	Response   *Response     `json:"response,omitempty"` // nil when the transport failed
	Error      string        `json:"error,omitempty"`
	ErrorKind  ErrorKind     `json:"error_kind,omitempty"`
	ServerDate time.Time     `json:"server_date,omitzero"`
	ReplayOf   string        `json:"replay_of,omitempty"`
	Attempt    int           `json:"attempt,omitempty"`
	// SecretRefs maps a secret kind to the fingerprint of the value the call carried, so a
	// replay can look the value up in the token store.
	SecretRefs map[string]string `json:"secret_refs,omitempty"`
}

// Status is the response status, 0 when there was no response.
func (e Entry) Status() int {
	if e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// Failed reports whether the call failed: a transport error, an HTTP status of 400 or
// more, or a browser redirect carrying an OAuth error.
func (e Entry) Failed() bool {
	if e.Kind == KindObserved {
		return observedError(e.Request.URL) != ""
	}
	return e.Error != "" || e.Response == nil || e.Response.Status >= 400
}

// observedError returns the OAuth error code in a redirect URL's query or fragment.
func observedError(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if v := u.Query().Get("error"); v != "" {
		return v
	}
	if q, err := url.ParseQuery(u.Fragment); err == nil {
		return q.Get("error")
	}
	return ""
}

// Summary is the small, always-in-memory view of an entry, for lists and live views.
type Summary struct {
	ID        string        `json:"id"`
	Seq       int           `json:"seq"`
	Step      string        `json:"step,omitempty"`
	Kind      Kind          `json:"kind"`
	Leg       string        `json:"leg,omitempty"`
	Method    string        `json:"method"`
	URL       string        `json:"url"`
	Status    int           `json:"status"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration_ns"`
	Error     string        `json:"error,omitempty"`
	ErrorKind ErrorKind     `json:"error_kind,omitempty"`
	ReplayOf  string        `json:"replay_of,omitempty"`
	Attempt   int           `json:"attempt,omitempty"`
	Failed    bool          `json:"failed"`
	Pending   bool          `json:"pending,omitempty"` // the call has started and not finished
}

// Summary returns the entry's summary.
func (e Entry) Summary() Summary {
	return Summary{
		ID: e.ID, Seq: e.Seq, Step: e.Step, Kind: e.Kind, Leg: e.Leg,
		Method: e.Request.Method, URL: e.Request.URL, Status: e.Status(),
		Started: e.Started, Duration: e.Duration, Error: e.Error, ErrorKind: e.ErrorKind,
		ReplayOf: e.ReplayOf, Attempt: e.Attempt, Failed: e.Failed(),
	}
}

// DecodedBody returns the request body bytes, decoding base64 if needed.
func (r *Request) DecodedBody() ([]byte, error) { return decodeBody(r.Body, r.BodyEncoding) }

// DecodedBody returns the response body bytes, decoding base64 if needed.
func (r *Response) DecodedBody() ([]byte, error) { return decodeBody(r.Body, r.BodyEncoding) }

func decodeBody(body, enc string) ([]byte, error) {
	switch enc {
	case "":
		return []byte(body), nil
	case BodyEncodingBase64:
		return base64.StdEncoding.DecodeString(body)
	default:
		return nil, fmt.Errorf("unknown body encoding %q", enc)
	}
}

// callID renders the session-unique id of the seq'th call.
func callID(seq int) string { return "c" + strconv.Itoa(seq) }

// ParseCallID accepts "c7", "C7" or "7" and returns 7.
func ParseCallID(s string) (int, error) {
	t := strings.TrimSpace(s)
	if len(t) > 0 && (t[0] == 'c' || t[0] == 'C') {
		t = t[1:]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a call id: use the number shown by the calls list, such as 7 or c7: %w", s, ErrBadCallID)
	}
	return n, nil
}
