package httplog

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBodyLimit is how much of each body an Exchange keeps unless the Transport says otherwise.
const DefaultBodyLimit = 1 << 20

// Recorder is told of every call a Transport makes: when it starts, so it can number it, and once
// when it ends. The session log is one.
type Recorder interface {
	// Begin is called before the request is sent. The returned id becomes the exchange's ID.
	Begin(c *Call) (id string)
	// Finish is called exactly once per Begin, with the finished exchange. It must not change the
	// exchange's headers or bodies: the step that made the call reads the same ones.
	Finish(c *Call, ex *Exchange)
}

// Transport is an http.RoundTripper that captures every exchange. Requests and responses pass
// through unchanged: bodies stream as they arrive, and capturing never fails a call.
type Transport struct {
	Base http.RoundTripper // nil: http.DefaultTransport
	// Recorder, when set, is told of every call (see Recorder).
	Recorder Recorder
	// BodyLimit caps how much of each body is kept; 0 means DefaultBodyLimit.
	BodyLimit int
	Now       func() time.Time // nil: time.Now
}

// CloseIdleConnections forwards to the base transport, so http.Client.CloseIdleConnections works.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

func (t *Transport) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

func (t *Transport) limit() int {
	if t.BodyLimit <= 0 {
		return DefaultBodyLimit
	}
	return t.BodyLimit
}

// Call is one exchange in flight. Its Recorder may end it early with Abandon.
type Call struct {
	t    *Transport
	req  *http.Request
	sent *countingBody // the request body as it streams out; nil without one

	mu   sync.Mutex // guards everything below against Abandon and the body's reader
	done bool
	ex   Exchange
	body *teeBody
}

// Request is the request the call sends.
func (c *Call) Request() *http.Request { return c.req }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &Call{t: t, req: req}
	ex := Exchange{
		Step:    StepOf(req.Context()),
		Started: t.now(),
		Request: Request{Method: req.Method, URL: req.URL.String(), Proto: req.Proto, Header: req.Header.Clone()},
	}
	if ex.Request.Header == nil {
		ex.Request.Header = http.Header{}
	}
	if req.Host != "" && req.Host != req.URL.Host && ex.Request.Header.Get("Host") == "" {
		ex.Request.Header.Set("Host", req.Host)
	}
	out := req
	var readErr error
	if req.Body != nil && req.Body != http.NoBody {
		limit := t.limit()
		head, err := readUpTo(req.Body, limit+1)
		readErr = err
		if len(head) > limit {
			ex.Request.Body, ex.Request.Truncated = head[:limit], true
		} else {
			ex.Request.Body = head
		}
		ex.Request.BodySize = int64(len(head))
		c.sent = &countingBody{r: io.MultiReader(bytes.NewReader(head), req.Body), c: req.Body}
		r2 := *req // shallow: only the body changes
		r2.Body = c.sent
		out = &r2
	}
	c.ex = ex
	if t.Recorder != nil {
		id := t.Recorder.Begin(c)
		c.mu.Lock()
		c.ex.ID = id
		c.mu.Unlock()
	}
	if readErr != nil {
		req.Body.Close()
		c.finish(readErr, nil)
		return nil, readErr
	}

	resp, err := t.base().RoundTrip(out)
	c.mu.Lock()
	if c.done {
		// Abandoned meanwhile: the call is on record already; the answer passes through.
		c.mu.Unlock()
		return resp, err
	}
	c.ex.Wait = t.now().Sub(c.ex.Started)
	if err != nil {
		c.mu.Unlock()
		c.finish(err, nil)
		return nil, err
	}
	c.ex.Response = &Response{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header.Clone(), Uncompressed: resp.Uncompressed}
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		c.mu.Unlock()
		c.finish(nil, nil)
		return resp, nil
	}
	c.body = &teeBody{rc: resp.Body, c: c, limit: t.limit()}
	if n := resp.ContentLength; n > 0 {
		c.body.buf = make([]byte, 0, min(n, int64(t.limit())))
	}
	resp.Body = c.body
	c.mu.Unlock()
	return resp, nil
}

// Abandon ends the call now, as incomplete: the recording is closing and will not wait for the
// answer or its body. A later answer still reaches the caller unharmed.
func (c *Call) Abandon() { c.finish(nil, errAbandoned) }

// errAbandoned marks a call Abandon ended.
var errAbandoned = &abandonedError{}

type abandonedError struct{}

func (*abandonedError) Error() string {
	return "the recording ended before the answer was read to the end"
}

// Snapshot is a copy of the exchange as far as it has got, for views of calls in flight.
func (c *Call) Snapshot() Exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ex
}

// finish completes the exchange exactly once and hands it to the recorder and the step's
// collector. bodyErr is a failure reading the response body (or errAbandoned).
func (c *Call) finish(transportErr, bodyErr error) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	ex := &c.ex
	ex.Duration = c.t.now().Sub(ex.Started)
	if ex.Request.Truncated {
		// The size of a body longer than the limit is known once it has been sent.
		ex.Request.BodySize = c.sent.n.Load()
	}
	if c.body != nil {
		r := ex.Response
		r.Body, r.BodySize, r.Truncated = c.body.snapshot()
	}
	switch {
	case transportErr != nil:
		ex.Err, ex.Error, ex.ErrorKind = transportErr, transportErr.Error(), Classify(transportErr)
	case bodyErr == errAbandoned:
		ex.Error, ex.ErrorKind = bodyErr.Error(), ErrorIncomplete
		if ex.Response != nil {
			ex.Response.Truncated = true
		}
	case bodyErr != nil:
		ex.Err, ex.Error, ex.ErrorKind = bodyErr, bodyErr.Error(), Classify(bodyErr)
	}
	done := *ex
	c.body = nil
	c.mu.Unlock()
	if c.t.Recorder != nil {
		c.t.Recorder.Finish(c, &done)
	}
	if col := collectorOf(c.req.Context()); col != nil {
		col.add(done)
	}
}

// readUpTo reads r until EOF or n bytes.
func readUpTo(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, 512))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// countingBody streams the request body to the base transport and counts its bytes.
type countingBody struct {
	r    io.Reader
	c    io.Closer
	n    atomic.Int64
	once sync.Once
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error {
	var err error
	b.once.Do(func() { err = b.c.Close() })
	return err
}

// teeBody keeps the response body up to a limit as the caller reads it, and finishes the call
// when the body ends, fails, or is closed.
type teeBody struct {
	rc    io.ReadCloser
	c     *Call
	limit int

	mu  sync.Mutex
	buf []byte
	n   int64
	eof bool
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if n > 0 {
		b.n += int64(n)
		if room := b.limit - len(b.buf); room > 0 {
			b.buf = append(b.buf, p[:min(n, room)]...)
		}
	}
	b.eof = b.eof || err == io.EOF
	b.mu.Unlock()
	switch {
	case err == io.EOF:
		b.c.finish(nil, nil)
	case err != nil:
		b.c.finish(nil, err)
	}
	return n, err
}

func (b *teeBody) Close() error {
	err := b.rc.Close()
	b.c.finish(nil, nil)
	return err
}

// snapshot takes the captured body: what was read, how much, and whether it is all of it.
func (b *teeBody) snapshot() (body []byte, size int64, truncated bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, size = b.buf, b.n
	b.buf = nil
	return body, size, size > int64(len(body)) || !b.eof
}

type stepKey struct{}

// WithStep labels the requests made under ctx with the flow step they belong to.
func WithStep(ctx context.Context, step string) context.Context {
	return context.WithValue(ctx, stepKey{}, step)
}

// StepOf returns the step WithStep set on ctx, or "".
func StepOf(ctx context.Context) string {
	s, _ := ctx.Value(stepKey{}).(string)
	return s
}

type collectorKey struct{}

// Collector gathers the exchanges made under a context, in the order they finished.
type Collector struct {
	parent    *Collector // the collector of an outer context, which gathers them too
	mu        sync.Mutex
	exchanges []Exchange
}

// Collect returns a context whose calls are gathered by the returned Collector, as well as by the
// collector of an outer context, if any.
func Collect(ctx context.Context) (context.Context, *Collector) {
	c := &Collector{parent: collectorOf(ctx)}
	return context.WithValue(ctx, collectorKey{}, c), c
}

func collectorOf(ctx context.Context) *Collector {
	c, _ := ctx.Value(collectorKey{}).(*Collector)
	return c
}

func (c *Collector) add(ex Exchange) {
	for ; c != nil; c = c.parent {
		c.mu.Lock()
		c.exchanges = append(c.exchanges, ex)
		c.mu.Unlock()
	}
}

// Add files an exchange the caller made some other way (a browser leg it observed, say).
func (c *Collector) Add(ex Exchange) { c.add(ex) }

// Exchanges returns the exchanges gathered so far.
func (c *Collector) Exchanges() []Exchange {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Exchange(nil), c.exchanges...)
}

// Last returns the most recent exchange, or nil.
func (c *Collector) Last() *Exchange {
	ex := c.Exchanges()
	if len(ex) == 0 {
		return nil
	}
	return &ex[len(ex)-1]
}
