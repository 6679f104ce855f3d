package recorder

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
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
	id       string // from the pending summary: what build needs of it
	seq      int
	step     string
	started  time.Time
	replayOf string
	attempt  int
	req      *http.Request
	tag      *replayTag
	reqBody  []byte
	reqTrunc bool
	reqCount *countingBody
	fin      *finished // filled in and handed to the writer by finish

	once sync.Once
	// mu guards what RoundTrip sets after the base transport answers against finish, which
	// Close may run (abandon) while the request is still in flight; done says it ran.
	mu   sync.Mutex
	done bool
	wait time.Duration
	resp *http.Response
	body *recordingBody
	rb   recordingBody // body's storage: one allocation per call, not two
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.session
	started := s.opts.now()
	step := ""
	if s.opts.step != nil {
		step = s.opts.step(req)
	}
	c := &call{s: s, req: req, fin: s.fins.Get().(*finished)}
	if tag, ok := req.Context().Value(replayKey{}).(*replayTag); ok {
		c.tag = tag
		if step == "" {
			step = tag.step
		}
	}
	// The pending summary shows the URL without its query, where secrets live; the full
	// redacted URL replaces it when the call is recorded.
	sum := Summary{Step: step, Kind: KindHTTP, Method: req.Method, Started: started,
		URL: s.red.redactText(req.URL.Scheme+"://"+req.URL.Host+req.URL.EscapedPath(), nil)}
	if c.tag != nil {
		sum.ReplayOf, sum.Attempt = c.tag.of, c.tag.attempt
	}
	s.begin(&sum, c)

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
	c.mu.Lock()
	if c.done {
		// The session closed meanwhile and recorded the call as incomplete: pass the
		// answer through unrecorded.
		c.mu.Unlock()
		return resp, err
	}
	c.wait = s.opts.now().Sub(started)
	if err != nil {
		c.mu.Unlock()
		if c.reqCount != nil {
			c.reqCount.Close()
		}
		c.finish(err, false)
		return nil, err
	}
	c.resp = resp
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		c.mu.Unlock()
		c.finish(nil, false)
		return resp, nil
	}
	defer c.mu.Unlock()
	c.body = &c.rb
	c.body.rc, c.body.c, c.body.limit = resp.Body, c, s.opts.bodyLimit
	// The tee reuses the buffer of a call already written; it is never read after the
	// snapshot hands it to the writer.
	c.body.buf = c.fin.bodyBuf[:0]
	c.fin.bodyBuf = nil
	if want := min(resp.ContentLength, int64(s.opts.bodyLimit)); want > int64(cap(c.body.buf)) {
		c.body.buf = make([]byte, 0, want)
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
// write happen on the session's writer, which builds the entry in place: the headers are
// redacted where they were copied and, like the secret references, only turned into maps
// when an Entry is handed out. Once written, a finished is recycled with its storage.
type finished struct {
	c            *call
	observed     *observedLeg // instead of c, for a browser leg
	end          time.Time
	transportErr error
	incomplete   bool
	method       string
	proto        string
	url          url.URL
	reqHeader    headerSnapshot
	reqVals      []string // storage of reqHeader's values
	reqBody      []byte
	reqTrunc     bool
	reqSize      int64

	hasResp      bool
	status       int
	respProto    string
	uncompressed bool
	respHeader   headerSnapshot
	respVals     []string // storage of respHeader's values
	hasBody      bool
	respBody     []byte
	respSize     int64
	respTrunc    bool
	bodyErr      error

	// Built by the writer.
	e                Entry // its headers and SecretRefs are in reqHeader, respHeader and refs
	resp             Response
	refs             []SecretRef // sorted by kind, one per kind
	recStart, recEnd int         // the record's place in the write buffer

	bodyBuf []byte // spare tee buffer for the next call
}

// observedLeg is what Observe was told, for the writer to redact.
type observedLeg struct {
	sum       Summary // the pending summary begin numbered
	url, note string
}

// maxSpareBody is the largest tee buffer kept for the next call.
const maxSpareBody = 64 << 10

// recycle returns a written call's storage to the session, without what it referred to.
func (s *Session) recycle(f *finished) {
	spare := f.bodyBuf
	if cap(f.respBody) <= maxSpareBody && cap(f.respBody) > cap(spare) {
		spare = f.respBody[:0]
	}
	clear(f.reqHeader)
	clear(f.reqVals)
	clear(f.respHeader)
	clear(f.respVals)
	clear(f.refs)
	*f = finished{
		reqHeader: f.reqHeader[:0], reqVals: f.reqVals[:0],
		respHeader: f.respHeader[:0], respVals: f.respVals[:0],
		refs: f.refs[:0], bodyBuf: spare,
	}
	s.fins.Put(f)
}

// addRef notes that the call carried a secret of kind; a later one of the same kind wins.
func (f *finished) addRef(kind, fp string) {
	for i := range f.refs {
		if f.refs[i].Kind == kind {
			f.refs[i].Fingerprint = fp
			return
		}
	}
	f.refs = append(f.refs, SecretRef{Kind: kind, Fingerprint: fp})
	for i := len(f.refs) - 1; i > 0 && f.refs[i-1].Kind > f.refs[i].Kind; i-- {
		f.refs[i-1], f.refs[i] = f.refs[i], f.refs[i-1]
	}
}

// entry returns the built call as an Entry of its own, sharing no storage with f.
func (f *finished) entry() Entry {
	e := f.e
	e.Request.Header = f.reqHeader.header()
	if e.Response != nil {
		r := *e.Response
		r.Header = f.respHeader.header()
		e.Response = &r
	}
	if len(f.refs) > 0 {
		e.SecretRefs = make(map[string]string, len(f.refs))
		for _, r := range f.refs {
			e.SecretRefs[r.Kind] = r.Fingerprint
		}
	}
	return e
}

// finish hands the call to the session's writer, exactly once per call.
func (c *call) finish(transportErr error, incomplete bool) {
	c.once.Do(func() {
		c.mu.Lock()
		c.done = true
		f := c.fin
		f.c, f.end, f.transportErr, f.incomplete = c, c.s.opts.now(), transportErr, incomplete
		f.method, f.proto, f.url = c.req.Method, c.req.Proto, *c.req.URL
		f.reqHeader, f.reqVals = snapshotHeader(f.reqHeader, f.reqVals, c.req.Header)
		f.reqBody, f.reqTrunc = c.reqBody, c.reqTrunc
		f.reqSize = int64(len(c.reqBody))
		if c.reqTrunc {
			f.reqSize = c.reqCount.n.Load()
		}
		if resp := c.resp; resp != nil {
			f.hasResp, f.status, f.respProto, f.uncompressed = true, resp.StatusCode, resp.Proto, resp.Uncompressed
			f.respHeader, f.respVals = snapshotHeader(f.respHeader, f.respVals, resp.Header)
			if c.body != nil {
				f.hasBody = true
				f.respBody, f.respSize, f.respTrunc, f.bodyErr = c.body.snapshot()
			}
		}
		c.req, c.resp, c.body, c.reqBody, c.fin = nil, nil, nil, nil, nil
		c.mu.Unlock()
		c.s.enqueue(f)
	})
}

// writer is the scratch space and memory of the session's writer goroutine.
type writer struct {
	batch []*finished
	buf   []byte

	// auth remembers how Authorization values whose credential is a known secret were
	// redacted: a client sends the same token on every call, and its redaction can no
	// longer change once the token is known.
	auth map[string]authRedaction

	// The Date header changes once a second: parse each value once.
	dateRaw string
	date    time.Time
	dateOK  bool
}

type authRedaction struct {
	out, kind, raw, fp string
}

// maxAuthMemo bounds the remembered Authorization values; the memory starts over past it.
const maxAuthMemo = 64

// redactHeader redacts a header snapshot in place and sorts it by name for encoding.
func (w *writer) redactHeader(red *Redactor, hs headerSnapshot, note func(kind, value, fp string)) {
	for i := range hs {
		f := &hs[i]
		for j, v := range f.values {
			if f.name == "Authorization" {
				f.values[j] = w.redactAuthorization(red, v, note)
			} else {
				f.values[j] = red.redactHeaderValue(f.name, v, note)
			}
		}
	}
	hs.sort()
}

func (w *writer) redactAuthorization(red *Redactor, v string, note func(kind, value, fp string)) string {
	if m, ok := w.auth[v]; ok {
		note(m.kind, m.raw, m.fp)
		return m.out
	}
	var m authRedaction
	notes := 0
	out := red.redactAuthorization(v, func(kind, value, fp string) {
		notes++
		m = authRedaction{kind: kind, raw: value, fp: fp}
		note(kind, value, fp)
	})
	// One secret, now known under the kind it was reported as: redacting v again would
	// give the same text and the same report.
	if notes == 1 && red.knownKind(m.raw) == m.kind {
		if w.auth == nil || len(w.auth) >= maxAuthMemo {
			w.auth = make(map[string]authRedaction)
		}
		m.out = out
		w.auth[v] = m
	}
	return out
}

func (w *writer) serverDate(v string) (time.Time, bool) {
	if v != w.dateRaw || v == "" {
		w.dateRaw = v
		d, err := http.ParseTime(v)
		w.date, w.dateOK = d, err == nil
	}
	return w.date, w.dateOK
}

// build turns a finished call into its redacted entry, learning the secrets it carried.
func (w *writer) build(s *Session, f *finished) {
	c, red := f.c, s.red
	e := &f.e
	*e = Entry{
		ID: c.id, SessionID: s.hdr.ID, Seq: c.seq, Step: c.step, Kind: KindHTTP,
		Started: c.started, Duration: f.end.Sub(c.started), Wait: c.wait,
		ReplayOf: c.replayOf, Attempt: c.attempt,
	}
	fromRequest := func(kind, value, fp string) {
		f.addRef(kind, fp)
		red.AddSecret(kind, value)
	}
	learn := func(kind, value, _ string) { red.AddSecret(kind, value) }

	// The headers are redacted in place: read what the rest needs first.
	reqType, reqCoding := f.reqHeader.get("Content-Type"), f.reqHeader.get("Content-Encoding")
	respType, respDate := f.respHeader.get("Content-Type"), f.respHeader.get("Date")
	respCoding := ""
	if !f.uncompressed {
		respCoding = f.respHeader.get("Content-Encoding")
	}

	// Bodies before headers: a token a body hands out is then known when a header of the
	// same exchange mentions it.
	e.Request = Request{Method: f.method, Proto: f.proto}
	if f.reqBody != nil {
		e.Request.BodySize, e.Request.Truncated = f.reqSize, f.reqTrunc
		if plain, cut, ok := decodeContent(reqCoding, f.reqBody, s.opts.bodyLimit); ok {
			e.Request.Truncated = e.Request.Truncated || cut
			body := red.redactBodyText(reqType, plain, fromRequest)
			e.Request.Body, e.Request.BodyEncoding = bodyText(body, e.Request.Truncated)
		} else {
			e.Request.Truncated = true
			e.Note = undecodableNote("request", reqCoding)
		}
	}
	e.Request.URL = red.redactURL(f.url.String(), fromRequest)
	w.redactHeader(red, f.reqHeader, fromRequest)

	if f.hasResp {
		r := &f.resp
		*r = Response{Status: f.status, Proto: f.respProto, Uncompressed: f.uncompressed}
		if f.hasBody {
			trunc := f.respTrunc
			if f.incomplete {
				trunc = true
				e.Error, e.ErrorKind = "the response body was not read to the end before the session closed", ErrorIncomplete
			}
			if f.bodyErr != nil {
				e.Error, e.ErrorKind = red.RedactString(f.bodyErr.Error()), Classify(f.bodyErr)
			}
			r.BodySize, r.Truncated = f.respSize, trunc
			if plain, cut, ok := decodeContent(respCoding, f.respBody, s.opts.bodyLimit); ok {
				r.Truncated = r.Truncated || cut
				body := red.redactBodyText(respType, plain, learn)
				r.Body, r.BodyEncoding = bodyText(body, r.Truncated)
				r.Uncompressed = r.Uncompressed || respCoding != ""
			} else {
				r.Truncated = true
				e.Note = undecodableNote("response", respCoding)
			}
		}
		w.redactHeader(red, f.respHeader, learn)
		if d, ok := w.serverDate(respDate); ok {
			e.ServerDate = d
		}
		e.Response = r
	}
	if f.transportErr != nil {
		e.Error, e.ErrorKind = red.RedactString(f.transportErr.Error()), Classify(f.transportErr)
	}
}

// decodeContent undoes a gzip or deflate content coding, so redaction reads the text the
// coding hides; ok is false for a coding it cannot undo (br, zstd), whose bytes must then
// not be kept. A body cut at the size limit decodes as far as it goes, and what it decodes
// to is cut at limit too (cut reports that), so a small body cannot expand without bound.
func decodeContent(coding string, body []byte, limit int) (plain []byte, cut, ok bool) {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(coding)) {
	case "", "identity":
		return body, false, true
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, false, false
		}
		r = zr
	case "deflate":
		// HTTP's deflate is zlib-wrapped, though some servers send it raw.
		if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(body))
		}
	default:
		return nil, false, false
	}
	plain, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil && len(plain) == 0 {
		return nil, false, false
	}
	if len(plain) > limit {
		return plain[:limit], true, true
	}
	return plain, false, true
}

func undecodableNote(which, coding string) string {
	return "the " + which + " body is " + coding + "-encoded and was not kept: it could not be read to redact it"
}

// buildObserved turns an observed browser leg into its redacted entry.
func (w *writer) buildObserved(s *Session, f *finished) {
	leg := f.observed
	f.e = Entry{
		ID: leg.sum.ID, SessionID: s.hdr.ID, Seq: leg.sum.Seq, Step: leg.sum.Step, Kind: KindObserved, Leg: leg.sum.Leg,
		Started: leg.sum.Started, Note: s.red.RedactString(leg.note),
	}
	learn := func(kind, value, fp string) {
		f.addRef(kind, fp)
		s.red.AddSecret(kind, value)
	}
	f.e.Request = Request{Method: "GET", URL: s.red.redactURL(leg.url, learn)}
}

// bodyText stores UTF-8 bodies as text and anything else as base64. A body cut at the
// size limit may end inside a character; that tail is dropped rather than forcing base64.
func bodyText(b string, truncated bool) (string, string) {
	if len(b) == 0 {
		return "", ""
	}
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	if utf8.ValidString(b) {
		return b, ""
	}
	return base64.StdEncoding.EncodeToString([]byte(b)), BodyEncodingBase64
}

// Classify names the kind of a transport error, as recorded calls carry it.
func Classify(err error) ErrorKind {
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
