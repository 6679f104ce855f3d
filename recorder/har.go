package recorder

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Creator names the program in a HAR file.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) as plain structs. Fields
// starting with "_" are custom, which the format allows.
type harLog struct {
	Version string     `json:"version"`
	Creator Creator    `json:"creator"`
	Entries []harEntry `json:"entries"`
	Comment string     `json:"comment,omitempty"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	Comment         string      `json:"comment,omitempty"`

	CallID     string            `json:"_callId"`
	SessionID  string            `json:"_sessionId,omitempty"`
	Step       string            `json:"_step,omitempty"`
	ReplayOf   string            `json:"_replayOf,omitempty"`
	Attempt    int               `json:"_attempt,omitempty"`
	Error      string            `json:"_error,omitempty"`
	ErrorKind  httplog.ErrorKind `json:"_errorKind,omitempty"`
	ServerDate string            `json:"_serverDate,omitempty"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harCookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType  string  `json:"mimeType"`
	Text      string  `json:"text"`
	Params    []harNV `json:"params,omitempty"`
	Encoding  string  `json:"_encoding,omitempty"` // HAR has no encoding for requests
	Truncated bool    `json:"_truncated,omitempty"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harCookie  `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int64        `json:"bodySize"`
}

type harContent struct {
	Size      int64  `json:"size"`
	MimeType  string `json:"mimeType"`
	Text      string `json:"text,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Truncated bool   `json:"_truncated,omitempty"`
}

type harResponse struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []harCookie `json:"cookies"`
	Headers     []harNV     `json:"headers"`
	Content     harContent  `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Error       string      `json:"_error,omitempty"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	SSL     float64 `json:"ssl"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// WriteHAR writes entries as a HAR 1.2 log. Observed browser legs are left out: HAR
// holds exchanges, and the tool made none for them.
func WriteHAR(w io.Writer, entries []Entry, creator Creator) error {
	return StreamHAR(w, creator, "", func(fn func(Entry) error) error {
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// StreamHAR writes a HAR document of the entries each yields, one entry at a time, so memory
// stays flat however many there are.
func StreamHAR(w io.Writer, creator Creator, comment string, each func(func(Entry) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(harLog{Version: "1.2", Creator: creator, Comment: comment})
	if err != nil {
		return err
	}
	// Splice the entries into the marshalled log: `..."entries":null...` becomes an array.
	prefix, suffix, ok := strings.Cut(string(head), `"entries":null`)
	if !ok {
		return fmt.Errorf("har: unexpected log encoding")
	}
	bw.WriteString(`{"log":`)
	bw.WriteString(prefix)
	bw.WriteString(`"entries":[`)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	err = each(func(e Entry) error {
		if e.Kind == KindObserved {
			return nil
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		return enc.Encode(harFromEntry(e))
	})
	if err != nil {
		return err
	}
	bw.WriteString("]")
	bw.WriteString(suffix)
	bw.WriteString("}\n")
	return bw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func harHeaders(h http.Header) []harNV {
	out := make([]harNV, 0, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, harNV{Name: k, Value: v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func harFromEntry(e Entry) harEntry {
	he := harEntry{
		StartedDateTime: e.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Time:            ms(e.Duration),
		CallID:          e.ID, SessionID: e.SessionID, Step: e.Step, ReplayOf: e.ReplayOf, Attempt: e.Attempt,
		Error: e.Error, ErrorKind: e.ErrorKind,
	}
	if d, ok := e.ServerDate(); ok {
		he.ServerDate = d.UTC().Format(time.RFC3339)
	}
	if e.Step != "" {
		he.Comment = "step: " + e.Step
	}
	proto := e.Request.Proto
	if proto == "" && e.Response != nil {
		proto = e.Response.Proto
	}
	if proto == "" {
		proto = "HTTP/1.1"
	}
	req := harRequest{
		Method: e.Request.Method, URL: e.Request.URL, HTTPVersion: proto,
		Cookies: requestCookies(e.Request.Header), Headers: harHeaders(e.Request.Header),
		QueryString: []harNV{}, HeadersSize: -1, BodySize: e.Request.BodySize,
	}
	if _, query, ok := strings.Cut(e.Request.URL, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		req.QueryString = pairs(query)
	}
	if len(e.Request.Body) > 0 || e.Request.BodySize > 0 {
		ct := e.Request.Header.Get("Content-Type")
		text, enc := httplog.BodyText(e.Request.Body, e.Request.Truncated)
		pd := &harPostData{MimeType: ct, Text: text, Encoding: enc, Truncated: e.Request.Truncated}
		if mediaType(ct) == "application/x-www-form-urlencoded" && enc == "" {
			pd.Params = pairs(text)
		}
		req.PostData = pd
	}
	he.Request = req

	resp := harResponse{
		HTTPVersion: proto, Cookies: []harCookie{}, Headers: []harNV{},
		Content:     harContent{Size: 0, MimeType: "x-unknown"},
		HeadersSize: -1, BodySize: -1,
	}
	wait, receive := ms(e.Wait), ms(e.Duration-e.Wait)
	if e.Response != nil {
		r := e.Response
		resp.Status = r.Status
		resp.StatusText = http.StatusText(r.Status)
		if r.Proto != "" {
			resp.HTTPVersion = r.Proto
		}
		resp.Headers = harHeaders(r.Header)
		resp.Cookies = responseCookies(r.Header)
		resp.RedirectURL = r.Header.Get("Location")
		text, enc := httplog.BodyText(r.Body, r.Truncated)
		resp.Content = harContent{Size: r.BodySize, MimeType: r.Header.Get("Content-Type"), Text: text, Encoding: enc, Truncated: r.Truncated}
		if resp.Content.MimeType == "" {
			resp.Content.MimeType = "x-unknown"
		}
		if !r.Uncompressed && !r.Truncated {
			resp.BodySize = r.BodySize
		}
	} else {
		// A transport failure still gets a response, as Chrome writes them: status 0 and the error.
		resp.Error = e.Error
		wait, receive = ms(e.Duration), 0
	}
	if e.Wait <= 0 || e.Wait > e.Duration {
		wait, receive = ms(e.Duration), 0
	}
	he.Response = resp
	he.Timings = harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Send: 0, Wait: wait, Receive: receive}
	return he
}

// pairs splits a query string or form body into decoded name/value pairs, in order.
func pairs(s string) []harNV {
	out := []harNV{}
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, harNV{Name: k, Value: v})
	}
	return out
}

func requestCookies(h http.Header) []harCookie {
	out := []harCookie{}
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name != "" {
				out = append(out, harCookie{Name: name, Value: value})
			}
		}
	}
	return out
}

func responseCookies(h http.Header) []harCookie {
	out := []harCookie{}
	for _, line := range h.Values("Set-Cookie") {
		pair, _, _ := strings.Cut(line, ";")
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && name != "" {
			out = append(out, harCookie{Name: name, Value: value})
		}
	}
	return out
}
