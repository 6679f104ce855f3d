package sandbox

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.10:0", "example.com:80"} {
		t.Run(addr, func(t *testing.T) {
			s := New(WithSigningKey(testKey()))
			defer s.Close()
			_, err := s.Start(addr)
			if !errors.Is(err, ErrNotLoopback) || !strings.Contains(err.Error(), addr) {
				t.Fatalf("Start(%q) error %v, want ErrNotLoopback naming the address", addr, err)
			}
		})
	}
	s := New(WithSigningKey(testKey()))
	defer s.Close()
	if _, err := s.Start("8766"); err == nil || errors.Is(err, ErrNotLoopback) || !strings.Contains(err.Error(), "host:port") {
		t.Fatalf("Start(8766) error %v, want a host:port hint", err)
	}
}

func TestStartLifecycle(t *testing.T) {
	c := start(t)
	if !strings.HasPrefix(c.base, "http://127.0.0.1:") || c.srv.BaseURL() != c.base || c.srv.Issuer() != c.base+"/oauth" {
		t.Fatalf("base %q BaseURL %q Issuer %q", c.base, c.srv.BaseURL(), c.srv.Issuer())
	}
	if _, err := c.srv.Start("127.0.0.1:0"); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second Start: %v", err)
	}
	addr := strings.TrimPrefix(c.base, "http://")
	other := New(WithSigningKey(testKey()))
	defer other.Close()
	_, err := other.Start(addr)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), addr) {
		t.Errorf("Start on a busy port: %v, want EADDRINUSE naming %s", err, addr)
	}
	if err := c.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.srv.Start("127.0.0.1:0"); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	if _, err := http.Get(c.base + "/"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestLocalhostIsLoopback(t *testing.T) {
	s := New(WithSigningKey(testKey()))
	defer s.Close()
	base, err := s.Start("localhost:0")
	if err != nil {
		t.Fatalf("Start(localhost:0): %v", err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") && !strings.HasPrefix(base, "http://[::1]:") {
		t.Errorf("base %q is not a loopback URL", base)
	}
}

func TestUnusableSigningKey(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	s := New(WithSigningKey(small))
	defer s.Close()
	if _, err := s.Start("127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("Start with a 1024-bit key: %v", err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/openid/jwks", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "2048") {
		t.Errorf("handler with a bad key: %d %q", rec.Code, rec.Body.String())
	}
}

func TestInjectedRandomMakesTokensReproducible(t *testing.T) {
	run := func() string {
		c := start(t, WithRandom(mrand.NewChaCha8([32]byte{9})), WithClock(newTestClock().Now))
		return c.tokens("openid profile").str("access_token")
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("same seed, same requests, different tokens:\n%s\n%s", a, b)
	}
	c := start(t, WithRandom(mrand.NewChaCha8([32]byte{10})))
	if other := c.tokens("openid profile").str("access_token"); other == a {
		t.Error("different seeds gave the same token")
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	const secret = "canary-secret-7f3a"
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := start(t, WithLogger(logger), WithClient(DefaultClientID, secret, testRedirect), WithAutoConsent(false))

	login, buttons := parseForm(t, c.authorize(authQuery("openid profile email")).raw)
	consent, cbuttons := parseForm(t, c.submit(login, "Sign in", buttons, "session_key", "ada@example.com", "session_password", "canary-password").raw)
	code := redirectParams(t, c.submit(consent, "Allow", cbuttons)).Get("code")
	f := exchangeForm(code)
	f.Set("client_secret", secret)
	tok := c.exchange(f)
	c.api("/v2/userinfo", tok.str("access_token"))
	c.post("/oauth/v2/introspectToken", url.Values{"client_id": {DefaultClientID}, "client_secret": {secret}, "token": {tok.str("access_token")}})
	c.post("/oauth/v2/revoke", url.Values{"client_id": {DefaultClientID}, "client_secret": {secret}, "token": {tok.str("refresh_token")}})

	log := buf.String()
	if !strings.Contains(log, "/oauth/v2/accessToken") || !strings.Contains(log, "x_li_request_id") {
		t.Fatalf("the log lacks request lines: %s", log)
	}
	for name, v := range map[string]string{
		"client secret": secret, "password": "canary-password", "code": code, "verifier": testVerifier,
		"access token": tok.str("access_token"), "refresh token": tok.str("refresh_token"), "id token": tok.str("id_token"),
		"request id": login.fields.Get("request_id"), "state": "st-123",
	} {
		if v == "" || strings.Contains(log, v) {
			t.Errorf("%s %q appears in the log (or is empty)", name, v)
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConcurrentFlows runs whole flows in parallel while the scenario flips;
// run with -race.
func TestConcurrentFlows(t *testing.T) {
	c := start(t)
	const flows = 24
	var wg sync.WaitGroup
	errs := make(chan error, flows)
	for i := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := concurrentFlow(c, i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			c.srv.SetScenario(Happy)
			_ = c.srv.Stats()
			_ = c.srv.Scenario()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := c.srv.Stats()
	if st.AuthorizationCodeGrants != flows || st.RefreshGrants != flows || st.CodesIssued != flows {
		t.Errorf("stats %+v, want %d grants of each kind", st, flows)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// concurrentFlow avoids t.Fatal (not allowed off the test goroutine).
func concurrentFlow(c *testClient, i int) error {
	get := func(u string, h http.Header) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header = h
		return c.hc.Do(req)
	}
	post := func(path string, f url.Values) (*http.Response, error) {
		return c.hc.PostForm(c.base+path, f)
	}
	resp, err := get(c.base+"/oauth/v2/authorization?"+authQuery("openid profile").Encode(), http.Header{})
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return fmt.Errorf("flow %d: no code in %q", i, resp.Header.Get("Location"))
	}
	resp, err = post("/oauth/v2/accessToken", exchangeForm(loc.Query().Get("code")))
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeJSON(resp, &tok); err != nil {
		return fmt.Errorf("flow %d exchange: %w", i, err)
	}
	// Two parallel calls on one token, then a refresh.
	var inner sync.WaitGroup
	var innerErr error
	var mu sync.Mutex
	for range 2 {
		inner.Add(1)
		go func() {
			defer inner.Done()
			r, err := get(c.base+"/v2/userinfo", bearer(tok.AccessToken))
			if err == nil {
				r.Body.Close()
				if r.StatusCode != 200 {
					err = fmt.Errorf("flow %d userinfo: %d", i, r.StatusCode)
				}
			}
			if err != nil {
				mu.Lock()
				innerErr = err
				mu.Unlock()
			}
		}()
	}
	inner.Wait()
	if innerErr != nil {
		return innerErr
	}
	resp, err = post("/oauth/v2/accessToken", refreshForm(tok.RefreshToken))
	if err != nil {
		return err
	}
	return decodeJSON(resp, &struct{}{})
}
