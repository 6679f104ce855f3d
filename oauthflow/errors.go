package oauthflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// ErrorKind says what sort of failure an *Error is, so callers can branch without reading text.
type ErrorKind int

const (
	KindTransport   ErrorKind = iota + 1 // the request never got an HTTP answer (DNS, refused, TLS, timeout)
	KindOAuth                            // an OAuth error response: JSON {"error": ...}
	KindAPI                              // an API error response, e.g. LinkedIn {"serviceErrorCode": ...}
	KindHTTP                             // a non-2xx answer with no recognisable error body
	KindFormat                           // a body that is not what the endpoint must return (HTML, empty, truncated JSON)
	KindRedirect                         // the authorization server redirected back with error=...
	KindValidation                       // a check on our side failed: state, iss, missing code, discovery fields
	KindConfig                           // the configuration or input cannot work (missing endpoint, bad URL, busy port)
	KindUnavailable                      // the step cannot run: no refresh token issued, no endpoint known
	KindBrowser                          // the browser leg stopped on a page instead of redirecting back
	KindTimeout                          // waited too long for the browser to come back
)

var kindNames = map[ErrorKind]string{
	KindTransport: "transport", KindOAuth: "oauth", KindAPI: "api", KindHTTP: "http", KindFormat: "format",
	KindRedirect: "redirect", KindValidation: "validation", KindConfig: "config", KindUnavailable: "unavailable",
	KindBrowser: "browser", KindTimeout: "timeout",
}

func (k ErrorKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "unknown"
}

// MarshalText makes kinds readable in JSON.
func (k ErrorKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Stable codes for failures detected on the client side (Kind Validation, Config, Unavailable,
// Transport, Format, Timeout). OAuth and API errors carry the server's own code instead.
const (
	CodeStateMismatch       = "state_mismatch"
	CodeIssuerMismatch      = "issuer_mismatch"
	CodeMissingCode         = "missing_code"
	CodeDiscoveryIncomplete = "discovery_incomplete"
	CodeNoRefreshToken      = "refresh_not_available"
	CodeNoEndpoint          = "endpoint_not_configured"
	CodePortBusy            = "port_busy"
	CodeBadURL              = "bad_url"
	CodeCallbackTimeout     = "callback_timeout"
	CodeNotJSON             = "not_json"
	CodeEmptyBody           = "empty_body"
	CodeMissingField        = "missing_field"
	CodeBrowserStopped      = "browser_stopped"
	// CodeNotReady: a step was asked for before the steps it needs (Flow.Step).
	CodeNotReady = "not_ready"
	// CodeTokenInactive: an access token just issued is reported inactive by introspection.
	CodeTokenInactive = "token_inactive"
	// CodeRevokedTokenActive: a revoked access token is still reported active.
	CodeRevokedTokenActive = "revoked_token_active"
	// Transport failures: the codes flow --json has always printed, one per httplog.ErrorKind
	// (which the exchange carries as error_kind); reset, incomplete and other are all "network".
	CodeDNS      = "dns"
	CodeRefused  = "connection_refused"
	CodeTLS      = "tls"
	CodeTimeout  = "timeout"
	CodeCanceled = "canceled"
	CodeNetwork  = "network"
)

// transportCode is the step error code of a transport failure of kind k.
func transportCode(k httplog.ErrorKind) string {
	switch k {
	case httplog.ErrorDNS:
		return CodeDNS
	case httplog.ErrorConnectionRefused:
		return CodeRefused
	case httplog.ErrorTLS:
		return CodeTLS
	case httplog.ErrorTimeout:
		return CodeTimeout
	case httplog.ErrorCanceled:
		return CodeCanceled
	}
	return CodeNetwork
}

// Error is every failure this package returns. Fields are filled as far as the failure tells.
type Error struct {
	Step string
	Kind ErrorKind
	// Code is the OAuth "error" value, LinkedIn's API "code", or one of the Code* constants.
	Code        string
	Description string // OAuth error_description, LinkedIn "message", or our explanation
	URI         string // OAuth error_uri
	Status      int    // HTTP status; 0 when there was no HTTP answer
	// ServiceErrorCode is LinkedIn's numeric serviceErrorCode (0 when absent).
	ServiceErrorCode int
	Header           http.Header   // response headers (x-li-uuid, Retry-After, WWW-Authenticate ...)
	Body             string        // response body, cut to a readable size
	RetryAfter       time.Duration // from Retry-After, when the server sent one
	Hint             string        // what to do about it
	Err              error         // underlying cause
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Step != "" {
		b.WriteString(e.Step)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.Status)
	}
	switch {
	case e.Code != "" && e.Description != "":
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Description)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Description != "":
		b.WriteString(e.Description)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Kind.String() + " error")
	}
	if e.ServiceErrorCode != 0 {
		fmt.Fprintf(&b, " (serviceErrorCode %d)", e.ServiceErrorCode)
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

const maxErrorBody = 4096

// oauthErrorBody is RFC 6749 §5.2 plus LinkedIn's API error fields, which share no names.
type oauthErrorBody struct {
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorURI         string          `json:"error_uri"`
	ServiceErrorCode json.RawMessage `json:"serviceErrorCode"`
	Code             string          `json:"code"`
	Message          string          `json:"message"`
}

// responseError turns a non-successful HTTP answer into an *Error, reading the body whatever its
// shape: OAuth JSON, LinkedIn API JSON, or something else.
func responseError(step string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{Step: step, Status: status, Header: header.Clone(), Body: cut(body)}
	e.RetryAfter = ParseRetryAfter(header.Get("Retry-After"), now)
	var parsed oauthErrorBody
	if len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &parsed) == nil {
		switch {
		case parsed.Error != "":
			e.Kind = KindOAuth
			e.Code = parsed.Error
			e.Description = parsed.ErrorDescription
			e.URI = parsed.ErrorURI
			return e
		case parsed.Message != "" || len(parsed.ServiceErrorCode) > 0 || parsed.Code != "":
			e.Kind = KindAPI
			e.Code = parsed.Code
			e.Description = parsed.Message
			e.ServiceErrorCode = parseServiceCode(parsed.ServiceErrorCode)
			return e
		}
	}
	// Some servers answer OAuth errors as a form body (RFC 6749 allows nothing else, but it happens).
	if ct, _, _ := mime.ParseMediaType(header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if code, desc := formError(body); code != "" {
			e.Kind = KindOAuth
			e.Code, e.Description = code, desc
			return e
		}
	}
	e.Kind = KindHTTP
	e.Description = http.StatusText(status)
	if looksLikeHTML(header, body) {
		e.Description += " (an HTML page, not an API answer)"
		e.Hint = "the URL probably points at a web page or a proxy/login wall, not at the endpoint; check it"
	}
	// WWW-Authenticate carries RFC 6750 errors for resource servers.
	if wa := header.Get("WWW-Authenticate"); wa != "" {
		if code := AuthParam(wa, "error"); code != "" {
			e.Kind = KindOAuth
			e.Code = code
			e.Description = AuthParam(wa, "error_description")
		}
	}
	return e
}

func parseServiceCode(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, _ := strconv.Atoi(s)
	return n
}

func formError(body []byte) (string, string) {
	vals, err := parseQuery(string(body))
	if err != nil {
		return "", ""
	}
	return vals.Get("error"), vals.Get("error_description")
}

// AuthParam extracts one parameter (error, error_description, realm...) from a
// WWW-Authenticate challenge.
func AuthParam(header, name string) string {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if i := strings.IndexByte(part, ' '); i > 0 && !strings.Contains(part[:i], "=") {
			part = strings.TrimSpace(part[i+1:]) // drop the scheme
		}
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// ParseRetryAfter reads a Retry-After value: delay-seconds, or an HTTP date counted from now
// (best the server's own Date; a zero now makes a date unusable).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && !now.IsZero() && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func cut(b []byte) string {
	if len(b) > maxErrorBody {
		return string(b[:maxErrorBody]) + "…"
	}
	return string(b)
}

func looksLikeHTML(h http.Header, body []byte) bool {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if ct == "text/html" || ct == "application/xhtml+xml" {
		return true
	}
	s := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html")
}

// transportError explains a failure to get any HTTP answer, naming the cause and the fix. Its
// Code follows the failure's httplog.ErrorKind, the one classification every package uses.
func transportError(step, rawURL string, err error) *Error {
	kind := httplog.Classify(err)
	e := &Error{Step: step, Kind: KindTransport, Err: err, Code: transportCode(kind)}
	host := HostOf(rawURL)
	cause := httplog.RootCause(err).Error()
	switch kind {
	case httplog.ErrorCanceled:
		e.Description = "cancelled before " + host + " answered"
	case httplog.ErrorTimeout:
		e.Description = host + " did not answer in time"
		e.Hint = "the server is slow or unreachable; retry, or raise --timeout"
	case httplog.ErrorDNS:
		e.Description = "cannot resolve host " + hostName(rawURL)
		e.Hint = "check the host name in the URL and your DNS or proxy settings"
	case httplog.ErrorConnectionRefused:
		e.Description = "connection refused by " + host
		e.Hint = "nothing listens there: is the server running, and are the host and port right?"
	case httplog.ErrorTLS:
		e.Description = "TLS handshake with " + host + " failed: " + cause
		e.Hint = "check the URL scheme (http vs https), the certificate and the system clock"
	case httplog.ErrorReset:
		e.Description = "the connection to " + host + " broke off: " + cause
		e.Hint = "a proxy, a firewall or an overloaded server dropped it; retry, and check proxies between you and the server"
	default:
		e.Description = "cannot reach " + host + ": " + cause
		e.Hint = "check the URL and your network"
	}
	return e
}

func hostName(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return HostOf(rawURL)
}
