package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HeadlessBrowser completes a provider's login and consent pages without a screen: it follows redirects by hand
// with a cookie jar, fills and submits HTML forms, and stops at the first redirect to the client's redirect URI.
//
// It understands plain HTML only (no JavaScript): hidden fields are kept, username and password fields are
// filled, the allow/continue/sign-in button is chosen over deny/cancel ones (or the reverse with Cancel), and
// a meta refresh or a response_mode=form_post page aimed at the redirect URI ends the walk.
type HeadlessBrowser struct {
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

var (
	// ErrBrowserHopLimit: the redirect URI was not reached within HeadlessBrowser.MaxHops requests.
	ErrBrowserHopLimit = errors.New("headless browser: too many requests without reaching the redirect URI")
	// ErrBrowserLoop: the provider kept sending the browser to the same URL.
	ErrBrowserLoop = errors.New("headless browser: redirect loop")
)

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
func (b *HeadlessBrowser) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
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
			return "", fmt.Errorf("%w: %d requests, last %s %s", ErrBrowserHopLimit, hop, req.method, req.redacted())
		}
		key := req.method + " " + req.url.String() + "\n" + req.body
		visits[key]++
		if req.method != http.MethodGet && visits[key] > 1 && last != nil {
			// The server answered a form with the same form: submitting it again would change nothing.
			last.Reason = PageFormRepeated
			return "", last
		}
		if visits[key] > maxSameGet {
			return "", fmt.Errorf("%w: %s was requested %d times", ErrBrowserLoop, req.redacted(), visits[key])
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
func (b *HeadlessBrowser) httpClient() (*http.Client, error) {
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

func (b *HeadlessBrowser) send(ctx context.Context, client *http.Client, r browserRequest) (*http.Response, error) {
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

func (b *HeadlessBrowser) tracef(format string, a ...any) {
	if b.Trace != nil {
		fmt.Fprintf(b.Trace, format+"\n", a...)
	}
}

func (b *HeadlessBrowser) describe(r browserRequest) string {
	s := r.method + " " + r.redacted()
	if r.fields != "" {
		s += " [" + r.fields + "]"
	}
	return s
}

// nextRequest decides what to do on a page. A request with an empty method means "done": its URL is the
// authorization response (a form_post form aimed at the redirect URI).
func (b *HeadlessBrowser) nextRequest(p *htmlPage, target *url.URL, redirectURI string) (browserRequest, string, bool) {
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
func (b *HeadlessBrowser) cancelRequest(p *htmlPage) (browserRequest, string, bool) {
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
func (b *HeadlessBrowser) submit(f *htmlForm, btn *formControl) browserRequest {
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

// isRedirectTo reports whether u is the client's redirect URI: it starts with the registered string, or it
// has the same scheme, host, port and path and carries the registered URI's query parameters.
func isRedirectTo(u, target *url.URL, redirectURI string) bool {
	if u == nil {
		return false
	}
	if strings.HasPrefix(u.String(), redirectURI) {
		return true
	}
	if !strings.EqualFold(u.Scheme, target.Scheme) || !strings.EqualFold(u.Hostname(), target.Hostname()) ||
		effectivePort(u) != effectivePort(target) || u.Opaque != target.Opaque {
		return false
	}
	if normalPath(u.EscapedPath()) != normalPath(target.EscapedPath()) {
		return false
	}
	got := u.Query()
	for k, want := range target.Query() {
		for _, v := range want {
			if !slices.Contains(got[k], v) {
				return false
			}
		}
	}
	return true
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func normalPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// secretURLParams are redacted wherever the browser writes a URL (trace, errors).
var secretURLParams = map[string]bool{
	"code": true, "state": true, "access_token": true, "id_token": true, "refresh_token": true, "token": true,
	"client_secret": true, "code_verifier": true, "client_assertion": true, "assertion": true,
	"password": true, "passwd": true, "pwd": true, "pass": true, "session_password": true,
}

// redactSecretsInURL renders u with the values of secret query and fragment parameters (and of the extra
// names, e.g. a form's password fields) replaced by REDACTED, and any userinfo password hidden.
func redactSecretsInURL(u *url.URL, extra map[string]bool) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery = redactParams(c.RawQuery, extra)
	if c.Fragment != "" {
		c.Fragment = ""
		c.RawFragment = ""
		s := c.Redacted()
		return s + "#" + redactParams(u.EscapedFragment(), extra)
	}
	return c.Redacted()
}

func redactParams(raw string, extra map[string]bool) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		key = strings.ToLower(key)
		if hasValue && (secretURLParams[key] || extra[key]) {
			parts[i] = name + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// cutText shortens s to about n bytes at a rune boundary, marking the cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// ---- pages and forms ----

type htmlPage struct {
	forms        []*htmlForm
	links        []htmlLink
	refresh      *url.URL // <meta http-equiv=refresh content="0;url=...">
	refreshDelay float64  // its delay in seconds
	text         string   // visible text, whitespace collapsed
}

type htmlLink struct {
	href *url.URL
	text string
}

type htmlForm struct {
	id       string
	action   *url.URL
	method   string // GET or POST
	controls []formControl
}

type formControl struct {
	tag          string // input, button, select, textarea
	typ          string // lower-case type; "submit" for a <button> without one
	name, value  string
	id, text     string // text: a button's content
	autocomplete string
	owner        string // the form attribute: id of the form this control belongs to, when outside it
	checked      bool   // a checked checkbox or radio; for a select, that an option was marked selected
	disabled     bool
}

func (p *htmlPage) hasPasswordForm() bool {
	for _, f := range p.forms {
		if f.hasPassword() {
			return true
		}
	}
	return false
}

func (f *htmlForm) hasPassword() bool {
	for i := range f.controls {
		if f.controls[i].isPassword() {
			return true
		}
	}
	return false
}

func (c *formControl) isSubmitter() bool {
	return (c.tag == "button" || c.tag == "input") && (c.typ == "submit" || c.typ == "image")
}

// caption is what a user sees on a button.
func (c *formControl) caption() string {
	for _, v := range []string{c.text, c.value, c.name} {
		if v != "" {
			return v
		}
	}
	return "(unlabelled)"
}

func (c *formControl) label() string {
	return strings.Join([]string{c.name, c.value, c.text, c.id}, " ")
}

var usernameFieldNames = map[string]bool{
	"username": true, "user": true, "login": true, "email": true, "session_key": true, "user_name": true,
	"uname": true, "identifier": true, "loginname": true, "login_name": true, "j_username": true,
	"email_address": true, "loginfmt": true,
}

var passwordFieldNames = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "session_password": true,
	"j_password": true, "user_password": true,
}

func (c *formControl) isPassword() bool {
	if c.tag != "input" {
		return false
	}
	return c.typ == "password" || c.autocomplete == "current-password" ||
		(isTextInput(c.typ) && passwordFieldNames[strings.ToLower(c.name)])
}

func (c *formControl) isUsername() bool {
	if c.tag != "input" || !isTextInput(c.typ) {
		return false
	}
	return c.autocomplete == "username" || c.autocomplete == "email" || usernameFieldNames[strings.ToLower(c.name)]
}

func isTextInput(typ string) bool {
	switch typ {
	case "", "text", "email", "tel", "search":
		return true
	}
	return false
}

// fill returns the name/value pairs a browser submits for the form with button btn, in document order,
// the button last.
func (f *htmlForm) fill(b *HeadlessBrowser, btn *formControl) [][2]string {
	var out [][2]string
	for i := range f.controls {
		c := &f.controls[i]
		if c.name == "" || c.disabled || c.isSubmitter() {
			continue
		}
		switch {
		case c.typ == "reset" || c.typ == "button" || c.typ == "file":
			continue
		case c.typ == "checkbox" || c.typ == "radio":
			if c.checked {
				v := c.value
				if v == "" {
					v = "on"
				}
				out = append(out, [2]string{c.name, v})
			}
		case c.isPassword():
			out = append(out, [2]string{c.name, b.Password})
		case c.isUsername() && b.Username != "":
			out = append(out, [2]string{c.name, b.Username})
		default:
			out = append(out, [2]string{c.name, c.value})
		}
	}
	if btn != nil && btn.name != "" {
		if btn.typ == "image" {
			out = append(out, [2]string{btn.name + ".x", "0"}, [2]string{btn.name + ".y", "0"})
		} else {
			out = append(out, [2]string{btn.name, btn.value})
		}
	}
	return out
}

// allowButton picks the submit button a consenting user would press: the first one that reads like
// allow/continue/sign in, else the first one that does not read like deny/cancel, else none (implicit
// submission).
func (f *htmlForm) allowButton() *formControl {
	var fallback *formControl
	for i := range f.controls {
		c := &f.controls[i]
		if !c.isSubmitter() || c.disabled || looksLikeDeny(c.label()) {
			continue
		}
		if looksLikeAllow(c.label()) {
			return c
		}
		if fallback == nil {
			fallback = c
		}
	}
	return fallback
}

// chooseForm picks the form a user would fill in: login forms first, then forms with an allow button,
// POST before GET; forms aimed at cancel/logout URLs and forms offering only deny buttons are skipped.
func chooseForm(forms []*htmlForm) *htmlForm {
	var best *htmlForm
	bestScore := -1
	for _, f := range forms {
		if looksLikeDeny(f.action.Path) || strings.Contains(strings.ToLower(f.action.Path), "logout") {
			continue
		}
		score := 0
		submitters, allowed := 0, false
		for i := range f.controls {
			c := &f.controls[i]
			switch {
			case c.isPassword():
				score += 4
			case c.isUsername():
				score += 2
			}
			if c.isSubmitter() {
				submitters++
				if !looksLikeDeny(c.label()) {
					allowed = true
					if looksLikeAllow(c.label()) {
						score += 2
					}
				}
			}
		}
		if submitters > 0 && !allowed {
			continue
		}
		if f.method == http.MethodPost {
			score++
		}
		if score > bestScore {
			best, bestScore = f, score
		}
	}
	return best
}

var denyWords = []string{"deny", "cancel", "abort", "reject", "decline", "refuse", "disallow", "not now", "don't allow"}

var allowWords = []string{
	"allow", "continue", "sign in", "sign-in", "signin", "log in", "log-in", "login", "accept", "consent",
	"authori", "approve", "confirm", "grant", "submit", "proceed", "next", "yes",
}

func looksLikeDeny(s string) bool { return containsAnyFold(s, denyWords) }

func looksLikeAllow(s string) bool { return !looksLikeDeny(s) && containsAnyFold(s, allowWords) }

func containsAnyFold(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// parsePage extracts forms, links, a meta refresh and the visible text from a response body. Non-HTML
// bodies (a text/plain or JSON error) only give text.
func parsePage(body []byte, contentType string, base *url.URL) *htmlPage {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	s := string(body)
	if !strings.Contains(mediaType, "html") && (mediaType != "" || !strings.HasPrefix(strings.TrimSpace(s), "<")) {
		return &htmlPage{text: collapseSpace(s)}
	}
	return buildPage(tokenizeHTML(s), base)
}

func buildPage(toks []htmlToken, docURL *url.URL) *htmlPage {
	p := &htmlPage{}
	base := docURL
	resolve := func(ref string) *url.URL {
		u, err := base.Parse(strings.TrimSpace(ref))
		if err != nil {
			return nil
		}
		return u
	}
	var (
		text     strings.Builder
		form     *htmlForm
		orphans  []formControl // controls outside their form, tied to it by form="id"
		button   *formControl  // open <button>, collecting its text
		link     *htmlLink     // open <a>, collecting its text
		sel      *formControl  // open <select>
		selFirst *string       // first option's value, used when none is selected
		option   *string       // open <option> without a value attribute: its text is the value
		optSel   bool
		inert    int // depth inside <template>, whose content is not rendered
	)
	addControl := func(c formControl) {
		switch {
		case c.owner != "":
			orphans = append(orphans, c)
		case form != nil:
			form.controls = append(form.controls, c)
		}
	}
	chooseOption := func(v string, selected bool) {
		if selFirst == nil {
			selFirst = &v
		}
		if selected {
			sel.value, sel.checked = v, true
		}
	}
	closeOption := func() {
		if option != nil && sel != nil {
			chooseOption(collapseSpace(*option), optSel)
		}
		option = nil
	}
	for _, t := range toks {
		if t.kind == tokText {
			if inert > 0 {
				continue
			}
			v := html.UnescapeString(t.text)
			text.WriteString(v)
			for _, open := range []*string{buttonText(button), linkText(link), option} {
				if open != nil {
					*open += v
				}
			}
			continue
		}
		if !inlineElements[t.name] {
			text.WriteByte(' ')
		}
		if t.kind == tokEnd {
			switch t.name {
			case "template":
				if inert > 0 {
					inert--
				}
			case "form":
				form = nil
			case "button":
				if button != nil {
					button.text = collapseSpace(button.text)
					addControl(*button)
					button = nil
				}
			case "a":
				if link != nil {
					link.text = collapseSpace(link.text)
					p.links = append(p.links, *link)
					link = nil
				}
			case "option":
				closeOption()
			case "select":
				closeOption()
				if sel != nil {
					if !sel.checked && selFirst != nil {
						sel.value = *selFirst
					}
					addControl(*sel)
					sel = nil
				}
			}
			continue
		}
		if inert > 0 {
			continue
		}
		a := t.attrs
		_, disabled := a["disabled"]
		switch t.name {
		case "template":
			if !t.selfClosing {
				inert++
			}
		case "base":
			if href, ok := a["href"]; ok {
				if u := resolve(href); u != nil {
					base = u
				}
			}
		case "meta":
			if strings.EqualFold(a["http-equiv"], "refresh") && p.refresh == nil {
				p.refresh, p.refreshDelay = refreshTarget(a["content"], resolve)
			}
		case "form":
			method := http.MethodGet
			if strings.EqualFold(strings.TrimSpace(a["method"]), "post") {
				method = http.MethodPost
			}
			action := docURL
			if v := strings.TrimSpace(a["action"]); v != "" {
				if u := resolve(v); u != nil {
					action = u
				}
			}
			form = &htmlForm{id: a["id"], action: action, method: method}
			p.forms = append(p.forms, form)
		case "input":
			_, checked := a["checked"]
			addControl(formControl{
				tag: "input", typ: strings.ToLower(strings.TrimSpace(a["type"])), name: a["name"], value: a["value"],
				id: a["id"], autocomplete: strings.ToLower(a["autocomplete"]), checked: checked, disabled: disabled,
				owner: a["form"],
			})
		case "button":
			typ := strings.ToLower(strings.TrimSpace(a["type"]))
			if typ == "" {
				typ = "submit"
			}
			button = &formControl{tag: "button", typ: typ, name: a["name"], value: a["value"], id: a["id"], disabled: disabled, owner: a["form"]}
		case "textarea":
			addControl(formControl{
				tag: "textarea", typ: "textarea", name: a["name"], disabled: disabled, owner: a["form"],
				value: html.UnescapeString(strings.TrimPrefix(t.rawText, "\n")),
			})
		case "select":
			sel = &formControl{tag: "select", typ: "select", name: a["name"], disabled: disabled, owner: a["form"]}
			selFirst = nil
		case "option":
			closeOption()
			_, optSel = a["selected"]
			if v, ok := a["value"]; ok {
				if sel != nil {
					chooseOption(v, optSel)
				}
			} else {
				option = new(string)
			}
		case "a":
			if href, ok := a["href"]; ok && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(href)), "javascript:") {
				if u := resolve(href); u != nil {
					link = &htmlLink{href: u}
				}
			}
		}
	}
	for _, c := range orphans {
		for _, f := range p.forms {
			if f.id == c.owner {
				f.controls = append(f.controls, c)
				break
			}
		}
	}
	p.text = collapseSpace(text.String())
	return p
}

func buttonText(b *formControl) *string {
	if b == nil {
		return nil
	}
	return &b.text
}

func linkText(l *htmlLink) *string {
	if l == nil {
		return nil
	}
	return &l.text
}

// refreshTarget parses a meta refresh content value such as `0; url='/next'` into its URL and delay.
func refreshTarget(content string, resolve func(string) *url.URL) (*url.URL, float64) {
	delay, rest, ok := strings.Cut(content, ";")
	if !ok {
		delay, rest, ok = strings.Cut(content, ",")
		if !ok {
			return nil, 0
		}
	}
	seconds, err := strconv.ParseFloat(strings.TrimSpace(delay), 64)
	if err != nil || seconds < 0 {
		return nil, 0
	}
	rest = strings.TrimSpace(rest)
	if len(rest) >= 4 && strings.EqualFold(rest[:3], "url") {
		rest = strings.TrimSpace(rest[3:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
	}
	rest = strings.Trim(rest, `'"`)
	if rest == "" {
		return nil, 0
	}
	return resolve(rest), seconds
}

// inlineElements do not break the visible text into separate words.
var inlineElements = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "cite": true, "code": true, "em": true, "i": true,
	"kbd": true, "label": true, "mark": true, "q": true, "s": true, "small": true, "span": true,
	"strong": true, "sub": true, "sup": true, "time": true, "u": true, "var": true,
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// ---- a small tolerant HTML tokenizer (enough for login and consent pages) ----

type tokenKind int

const (
	tokText tokenKind = iota
	tokStart
	tokEnd
)

type htmlToken struct {
	kind        tokenKind
	name        string            // lower-case tag name
	attrs       map[string]string // unescaped; the first of duplicate attributes wins
	selfClosing bool
	text        string // raw text (tokText)
	rawText     string // content of a raw-text element (script, style, textarea, title): never markup
}

// rawTextElements hold text up to their closing tag, never markup.
var rawTextElements = map[string]bool{"script": true, "style": true, "textarea": true, "title": true}

func tokenizeHTML(s string) []htmlToken {
	var toks []htmlToken
	i := 0
	for i < len(s) {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			toks = append(toks, htmlToken{kind: tokText, text: s[i:]})
			break
		}
		if lt > 0 {
			toks = append(toks, htmlToken{kind: tokText, text: s[i : i+lt]})
		}
		i += lt
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return toks
			}
			i += 4 + end + 3
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return toks
			}
			i += end + 1
		case strings.HasPrefix(rest, "</") && len(rest) > 2 && isASCIILetter(rest[2]):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return toks
			}
			name := rest[2:end]
			if sp := strings.IndexAny(name, " \t\r\n\f/"); sp >= 0 {
				name = name[:sp]
			}
			toks = append(toks, htmlToken{kind: tokEnd, name: strings.ToLower(name)})
			i += end + 1
		case len(rest) > 1 && isASCIILetter(rest[1]):
			tok, n := parseStartTag(rest)
			i += n
			if rawTextElements[tok.name] && !tok.selfClosing {
				closer := "</" + tok.name
				end := indexFold(s[i:], closer)
				if end < 0 {
					end = len(s) - i
				}
				tok.rawText = s[i : i+end]
				toks = append(toks, tok)
				toks = append(toks, htmlToken{kind: tokEnd, name: tok.name})
				i += end
				if gt := strings.IndexByte(s[i:], '>'); gt >= 0 {
					i += gt + 1
				} else {
					i = len(s)
				}
				continue
			}
			toks = append(toks, tok)
		default:
			toks = append(toks, htmlToken{kind: tokText, text: "<"})
			i++
		}
	}
	return toks
}

// parseStartTag parses "<name attr=value ...>" at the start of s and returns the token and its length.
func parseStartTag(s string) (htmlToken, int) {
	i := 1
	for i < len(s) && !isTagSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	tok := htmlToken{kind: tokStart, name: strings.ToLower(s[1:i]), attrs: map[string]string{}}
	for i < len(s) {
		for i < len(s) && isTagSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return tok, i + 1
		}
		if s[i] == '/' {
			if i+1 < len(s) && s[i+1] == '>' {
				tok.selfClosing = true
				return tok, i + 2
			}
			i++
			continue
		}
		start := i
		for i < len(s) && !isTagSpace(s[i]) && s[i] != '=' && s[i] != '>' && !(s[i] == '/' && i+1 < len(s) && s[i+1] == '>') {
			i++
		}
		name := strings.ToLower(s[start:i])
		for i < len(s) && isTagSpace(s[i]) {
			i++
		}
		value := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isTagSpace(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					value, i = s[i+1:], len(s)
				} else {
					value, i = s[i+1:i+1+end], i+1+end+1
				}
			} else {
				start := i
				for i < len(s) && !isTagSpace(s[i]) && s[i] != '>' {
					i++
				}
				value = s[start:i]
			}
		}
		if _, dup := tok.attrs[name]; !dup && name != "" {
			tok.attrs[name] = html.UnescapeString(value)
		}
	}
	return tok, len(s)
}

func isTagSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}
