package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAuthorizationRequestValidation(t *testing.T) {
	edit := func(kv ...string) url.Values {
		q := authQuery("openid profile")
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q
	}
	tests := []struct {
		name       string
		compliance Compliance
		q          url.Values
		page       string // an HTML error page containing this text, no redirect
		err        string // else: error redirect with this code
		desc       string
	}{
		{"no client_id", ComplianceLinkedIn, edit("client_id", ""), `The &#34;client_id&#34; parameter is missing.`, "", ""},
		{"unknown client_id", ComplianceLinkedIn, edit("client_id", "stranger"), "is not registered", "", ""},
		{"no redirect_uri", ComplianceLinkedIn, edit("redirect_uri", ""), "parameter is missing", "", ""},
		{"trailing slash differs", ComplianceLinkedIn, edit("redirect_uri", testRedirect+"/"), "The redirect_uri does not match the registered value", "", ""},
		{"other port", ComplianceStrict, edit("redirect_uri", "http://127.0.0.1:8766/callback"), "The redirect_uri does not match the registered value", "", ""},
		{"no response_type", ComplianceLinkedIn, edit("response_type", ""), "", "invalid_request", `A required parameter "response_type" is missing`},
		{"implicit flow", ComplianceLinkedIn, edit("response_type", "token"), "", "unsupported_response_type", ""},
		{"no scope", ComplianceLinkedIn, edit("scope", ""), "", "invalid_request", `You need to pass the "scope" parameter`},
		{"unknown scope", ComplianceLinkedIn, edit("scope", "openid r_fullprofile"), "", "unauthorized_scope_error", `Scope "r_fullprofile" is not authorized for your application`},
		{"comma-separated scopes", ComplianceLinkedIn, edit("scope", "openid,profile"), "", "unauthorized_scope_error", `Scope "openid,profile" is not authorized for your application`},
		{"unknown scope strict", ComplianceStrict, edit("scope", "offline_access"), "", "invalid_scope", ""},
		{"unknown PKCE method", ComplianceLinkedIn, edit("code_challenge_method", "S512"), "", "invalid_request", ""},
		{"method without challenge", ComplianceLinkedIn, edit("code_challenge", ""), "", "invalid_request", "code_challenge_method was sent without code_challenge"},
		{"short challenge strict", ComplianceStrict, edit("code_challenge", "abc"), "", "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			r := c.authorize(tt.q)
			if tt.page != "" {
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(r.raw, tt.page) {
					t.Fatalf("got %d Location=%q body %q, want a 400 page with %q", r.status, r.header.Get("Location"), r.raw, tt.page)
				}
				if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
					t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
				}
				return
			}
			p := redirectParams(t, r)
			if p.Get("error") != tt.err || (tt.desc != "" && p.Get("error_description") != tt.desc) || p.Get("state") != "st-123" {
				t.Fatalf("redirect params %v, want error=%q error_description=%q state=st-123", p, tt.err, tt.desc)
			}
			if p.Get("code") != "" {
				t.Errorf("error redirect carries a code")
			}
			if got := c.srv.Stats(); got.AuthorizationRequests != 1 || got.CodesIssued != 0 {
				t.Errorf("stats %+v", got)
			}
		})
	}
}

func TestAuthorizationResponseIssuer(t *testing.T) {
	for _, tt := range []struct {
		compliance Compliance
		wantIss    bool
	}{{ComplianceLinkedIn, false}, {ComplianceStrict, true}, {ComplianceLenient, false}} {
		t.Run(string(tt.compliance), func(t *testing.T) {
			c := start(t, WithCompliance(tt.compliance))
			p := redirectParams(t, c.authorize(authQuery("openid")))
			want := ""
			if tt.wantIss {
				want = c.srv.Issuer()
			}
			if p.Get("iss") != want || p.Get("state") != "st-123" || !strings.HasPrefix(p.Get("code"), "AQ") {
				t.Fatalf("redirect params %v, want iss=%q", p, want)
			}
		})
	}
}

func TestLenientAcceptsUnregisteredRedirect(t *testing.T) {
	c := start(t, WithCompliance(ComplianceLenient))
	q := authQuery("openid")
	q.Set("redirect_uri", "http://127.0.0.1:9999/evil")
	r := c.authorize(q)
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "http://127.0.0.1:9999/evil?") {
		t.Fatalf("lenient: %d Location=%q", r.status, r.header.Get("Location"))
	}
}

func TestRedirectKeepsRegisteredQuery(t *testing.T) {
	const uri = "http://127.0.0.1:8765/callback?tenant=a"
	c := start(t, WithClient("app", "secret", uri))
	q := authQuery("openid")
	q.Set("client_id", "app")
	q.Set("redirect_uri", uri)
	loc, err := url.Parse(c.authorize(q).header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("tenant") != "a" || loc.Query().Get("code") == "" {
		t.Fatalf("Location %q lost the registered query or the code", loc)
	}
}

// form is one HTML form as a simple headless driver sees it.
type form struct {
	action string
	fields url.Values
}

var (
	formTag   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	inputTag  = regexp.MustCompile(`<input type="(?:hidden|text|password)" name="([^"]+)"[^>]*?(?: value="([^"]*)")?>`)
	buttonTag = regexp.MustCompile(`<button type="submit"[^>]*name="action" value="([^"]+)">([^<]+)</button>`)
)

// parseForm finds the page's form, its inputs, and its buttons by label.
func parseForm(t *testing.T, page string) (form, map[string]string) {
	t.Helper()
	m := formTag.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page %q", page)
	}
	f := form{action: m[1], fields: url.Values{}}
	for _, in := range inputTag.FindAllStringSubmatch(m[2], -1) {
		f.fields.Set(in[1], in[2])
	}
	buttons := map[string]string{}
	for _, b := range buttonTag.FindAllStringSubmatch(m[2], -1) {
		buttons[b[2]] = b[1]
	}
	return f, buttons
}

func (c *testClient) submit(f form, button string, buttons map[string]string, set ...string) result {
	c.t.Helper()
	vals := url.Values{}
	for k, v := range f.fields {
		vals[k] = v
	}
	for i := 0; i+1 < len(set); i += 2 {
		vals.Set(set[i], set[i+1])
	}
	if button != "" {
		v, ok := buttons[button]
		if !ok {
			c.t.Fatalf("no %q button among %v", button, buttons)
		}
		vals.Set("action", v)
	}
	return c.post(f.action, vals)
}

func TestLoginAndConsentPages(t *testing.T) {
	tests := []struct {
		name         string
		compliance   Compliance
		loginButton  string
		consentBtn   string
		wantErr      string
		wantCode     bool
		emptyLogin   bool
		wantConsents int
	}{
		{"allow", ComplianceLinkedIn, "Sign in", "Allow", "", true, false, 1},
		{"enter key: no button value", ComplianceLinkedIn, "", "", "", true, false, 1},
		{"cancel at login", ComplianceLinkedIn, "Cancel", "", "user_cancelled_login", false, false, 0},
		{"cancel at consent", ComplianceLinkedIn, "Sign in", "Cancel", "user_cancelled_authorize", false, false, 0},
		{"cancel at consent strict", ComplianceStrict, "Sign in", "Cancel", "access_denied", false, false, 0},
		{"empty password first", ComplianceLinkedIn, "Sign in", "Allow", "", true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, WithAutoConsent(false), WithCompliance(tt.compliance))
			page := c.authorize(authQuery("openid profile email"))
			if page.status != 200 || !strings.Contains(page.raw, "session_key") {
				t.Fatalf("login page: %d %q", page.status, page.raw)
			}
			login, buttons := parseForm(t, page.raw)
			if tt.emptyLogin {
				again := c.submit(login, tt.loginButton, buttons, "session_key", "ada@example.com")
				if again.status != http.StatusBadRequest || !strings.Contains(again.raw, "session_password") {
					t.Fatalf("empty password: %d %q", again.status, again.raw)
				}
				login, buttons = parseForm(t, again.raw)
			}
			r := c.submit(login, tt.loginButton, buttons, "session_key", "ada@example.com", "session_password", "pw")
			if r.status == http.StatusOK {
				if !strings.Contains(r.raw, "Use the primary email address") {
					t.Errorf("consent page does not list the email scope: %q", r.raw)
				}
				consent, cbuttons := parseForm(t, r.raw)
				r = c.submit(consent, tt.consentBtn, cbuttons)
			}
			if r.status != http.StatusSeeOther {
				t.Fatalf("final answer %d %q, want 303", r.status, r.raw)
			}
			p := redirectParams(t, r)
			if p.Get("error") != tt.wantErr || (p.Get("code") != "") != tt.wantCode || p.Get("state") != "st-123" {
				t.Fatalf("redirect %v, want error=%q code=%v", p, tt.wantErr, tt.wantCode)
			}
			if tt.wantCode {
				if ex := c.exchange(exchangeForm(p.Get("code"))); ex.status != 200 {
					t.Fatalf("exchange of the page-issued code: %d %s", ex.status, ex.raw)
				}
			}
			if got := c.srv.Stats(); got.Consents != tt.wantConsents {
				t.Errorf("Consents = %d, want %d", got.Consents, tt.wantConsents)
			}
		})
	}
}

func TestConsentPageIsSingleUseAndNeedsLogin(t *testing.T) {
	c := start(t, WithAutoConsent(false))
	login, buttons := parseForm(t, c.authorize(authQuery("openid")).raw)
	early := c.post("/oauth/v2/consent", url.Values{"request_id": login.fields["request_id"], "action": {"allow"}})
	if early.status != http.StatusBadRequest || !strings.Contains(early.raw, "Sign in first") {
		t.Fatalf("consent before login: %d %q", early.status, early.raw)
	}
	consent, cbuttons := parseForm(t, c.submit(login, "Sign in", buttons, "session_key", "a", "session_password", "b").raw)
	if r := c.submit(consent, "Allow", cbuttons); r.status != http.StatusSeeOther {
		t.Fatalf("allow: %d", r.status)
	}
	if r := c.submit(consent, "Allow", cbuttons); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "expired") {
		t.Fatalf("second allow: %d %q", r.status, r.raw)
	}
}

func TestPagesEscapeInput(t *testing.T) {
	c := start(t, WithAutoConsent(false))
	q := authQuery("openid")
	q.Set("client_id", `<script>alert(1)</script>`)
	r := c.authorize(q)
	if strings.Contains(r.raw, "<script>") || !strings.Contains(r.raw, "&lt;script&gt;") {
		t.Fatalf("client_id not escaped: %q", r.raw)
	}
}

func TestLoginPageExpires(t *testing.T) {
	clock := newTestClock()
	c := start(t, WithAutoConsent(false), WithClock(clock.Now))
	login, buttons := parseForm(t, c.authorize(authQuery("openid")).raw)
	clock.Advance(LoginPageTTL + time.Second)
	r := c.submit(login, "Sign in", buttons, "session_key", "a", "session_password", "b")
	if r.status != http.StatusBadRequest || !strings.Contains(r.raw, "This sign-in page has expired") {
		t.Fatalf("stale login page: %d %q", r.status, r.raw)
	}
}
