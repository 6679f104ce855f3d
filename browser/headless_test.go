package browser_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

var _ browser.Browser = (*browser.Headless)(nil)

// headlessPeerCase is one real authorization server and how it is known to behave.
type headlessPeerCase struct {
	name  string
	start func(testing.TB) *peertest.Peer
	// password overrides the peer's password: oidc-provider ignores it, so a canary can prove it never
	// reaches the trace.
	password       string
	wantIss        bool   // adds RFC 9207 iss to the authorization response
	wantSub        string // userinfo sub of the peer's user
	rotatesRefresh bool   // a refresh returns a new refresh token
}

func headlessPeers() []headlessPeerCase {
	return []headlessPeerCase{
		{name: "zitadel-oidc", start: peertest.Zitadel, wantIss: false, wantSub: "id1", rotatesRefresh: true},
		{name: "oidc-provider", start: peertest.OIDCProvider, password: "canary-pw-4f1d9b", wantIss: true, wantSub: "alice", rotatesRefresh: false},
	}
}

// headlessDerived gives reproducible PKCE verifiers, states and nonces from the test's name.
func headlessDerived(t *testing.T, what string) string {
	sum := sha256.Sum256([]byte(t.Name() + "/" + what))
	return hex.EncodeToString(sum[:])
}

type headlessDiscovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
}

func headlessDiscover(t *testing.T, p *peertest.Peer) headlessDiscovery {
	t.Helper()
	var d headlessDiscovery
	status := headlessCall(t, http.MethodGet, p.DiscoveryURL(), nil, nil, &d)
	if status != http.StatusOK {
		t.Fatalf("discovery: HTTP %d", status)
	}
	if d.Issuer != p.Issuer {
		t.Fatalf("discovery issuer = %q, want %q", d.Issuer, p.Issuer)
	}
	for name, ep := range map[string]string{"authorization": d.AuthorizationEndpoint, "token": d.TokenEndpoint,
		"userinfo": d.UserinfoEndpoint, "introspection": d.IntrospectionEndpoint, "revocation": d.RevocationEndpoint} {
		if !strings.HasPrefix(ep, "http://127.0.0.1:") {
			t.Fatalf("discovery: %s endpoint %q is not on the loopback peer", name, ep)
		}
	}
	return d
}

// headlessCall sends a request with stdlib net/http only and decodes a JSON answer into out (when not nil).
func headlessCall(t *testing.T, method, endpoint string, form url.Values, auth func(*http.Request), out any) int {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, endpoint, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(raw) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: HTTP %d, not JSON: %v: %.300s", method, endpoint, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode
}

type headlessTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// headlessAuthURL builds an authorization request with PKCE S256 and returns it with its verifier and state.
func headlessAuthURL(t *testing.T, d headlessDiscovery, clientID, redirectURI string) (authURL, verifier, state string) {
	verifier = headlessDerived(t, "verifier")
	state = headlessDerived(t, "state")[:16]
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile email offline_access"},
		"state":                 {state},
		"nonce":                 {headlessDerived(t, "nonce")[:16]},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return d.AuthorizationEndpoint + "?" + q.Encode(), verifier, state
}

// TestHeadlessCompletesPeerFlows proves the browser and the peer harness together: a full
// authorization-code flow with PKCE against each real provider, using nothing but net/http besides the
// browser, through userinfo, introspection, refresh, revocation and introspection after revocation.
func TestHeadlessCompletesPeerFlows(t *testing.T) {
	for _, pc := range headlessPeers() {
		t.Run(pc.name, func(t *testing.T) {
			p := pc.start(t)
			password := p.Password
			if pc.password != "" {
				password = pc.password
			}
			d := headlessDiscover(t, p)
			authURL, verifier, state := headlessAuthURL(t, d, p.ClientID, p.RedirectURI)

			var trace strings.Builder
			b := &browser.Headless{Username: p.Username, Password: password, Trace: &trace}
			redirect, err := b.Authorize(t.Context(), authURL, "")
			if err != nil {
				t.Fatalf("Authorize: %v\ntrace:\n%s", err, trace.String())
			}
			if !strings.HasPrefix(redirect, p.RedirectURI+"?") {
				t.Fatalf("redirect = %q, want it to start with %s?", redirect, p.RedirectURI)
			}
			cb, err := url.Parse(redirect)
			if err != nil {
				t.Fatal(err)
			}
			q := cb.Query()
			code := q.Get("code")
			if code == "" || q.Get("state") != state {
				t.Fatalf("redirect %q: want a code and state %q", redirect, state)
			}
			if got := q.Get("iss"); (got != "") != pc.wantIss || (got != "" && got != p.Issuer) {
				t.Errorf("iss parameter = %q; this peer is known to send it: %v (issuer %s)", got, pc.wantIss, p.Issuer)
			}
			for _, secret := range []string{code, state, password} {
				if strings.Contains(trace.String(), secret) {
					t.Errorf("trace shows a secret (%.6s…):\n%s", secret, trace.String())
				}
			}
			if !strings.Contains(trace.String(), "code=REDACTED") {
				t.Errorf("trace does not show the redacted redirect:\n%s", trace.String())
			}

			basic := func(r *http.Request) { r.SetBasicAuth(p.ClientID, p.ClientSecret) }
			var tok headlessTokens
			status := headlessCall(t, http.MethodPost, d.TokenEndpoint, url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.RedirectURI}, "code_verifier": {verifier},
			}, basic, &tok)
			if status != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
				t.Fatalf("code exchange: HTTP %d, access/refresh/id token present: %v/%v/%v, type %q",
					status, tok.AccessToken != "", tok.RefreshToken != "", tok.IDToken != "", tok.TokenType)
			}

			var info struct {
				Sub string `json:"sub"`
			}
			bearer := func(at string) func(*http.Request) {
				return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+at) }
			}
			if status := headlessCall(t, http.MethodGet, d.UserinfoEndpoint, nil, bearer(tok.AccessToken), &info); status != http.StatusOK || info.Sub != pc.wantSub {
				t.Fatalf("userinfo: HTTP %d, sub %q, want %q", status, info.Sub, pc.wantSub)
			}

			introspect := func(token string) (active bool, clientID string) {
				t.Helper()
				var res struct {
					Active   bool   `json:"active"`
					ClientID string `json:"client_id"`
				}
				if status := headlessCall(t, http.MethodPost, d.IntrospectionEndpoint, url.Values{"token": {token}, "token_type_hint": {"access_token"}}, basic, &res); status != http.StatusOK {
					t.Fatalf("introspection: HTTP %d", status)
				}
				return res.Active, res.ClientID
			}
			if active, cid := introspect(tok.AccessToken); !active || cid != p.ClientID {
				t.Fatalf("introspection of a fresh access token: active %v, client_id %q", active, cid)
			}

			var refreshed headlessTokens
			status = headlessCall(t, http.MethodPost, d.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic, &refreshed)
			if status != http.StatusOK || refreshed.AccessToken == "" || refreshed.AccessToken == tok.AccessToken {
				t.Fatalf("refresh: HTTP %d, new access token: %v", status, refreshed.AccessToken != "" && refreshed.AccessToken != tok.AccessToken)
			}
			rotated := refreshed.RefreshToken != "" && refreshed.RefreshToken != tok.RefreshToken
			if rotated != pc.rotatesRefresh {
				t.Errorf("refresh token rotated = %v; this peer is known to rotate: %v", rotated, pc.rotatesRefresh)
			}

			if status := headlessCall(t, http.MethodPost, d.RevocationEndpoint, url.Values{"token": {refreshed.AccessToken}, "token_type_hint": {"access_token"}}, basic, nil); status != http.StatusOK {
				t.Fatalf("revocation: HTTP %d", status)
			}
			if active, _ := introspect(refreshed.AccessToken); active {
				t.Fatal("introspection after revocation: token still active")
			}
		})
	}
}

// TestHeadlessPublicClientOnAnyLoopbackPort: the peers' public clients are native clients, so a
// flow may listen on any free loopback port, as oauthdiag's callback listener does.
func TestHeadlessPublicClientOnAnyLoopbackPort(t *testing.T) {
	for _, pc := range headlessPeers() {
		t.Run(pc.name, func(t *testing.T) {
			p := pc.start(t)
			d := headlessDiscover(t, p)
			redirectURI := "http://127.0.0.1:18999/callback"
			authURL, verifier, _ := headlessAuthURL(t, d, p.PublicClientID, redirectURI)
			b := &browser.Headless{Username: p.Username, Password: p.Password}
			redirect, err := b.Authorize(t.Context(), authURL, redirectURI)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			cb, _ := url.Parse(redirect)
			var tok headlessTokens
			status := headlessCall(t, http.MethodPost, d.TokenEndpoint, url.Values{
				"grant_type": {"authorization_code"}, "client_id": {p.PublicClientID}, "code": {cb.Query().Get("code")},
				"redirect_uri": {redirectURI}, "code_verifier": {verifier},
			}, nil, &tok)
			if status != http.StatusOK || tok.AccessToken == "" {
				t.Fatalf("public client code exchange: HTTP %d", status)
			}
		})
	}
}

// TestHeadlessStopsOnPeerErrorPages: an unregistered redirect_uri gives an error page, not a
// redirect; the browser reports that page's status and text.
func TestHeadlessStopsOnPeerErrorPages(t *testing.T) {
	for _, pc := range headlessPeers() {
		t.Run(pc.name, func(t *testing.T) {
			p := pc.start(t)
			d := headlessDiscover(t, p)
			authURL, _, _ := headlessAuthURL(t, d, p.ClientID, "http://127.0.0.1:8765/not-registered")
			b := &browser.Headless{Username: p.Username, Password: p.Password}
			redirect, err := b.Authorize(t.Context(), authURL, "")
			var pe *browser.PageError
			if !errors.As(err, &pe) {
				t.Fatalf("Authorize = %q, %v; want a *PageError", redirect, err)
			}
			if pe.Status != http.StatusBadRequest || pe.Reason != browser.PageErrorStatus {
				t.Errorf("PageError status %d reason %v, want 400 %v", pe.Status, pe.Reason, browser.PageErrorStatus)
			}
			if !strings.Contains(pe.Text, "redirect_uri") || strings.Contains(pe.Text, "<") {
				t.Errorf("PageError text should be the page's visible text naming redirect_uri, got %q", pe.Text)
			}
		})
	}
}

// TestHeadlessRejectedLogin: zitadel shows its login form again with an error when the password is
// wrong; the browser stops there instead of retrying, and says why.
func TestHeadlessRejectedLogin(t *testing.T) {
	p := peertest.Zitadel(t)
	d := headlessDiscover(t, p)
	authURL, _, _ := headlessAuthURL(t, d, p.ClientID, p.RedirectURI)
	const wrong = "canary-wrong-password-91c2"
	var trace strings.Builder
	b := &browser.Headless{Username: p.Username, Password: wrong, Trace: &trace}
	_, err := b.Authorize(t.Context(), authURL, "")
	var pe *browser.PageError
	if !errors.As(err, &pe) || pe.Reason != browser.PageLoginRejected || pe.Status != http.StatusOK {
		t.Fatalf("Authorize error = %v; want a PageError with reason %v", err, browser.PageLoginRejected)
	}
	if !strings.Contains(pe.Text, "username or password wrong") {
		t.Errorf("PageError text %q does not carry the provider's message", pe.Text)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(trace.String(), wrong) {
		t.Errorf("the password leaked into the error or trace")
	}
}

// TestHeadlessCancelAtPeer: with Cancel, oidc-provider's cancel link ends the flow with
// error=access_denied; zitadel's example login has no cancel control, so the login completes.
func TestHeadlessCancelAtPeer(t *testing.T) {
	cases := []struct {
		name      string
		start     func(testing.TB) *peertest.Peer
		wantError string
	}{
		{name: "oidc-provider", start: peertest.OIDCProvider, wantError: "access_denied"},
		{name: "zitadel-oidc", start: peertest.Zitadel, wantError: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t)
			d := headlessDiscover(t, p)
			authURL, _, state := headlessAuthURL(t, d, p.ClientID, p.RedirectURI)
			b := &browser.Headless{Username: p.Username, Password: p.Password, Cancel: true}
			redirect, err := b.Authorize(t.Context(), authURL, "")
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			cb, _ := url.Parse(redirect)
			q := cb.Query()
			if q.Get("error") != tc.wantError || q.Get("state") != state {
				t.Fatalf("redirect %q: error %q state %q, want error %q and the request's state", redirect, q.Get("error"), q.Get("state"), tc.wantError)
			}
			if (q.Get("code") == "") == (tc.wantError == "") {
				t.Errorf("redirect %q: a code should come back exactly when there is no error", redirect)
			}
		})
	}
}

// headlessFixture serves hand-written provider pages for behaviours the real peers do not show, plus a
// redirect URI on its own server that counts every request made to it (the browser must make none).
type headlessFixture struct {
	provider    *httptest.Server
	redirectURI string
	callbacks   atomic.Int32
}

func newHeadlessFixture(t *testing.T, routes func(f *headlessFixture, mux *http.ServeMux)) *headlessFixture {
	t.Helper()
	f := &headlessFixture{}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.callbacks.Add(1) }))
	t.Cleanup(cb.Close)
	f.redirectURI = cb.URL + "/cb"
	mux := http.NewServeMux()
	f.provider = httptest.NewServer(mux)
	t.Cleanup(f.provider.Close)
	routes(f, mux)
	t.Cleanup(func() {
		if n := f.callbacks.Load(); n != 0 {
			t.Errorf("the browser requested the redirect URI %d times; it must only return it", n)
		}
	})
	return f
}

func (f *headlessFixture) authURL() string {
	return f.provider.URL + "/authorize?" + url.Values{"redirect_uri": {f.redirectURI}, "state": {"s1"}}.Encode()
}

func headlessPage(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, body)
}

// TestHeadlessPages specifies how pages are read and answered.
func TestHeadlessPages(t *testing.T) {
	type result struct {
		redirect string
		err      error
	}
	cases := []struct {
		name    string
		browser browser.Headless
		routes  func(f *headlessFixture, mux *http.ServeMux)
		check   func(t *testing.T, f *headlessFixture, r result)
	}{
		{
			name:    "login form: hidden fields kept, username and password filled, allow button chosen over others",
			browser: browser.Headless{Username: "ann", Password: "pw-1"},
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<!DOCTYPE html><HTML><body>
<form id=lang action="/lang"><select name=l><option>en</option></select><button>Change</button></form>
<FORM Method=POST action='login?step=1'>
 <input type=hidden name=csrf value="a&amp;b">
 <label>User <input name=session_key></label> <input type=password name=session_password>
 <input type=checkbox name=remember value=yes checked> <input type=checkbox name=spam>
 <input name=gone value=x disabled>
 <textarea name=note>
line &lt;1&gt;</textarea>
 <select name=region><option value=eu>EU<option value=us selected>US</select>
 <button type=submit name=action value=details>Show details</button>
 <button type=submit name=action value=deny>Deny</button>
 <button type=submit name=action value=allow>Allow access</button>
 <!-- <button name=action value=commented>x</button> -->
</FORM><script>if (a<b) { document.write("<form action=/evil>") }</script></body></HTML>`)
				})
				mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
					if err := r.ParseForm(); err != nil {
						t.Error(err)
					}
					got := r.PostForm.Encode()
					want := url.Values{"csrf": {"a&b"}, "session_key": {"ann"}, "session_password": {"pw-1"}, "remember": {"yes"},
						"note": {"line <1>"}, "region": {"us"}, "action": {"allow"}}.Encode()
					if o := r.Header.Get("Origin"); o != f.provider.URL {
						t.Errorf("Origin = %q, want the form page's origin %q", o, f.provider.URL)
					}
					if got != want || r.URL.Query().Get("step") != "1" {
						t.Errorf("posted %s (query %s), want %s", got, r.URL.RawQuery, want)
					}
					http.Redirect(w, r, f.redirectURI+"?code=c1&state=s1", http.StatusFound)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if r.err != nil || r.redirect != f.redirectURI+"?code=c1&state=s1" {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name:    "a GET login form never shows its password in the trace or the error",
			browser: browser.Headless{Username: "ann", Password: "canary-pin-30c7"},
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<form action=/pin><input name=user><input type=password name=pin><button>Sign in</button></form>`)
				})
				mux.HandleFunc("GET /pin", func(w http.ResponseWriter, r *http.Request) {
					if r.FormValue("pin") != "canary-pin-30c7" || r.FormValue("user") != "ann" {
						t.Errorf("GET form query %q lacks the credentials", r.URL.RawQuery)
					}
					http.Error(w, "locked", http.StatusForbidden)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				var pe *browser.PageError
				if !errors.As(r.err, &pe) || pe.Status != http.StatusForbidden || !strings.Contains(pe.URL, "pin=REDACTED") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name:    "cancel picks the deny button",
			browser: browser.Headless{Cancel: true},
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<form method=post action=/consent><button name=action value=allow>Allow</button><button name=action value=cancel>Cancel</button></form>`)
				})
				mux.HandleFunc("POST /consent", func(w http.ResponseWriter, r *http.Request) {
					if a := r.FormValue("action"); a != "cancel" {
						t.Errorf("action = %q, want cancel", a)
					}
					http.Redirect(w, r, f.redirectURI+"?error=access_denied&state=s1", http.StatusSeeOther)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if r.err != nil || !strings.Contains(r.redirect, "error=access_denied") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "form_post response is returned as the redirect URI with its fields, not posted",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<html><body onload="document.forms[0].submit()"><form method="post" action="`+f.redirectURI+`">
<input type="hidden" name="code" value="c&#43;2"><input type="hidden" name="state" value="s1">
<noscript><button type="submit">Continue</button></noscript></form></body></html>`)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				u, err := url.Parse(r.redirect)
				if r.err != nil || err != nil || u.Query().Get("code") != "c+2" || u.Query().Get("state") != "s1" || !strings.HasPrefix(r.redirect, f.redirectURI+"?") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "meta refresh, relative GET form action, 307 keeping POST and fragment response",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<meta http-equiv="Refresh" content="0; URL='/step/one'">`)
				})
				mux.HandleFunc("GET /step/one", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<form action="two?drop=me"><input name=q value="v w"><input type=submit value=Next></form>`)
				})
				mux.HandleFunc("GET /step/two", func(w http.ResponseWriter, r *http.Request) {
					if r.URL.RawQuery != "q=v+w" {
						t.Errorf("GET form query = %q, want the form's fields only", r.URL.RawQuery)
					}
					headlessPage(w, `<form method=post action="/moved"><input type=hidden name=k value=v></form>`)
				})
				mux.HandleFunc("POST /moved", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
				})
				mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
					if r.Method != http.MethodPost || r.FormValue("k") != "v" {
						t.Errorf("after 307: %s with k=%q, want POST with the same body", r.Method, r.FormValue("k"))
					}
					http.Redirect(w, r, f.redirectURI+"#access_token=t&state=s1", http.StatusFound)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if r.err != nil || r.redirect != f.redirectURI+"#access_token=t&state=s1" {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name:    "a slow meta refresh (session timeout notice) does not pre-empt the login form",
			browser: browser.Headless{Username: "ann", Password: "pw-2"},
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<meta http-equiv=refresh content="600;url=/timed-out"><form method=post action=/login><input name=username><input type=password name=password><input type=submit value="Sign in"></form>`)
				})
				mux.HandleFunc("/timed-out", func(w http.ResponseWriter, r *http.Request) { t.Error("followed the slow refresh") })
				mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, f.redirectURI+"?code=c4&state=s1", http.StatusFound)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if r.err != nil || !strings.Contains(r.redirect, "code=c4") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "cookies set during login are sent on later requests",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					if _, err := r.Cookie("sid"); err == nil {
						http.Redirect(w, r, f.redirectURI+"?code=c3&state=s1", http.StatusFound)
						return
					}
					http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/", HttpOnly: true})
					http.Redirect(w, r, "/authorize?"+r.URL.RawQuery, http.StatusFound)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if r.err != nil || !strings.Contains(r.redirect, "code=c3") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "page with nothing to do",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, "<html><head><title>T</title><style>p{}</style></head><body><h1>Almost</h1><p>there &amp;\n   done</p></body></html>")
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				var pe *browser.PageError
				if !errors.As(r.err, &pe) || pe.Reason != browser.PageNothingToFollow || pe.Status != 200 || pe.Text != "Almost there & done" {
					t.Fatalf("got %q, %#v", r.redirect, r.err)
				}
			},
		},
		{
			name: "plain-text error page, text cut to about 500 characters",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "invalid_request: "+strings.Repeat("é", 400), http.StatusBadRequest)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				var pe *browser.PageError
				if !errors.As(r.err, &pe) || pe.Reason != browser.PageErrorStatus || pe.Status != 400 ||
					!strings.HasPrefix(pe.Text, "invalid_request: é") || len(pe.Text) > 510 || !strings.HasSuffix(pe.Text, "…") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "a form that keeps coming back",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
					headlessPage(w, `<form method=post><input type=hidden name=x value=1><button>Continue</button></form><p>Try again</p>`)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				var pe *browser.PageError
				if !errors.As(r.err, &pe) || pe.Reason != browser.PageFormRepeated || !strings.Contains(pe.Text, "Try again") {
					t.Fatalf("got %q, %v", r.redirect, r.err)
				}
			},
		},
		{
			name: "redirect loop",
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
				mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, f.authURL(), http.StatusFound) })
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if !errors.Is(r.err, browser.ErrRedirectLoop) {
					t.Fatalf("got %q, %v; want ErrRedirectLoop", r.redirect, r.err)
				}
			},
		},
		{
			name:    "hop limit",
			browser: browser.Headless{MaxHops: 5},
			routes: func(f *headlessFixture, mux *http.ServeMux) {
				var n atomic.Int32
				mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, fmt.Sprintf("/next/%d", n.Add(1)), http.StatusFound)
				})
			},
			check: func(t *testing.T, f *headlessFixture, r result) {
				if !errors.Is(r.err, browser.ErrHopLimit) {
					t.Fatalf("got %q, %v; want ErrHopLimit", r.redirect, r.err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newHeadlessFixture(t, tc.routes)
			var trace strings.Builder
			b := tc.browser
			b.Trace = &trace
			redirect, err := b.Authorize(t.Context(), f.authURL(), "")
			tc.check(t, f, result{redirect, err})
			if b.Password != "" && (strings.Contains(trace.String(), b.Password) || (err != nil && strings.Contains(err.Error(), b.Password))) {
				t.Errorf("the password shows in the trace or error:\n%s\n%v", trace.String(), err)
			}
		})
	}
}

// TestHeadlessGivenClient: a caller's client is used with its cookie jar, but its redirect policy
// is not: the browser still stops at the redirect URI instead of letting the client follow it.
func TestHeadlessGivenClient(t *testing.T) {
	f := newHeadlessFixture(t, func(f *headlessFixture, mux *http.ServeMux) {
		mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
			if c, err := r.Cookie("pre"); err != nil || c.Value != "seeded" {
				t.Errorf("the given client's jar was not used")
			}
			http.Redirect(w, r, f.redirectURI+"?code=c&state=s1", http.StatusFound)
		})
	})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.provider.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "pre", Value: "seeded"}})
	client := &http.Client{Jar: jar} // nil CheckRedirect: it would follow redirects itself
	b := &browser.Headless{Client: client}
	redirect, err := b.Authorize(t.Context(), f.authURL(), "")
	if err != nil || redirect != f.redirectURI+"?code=c&state=s1" {
		t.Fatalf("got %q, %v", redirect, err)
	}
	if client.CheckRedirect != nil {
		t.Error("Authorize changed the caller's client")
	}
}

// TestHeadlessHonoursContext: a cancelled context stops the walk with the context's error.
func TestHeadlessHonoursContext(t *testing.T) {
	f := newHeadlessFixture(t, func(f *headlessFixture, mux *http.ServeMux) {
		mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/authorize?again", http.StatusFound)
		})
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := (&browser.Headless{}).Authorize(ctx, f.authURL(), "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestHeadlessBadInput: unusable arguments get one clear error before any request is made.
func TestHeadlessBadInput(t *testing.T) {
	for _, tc := range []struct{ authURL, redirectURI, want string }{
		{"/relative?redirect_uri=x", "", "not an absolute http(s) URL"},
		{"http://127.0.0.1:1/authorize", "", "no redirect_uri parameter"},
		{"http://127.0.0.1:1/authorize", "cb", "redirect URI \"cb\" is not an absolute URL"},
	} {
		_, err := (&browser.Headless{}).Authorize(t.Context(), tc.authURL, tc.redirectURI)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Authorize(%q, %q) = %v, want an error saying %q", tc.authURL, tc.redirectURI, err, tc.want)
		}
	}
}

// TestHeadlessSandbox: the LinkedIn-like sandbox's sign-in page (session_key/session_password)
// and its separate consent page (action=allow/cancel) are completed, cancelled, or refused with a blank
// password.
func TestHeadlessSandbox(t *testing.T) {
	const clientID, secret = "hb-client", "hb-secret"
	redirectURI := "http://127.0.0.1:8765/callback"
	s := testkit.StartSandbox(t, sandbox.WithAutoConsent(false), sandbox.WithClient(clientID, secret, redirectURI))
	authURL := s.BaseURL() + "/oauth/v2/authorization?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile email"}, "state": {"sb-state"},
	}.Encode()

	cases := []struct {
		name      string
		browser   browser.Headless
		wantCode  bool
		wantError bool
		wantPage  browser.PageReason
	}{
		{name: "sign in and allow", browser: browser.Headless{Username: "ada@example.test", Password: "pw"}, wantCode: true},
		{name: "cancel", browser: browser.Headless{Username: "ada@example.test", Password: "pw", Cancel: true}, wantError: true},
		{name: "blank password is refused", browser: browser.Headless{Username: "ada@example.test"}, wantPage: browser.PageLoginRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var trace strings.Builder
			b := tc.browser
			b.Trace = &trace
			redirect, err := b.Authorize(t.Context(), authURL, "")
			if tc.wantPage != 0 {
				var pe *browser.PageError
				if !errors.As(err, &pe) || pe.Reason != tc.wantPage {
					t.Fatalf("Authorize = %q, %v; want a PageError %v\ntrace:\n%s", redirect, err, tc.wantPage, trace.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Authorize: %v\ntrace:\n%s", err, trace.String())
			}
			cb, err := url.Parse(redirect)
			if err != nil {
				t.Fatal(err)
			}
			q := cb.Query()
			if (q.Get("code") != "") != tc.wantCode || (q.Get("error") != "") != tc.wantError || q.Get("state") != "sb-state" {
				t.Fatalf("redirect %q: want code %v, error %v, state sb-state\ntrace:\n%s", redirect, tc.wantCode, tc.wantError, trace.String())
			}
		})
	}
}

// FuzzHeadlessAuthorize: whatever HTML a provider serves, the browser answers with a redirect or an
// error, never a panic, and never requests the redirect URI.
func FuzzHeadlessAuthorize(f *testing.F) {
	for _, seed := range []string{
		`<form method=post action="/x"><input type=hidden name=a value="1"><input type=password name=p><button name=action value=allow>Allow</button></form>`,
		`<meta http-equiv=refresh content="0;url=/cb?code=1">`,
		`<select name=s><option>a<option selected value=b>B</select><textarea name=t>x</textarea>`,
		`<a href="/abort">[ Cancel ]</a><form action=`, `<!-- <form>`, `<input form=f name=x><form id=f></form>`,
		`<button><`, `</`, `<x a='b`, `<base href="//127.0.0.1:1/"><form></form>`,
	} {
		f.Add(seed)
	}
	var page atomic.Value
	page.Store("")
	var hits atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	f.Cleanup(cb.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headlessPage(w, page.Load().(string))
	}))
	f.Cleanup(srv.Close)
	authURL := srv.URL + "/authorize?" + url.Values{"redirect_uri": {cb.URL + "/cb"}}.Encode()
	// Fuzzed pages send the browser anywhere; only 127.0.0.1 may be contacted (and nothing resolved).
	loopbackOnly := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" {
				return nil, fmt.Errorf("fuzz: refusing to dial %q", addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
	f.Fuzz(func(t *testing.T, body string) {
		page.Store(body)
		b := &browser.Headless{Client: loopbackOnly, Username: "u", Password: "p", MaxHops: 4, Trace: io.Discard}
		redirect, err := b.Authorize(t.Context(), authURL, "")
		if (err == nil) == (redirect == "") {
			t.Fatalf("Authorize = %q, %v: want exactly one of a redirect and an error", redirect, err)
		}
		if hits.Load() != 0 {
			t.Fatal("the redirect URI was requested")
		}
	})
}
