package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// browseHelper is the browser the token command tests hand to --browser-cmd: the test binary
// itself, run with the authorization URL as its last argument. It follows the provider's pages
// headless and prints the redirect, as `oauthdiag browse` does.
func browseHelper() int {
	authURL := os.Args[len(os.Args)-1]
	u, err := url.Parse(authURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	redirect, err := (&browser.Headless{}).Authorize(context.Background(), authURL, u.Query().Get("redirect_uri"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(redirect)
	return 0
}

// tokEnv is one user's machine: an OAUTHDIAG_HOME, a sandbox with a client whose redirect URI
// is on a free loopback port, and a profile "sb" for it in the config file.
type tokEnv struct {
	t           *testing.T
	home        string
	sb          *sandbox.Server
	base        string
	redirectURI string
	vars        map[string]string
}

const tokSecret = "sandbox-secret-canary-7f3a"

func newTokEnv(t *testing.T, opts ...sandbox.Option) *tokEnv {
	t.Helper()
	redirect := "http://" + tokFreeAddr(t) + "/callback"
	sb := sandbox.New(append([]sandbox.Option{sandbox.WithAutoConsent(true), sandbox.WithClient("sb-client", tokSecret, redirect)}, opts...)...)
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	home := t.TempDir()
	e := &tokEnv{t: t, home: home, sb: sb, base: base, redirectURI: redirect,
		vars: map[string]string{"OAUTHDIAG_HOME": home, "HOME": home, "OAUTHDIAG_TOKEN_STORE": "file", "SB_SECRET": tokSecret}}
	p := e.run(profilesCommand(), "add", "sb", "--auth-url", base+"/oauth/v2/authorization", "--token-url", base+"/oauth/v2/accessToken",
		"--userinfo-url", base+"/v2/userinfo", "--introspect-url", base+"/oauth/v2/introspectToken", "--revoke-url", base+"/oauth/v2/revoke",
		"--client-id", "sb-client", "--auth-method", "post", "--redirect-uri", redirect, "--scope", "openid profile email",
		"--secret", "env:SB_SECRET")
	if p.err != nil {
		t.Fatalf("profiles add: %v\n%s", p.err, p.stderr)
	}
	return e
}

func tokFreeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type tokRun struct {
	stdout, stderr string
	err            error
}

func (e *tokEnv) run(c command, args ...string) tokRun {
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return e.vars[k] }}
	err := execute(context.Background(), env, c, args)
	return tokRun{stdout: out.String(), stderr: errb.String(), err: err}
}

// call runs `oauthdiag call --profile sb` with the helper browser.
func (e *tokEnv) call(args ...string) tokRun {
	full := append([]string{"--profile", "sb", "--browser-cmd", testkit.ChildCommandLine(e.t, "browse")}, args...)
	return e.run(callCommand(), full...)
}

func (e *tokEnv) tokenFile() string { return filepath.Join(e.home, "state", "tokens", "sb.json") }

func (e *tokEnv) stored() *profile.StoredToken {
	e.t.Helper()
	st, err := profile.NewFileStore(filepath.Dir(e.tokenFile()), nil).Load("sb")
	if err != nil {
		e.t.Fatalf("stored token: %v", err)
	}
	return st
}

// age moves the stored token's expiries into the past, as time passing would.
func (e *tokEnv) age(access, refresh time.Duration) {
	e.t.Helper()
	st := e.stored()
	st.Token.Expiry = time.Now().Add(-access)
	if refresh != 0 {
		st.Token.RefreshExpiry = time.Now().Add(-refresh)
	}
	if err := profile.NewFileStore(filepath.Dir(e.tokenFile()), nil).Save("sb", st); err != nil {
		e.t.Fatal(err)
	}
}

func (e *tokEnv) mustSucceed(r tokRun, what string) {
	e.t.Helper()
	if r.err != nil {
		e.t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, r.err, r.stdout, r.stderr)
	}
}

// noSecretsIn fails when a token, the client secret or a code appears in text.
func (e *tokEnv) noSecretsIn(texts ...string) {
	e.t.Helper()
	st, err := profile.NewFileStore(filepath.Dir(e.tokenFile()), nil).Load("sb")
	secrets := []string{tokSecret}
	if err == nil {
		secrets = append(secrets, st.Token.AccessToken, st.Token.RefreshToken, st.Token.IDToken)
	}
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				e.t.Fatalf("a secret (%.6s…) appears in the output:\n%s", s, text)
			}
		}
	}
}

func TestCallCommandLifecycle(t *testing.T) {
	e := newTokEnv(t)

	first := e.call("/v2/userinfo")
	e.mustSucceed(first, "first call")
	if !strings.Contains(first.stderr, "profile sb: no token is stored for this profile: authorizing") {
		t.Errorf("the first call does not say why it authorizes:\n%s", first.stderr)
	}
	if !strings.HasPrefix(first.stdout, "HTTP 200 OK\n") || !strings.Contains(first.stdout, `"sub":`) || !strings.Contains(first.stdout, "X-Li-Uuid: ") {
		t.Errorf("first call output:\n%s", first.stdout)
	}
	if !strings.Contains(first.stderr, "session ") {
		t.Errorf("no session id on stderr:\n%s", first.stderr)
	}
	e.noSecretsIn(first.stdout, first.stderr)
	if fi, err := os.Stat(e.tokenFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	st := e.sb.Stats()
	if st.AuthorizationRequests != 1 || st.AuthorizationCodeGrants != 1 {
		t.Fatalf("after the first call: %+v", st)
	}

	// Second run: the cached token, no request to the authorization server.
	second := e.call("/v2/userinfo")
	e.mustSucceed(second, "second call")
	if !strings.Contains(second.stderr, "profile sb: using the cached access token (expires in ") {
		t.Errorf("second call stderr:\n%s", second.stderr)
	}
	if got := e.sb.Stats(); got.AuthorizationRequests != 1 || got.TokenRequests != st.TokenRequests {
		t.Fatalf("the second call went to the authorization server: %+v", got)
	}

	// Expired access token: one refresh, no authorization.
	e.age(time.Hour, 0)
	third := e.call("/v2/userinfo")
	e.mustSucceed(third, "call with an expired access token")
	if !strings.Contains(third.stderr, "the access token expired 1h ago; refreshing with the refresh token (valid for ") ||
		!strings.Contains(third.stderr, "  refresh ok (HTTP 200)") {
		t.Errorf("refresh not explained:\n%s", third.stderr)
	}
	if got := e.sb.Stats(); got.RefreshGrants != 1 || got.AuthorizationRequests != 1 {
		t.Fatalf("after expiry: %+v", got)
	}
	e.noSecretsIn(third.stdout, third.stderr)

	// Both expired: authorize again.
	e.age(2*time.Hour, time.Hour)
	fourth := e.call("/v2/userinfo")
	e.mustSucceed(fourth, "call with both tokens expired")
	if !strings.Contains(fourth.stderr, "the access token expired 2h ago, and the refresh token expired 1h ago: authorizing again") {
		t.Errorf("re-authorization not explained:\n%s", fourth.stderr)
	}
	if got := e.sb.Stats(); got.AuthorizationRequests != 2 || got.RefreshGrants != 1 {
		t.Fatalf("after both expired: %+v", got)
	}

	// The recorded sessions hold every call, without the secrets.
	logs, _ := filepath.Glob(filepath.Join(e.home, "state", "sessions", "*.log"))
	if len(logs) != 4 {
		t.Fatalf("sessions recorded: %d, want 4", len(logs))
	}
	var all []string
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		all = append(all, string(b))
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, "/oauth/v2/accessToken") || !strings.Contains(joined, "/v2/userinfo") {
		t.Error("the sessions lack the token or API calls")
	}
	e.noSecretsIn(all...)
}

func TestRefreshAndLogoutCommands(t *testing.T) {
	e := newTokEnv(t)
	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	before := e.stored()

	r := e.run(refreshCommand(), "--profile", "sb")
	e.mustSucceed(r, "refresh")
	if !strings.Contains(r.stderr, "a refresh was requested; refreshing with the refresh token") ||
		!strings.Contains(r.stdout, "profile sb: the access token expires in ") || !strings.Contains(r.stdout, "; the refresh token expires in ") {
		t.Errorf("refresh output:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	after := e.stored()
	if after.Token.AccessToken == before.Token.AccessToken || after.Refreshes != 1 || e.sb.Stats().RefreshGrants != 1 {
		t.Fatalf("refresh did not replace the access token: %+v", e.sb.Stats())
	}
	e.noSecretsIn(r.stdout, r.stderr)

	out := e.run(logoutCommand(), "--profile", "sb")
	e.mustSucceed(out, "logout")
	for _, want := range []string{"access token: revoked at the provider", "refresh token: revoked at the provider",
		"access token: the provider now reports it inactive, status revoked", "deleted the local copy (" + e.tokenFile() + ")"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("logout output lacks %q:\n%s", want, out.stdout)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(e.tokenFile())); len(entries) != 0 {
		t.Fatalf("files left after logout: %v", entries)
	}
	// The provider refuses the old refresh token too.
	runner := oauthflow.NewRunner(oauthflow.Config{Provider: oauthflow.LinkedInAt(e.base, e.base),
		Client: oauthflow.Client{ID: "sb-client", Secret: tokSecret, RedirectURI: e.redirectURI}})
	if _, err := runner.Refresh(t.Context(), after.Token.RefreshToken); err == nil {
		t.Fatal("the refresh token works after logout")
	}
	again := e.run(logoutCommand(), "--profile", "sb")
	if again.err != nil || !strings.Contains(again.stdout, "no token is stored") {
		t.Fatalf("second logout: %v\n%s", again.err, again.stdout)
	}
	// A refresh without a token says what to do.
	r = e.run(refreshCommand(), "--profile", "sb")
	var ee *exitError
	if !errors.As(r.err, &ee) || !strings.Contains(r.err.Error(), "no token is stored for this profile: the user must authorize again: run `oauthdiag call URL`") {
		t.Fatalf("refresh with nothing stored: %v", r.err)
	}
}

func TestLogoutDeletesWhenRevocationFails(t *testing.T) {
	e := newTokEnv(t)
	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	e.sb.Close()
	out := e.run(logoutCommand(), "--profile", "sb")
	var ee *exitError
	if !errors.As(out.err, &ee) || !strings.Contains(out.err.Error(), "deleted here, but the provider did not confirm the revocation of: access token, refresh token") {
		t.Fatalf("logout with the provider down: %v", out.err)
	}
	if !strings.Contains(out.stdout, "access token: revocation FAILED: revoke: ") || !strings.Contains(out.stdout, "deleted the local copy") {
		t.Errorf("logout output:\n%s", out.stdout)
	}
	if _, err := os.Stat(e.tokenFile()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the token file is still there: %v", err)
	}
}

func TestCallRenewsATokenTheAPIRefuses(t *testing.T) {
	e := newTokEnv(t)
	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	// The token is revoked behind our back (another device logged out, say).
	runner := oauthflow.NewRunner(oauthflow.Config{Provider: oauthflow.LinkedInAt(e.base, e.base),
		Client: oauthflow.Client{ID: "sb-client", Secret: tokSecret, RedirectURI: e.redirectURI}})
	if err := runner.Revoke(t.Context(), e.stored().Token.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	r := e.call("/v2/userinfo")
	e.mustSucceed(r, "call with a revoked access token")
	if !strings.Contains(r.stderr, "profile sb: the API answered 401 (The token has been revoked); refreshing with the refresh token") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "HTTP 200 OK") {
		t.Errorf("the retried call failed:\n%s", r.stdout)
	}
	if st := e.sb.Stats(); st.RefreshGrants != 1 || st.AuthorizationRequests != 1 {
		t.Fatalf("want one refresh and no new authorization: %+v", st)
	}
}

func TestCallConcurrentRunsDuringExpiryRefreshOnce(t *testing.T) {
	e := newTokEnv(t)
	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	e.age(time.Minute, 0)
	var wg sync.WaitGroup
	runs := make([]tokRun, 3)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = e.call("/v2/userinfo")
		}()
	}
	wg.Wait()
	for i, r := range runs {
		e.mustSucceed(r, fmt.Sprintf("concurrent call %d", i))
	}
	if st := e.sb.Stats(); st.RefreshGrants != 1 || st.AuthorizationRequests != 1 {
		t.Fatalf("three concurrent calls during expiry: %+v, want one refresh", st)
	}
}

func TestCallCommandJSONAndErrors(t *testing.T) {
	e := newTokEnv(t)
	r := e.call("--json", "--method", "POST", "--data", `{"a":1}`, e.base+"/v2/me")
	var out callJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if out.Profile != "sb" || out.Decision.Action != "authorize" || out.Decision.Cause != "no_token" || out.Status == 0 || out.Session == "" {
		t.Errorf("JSON = %+v", out)
	}
	if out.Status >= 200 && out.Status < 300 {
		if r.err != nil {
			t.Errorf("2xx but error %v", r.err)
		}
	} else {
		var ee *exitError
		if !errors.As(r.err, &ee) || ee.code != 1 {
			t.Errorf("HTTP %d but error %v", out.Status, r.err)
		}
	}
	e.noSecretsIn(r.stdout, r.stderr)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "give one URL"},
		{[]string{"--header", "NoColon", "/v2/me"}, "write it as 'Name: value'"},
		{[]string{"--token-store", "disk", "/v2/me"}, "--token-store: unknown token store"},
		{[]string{"--paste", "--data", "@-", "/v2/me"}, "both read stdin"},
	} {
		r := e.call(c.args...)
		var ue *usageError
		if !errors.As(r.err, &ue) || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("call %v = %v, want a usage error with %q", c.args, r.err, c.want)
		}
	}
}

func TestTokenStoreFallsBackToAFileAndSaysSoOnce(t *testing.T) {
	e := newTokEnv(t)
	delete(e.vars, "OAUTHDIAG_TOKEN_STORE")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	first := e.call("/v2/userinfo")
	e.mustSucceed(first, "call without a keychain")
	if !strings.Contains(first.stderr, "note: the OS keychain failed to read") || !strings.Contains(first.stderr, "tokens are kept in files under") {
		t.Errorf("the fallback is not explained:\n%s", first.stderr)
	}
	if _, err := os.Stat(e.tokenFile()); err != nil {
		t.Fatalf("the token did not go to a file: %v", err)
	}
	second := e.call("/v2/userinfo")
	e.mustSucceed(second, "second call")
	if strings.Contains(second.stderr, "keychain") {
		t.Errorf("the fallback reason was shown again:\n%s", second.stderr)
	}
	if !strings.Contains(second.stderr, "using the cached access token") {
		t.Errorf("the file token was not reused:\n%s", second.stderr)
	}
}

// TestTokenCommandsWithTheRealKeychain runs the commands on the OS keychain: CI runs it inside
// dbus-run-session with an unlocked gnome-keyring-daemon (see oauthflow's keychain tests).
func TestTokenCommandsWithTheRealKeychain(t *testing.T) {
	if os.Getenv("OAUTHDIAG_TEST_KEYCHAIN") != "1" {
		t.Skip("set OAUTHDIAG_TEST_KEYCHAIN=1 to use the real keychain")
	}
	e := newTokEnv(t)
	e.vars["OAUTHDIAG_TOKEN_STORE"] = "keychain"
	kc := profile.NewKeychain(profile.KeychainService, 10*time.Second)
	t.Cleanup(func() {
		kc.Delete(profile.TokenAccount("sb"))
		kc.Delete(profile.SecretAccount("sb"))
	})

	// The client secret moves from the environment into the keychain, and the profile reads it there.
	e.mustSucceed(e.run(profilesCommand(), "set-secret", "sb", "--from-env", "SB_SECRET"), "profiles set-secret")
	delete(e.vars, "SB_SECRET")
	cfg := filepath.Join(e.home, "config", "config.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(b, []byte(`secret = "env:SB_SECRET"`), []byte(`secret = "keychain"`), 1), 0o600)

	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	if _, err := os.Stat(filepath.Join(e.home, "state", "tokens")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a keychain run wrote token files: %v", err)
	}
	v, err := kc.Get(profile.TokenAccount("sb"))
	if err != nil || !strings.Contains(v, `"access_token"`) {
		t.Fatalf("the token is not in the keychain: %v", err)
	}
	second := e.call("/v2/userinfo")
	e.mustSucceed(second, "second call")
	if !strings.Contains(second.stderr, "using the cached access token") || e.sb.Stats().AuthorizationRequests != 1 {
		t.Fatalf("the keychain token was not reused:\n%s", second.stderr)
	}
	out := e.run(logoutCommand(), "--profile", "sb")
	e.mustSucceed(out, "logout")
	if _, err := kc.Get(profile.TokenAccount("sb")); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("logout left the keychain entry: %v", err)
	}
}

func TestReplayFreshTokenComesFromTheTokenStore(t *testing.T) {
	e := newTokEnv(t)
	e.mustSucceed(e.call("/v2/userinfo"), "first call")
	e.age(time.Minute, 0)
	second := e.call("/v2/userinfo")
	e.mustSucceed(second, "second call")
	e.age(time.Minute, 0) // expired again: the replay must refresh, not send a dead token

	// c1 of the latest session is its refresh, c2 the userinfo call.
	r := e.run(replayCommandWith(newStoreReplaySecrets), "c2", "--fresh-token")
	e.mustSucceed(r, "replay --fresh-token")
	if !strings.Contains(r.stderr, "profile sb: the access token expired 1m ago; refreshing with the refresh token") {
		t.Errorf("the replay did not refresh the expired token:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "attempt 1  200 OK") {
		t.Errorf("the replay with the fresh token failed:\n%s", r.stdout)
	}
	if st := e.sb.Stats(); st.RefreshGrants != 2 || st.AuthorizationRequests != 1 {
		t.Fatalf("want the second call's refresh and the replay's: %+v", st)
	}
	e.noSecretsIn(r.stdout, r.stderr)

	e.mustSucceed(e.run(logoutCommand(), "--profile", "sb"), "logout")
	r = e.run(replayCommandWith(newStoreReplaySecrets), "c2", "--session", "latest", "--fresh-token")
	if r.err == nil || !strings.Contains(r.stderr+r.err.Error(), "sign in with `oauthdiag call --profile sb URL`") {
		t.Fatalf("replay after logout: %v\n%s", r.err, r.stderr)
	}
}

// The response headers call prints get the recorder's rules: a session cookie the API sets
// is redacted, in text and in JSON.
func TestCallRedactsCookiesInTheHeadersItShows(t *testing.T) {
	const cookie = "CookieSecretValue-424242"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", `lidc="b=VB00:s=V:r=V:a=V:p=V:g=1:u=1:x=1:i=`+cookie+`"; Path=/; Secure`)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer api.Close()
	e := newTokEnv(t)
	for _, format := range [][]string{nil, {"--json"}} {
		r := e.call(append(format, api.URL+"/v2/me")...)
		e.mustSucceed(r, "call")
		if strings.Contains(r.stdout+r.stderr, cookie) {
			t.Errorf("call %v shows the cookie:\n%s", format, r.stdout)
		}
		if format != nil && !strings.Contains(r.stdout, "Set-Cookie") {
			t.Errorf("call --json leaves out the Set-Cookie header:\n%s", r.stdout)
		}
	}
}
