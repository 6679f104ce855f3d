package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// masker puts every value shown on screen through the session's redactor, unless the user
// asked to see secrets. It is the one door between raw exchanges and the screen.
type masker struct {
	red    *recorder.Redactor
	reveal bool
}

func (m masker) url(s string) string {
	if m.reveal {
		return s
	}
	return m.red.RedactURL(s)
}

func (m masker) header(h http.Header) http.Header {
	if m.reveal {
		return h
	}
	return m.red.RedactHeader(h)
}

func (m masker) body(contentType string, b []byte) []byte {
	if m.reveal {
		return b
	}
	return m.red.RedactBody(contentType, b)
}

func (m masker) text(s string) string {
	if m.reveal {
		return s
	}
	return m.red.RedactString(s)
}

// unmask replaces redaction placeholders in already-redacted text (recorded entries) with
// the values the redactor knows, when the user asked to see secrets.
func (m masker) unmask(s string) string {
	if !m.reveal {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(p string) string {
		// [redacted:KIND:sha256:xxxxxxxx:len=N]
		inner := strings.TrimSuffix(strings.TrimPrefix(p, "[redacted:"), "]")
		kind, fp, ok := strings.Cut(inner, ":")
		if !ok {
			return p
		}
		if v, ok := m.red.Resolve(kind, fp); ok {
			return v
		}
		return p
	})
}

// httpText is an exchange laid out as HTTP/1.1 text, before styling.
type httpText struct {
	requestLine string
	reqHeaders  [][2]string
	reqBody     string
	status      int
	statusLine  string
	respHeaders [][2]string
	respBody    string
	transport   string // transport error, when no response came
	truncated   bool
}

func sortedHeaders(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out [][2]string
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func exchangeText(ex oauthflow.Exchange, mk masker) httpText {
	var t httpText
	u := mk.url(ex.Request.URL)
	target, host := pathAndQuery(u)
	t.requestLine = ex.Request.Method + " " + target + " HTTP/1.1"
	hdr := mk.header(ex.Request.Header)
	if host != "" && hdr.Get("Host") == "" {
		t.reqHeaders = append(t.reqHeaders, [2]string{"Host", host})
	}
	t.reqHeaders = append(t.reqHeaders, sortedHeaders(hdr)...)
	ct := ex.Request.Header.Get("Content-Type")
	t.reqBody = prettyBody(ct, mk.body(ct, ex.Request.Body))
	if ex.Response == nil {
		if ex.Err != nil {
			t.transport = mk.text(ex.Err.Error())
		} else {
			t.transport = "no response"
		}
		return t
	}
	r := ex.Response
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	t.status = r.Status
	t.statusLine = fmt.Sprintf("%s %d %s", proto, r.Status, http.StatusText(r.Status))
	t.respHeaders = sortedHeaders(mk.header(r.Header))
	rct := r.Header.Get("Content-Type")
	t.respBody = prettyBody(rct, mk.body(rct, r.Body))
	t.truncated = r.Truncated
	return t
}

func entryText(e recorder.Entry, mk masker) httpText {
	var t httpText
	target, host := pathAndQuery(mk.unmask(e.Request.URL))
	t.requestLine = e.Request.Method + " " + target + " HTTP/1.1"
	if host != "" && e.Request.Header.Get("Host") == "" {
		t.reqHeaders = append(t.reqHeaders, [2]string{"Host", host})
	}
	for _, kv := range sortedHeaders(e.Request.Header) {
		t.reqHeaders = append(t.reqHeaders, [2]string{kv[0], mk.unmask(kv[1])})
	}
	if b, err := e.Request.DecodedBody(); err == nil && e.Request.BodyEncoding == "" {
		t.reqBody = mk.unmask(prettyBody(e.Request.Header.Get("Content-Type"), b))
	} else if e.Request.Body != "" {
		t.reqBody = fmt.Sprintf("(%d bytes of binary body)", e.Request.BodySize)
	}
	if e.Request.Truncated {
		t.reqBody += "\n… (body cut at the recording limit)"
	}
	if e.Response == nil {
		t.transport = e.Error
		if e.ErrorKind != "" {
			t.transport = string(e.ErrorKind) + ": " + e.Error
		}
		if t.transport == "" {
			t.transport = "no response"
		}
		return t
	}
	r := e.Response
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	t.status = r.Status
	t.statusLine = fmt.Sprintf("%s %d %s", proto, r.Status, http.StatusText(r.Status))
	for _, kv := range sortedHeaders(r.Header) {
		t.respHeaders = append(t.respHeaders, [2]string{kv[0], mk.unmask(kv[1])})
	}
	if b, err := r.DecodedBody(); err == nil && r.BodyEncoding == "" {
		t.respBody = mk.unmask(prettyBody(r.Header.Get("Content-Type"), b))
	} else if r.Body != "" {
		t.respBody = fmt.Sprintf("(%d bytes of binary body)", r.BodySize)
	}
	t.truncated = r.Truncated
	return t
}

// renderRequest styles the request half of an exchange.
func renderRequest(st *Styles, t httpText, width int) string {
	var b strings.Builder
	method, rest, _ := strings.Cut(t.requestLine, " ")
	b.WriteString(st.HTTP.Method.Render(method) + " " + st.HTTP.URL.Render(rest))
	b.WriteByte('\n')
	for _, kv := range t.reqHeaders {
		b.WriteString(st.HTTP.HeaderName.Render(kv[0]+":") + " " + st.HTTP.HeaderValue.Render(kv[1]) + "\n")
	}
	if t.reqBody != "" {
		b.WriteByte('\n')
		b.WriteString(st.HTTP.Body.Render(t.reqBody))
		b.WriteByte('\n')
	}
	return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
}

// renderResponse styles the response half of an exchange.
func renderResponse(st *Styles, t httpText, width int) string {
	var b strings.Builder
	if t.statusLine == "" {
		b.WriteString(st.Error.Render("✗ no response: " + t.transport))
		b.WriteByte('\n')
		return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
	}
	b.WriteString(st.statusStyle(t.status).Render(t.statusLine))
	b.WriteByte('\n')
	for _, kv := range t.respHeaders {
		b.WriteString(st.HTTP.HeaderName.Render(kv[0]+":") + " " + st.HTTP.HeaderValue.Render(kv[1]) + "\n")
	}
	if t.respBody != "" {
		b.WriteByte('\n')
		b.WriteString(st.HTTP.Body.Render(t.respBody))
		b.WriteByte('\n')
	}
	if t.truncated {
		b.WriteString(st.Muted.Render("… (body cut at the capture limit)") + "\n")
	}
	return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
}

// renderExchange is a whole exchange: request, then response, with a separator.
func renderExchange(st *Styles, t httpText, width int) string {
	return st.HTTP.Section.Render("→ request") + "\n" + renderRequest(st, t, width) + "\n" +
		st.HTTP.Section.Render("← response") + "\n" + renderResponse(st, t, width)
}

// renderURLParams lays out a URL (the authorization request, a redirect) one parameter a
// line, which is how a trainer wants to point at state, code_challenge and friends.
func renderURLParams(st *Styles, raw string, mk masker, width int) string {
	shown := mk.url(raw)
	u, err := url.Parse(shown)
	if err != nil {
		return wrapLines(highlightPlaceholders(shown, st.Redacted), width)
	}
	var b strings.Builder
	base := *u
	base.RawQuery, base.Fragment = "", ""
	b.WriteString(st.HTTP.Method.Render("GET") + " " + st.HTTP.URL.Render(base.String()) + "\n")
	q := u.Query()
	if len(q) == 0 && u.Fragment != "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	names := make([]string, 0, len(q))
	pad := 0
	for k := range q {
		names = append(names, k)
		pad = max(pad, len(k))
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range q[k] {
			b.WriteString("  " + st.HTTP.HeaderName.Render(fmt.Sprintf("%-*s", pad, k)) + "  " + st.HTTP.HeaderValue.Render(v) + "\n")
		}
	}
	return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
}
