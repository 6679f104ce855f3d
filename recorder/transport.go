package recorder

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Transport is an http.RoundTripper that records every exchange into a Session. The
// code making the calls does not know it is recorded: requests and responses pass
// through unchanged, bodies stream as they arrive, and recording never fails a call.
type Transport struct {
	session *Session
	base    http.RoundTripper
}

// Transport returns a recording RoundTripper over base (http.DefaultTransport when nil).
func (s *Session) Transport(base http.RoundTripper) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{session: s, base: base}
}

// CloseIdleConnections forwards to the base transport, so http.Client.CloseIdleConnections works.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// replayKey carries replay bookkeeping on a request's context.
type replayKey struct{}

type replayTag struct {
	of      string
	attempt int
	mu      sync.Mutex
	entry   *Entry
}

func (tag *replayTag) set(e *Entry) {
	tag.mu.Lock()
	defer tag.mu.Unlock()
	cp := *e
	tag.entry = &cp
}

func (tag *replayTag) get() *Entry {
	tag.mu.Lock()
	defer tag.mu.Unlock()
	return tag.entry
}

// call is one exchange in flight.
type call struct {
	s        *Session
	sum      Summary
	req      *http.Request
	tag      *replayTag
	reqBody  []byte
	reqTrunc bool
	reqCount *countingBody

	once sync.Once
	wait time.Duration
	resp *http.Response
	body *recordingBody
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.session
	started := s.opts.now()
	step := ""
	if s.opts.step != nil {
		step = s.opts.step(req)
	}
	c := &call{s: s, req: req}
	if tag, ok := req.Context().Value(replayKey{}).(*replayTag); ok {
		c.tag = tag
	}
	sum := Summary{Step: step, Kind: KindHTTP, Method: req.Method, Started: started}
	if c.tag != nil {
		sum.ReplayOf, sum.Attempt = c.tag.of, c.tag.attempt
	}
	c.sum = s.begin(sum, c)

	out := req
	if req.Body != nil && req.Body != http.NoBody {
		limit := s.opts.bodyLimit
		head := make([]byte, 0, min(int64(limit)+1, max(req.ContentLength+1, 512)))
		head, err := readUpTo(req.Body, head, limit+1)
		if err != nil {
			req.Body.Close()
			c.finish(err, false)
			return nil, err
		}
		if len(head) > limit {
			c.reqBody, c.reqTrunc = head[:limit], true
		} else {
			c.reqBody = head
		}
		c.reqCount = &countingBody{r: io.MultiReader(bytes.NewReader(head), req.Body), c: req.Body}
		r2 := *req // shallow: only the body changes
		r2.Body = c.reqCount
		out = &r2
	}

	resp, err := t.base.RoundTrip(out)
	c.wait = s.opts.now().Sub(started)
	if err != nil {
		if c.reqCount != nil {
			c.reqCount.Close()
		}
		c.finish(err, false)
		return nil, err
	}
	c.resp = resp
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		c.finish(nil, false)
		return resp, nil
	}
	c.body = &recordingBody{rc: resp.Body, c: c, limit: s.opts.bodyLimit}
	if resp.ContentLength > 0 {
		c.body.buf = make([]byte, 0, min(resp.ContentLength, int64(s.opts.bodyLimit)))
	}
	resp.Body = c.body
	return resp, nil
}

// readUpTo reads from r into buf until EOF or n bytes.
func readUpTo(r io.Reader, buf []byte, n int) ([]byte, error) {
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

// recordingBody tees the response body up to a limit and records the call when the body
// reaches EOF, fails, or is closed.
type recordingBody struct {
	rc    io.ReadCloser
	c     *call
	limit int

	mu  sync.Mutex
	buf []byte
	n   int64
	eof bool
	err error
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if n > 0 {
		b.n += int64(n)
		if room := b.limit - len(b.buf); room > 0 {
			b.buf = append(b.buf, p[:min(n, room)]...)
		}
	}
	done := false
	if err != nil {
		done = true
		if err == io.EOF {
			b.eof = true
		} else if b.err == nil {
			b.err = err
		}
	}
	b.mu.Unlock()
	if done {
		b.c.finish(nil, false)
	}
	return n, err
}

func (b *recordingBody) Close() error {
	err := b.rc.Close()
	b.c.finish(nil, false)
	return err
}

// snapshot takes the captured body and releases the buffer.
func (b *recordingBody) snapshot() (body []byte, size int64, truncated bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	body, size, err = b.buf, b.n, b.err
	truncated = size > int64(len(body)) || !b.eof
	b.buf = nil
	return body, size, truncated, err
}

// abandon records a call whose body was never finished, when its session closes.
func (c *call) abandon() { c.finish(nil, true) }

// finish builds the redacted entry and writes it, exactly once per call.
func (c *call) finish(transportErr error, incomplete bool) {
	c.once.Do(func() {
		e := c.build(transportErr, incomplete)
		c.s.commit(e) // a failed write keeps the entry in memory and sets Session.Err
		if c.tag != nil {
			c.tag.set(e)
		}
	})
}

func (c *call) build(transportErr error, incomplete bool) *Entry {
	s, red := c.s, c.s.red
	now := s.opts.now()
	e := &Entry{
		ID: c.sum.ID, SessionID: s.hdr.ID, Seq: c.sum.Seq, Step: c.sum.Step, Kind: KindHTTP,
		Started: c.sum.Started, Duration: now.Sub(c.sum.Started), Wait: c.wait,
		ReplayOf: c.sum.ReplayOf, Attempt: c.sum.Attempt,
	}
	var refs map[string]string
	fromRequest := func(kind, value string) {
		if refs == nil {
			refs = map[string]string{}
		}
		refs[kind] = Fingerprint(value)
		red.AddSecret(kind, value)
	}
	learn := func(kind, value string) { red.AddSecret(kind, value) }

	req := c.req
	e.Request = Request{
		Method: req.Method,
		Proto:  req.Proto,
		Header: red.redactHeader(req.Header, fromRequest),
	}
	e.Request.URL = red.redactURL(req.URL.String(), fromRequest)
	if c.reqBody != nil {
		size := int64(len(c.reqBody))
		if c.reqTrunc {
			size = c.reqCount.n.Load()
		}
		red.learnTokens(c.reqBody, learn)
		body := red.redactBody(req.Header.Get("Content-Type"), c.reqBody, fromRequest)
		e.Request.Body, e.Request.BodyEncoding = bodyText(body, c.reqTrunc)
		e.Request.BodySize, e.Request.Truncated = size, c.reqTrunc
	}

	if resp := c.resp; resp != nil {
		r := &Response{Status: resp.StatusCode, Proto: resp.Proto, Uncompressed: resp.Uncompressed}
		r.Header = red.redactHeader(resp.Header, learn)
		if c.body != nil {
			raw, size, trunc, bodyErr := c.body.snapshot()
			if incomplete {
				trunc = true
				e.Error, e.ErrorKind = "the response body was not read to the end before the session closed", ErrorIncomplete
			}
			if bodyErr != nil {
				e.Error, e.ErrorKind = red.RedactString(bodyErr.Error()), classify(bodyErr)
			}
			red.learnTokens(raw, learn)
			body := red.redactBody(resp.Header.Get("Content-Type"), raw, learn)
			r.Body, r.BodyEncoding = bodyText(body, trunc)
			r.BodySize, r.Truncated = size, trunc
		}
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			e.ServerDate = d
		}
		e.Response = r
	}
	if transportErr != nil {
		e.Error, e.ErrorKind = red.RedactString(transportErr.Error()), classify(transportErr)
	}
	e.SecretRefs = refs
	return e
}

// learnTokens remembers the tokens a JSON token response hands out, so any later mention
// of them (a bearer header, an introspection form, an error message) is caught exactly.
func (r *Redactor) learnTokens(body []byte, learn func(kind, value string)) {
	if len(body) == 0 || !bytes.Contains(body, []byte("token")) || !looksLikeJSON(body) {
		return
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if json.Unmarshal(body, &tr) != nil {
		return
	}
	for kind, v := range map[string]string{KindAccessToken: tr.AccessToken, KindRefreshToken: tr.RefreshToken, KindIDToken: tr.IDToken} {
		if v != "" {
			learn(kind, v)
		}
	}
}

// bodyText stores UTF-8 bodies as text and anything else as base64. A body cut at the
// size limit may end inside a character; that tail is dropped rather than forcing base64.
func bodyText(b []byte, truncated bool) (string, string) {
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

// classify names the kind of a transport error.
func classify(err error) ErrorKind {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return ErrorCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrorTimeout
	case errors.As(err, &dnsErr):
		return ErrorDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unknownAuth),
		errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &alert):
		return ErrorTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrorConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrorReset
	case errors.As(err, &ne) && ne.Timeout():
		return ErrorTimeout
	case errors.Is(err, io.EOF):
		return ErrorReset // the server closed the connection without answering
	}
	return ErrorOther
}
