package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
)

// Callback is a validated authorization response.
type Callback struct {
	Code  string
	State string
	Iss   string // RFC 9207 issuer identifier, when the server sent one
	URL   string // the full redirect URL as received
}

// parseRedirect is ParseRedirect against the runner's provider, whose issuer is expected. Besides
// a wrong state or iss, it refuses a redirect without iss from a server whose metadata promises
// one (RFC 9207 §2.4): every path from a browser to a code exchange goes through it.
func (r *Runner) parseRedirect(ar *AuthRequest, expectedIssuer, redirectURL string) (*Callback, error) {
	p := r.cfg.Provider
	cb, err := ParseRedirect(ar, expectedIssuer, redirectURL)
	if err == nil && cb.Iss == "" && p.IssParameterSupported {
		err = &Error{Step: StepCallback, Kind: KindValidation, Code: CodeIssuerMismatch,
			Description: "the redirect carries no iss, although the server's metadata says it sends one (RFC 9207)",
			Hint:        "the response may come from another authorization server (mix-up attack); if this server really omits iss, its metadata is wrong"}
	}
	return cb, err
}

// ParseRedirect validates a redirect URL (received by the listener or pasted by the user) against
// the request that started it: state must match (else it may be a CSRF attempt), an error=
// response becomes a KindRedirect *Error, and RFC 9207's iss must match the expected issuer.
func ParseRedirect(ar *AuthRequest, expectedIssuer, redirectURL string) (*Callback, error) {
	raw := strings.TrimSpace(redirectURL)
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil, &Error{Step: StepCallback, Kind: KindValidation, Code: CodeBadURL,
			Description: fmt.Sprintf("%q is not a redirect URL", raw),
			Hint:        "paste the whole address from the browser's address bar after consenting"}
	}
	q := u.Query()
	// Implicit-style providers and some SPAs return the parameters in the fragment.
	if len(q) == 0 && u.Fragment != "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	if ar.RedirectURI != "" && !sameEndpoint(u, ar.RedirectURI) {
		return nil, &Error{Step: StepCallback, Kind: KindValidation, Code: CodeBadURL,
			Description: fmt.Sprintf("redirect went to %s, not to the redirect URI %s", stripQuery(u), ar.RedirectURI),
			Hint:        "paste the URL the provider redirected to (it starts with the redirect URI)"}
	}
	cb := &Callback{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"), URL: raw}
	if code := q.Get("error"); code != "" {
		e := &Error{Step: StepCallback, Kind: KindRedirect, Code: code, Description: q.Get("error_description"), URI: q.Get("error_uri")}
		if cb.State != ar.State {
			// An error redirect with a foreign state is still reported, but flagged.
			e.Hint = "the state on this error redirect does not match the request either"
		}
		return cb, e
	}
	if cb.State != ar.State {
		desc := "state on the redirect does not match the one sent"
		if cb.State == "" {
			desc = "the redirect carries no state"
		}
		return cb, &Error{Step: StepCallback, Kind: KindValidation, Code: CodeStateMismatch, Description: desc,
			Hint: "refused as a possible CSRF attempt; start the authorization again and use only its redirect (an old tab or a second login can cause this)"}
	}
	if cb.Iss != "" && expectedIssuer != "" && !SameIssuer(cb.Iss, expectedIssuer) {
		return cb, &Error{Step: StepCallback, Kind: KindValidation, Code: CodeIssuerMismatch,
			Description: fmt.Sprintf("iss on the redirect is %q, expected %q (RFC 9207)", cb.Iss, expectedIssuer),
			Hint:        "the response came from another authorization server (mix-up attack) or --issuer is wrong"}
	}
	if cb.Code == "" {
		return cb, &Error{Step: StepCallback, Kind: KindValidation, Code: CodeMissingCode,
			Description: "the redirect carries neither code nor error",
			Hint:        "make sure response_type=code reached the provider and paste the full URL"}
	}
	return cb, nil
}

// SameIssuer compares two issuers as RFC 9207 and OIDC do, but forgiving a trailing slash.
func SameIssuer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

func sameEndpoint(u *url.URL, want string) bool {
	w, err := url.Parse(want)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, w.Scheme) && strings.EqualFold(u.Host, w.Host) && u.Path == w.Path
}

func stripQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return c.String()
}

// Listener is a single-use loopback HTTP server on the redirect URI's port that waits for the
// browser to come back.
type Listener struct {
	srv      *http.Server
	ln       net.Listener
	path     string
	received chan string
	once     sync.Once
	stop     sync.Once
}

// Listen binds 127.0.0.1 (never all interfaces) on the port of redirectURI. Only loopback redirect
// URIs can be listened for; others must be pasted.
func Listen(redirectURI string) (*Listener, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" {
		return nil, &Error{Step: StepCallback, Kind: KindConfig, Code: CodeBadURL,
			Description: fmt.Sprintf("cannot listen for %q: only http:// loopback redirect URIs can be received locally", redirectURI),
			Hint:        "use --redirect-uri http://127.0.0.1:PORT/callback, or paste the redirect URL"}
	}
	host := u.Hostname()
	if host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return nil, &Error{Step: StepCallback, Kind: KindConfig, Code: CodeBadURL,
			Description: fmt.Sprintf("redirect URI host %q is not loopback", host),
			Hint:        "register and use http://127.0.0.1:PORT/callback, or paste the redirect URL"}
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	bind := "127.0.0.1"
	if host == "::1" {
		bind = "::1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, port))
	if err != nil {
		e := &Error{Step: StepCallback, Kind: KindConfig, Code: CodePortBusy, Err: err,
			Description: fmt.Sprintf("cannot listen on %s for the redirect: %v", net.JoinHostPort(bind, port), httplog.RootCause(err))}
		if errors.Is(err, syscall.EADDRINUSE) {
			e.Description = fmt.Sprintf("port %s is already in use, so the redirect to %s cannot be received", port, redirectURI)
			e.Hint = "stop what uses the port (ss -ltnp | grep :" + port + "), or register another loopback redirect URI and pass it with --redirect-uri"
		}
		return nil, e
	}
	l := &Listener{ln: ln, path: u.Path, received: make(chan string, 1)}
	if l.path == "" {
		l.path = "/"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", l.handle)
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go l.srv.Serve(ln)
	return l, nil
}

// Addr is the address actually bound.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>oauthdiag</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;color:#222}h1{font-size:1.3em}.bad{color:#b00020}.ok{color:#0a7d32}</style></head>
<body><h1 class="{{.Class}}">{{.Title}}</h1><p>{{.Text}}</p><p>You can close this tab and return to the terminal.</p></body></html>`))

func (l *Listener) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	page := struct{ Class, Title, Text string }{"ok", "Authorization received", "oauthdiag got the authorization code and will exchange it now."}
	if e := q.Get("error"); e != "" {
		page = struct{ Class, Title, Text string }{"bad", "The provider returned an error: " + e, q.Get("error_description")}
	} else if q.Get("code") == "" {
		page = struct{ Class, Title, Text string }{"bad", "No authorization code in this redirect", "oauthdiag will report what it received."}
	}
	first := false
	l.once.Do(func() {
		first = true
		full := "http://" + r.Host + r.URL.RequestURI()
		l.received <- full
	})
	if !first {
		page = struct{ Class, Title, Text string }{"bad", "Already received", "This listener takes a single redirect; a repeated one is ignored."}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page must not leak the code through Referer to anything it links.
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = callbackPage.Execute(w, page)
}

// Wait returns the redirect URL the browser brought, or a KindTimeout *Error after timeout.
func (l *Listener) Wait(ctx context.Context, timeout time.Duration) (string, error) {
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case u := <-l.received:
		return u, nil
	case <-tc:
		return "", &Error{Step: StepCallback, Kind: KindTimeout, Code: CodeCallbackTimeout,
			Description: fmt.Sprintf("no redirect reached %s within %s", l.Addr(), timeout),
			Hint:        "finish the login in the browser, check the redirect URI is registered exactly, or paste the redirect URL"}
	case <-ctx.Done():
		return "", &Error{Step: StepCallback, Kind: KindTimeout, Code: CodeCanceled, Description: "stopped waiting for the redirect", Err: ctx.Err()}
	}
}

// Deliver hands a redirect URL obtained another way (pasted, or printed by a browser command) to a
// waiting Wait, as if the browser had brought it.
func (l *Listener) Deliver(redirectURL string) {
	l.once.Do(func() { l.received <- redirectURL })
}

// Close stops listening. It is safe to call more than once.
func (l *Listener) Close() error {
	var err error
	l.stop.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = l.srv.Shutdown(ctx)
	})
	return err
}
