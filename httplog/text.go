package httplog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// LineKind says what a line of an exchange's text is, so a view can style it.
type LineKind int

const (
	// LineRequest is the request line: Name is the method, Value the request-target and protocol.
	LineRequest LineKind = iota + 1
	// LineStatus is the status line; Status is the code.
	LineStatus
	// LineHeader is one header field: Name and Value.
	LineHeader
	// LineBlank ends a header block.
	LineBlank
	// LineBody is one line of a body.
	LineBody
	// LineNote is a remark on the exchange: no answer came, a body was cut or is binary.
	LineNote
)

// Line is one line of an exchange laid out as HTTP/1.1 text.
type Line struct {
	Kind   LineKind
	Name   string
	Value  string
	Status int
}

// String is the line as plain text.
func (l Line) String() string {
	switch l.Kind {
	case LineRequest:
		return l.Name + " " + l.Value
	case LineHeader:
		return l.Name + ": " + l.Value
	case LineBlank:
		return ""
	}
	return l.Value
}

// TextOptions steer the layout.
type TextOptions struct {
	// MaxBody cuts each body's text after so many bytes; 0 keeps whole bodies.
	MaxBody int
	// CutNote is the note under a body MaxBody cut; %d is replaced by the bytes left out.
	// Empty means "… (%d more bytes)".
	CutNote string
}

// Lines lays the exchange out as HTTP/1.1 text: the request, a blank line, then the response (or a
// note that none came). A browser leg is its request line alone.
func Lines(ex *Exchange, o TextOptions) []Line {
	lines := RequestLines(ex, o)
	if ex.Leg != "" {
		return lines
	}
	lines = append(lines, Line{Kind: LineBlank})
	return append(lines, ResponseLines(ex, o)...)
}

// Text is Lines as plain text, one line per line.
func Text(ex *Exchange, o TextOptions) string { return Join(Lines(ex, o)) }

// Join is lines as plain text, each ended by a newline.
func Join(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// RequestLines is the request half: request line, Host, the other headers in name order, body.
func RequestLines(ex *Exchange, o TextOptions) []Line {
	r := &ex.Request
	target, host := requestTarget(r.URL)
	if ex.Leg != "" {
		// The browser sent it: show the whole URL, the way the user's address bar had it.
		return []Line{{Kind: LineRequest, Name: orGET(r.Method), Value: r.URL}}
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	lines := []Line{{Kind: LineRequest, Name: r.Method, Value: target + " " + proto}}
	if host != "" && r.Header.Get("Host") == "" {
		lines = append(lines, Line{Kind: LineHeader, Name: "Host", Value: host})
	}
	lines = append(lines, headerLines(r.Header)...)
	return append(lines, bodyLines(r.Header.Get("Content-Type"), r.Body, r.BodySize, r.Truncated, o)...)
}

// ResponseLines is the response half: status line, headers in name order, body; or a note that
// no answer came and why.
func ResponseLines(ex *Exchange, o TextOptions) []Line {
	r := ex.Response
	if r == nil {
		why := ex.Error
		if why == "" {
			why = "no answer"
		}
		if ex.ErrorKind != "" && ex.ErrorKind != ErrorOther {
			why = string(ex.ErrorKind) + ": " + why
		}
		return []Line{{Kind: LineNote, Value: "(no response: " + why + ")"}}
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	lines := []Line{{Kind: LineStatus, Status: r.Status, Value: fmt.Sprintf("%s %d %s", proto, r.Status, http.StatusText(r.Status))}}
	lines = append(lines, headerLines(r.Header)...)
	lines = append(lines, bodyLines(r.Header.Get("Content-Type"), r.Body, r.BodySize, r.Truncated, o)...)
	if ex.Error != "" {
		lines = append(lines, Line{Kind: LineNote, Value: "(the answer broke off: " + ex.Error + ")"})
	}
	return lines
}

func orGET(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return m
}

// requestTarget splits a URL into the request-target of an HTTP/1.1 request line and the host.
func requestTarget(raw string) (target, host string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw, ""
	}
	t := u.EscapedPath()
	if t == "" {
		t = "/"
	}
	if u.RawQuery != "" {
		t += "?" + u.RawQuery
	}
	return t, u.Host
}

func headerLines(h http.Header) []Line {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []Line
	for _, k := range names {
		for _, v := range h[k] {
			lines = append(lines, Line{Kind: LineHeader, Name: k, Value: v})
		}
	}
	return lines
}

func bodyLines(contentType string, body []byte, size int64, truncated bool, o TextOptions) []Line {
	if len(body) == 0 {
		return nil
	}
	lines := []Line{{Kind: LineBlank}}
	if !utf8.Valid(body) && !(truncated && utf8.Valid(trimPartialRune(body))) {
		return append(lines, Line{Kind: LineNote, Value: fmt.Sprintf("(%d bytes of binary body)", size)})
	}
	text := PrettyBody(contentType, body)
	cut := 0
	if o.MaxBody > 0 && len(text) > o.MaxBody {
		end := o.MaxBody
		for end > 0 && !utf8.RuneStart(text[end]) {
			end--
		}
		cut = len(text) - end
		text = text[:end]
	}
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		lines = append(lines, Line{Kind: LineBody, Value: l})
	}
	switch {
	case cut > 0:
		note := o.CutNote
		if note == "" {
			note = "… (%d more bytes)"
		}
		lines = append(lines, Line{Kind: LineNote, Value: strings.ReplaceAll(note, "%d", fmt.Sprint(cut))})
	case truncated:
		lines = append(lines, Line{Kind: LineNote, Value: fmt.Sprintf("… (only the first %d of %d bytes were kept)", len(body), size)})
	}
	return lines
}

func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// PrettyBody renders a body for reading: JSON indented (keys and numbers exactly as sent),
// anything else as it is.
func PrettyBody(contentType string, body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || trimmed[0] == '{' || trimmed[0] == '[' {
		var buf bytes.Buffer
		if json.Indent(&buf, trimmed, "", "  ") == nil {
			return buf.String()
		}
	}
	return string(body)
}
