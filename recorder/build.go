package recorder

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// build turns a finished exchange into its redacted entry, learning the secrets it carried: what
// a request sends is noted as the call's secret references (a replay needs them back), what a
// response hands out is learned so that later mentions are caught.
func (s *Session) build(ex *httplog.Exchange, seq int, tag *replayTag) Entry {
	red := s.red
	var refs map[string]string
	fromRequest := func(kind, value, fp string) {
		if refs == nil {
			refs = map[string]string{}
		}
		refs[kind] = fp // a later secret of the same kind wins
		red.AddSecret(kind, value)
	}
	learn := func(kind, value, _ string) { red.AddSecret(kind, value) }
	redacted, note := red.redactExchange(ex, fromRequest, learn, s.opts.bodyLimit)
	redacted.ID = callID(seq)
	e := Entry{Exchange: redacted, SessionID: s.hdr.ID, Seq: seq, Kind: KindHTTP, Note: note, SecretRefs: refs}
	if ex.Leg != "" {
		e.Kind = KindObserved
	}
	if tag != nil {
		e.ReplayOf, e.Attempt = tag.of, tag.attempt
		if e.Step == "" {
			e.Step = tag.step
		}
	}
	return e
}

// RedactExchange returns a redacted copy of an exchange, for showing a live one.
func (r *Redactor) RedactExchange(ex httplog.Exchange) httplog.Exchange {
	out, _ := r.redactExchange(&ex, nil, nil, httplog.DefaultBodyLimit)
	return out
}

// redactExchange redacts an exchange: URL, headers and bodies (gzip and deflate decoded first, so
// that redaction reads what the coding hides; a body in a coding it cannot read is not kept, and
// note says so). onRequest and onResponse are told of the secrets found on either side.
func (r *Redactor) redactExchange(ex *httplog.Exchange, onRequest, onResponse func(kind, value, fp string), limit int) (httplog.Exchange, string) {
	out := httplog.Exchange{ID: ex.ID, Step: ex.Step, Leg: ex.Leg, Started: ex.Started, Duration: ex.Duration, Wait: ex.Wait,
		ErrorKind: ex.ErrorKind}
	var note string
	// Bodies before headers: a token a body hands out is then known when a header of the same
	// exchange mentions it.
	req := &ex.Request
	out.Request = httplog.Request{Method: req.Method, Proto: req.Proto, BodySize: req.BodySize, Truncated: req.Truncated}
	if len(req.Body) > 0 {
		coding := req.Header.Get("Content-Encoding")
		if plain, cut, ok := decodeContent(coding, req.Body, limit); ok {
			out.Request.Truncated = out.Request.Truncated || cut
			out.Request.Body = []byte(r.redactBodyText(req.Header.Get("Content-Type"), plain, onRequest))
		} else {
			out.Request.Truncated = true
			note = undecodableNote("request", coding)
		}
	}
	out.Request.URL = r.redactURL(req.URL, onRequest)
	out.Request.Header = redactHeader(r, req.Header, onRequest)

	if resp := ex.Response; resp != nil {
		o := &httplog.Response{Status: resp.Status, Proto: resp.Proto, BodySize: resp.BodySize, Truncated: resp.Truncated, Uncompressed: resp.Uncompressed}
		if len(resp.Body) > 0 {
			coding := ""
			if !resp.Uncompressed {
				coding = resp.Header.Get("Content-Encoding")
			}
			if plain, cut, ok := decodeContent(coding, resp.Body, limit); ok {
				o.Truncated = o.Truncated || cut
				o.Body = []byte(r.redactBodyText(resp.Header.Get("Content-Type"), plain, onResponse))
				o.Uncompressed = o.Uncompressed || coding != ""
			} else {
				o.Truncated = true
				note = undecodableNote("response", coding)
			}
		}
		o.Header = redactHeader(r, resp.Header, onResponse)
		out.Response = o
	}
	if ex.Error != "" {
		out.Error = r.RedactString(ex.Error)
	}
	return out, note
}

// redactHeader returns a redacted copy of h, noting the secrets it finds.
func redactHeader(red *Redactor, h http.Header, note func(kind, value, fp string)) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		if vs == nil {
			out[k] = nil
			continue
		}
		rv := make([]string, len(vs))
		for i, v := range vs {
			rv[i] = red.redactHeaderValue(k, v, note)
		}
		out[k] = rv
	}
	return out
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
