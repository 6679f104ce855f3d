package inspector

import (
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Body kinds.
const (
	BodyEmpty = "empty"
	BodyJSON  = "json"
	BodyHTML  = "html"
	BodyForm  = "form"
	BodyText  = "text"
)

// Observation is what one step or recorded call showed: the request as sent (only facts that are
// not secret), the answer, and the failure as classified by the client. Rules read nothing else.
type Observation struct {
	Step   string
	CallID string
	// Failed is true when the step or call did not succeed.
	Failed  bool
	Started time.Time
	// ReceivedAt is when the answer arrived on the local clock (zero without an answer).
	ReceivedAt time.Time

	// The request.
	Method string
	URL    string // without query or fragment
	// RedirectURI is the redirect_uri the request sent (token request form or authorization URL).
	RedirectURI string
	// SentVerifier says the token request carried a PKCE code_verifier.
	SentVerifier bool
	GrantType    string
	// ClientAuth is how the client authenticated: "basic", "post", "none" or "" when unknown.
	ClientAuth string
	// APIVersion is the LinkedIn-Version header sent, "" when none.
	APIVersion string
	// Bearer says an Authorization: Bearer header was sent.
	Bearer bool

	// The answer.
	Status      int
	Header      http.Header
	ContentType string
	BodyKind    string
	// BodySummary is a short, secret-free description of the body (the page title and a line
	// of text for HTML; the size otherwise).
	BodySummary string
	ServerDate  time.Time
	RetryAfter  time.Duration

	// OAuth errors: RFC 6749 body fields, an error redirect, or RFC 6750 WWW-Authenticate.
	OAuthError       string
	ErrorDescription string
	// LinkedIn API errors.
	APICode          string
	APIMessage       string
	ServiceErrorCode int

	// Transport is the class of transport failure, "" when an answer came.
	Transport       httplog.ErrorKind
	TransportDetail string
	// Skew is the server clock minus ours that this answer's Date header shows (HasSkew).
	Skew    time.Duration
	HasSkew bool
	// Kind and ClientCode classify failures detected by the client (oauthflow.Code* values).
	Kind       oauthflow.ErrorKind
	ClientCode string
	Detail     string // the client's description of the failure
	Hint       string // the client's suggested fix

	// Page is set when a browser stopped on a page instead of being redirected back.
	Page *PageStop
}

// PageStop is a browser leg that ended on a page.
type PageStop struct {
	Status int
	URL    string
	Text   string
	Reason browser.PageReason
}

// FromStep builds the observation of one step of a flow: its last exchange (whose recorded call
// the diagnosis names) and its error.
func FromStep(s oauthflow.StepReport) Observation {
	o := Observation{Step: s.Name, Started: s.Started}
	if n := len(s.Exchanges); n > 0 {
		o = FromExchange(&s.Exchanges[n-1])
		o.Step, o.Started = s.Name, s.Started
	}
	o.Failed = s.Status == oauthflow.StatusFailed
	if s.Err != nil {
		o.addError(s.Err)
	}
	return o
}

// FromExchange builds the observation of one exchange: an HTTP call the tool made (live, or
// recorded and redacted: what the rules need survives redaction, a placeholder still shows a
// code_verifier was sent) or a browser leg it saw.
func FromExchange(ex *httplog.Exchange) Observation {
	o := Observation{Step: ex.Step, CallID: ex.ID, Started: ex.Started}
	if ex.Leg != "" {
		if ex.Leg == httplog.LegBrowserRedirect {
			if u, err := url.Parse(ex.Request.URL); err == nil {
				q := u.Query()
				if q.Get("error") == "" && u.Fragment != "" {
					q, _ = url.ParseQuery(u.Fragment)
				}
				o.OAuthError, o.ErrorDescription = q.Get("error"), q.Get("error_description")
			}
			o.URL = stripQuery(ex.Request.URL)
		} else {
			o.addRequest(http.MethodGet, ex.Request.URL, nil, nil)
		}
		o.Failed = o.OAuthError != ""
		return o
	}
	o.addRequest(ex.Request.Method, ex.Request.URL, ex.Request.Header, ex.Request.Body)
	if r := ex.Response; r != nil {
		o.addResponse(r.Status, r.Header, r.Body)
		o.ReceivedAt = ex.End()
		o.Skew, o.HasSkew = httplog.ClockSkew(ex)
	}
	// Incomplete: the tool stopped reading, the server is not at fault.
	if k := ex.ErrorKind; k != "" && k != httplog.ErrorIncomplete {
		o.Transport, o.TransportDetail = k, ex.Error
		if ex.Err != nil {
			o.TransportDetail = httplog.RootCause(ex.Err).Error()
		}
	}
	o.Failed = o.Transport != "" || o.Status >= 400
	return o
}

// FromError builds an observation from a failure alone, when no exchange was kept.
func FromError(err error) Observation {
	o := Observation{Failed: true}
	o.addError(err)
	return o
}

// FromResponse builds an observation from a raw answer (a fixture, a pasted response).
func FromResponse(step string, status int, header http.Header, body []byte) Observation {
	o := Observation{Step: step}
	o.addResponse(status, header, body)
	o.Failed = status >= 400
	return o
}

// addRequest keeps only what is not secret: the URL without its query, the redirect URI, and
// whether a verifier or bearer token was sent (never their values).
func (o *Observation) addRequest(method, rawURL string, h http.Header, body []byte) {
	o.Method = method
	o.URL = stripQuery(rawURL)
	if u, err := url.Parse(rawURL); err == nil {
		if v := u.Query().Get("redirect_uri"); v != "" {
			o.RedirectURI = v
		}
	}
	if h != nil {
		auth := h.Get("Authorization")
		switch {
		case hasPrefixFold(auth, "Basic "):
			o.ClientAuth = "basic"
		case hasPrefixFold(auth, "Bearer "):
			o.Bearer = true
		}
		o.APIVersion = h.Get("LinkedIn-Version")
	}
	ct := ""
	if h != nil {
		ct, _, _ = mime.ParseMediaType(h.Get("Content-Type"))
	}
	if len(body) > 0 && (ct == "application/x-www-form-urlencoded" || ct == "") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			if v := form.Get("redirect_uri"); v != "" {
				o.RedirectURI = v
			}
			o.SentVerifier = form.Get("code_verifier") != ""
			o.GrantType = form.Get("grant_type")
			if o.ClientAuth == "" && form.Get("client_id") != "" {
				o.ClientAuth = "none"
				if form.Get("client_secret") != "" {
					o.ClientAuth = "post"
				}
			}
		}
	}
}

func (o *Observation) addResponse(status int, h http.Header, body []byte) {
	o.Status = status
	o.Header = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	o.ContentType, _, _ = mime.ParseMediaType(h.Get("Content-Type"))
	if d := h.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			o.ServerDate = t
		}
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = oauthflow.ParseRetryAfter(h.Get("Retry-After"), o.ServerDate)
	}
	o.BodyKind, o.BodySummary = summariseBody(o.ContentType, body)
	var parsed struct {
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		ServiceErrorCode json.RawMessage `json:"serviceErrorCode"`
		Code             json.RawMessage `json:"code"`
		Message          string          `json:"message"`
	}
	switch o.BodyKind {
	case BodyJSON:
		if json.Unmarshal(body, &parsed) == nil {
			if parsed.Error != "" && o.OAuthError == "" {
				o.OAuthError, o.ErrorDescription = parsed.Error, parsed.ErrorDescription
			}
			if o.APICode == "" {
				o.APICode = jsonScalar(parsed.Code)
			}
			if o.APIMessage == "" {
				o.APIMessage = parsed.Message
			}
			if o.ServiceErrorCode == 0 {
				o.ServiceErrorCode, _ = strconv.Atoi(jsonScalar(parsed.ServiceErrorCode))
			}
		}
	case BodyForm:
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("error") != "" && o.OAuthError == "" {
			o.OAuthError, o.ErrorDescription = form.Get("error"), form.Get("error_description")
		}
	}
	if wa := h.Get("WWW-Authenticate"); wa != "" && o.OAuthError == "" {
		if code := oauthflow.AuthParam(wa, "error"); code != "" {
			o.OAuthError, o.ErrorDescription = code, oauthflow.AuthParam(wa, "error_description")
		}
	}
}

// addError folds a classified failure into the observation.
func (o *Observation) addError(err error) {
	o.Failed = true
	var page *browser.PageError
	if errors.As(err, &page) {
		o.Page = &PageStop{Status: page.Status, URL: stripQuery(page.URL), Text: page.Text, Reason: page.Reason}
		if o.Status == 0 {
			o.Status = page.Status
		}
		return
	}
	e, ok := oauthflow.AsError(err)
	if !ok {
		if t := httplog.Classify(err); t != httplog.ErrorOther || isNetError(err) {
			o.Transport, o.TransportDetail = t, httplog.RootCause(err).Error()
			return
		}
		o.Detail = err.Error()
		return
	}
	if o.Step == "" {
		o.Step = e.Step
	}
	o.Kind = e.Kind
	if o.Status == 0 {
		o.Status = e.Status
	}
	if o.Header == nil && e.Header != nil {
		o.Header = e.Header.Clone()
		if d := e.Header.Get("Date"); d != "" {
			if t, err := http.ParseTime(d); err == nil {
				o.ServerDate = t
			}
		}
	}
	if e.RetryAfter > 0 {
		o.RetryAfter = e.RetryAfter
	}
	if o.BodyKind == "" && e.Body != "" {
		ct := ""
		if e.Header != nil {
			ct, _, _ = mime.ParseMediaType(e.Header.Get("Content-Type"))
		}
		o.BodyKind, o.BodySummary = summariseBody(ct, []byte(e.Body))
	}
	o.Detail, o.Hint = e.Description, e.Hint
	switch e.Kind {
	case oauthflow.KindOAuth, oauthflow.KindRedirect:
		o.OAuthError, o.ErrorDescription = e.Code, e.Description
	case oauthflow.KindAPI:
		o.APICode, o.APIMessage = e.Code, e.Description
		if e.ServiceErrorCode != 0 {
			o.ServiceErrorCode = e.ServiceErrorCode
		}
	case oauthflow.KindTransport:
		// A transport failure's code is its httplog.ErrorKind.
		o.Transport, o.TransportDetail = httplog.ErrorKind(e.Code), e.Description
	default:
		o.ClientCode = e.Code
	}
}

func isNetError(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr)
}

// summariseBody classifies a body and describes it without quoting it: bodies can carry tokens.
// HTML pages are the exception: their title and first text are what a person needs to see, and
// error pages carry no secrets.
func summariseBody(contentType string, body []byte) (kind, summary string) {
	trimmed := strings.TrimSpace(string(body))
	switch {
	case trimmed == "":
		return BodyEmpty, "empty body"
	case looksLikeHTML(contentType, trimmed):
		title, text := browser.PageSummary([]byte(trimmed), "text/html")
		title, text = cutText(title, 120), cutText(text, 240)
		s := "HTML page"
		if title != "" {
			s += " titled " + strconv.Quote(title)
		}
		if text != "" {
			s += ": " + text
		}
		return BodyHTML, s
	case json.Valid([]byte(trimmed)):
		return BodyJSON, "JSON, " + strconv.Itoa(len(body)) + " bytes"
	case contentType == "application/x-www-form-urlencoded":
		return BodyForm, "form-encoded, " + strconv.Itoa(len(body)) + " bytes"
	}
	desc := contentType
	if desc == "" {
		desc = "no Content-Type"
	}
	return BodyText, "non-JSON body (" + desc + "), " + strconv.Itoa(len(body)) + " bytes: " + cutText(collapseSpace(trimmed), 160)
}

func looksLikeHTML(contentType, trimmed string) bool {
	if contentType == "text/html" || contentType == "application/xhtml+xml" {
		return true
	}
	head := strings.ToLower(trimmed[:min(len(trimmed), 512)])
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	// Do not split a UTF-8 sequence.
	for len(cut) > 0 && cut[len(cut)-1]&0xC0 == 0x80 {
		cut = cut[:len(cut)-1]
	}
	if len(cut) > 0 && cut[len(cut)-1] >= 0xC0 {
		cut = cut[:len(cut)-1]
	}
	return cut + "…"
}

func jsonScalar(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return ""
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	return s
}

func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
