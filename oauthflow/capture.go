package oauthflow

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Step names are stable identifiers: the CLI's JSON, the recorder and the diagnosis rules use them.
const (
	StepDiscovery       = "discovery"
	StepAuthorize       = "authorize"
	StepCallback        = "callback"
	StepExchange        = "exchange"
	StepUserinfo        = "userinfo"
	StepAPICall         = "api-call"
	StepIntrospect      = "introspect"
	StepRefresh         = "refresh"
	StepRevoke          = "revoke"
	StepIntrospectAfter = "introspect-after-revoke"
	StepClientCreds     = "client-credentials"
	// StepIDToken labels the JWKS fetch made to verify an ID token's signature.
	StepIDToken = "id-token"
)

// maxCapturedBody bounds how much of a body a Trace keeps; the caller still receives all of it.
const maxCapturedBody = 1 << 20

// Exchange is one HTTP request and its response (or transport error), as the step made it.
// Secrets are NOT redacted here: redact before showing or storing.
type Exchange struct {
	Step     string
	Started  time.Time
	Duration time.Duration
	Request  CapturedRequest
	Response *CapturedResponse // nil when the request failed in transport
	Err      error             // transport error, if any
}

// CapturedRequest is the request as sent.
type CapturedRequest struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// CapturedResponse is the response as received.
type CapturedResponse struct {
	Status    int
	Proto     string
	Header    http.Header
	Body      []byte
	Truncated bool // Body holds only the first maxCapturedBody bytes
}

// Trace collects the exchanges one step made, in order.
type Trace struct {
	mu        sync.Mutex
	exchanges []Exchange
}

// Exchanges returns a copy of the exchanges recorded so far.
func (t *Trace) Exchanges() []Exchange {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Exchange(nil), t.exchanges...)
}

// Last returns the most recent exchange, or nil.
func (t *Trace) Last() *Exchange {
	ex := t.Exchanges()
	if len(ex) == 0 {
		return nil
	}
	return &ex[len(ex)-1]
}

func (t *Trace) add(e Exchange) {
	t.mu.Lock()
	t.exchanges = append(t.exchanges, e)
	t.mu.Unlock()
}

type stepKey struct{}
type traceKey struct{}

// WithStep labels the HTTP requests made under ctx with a step name. A recording transport can read
// it with StepFromContext; this package sets it on every step.
func WithStep(ctx context.Context, step string) context.Context {
	return context.WithValue(ctx, stepKey{}, step)
}

// StepFromContext returns the step name set by WithStep, or "".
func StepFromContext(ctx context.Context) string {
	s, _ := ctx.Value(stepKey{}).(string)
	return s
}

// StepOf returns the step a request belongs to; it fits recorder.WithStepFunc.
func StepOf(r *http.Request) string { return StepFromContext(r.Context()) }

func withTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// captureTransport copies each request and response into the Trace found in the request's
// context. The response body is teed as the caller reads it and the exchange is filed on Close,
// so nothing is buffered twice and the caller sees the body unchanged.
type captureTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (c captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr, _ := req.Context().Value(traceKey{}).(*Trace)
	if tr == nil {
		return c.base.RoundTrip(req)
	}
	ex := Exchange{
		Step:    StepFromContext(req.Context()),
		Started: c.now(),
		Request: CapturedRequest{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone()},
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.Request.Body = body
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if req.Host != "" && ex.Request.Header.Get("Host") == "" && req.Host != req.URL.Host {
		ex.Request.Header.Set("Host", req.Host)
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		ex.Duration = c.now().Sub(ex.Started)
		ex.Err = err
		tr.add(ex)
		return nil, err
	}
	ex.Response = &CapturedResponse{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header.Clone()}
	resp.Body = &teeBody{rc: resp.Body, onClose: func(b []byte, truncated bool) {
		ex.Response.Body = b
		ex.Response.Truncated = truncated
		ex.Duration = c.now().Sub(ex.Started)
		tr.add(ex)
	}}
	return resp, nil
}

type teeBody struct {
	rc        io.ReadCloser
	buf       bytes.Buffer
	truncated bool
	once      sync.Once
	onClose   func([]byte, bool)
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 {
		room := maxCapturedBody - t.buf.Len()
		if room >= n {
			t.buf.Write(p[:n])
		} else {
			if room > 0 {
				t.buf.Write(p[:room])
			}
			t.truncated = true
		}
	}
	return n, err
}

func (t *teeBody) Close() error {
	err := t.rc.Close()
	t.once.Do(func() { t.onClose(bytes.Clone(t.buf.Bytes()), t.truncated) })
	return err
}
