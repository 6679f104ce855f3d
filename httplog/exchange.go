package httplog

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// Browser legs: URLs the tool only saw, not requests it sent. The browser made them.
const (
	// LegAuthorizationURL is the authorization URL the user was sent to.
	LegAuthorizationURL = "authorization-url"
	// LegBrowserRedirect is the redirect that brought the browser back.
	LegBrowserRedirect = "browser-redirect"
)

// Exchange is one HTTP request and what came of it: a response, or a transport failure. A browser
// leg (Leg set) has only a request URL.
type Exchange struct {
	// ID is the call id a Recorder gave the exchange ("c7"); "" when nothing recorded it.
	ID   string
	Step string
	// Leg marks a browser leg (LegAuthorizationURL, LegBrowserRedirect); "" for a call the tool made.
	Leg      string
	Started  time.Time
	Duration time.Duration
	// Wait is how long the response headers took to arrive.
	Wait     time.Duration
	Request  Request
	Response *Response // nil when no answer came
	// Error describes a failure to get (all of) the answer; ErrorKind classifies it.
	Error     string
	ErrorKind ErrorKind
	// Err is the failure itself, for callers that branch on its type; it is not stored.
	Err error
}

// Request is the request as sent.
type Request struct {
	Method string
	URL    string
	Proto  string
	Header http.Header
	Body   []byte
	// BodySize is the whole body's length; Body holds at most the capture limit of it.
	BodySize  int64
	Truncated bool
}

// Response is the answer as received.
type Response struct {
	Status int
	Proto  string
	Header http.Header
	Body   []byte
	// BodySize counts the bytes the caller read; Body holds at most the capture limit of them.
	BodySize int64
	// Truncated: Body is not the whole body (the limit cut it, or the reader stopped early).
	Truncated bool
	// Uncompressed: the body was sent compressed and is kept decoded.
	Uncompressed bool
}

// Status is the response status, 0 when no answer came.
func (e Exchange) Status() int {
	if e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// Failed reports whether the exchange failed: a transport failure, no answer, an HTTP status of
// 400 or more, or, for a browser redirect, an OAuth error in the URL.
func (e Exchange) Failed() bool {
	if e.Leg != "" {
		return RedirectError(e.Request.URL) != ""
	}
	return e.Error != "" || e.Response == nil || e.Response.Status >= 400
}

// End is when the exchange finished.
func (e Exchange) End() time.Time { return e.Started.Add(e.Duration) }

// ServerDate is the response's Date header, when it has a readable one.
func (e Exchange) ServerDate() (time.Time, bool) {
	if e.Response == nil {
		return time.Time{}, false
	}
	v := e.Response.Header.Get("Date")
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

// RedirectError returns the OAuth error code in a redirect URL's query or fragment, "" if none.
func RedirectError(raw string) string {
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

// BodyEncodingBase64 marks a stored body that is not UTF-8 text.
const BodyEncodingBase64 = "base64"

// BodyText is how a body is written as text (in the log, in HAR): as itself when it is UTF-8,
// else as base64 with encoding BodyEncodingBase64. A body cut at the capture limit may end inside
// a character; that tail is dropped rather than forcing base64.
func BodyText(b []byte, truncated bool) (text, encoding string) {
	if len(b) == 0 {
		return "", ""
	}
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), BodyEncodingBase64
}

// BodyBytes reads a body BodyText wrote.
func BodyBytes(text, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		if text == "" {
			return nil, nil
		}
		return []byte(text), nil
	case BodyEncodingBase64:
		return base64.StdEncoding.DecodeString(text)
	}
	return nil, fmt.Errorf("unknown body encoding %q", encoding)
}
