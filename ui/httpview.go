package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// masker puts every value shown on screen through the session's redactor, unless the user
// asked to see secrets. It is the one door between raw exchanges and the screen: the text it
// returns is also terminal-safe (see safe).
type masker struct {
	red    *recorder.Redactor
	reveal bool
}

func (m masker) url(s string) string {
	if m.reveal {
		return safe(s)
	}
	return safe(m.red.RedactURL(s))
}

func (m masker) text(s string) string {
	if m.reveal {
		return safe(s)
	}
	return safe(m.red.RedactString(s))
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

// exchange is a live exchange as the screen may show it: redacted, unless the user asked to see
// secrets.
func (m masker) exchange(ex httplog.Exchange) httplog.Exchange {
	if m.reveal {
		return ex
	}
	return m.red.RedactExchange(ex)
}

// recorded is a recorded (already redacted) exchange as the screen may show it: with the values
// the redactor knows put back, when the user asked to see secrets.
func (m masker) recorded(ex httplog.Exchange) httplog.Exchange {
	if !m.reveal {
		return ex
	}
	out := ex
	out.Request.URL = m.unmask(ex.Request.URL)
	out.Request.Header = m.unmaskHeader(ex.Request.Header)
	out.Request.Body = []byte(m.unmask(string(ex.Request.Body)))
	if r := ex.Response; r != nil {
		rc := *r
		rc.Header = m.unmaskHeader(r.Header)
		rc.Body = []byte(m.unmask(string(r.Body)))
		out.Response = &rc
	}
	return out
}

func (m masker) unmaskHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out[k] = append(out[k], m.unmask(v))
		}
	}
	return out
}

// renderLines styles lines of an exchange's HTTP text (httplog's layout, shared with the CLI and
// report.md). Every name and value came off the wire, so each is made safe before it is styled.
func renderLines(st *Styles, lines []httplog.Line, width int) string {
	var b strings.Builder
	for _, l := range lines {
		l.Name, l.Value = safe(l.Name), safe(l.Value)
		switch l.Kind {
		case httplog.LineRequest:
			b.WriteString(st.HTTP.Method.Render(l.Name) + " " + st.HTTP.URL.Render(l.Value))
		case httplog.LineStatus:
			b.WriteString(st.statusStyle(l.Status).Render(l.Value))
		case httplog.LineHeader:
			b.WriteString(st.HTTP.HeaderName.Render(l.Name+":") + " " + st.HTTP.HeaderValue.Render(l.Value))
		case httplog.LineBody:
			b.WriteString(st.HTTP.Body.Render(l.Value))
		case httplog.LineNote:
			if strings.HasPrefix(l.Value, "(no response") {
				b.WriteString(st.Error.Render("✗ " + l.Value))
			} else {
				b.WriteString(st.Muted.Render(l.Value))
			}
		}
		b.WriteByte('\n')
	}
	return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
}

// renderRequest styles the request half of an exchange.
func renderRequest(st *Styles, ex httplog.Exchange, width int) string {
	return renderLines(st, httplog.RequestLines(&ex, httplog.TextOptions{}), width)
}

// renderResponse styles the response half of an exchange.
func renderResponse(st *Styles, ex httplog.Exchange, width int) string {
	return renderLines(st, httplog.ResponseLines(&ex, httplog.TextOptions{}), width)
}

// renderExchange is a whole exchange: request, then response, with a separator.
func renderExchange(st *Styles, ex httplog.Exchange, width int) string {
	return st.HTTP.Section.Render("→ request") + "\n" + renderRequest(st, ex, width) + "\n" +
		st.HTTP.Section.Render("← response") + "\n" + renderResponse(st, ex, width)
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
	b.WriteString(st.HTTP.Method.Render("GET") + " " + st.HTTP.URL.Render(safe(base.String())) + "\n")
	// Decoding brings back what percent-encoding kept harmless (error_description=%1B%5D0%3B…):
	// names and values are made safe again.
	q := u.Query()
	if len(q) == 0 && u.Fragment != "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	names := make([]string, 0, len(q))
	pad := 0
	for k := range q {
		names = append(names, k)
		pad = max(pad, len(safe(k)))
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range q[k] {
			b.WriteString("  " + st.HTTP.HeaderName.Render(fmt.Sprintf("%-*s", pad, safe(k))) + "  " + st.HTTP.HeaderValue.Render(safe(v)) + "\n")
		}
	}
	return wrapLines(highlightPlaceholders(b.String(), st.Redacted), width)
}
