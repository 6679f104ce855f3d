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
	"net/url"
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
	step    string // the original's step, for a replay sent outside the flow
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
		if step == "" {
			step = tag.step
		}
	}
	// The pending summary shows the URL without its query, where secrets live; the full
	// redacted URL replaces it when the call is recorded.
	sum := Summary{Step: step, Kind: KindHTTP, Method: req.Method, Started: started,
		URL: s.red.redactKnown(req.URL.Scheme+"://"+req.URL.Host+req.URL.EscapedPath(), nil)}
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

// finished is a call's raw material, snapshotted on the caller's goroutine so that the
// caller may reuse its request and response afterwards. Redaction, encoding and the
// write happen on the session's writer.
type finished struct {
	c            *call
	end          time.Time
	transportErr error
	incomplete   bool
	method       string
	proto        string
	url          url.URL
	reqHeader    headerSnapshot
	reqBody      []byte
	reqTrunc     bool
	reqSize      int64

	hasResp      bool
	status       int
	respProto    string
	uncompressed bool
	respHeader   headerSnapshot
	hasBody      bool
	respBody     []byte
	respSize     int64
	respTrunc    bool
	bodyErr      error
}

// finish hands the call to the session's writer, exactly once per call.
func (c *call) finish(transportErr error, incomplete bool) {
	c.once.Do(func() {
		f := &finished{
			c: c, end: c.s.opts.now(), transportErr: transportErr, incomplete: incomplete,
			method: c.req.Method, proto: c.req.Proto, url: *c.req.URL, reqHeader: snapshotHeader(c.req.Header),
			reqBody: c.reqBody, reqTrunc: c.reqTrunc,
		}
		f.reqSize = int64(len(c.reqBody))
		if c.reqTrunc {
			f.reqSize = c.reqCount.n.Load()
		}
		if resp := c.resp; resp != nil {
			f.hasResp, f.status, f.respProto, f.uncompressed = true, resp.StatusCode, resp.Proto, resp.Uncompressed
			f.respHeader = snapshotHeader(resp.Header)
			if c.body != nil {
				f.hasBody = true
				f.respBody, f.respSize, f.respTrunc, f.bodyErr = c.body.snapshot()
			}
		}
		c.req, c.resp, c.body, c.reqBody = nil, nil, nil, nil
		c.s.enqueue(f)
	})
}

// build turns a finished call into its redacted entry, learning the secrets it carried.
func (f *finished) build(s *Session) *Entry {
	c, red := f.c, s.red
	e := &Entry{
		ID: c.sum.ID, SessionID: s.hdr.ID, Seq: c.sum.Seq, Step: c.sum.Step, Kind: KindHTTP,
		Started: c.sum.Started, Duration: f.end.Sub(c.sum.Started), Wait: c.wait,
		ReplayOf: c.sum.ReplayOf, Attempt: c.sum.Attempt,
	}
	var refs map[string]string
	fromRequest := func(kind, value, fp string) {
		if refs == nil {
			refs = map[string]string{}
		}
		refs[kind] = fp
		red.AddSecret(kind, value)
	}
	learn := func(kind, value, _ string) { red.AddSecret(kind, value) }

	e.Request = Request{
		Method: f.method,
		Proto:  f.proto,
		Header: red.redactFields(f.reqHeader, fromRequest),
	}
	e.Request.URL = red.redactURL(f.url.String(), fromRequest)
	if f.reqBody != nil {
		red.learnTokens(f.reqBody, learn)
		body := red.redactBody(f.reqHeader.get("Content-Type"), f.reqBody, fromRequest)
		e.Request.Body, e.Request.BodyEncoding = bodyText(body, f.reqTrunc)
		e.Request.BodySize, e.Request.Truncated = f.reqSize, f.reqTrunc
	}

	if f.hasResp {
		r := &Response{Status: f.status, Proto: f.respProto, Uncompressed: f.uncompressed}
		r.Header = red.redactFields(f.respHeader, learn)
		if f.hasBody {
			trunc := f.respTrunc
			if f.incomplete {
				trunc = true
				e.Error, e.ErrorKind = "the response body was not read to the end before the session closed", ErrorIncomplete
			}
			if f.bodyErr != nil {
				e.Error, e.ErrorKind = red.RedactString(f.bodyErr.Error()), classify(f.bodyErr)
			}
			red.learnTokens(f.respBody, learn)
			body := red.redactBody(f.respHeader.get("Content-Type"), f.respBody, learn)
			r.Body, r.BodyEncoding = bodyText(body, trunc)
			r.BodySize, r.Truncated = f.respSize, trunc
		}
		if d, err := http.ParseTime(f.respHeader.get("Date")); err == nil {
			e.ServerDate = d
		}
		e.Response = r
	}
	if f.transportErr != nil {
		e.Error, e.ErrorKind = red.RedactString(f.transportErr.Error()), classify(f.transportErr)
	}
	e.SecretRefs = refs
	return e
}

// learnTokens remembers the tokens a JSON token response hands out, so any later mention
// of them (a bearer header, an introspection form, an error message) is caught exactly.
func (r *Redactor) learnTokens(body []byte, learn func(kind, value, fp string)) {
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
			learn(kind, v, "")
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
