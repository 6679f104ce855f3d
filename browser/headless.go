package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// Headless completes a provider's login and consent pages without a screen: it follows redirects by hand
// with a cookie jar, fills and submits HTML forms, and stops at the first redirect to the client's redirect URI.
//
// It understands plain HTML only (no JavaScript): hidden fields are kept, username and password fields are
// filled, the allow/continue/sign-in button is chosen over deny/cancel ones (or the reverse with Cancel), and
// a meta refresh or a response_mode=form_post page aimed at the redirect URI ends the walk.
type Headless struct {
	// Client sends the requests. nil: a private client with a fresh cookie jar per Authorize call.
	// A given client is copied and its copy never follows redirects itself; when it has a Jar, that jar is
	// used (so a login session in it carries over between calls).
	Client   *http.Client
	Username string // filled into fields named like username/login/email/session_key/user
	Password string // filled into password fields (type=password or names like password/session_password)
	// Cancel submits the deny/cancel control (a button, a form or a link) instead of the allow one, to
	// exercise "user cancelled". Pages without such a control (a login page of a provider whose cancel
	// option comes later, or never) are completed as usual.
	Cancel  bool
	MaxHops int // most HTTP requests per Authorize; 0 = 20
	// Trace, when set, gets one line per request: method, URL, status, Location or page size, and the
	// decision taken on a page. Form values are never written (field names only), and secret URL
	// parameters (code, tokens, passwords) are replaced by REDACTED.
	Trace io.Writer
}

var (
	// ErrHopLimit: the redirect URI was not reached within Headless.MaxHops requests.
	ErrHopLimit = errors.New("headless browser: too many requests without reaching the redirect URI")
	// ErrRedirectLoop: the provider kept sending the browser to the same URL.
	ErrRedirectLoop = errors.New("headless browser: redirect loop")
)

// PageError reports that the browser stopped on a page that is neither a redirect nor a form it can
// complete, such as the error page a provider shows for an unregistered redirect_uri.
type PageError struct {
	Status int        // HTTP status of the page
	URL    string     // the page's URL, secret parameters redacted
	Text   string     // the page's visible text, whitespace collapsed, cut to about 500 characters
	Reason PageReason // why the page could not be completed
}

func (e *PageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stopped on an HTTP %d page at %s (%s)", e.Status, e.URL, e.Reason)
	if e.Text != "" {
		b.WriteString(": " + e.Text)
	}
	return b.String()
}

// PageReason says why the browser stopped on a page.
type PageReason int

const (
	// PageErrorStatus: the page came with an HTTP error status (4xx, 5xx), e.g. an unregistered redirect_uri.
	PageErrorStatus PageReason = iota + 1
	// PageLoginRejected: the login form came back after the credentials were submitted.
	PageLoginRejected
	// PageFormRepeated: submitting a form brought back the very same form.
	PageFormRepeated
	// PageNothingToFollow: no form, meta refresh or cancel link the browser can act on.
	PageNothingToFollow
	// PageRedirectWithoutLocation: a 3xx status without a Location header.
	PageRedirectWithoutLocation
)

func (r PageReason) String() string {
	switch r {
	case PageErrorStatus:
		return "error status"
	case PageLoginRejected:
		return "the login form came back after the credentials were submitted: check the username and password"
	case PageFormRepeated:
		return "the same form came back after it was submitted"
	case PageNothingToFollow:
		return "no form, link or redirect to follow"
	case PageRedirectWithoutLocation:
		return "redirect status without a Location header"
	}
	return fmt.Sprintf("PageReason(%d)", int(r))
}

const (
	defaultBrowserHops = 20
	maxPageBytes       = 4 << 20
	maxPageErrorText   = 500
	// A GET may legitimately repeat (a provider sends the browser back to the original authorization
	// URL after login); more visits than this are a loop.
	maxSameGet = 3
	// quickRefresh is the longest meta refresh delay (seconds) taken as a redirect on a page with forms.
	quickRefresh = 5
)

// browserRequest is the next request the browser will send.
type browserRequest struct {
	method string
	url    *url.URL
	body   string // form-encoded, for POST
	fields string // form field names (never values) for the trace
	// fromPasswordForm marks the submission of a form with a password field, so that the same login
	// form coming back can be reported as rejected credentials rather than submitted again.
	fromPasswordForm bool
	secrets          map[string]bool // lower-case names of the password fields submitted (GET forms put them in the URL)
	origin           string          // Origin header of a form POST: the page the form was on
}

// redacted renders the request URL for traces and errors.
func (r browserRequest) redacted() string { return redactSecretsInURL(r.url, r.secrets) }

// Authorize starts at authURL and walks the provider's pages until it is redirected to redirectURI; it returns
// that redirect URL (with code and state, or error parameters) without requesting it. redirectURI "" means
// the authURL's redirect_uri parameter. A response_mode=form_post response is returned as the redirect URI
// with the posted parameters in its query.
func (b *Headless) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	start, err := url.Parse(authURL)
	if err != nil || (start.Scheme != "http" && start.Scheme != "https") || start.Host == "" {
		return "", fmt.Errorf("headless browser: authorization URL %q is not an absolute http(s) URL", authURL)
	}
	if redirectURI == "" {
		redirectURI = start.Query().Get("redirect_uri")
		if redirectURI == "" {
			return "", fmt.Errorf("headless browser: the authorization URL has no redirect_uri parameter; pass the redirect URI explicitly")
		}
	}
	target, err := url.Parse(redirectURI)
	if err != nil || target.Scheme == "" {
		return "", fmt.Errorf("headless browser: redirect URI %q is not an absolute URL", redirectURI)
	}
	client, err := b.httpClient()
	if err != nil {
		return "", err
	}
	maxHops := b.MaxHops
	if maxHops <= 0 {
		maxHops = defaultBrowserHops
	}

	visits := map[string]int{}
	req := browserRequest{method: http.MethodGet, url: start}
	var last *PageError // the last page seen, to explain a form that comes back
	for hop := 0; ; hop++ {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("headless browser: %w", err)
		}
		if req.method == http.MethodGet && isRedirectTo(req.url, target, redirectURI) {
			return req.url.String(), nil
		}
		if req.url.Scheme != "http" && req.url.Scheme != "https" {
			return "", fmt.Errorf("headless browser: the provider sent the browser to %s, which is neither http(s) nor the redirect URI %s", req.redacted(), redirectURI)
		}
		if hop >= maxHops {
			return "", fmt.Errorf("%w: %d requests, last %s %s", ErrHopLimit, hop, req.method, req.redacted())
		}
		key := req.method + " " + req.url.String() + "\n" + req.body
		visits[key]++
		if req.method != http.MethodGet && visits[key] > 1 && last != nil {
			// The server answered a form with the same form: submitting it again would change nothing.
			last.Reason = PageFormRepeated
			return "", last
		}
		if visits[key] > maxSameGet {
			return "", fmt.Errorf("%w: %s was requested %d times", ErrRedirectLoop, req.redacted(), visits[key])
		}

		resp, err := b.send(ctx, client, req)
		if err != nil {
			return "", err
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			resp.Body.Close()
			next, err := req.url.Parse(loc)
			if err != nil {
				return "", fmt.Errorf("headless browser: %s answered %d with an unparsable Location: %w", req.redacted(), resp.StatusCode, err)
			}
			b.tracef("%s -> %d Location: %s", b.describe(req), resp.StatusCode, redactSecretsInURL(next, nil))
			if isRedirectTo(next, target, redirectURI) {
				return next.String(), nil
			}
			if resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect {
				req = browserRequest{method: req.method, url: next, body: req.body, fields: req.fields, secrets: req.secrets, origin: req.origin}
			} else {
				req = browserRequest{method: http.MethodGet, url: next}
			}
			continue
		}

		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("headless browser: reading %s: %w", req.redacted(), err)
		}
		page := parsePage(raw, resp.Header.Get("Content-Type"), req.url)
		stop := &PageError{Status: resp.StatusCode, URL: req.redacted(), Text: cutText(page.text, maxPageErrorText)}
		summary := fmt.Sprintf("%s -> %d %s (%d bytes)", b.describe(req), resp.StatusCode, resp.Header.Get("Content-Type"), len(raw))
		switch {
		case req.fromPasswordForm && page.hasPasswordForm():
			// Providers re-render a rejected login with 200, 400 or 401 alike.
			stop.Reason = PageLoginRejected
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			stop.Reason = PageRedirectWithoutLocation
		case resp.StatusCode >= 400:
			stop.Reason = PageErrorStatus
		}
		if stop.Reason != 0 {
			b.tracef("%s: stop, %s", summary, stop.Reason)
			return "", stop
		}

		next, note, ok := b.nextRequest(page, target, redirectURI)
		if !ok {
			stop.Reason = PageNothingToFollow
			b.tracef("%s: stop, %s", summary, stop.Reason)
			return "", stop
		}
		b.tracef("%s: %s", summary, note)
		if next.method == "" { // a form_post response aimed at the redirect URI
			return next.url.String(), nil
		}
		if next.method == http.MethodPost {
			next.origin = req.url.Scheme + "://" + req.url.Host
		}
		last = stop
		req = next
	}
}

// httpClient returns a copy of the configured client (or a new one) that leaves redirects to Authorize and
// keeps cookies.
func (b *Headless) httpClient() (*http.Client, error) {
	var c http.Client
	if b.Client != nil {
		c = *b.Client
	}
	if c.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("headless browser: cookie jar: %w", err)
		}
		c.Jar = jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, nil
}

func (b *Headless) send(ctx context.Context, client *http.Client, r browserRequest) (*http.Response, error) {
	var body io.Reader
	if r.method != http.MethodGet && r.method != http.MethodHead {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("headless browser: %s %s: %w", r.method, r.redacted(), err)
	}
	req.Header.Set("User-Agent", "oauthdiag-headless/1")
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.origin != "" {
		// Browsers send the form page's Origin with every form POST; some providers check it against CSRF.
		req.Header.Set("Origin", r.origin)
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, which may carry secrets; report the redacted one instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("headless browser: %s %s: %w", r.method, r.redacted(), err)
	}
	return resp, nil
}

func (b *Headless) tracef(format string, a ...any) {
	if b.Trace != nil {
		fmt.Fprintf(b.Trace, format+"\n", a...)
	}
}

func (b *Headless) describe(r browserRequest) string {
	s := r.method + " " + r.redacted()
	if r.fields != "" {
		s += " [" + r.fields + "]"
	}
	return s
}

// nextRequest decides what to do on a page. A request with an empty method means "done": its URL is the
// authorization response (a form_post form aimed at the redirect URI).
func (b *Headless) nextRequest(p *htmlPage, target *url.URL, redirectURI string) (browserRequest, string, bool) {
	// A quick meta refresh is a redirect; a slow one (a session-timeout notice) only matters on a page
	// with nothing else to do.
	if p.refresh != nil && (p.refreshDelay <= quickRefresh || len(p.forms) == 0) {
		return browserRequest{method: http.MethodGet, url: p.refresh}, "meta refresh to " + redactSecretsInURL(p.refresh, nil), true
	}
	// A form aimed at the redirect URI is a response_mode=form_post answer: take its fields, do not post.
	for _, f := range p.forms {
		if isRedirectTo(f.action, target, redirectURI) {
			u := *f.action
			q := u.Query()
			for _, kv := range f.fill(b, nil) {
				q.Set(kv[0], kv[1])
			}
			u.RawQuery = q.Encode()
			return browserRequest{url: &u}, "form_post response to the redirect URI", true
		}
	}
	if b.Cancel {
		if req, note, ok := b.cancelRequest(p); ok {
			return req, note, true
		}
	}
	f := chooseForm(p.forms)
	if f == nil {
		return browserRequest{}, "", false
	}
	btn := f.allowButton()
	return b.submit(f, btn), "submitting " + describeForm(f, btn), true
}

// cancelRequest finds the page's deny/cancel control: a deny button, a form aimed at a cancel URL, or a
// cancel link, in that order.
func (b *Headless) cancelRequest(p *htmlPage) (browserRequest, string, bool) {
	for _, f := range p.forms {
		for i := range f.controls {
			c := &f.controls[i]
			if c.isSubmitter() && looksLikeDeny(c.label()) {
				return b.submit(f, c), "submitting " + describeForm(f, c), true
			}
		}
	}
	for _, f := range p.forms {
		if looksLikeDeny(f.action.Path) {
			return b.submit(f, nil), "submitting " + describeForm(f, nil), true
		}
	}
	for _, l := range p.links {
		if looksLikeDeny(l.text) || looksLikeDeny(l.href.Path) {
			return browserRequest{method: http.MethodGet, url: l.href}, fmt.Sprintf("following the cancel link %q", l.text), true
		}
	}
	return browserRequest{}, "", false
}

// submit builds the request a browser sends for form f submitted with button btn (nil: implicit submission).
func (b *Headless) submit(f *htmlForm, btn *formControl) browserRequest {
	pairs := f.fill(b, btn)
	values := make([]string, 0, len(pairs))
	names := make([]string, 0, len(pairs))
	for _, kv := range pairs {
		values = append(values, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		names = append(names, kv[0])
	}
	if btn != nil && btn.name != "" && btn.typ != "image" {
		// The button's value says which choice was made and is never secret.
		names[len(names)-1] = btn.name + "=" + btn.value
	}
	encoded := strings.Join(values, "&")
	r := browserRequest{method: f.method, fields: strings.Join(names, " "), fromPasswordForm: f.hasPassword()}
	for i := range f.controls {
		if c := &f.controls[i]; c.isPassword() && c.name != "" {
			if r.secrets == nil {
				r.secrets = map[string]bool{}
			}
			r.secrets[strings.ToLower(c.name)] = true
		}
	}
	if f.method == http.MethodGet {
		u := *f.action
		u.RawQuery = encoded // a GET form replaces the action's query
		u.Fragment = ""
		r.url = &u
		return r
	}
	r.url = f.action
	r.body = encoded
	return r
}

func describeForm(f *htmlForm, btn *formControl) string {
	s := "form " + f.method + " " + redactSecretsInURL(f.action, nil)
	if btn != nil {
		s += fmt.Sprintf(" with button %q", btn.caption())
	}
	return s
}
