package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is generated once: RSA key generation would dominate the suite's time.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testClock is a settable clock for token lifetimes.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// client is a plain net/http client of a started sandbox; it never follows
// redirects, so tests can read the Location.
type testClient struct {
	t    *testing.T
	srv  *Server
	base string
	hc   *http.Client
}

const (
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	testRedirect = DefaultRedirectURI
)

func challengeFor(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// start runs a sandbox on 127.0.0.1:0 with the shared test key, a seeded random
// source and auto-consent, plus opts.
func start(t *testing.T, opts ...Option) *testClient {
	t.Helper()
	base := []Option{WithSigningKey(testKey()), WithRandom(mrand.NewChaCha8([32]byte{1, 2, 3})), WithAutoConsent(true)}
	s := New(append(base, opts...)...)
	u, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	hc := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	return &testClient{t: t, srv: s, base: u, hc: hc}
}

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r result) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

func (r result) num(key string) int64 {
	v, _ := r.body[key].(float64)
	return int64(v)
}

func (c *testClient) do(req *http.Request) result {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &res.body); err != nil {
			c.t.Fatalf("%s %s: JSON body %q: %v", req.Method, req.URL.Path, raw, err)
		}
	}
	return res
}

func (c *testClient) get(path string, header http.Header) result {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.do(req)
}

// post sends a form; basic, when given, is "id:secret" for HTTP Basic.
func (c *testClient) post(path string, form url.Values, basic ...string) result {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 1 {
		id, secret, _ := strings.Cut(basic[0], ":")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return c.do(req)
}

// authQuery is a valid authorization request for the default client.
func authQuery(scope string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {DefaultClientID},
		"redirect_uri":          {testRedirect},
		"scope":                 {scope},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {challengeFor(testVerifier)},
		"code_challenge_method": {"S256"},
	}
}

// authorize sends an authorization request and returns the response.
func (c *testClient) authorize(q url.Values) result {
	c.t.Helper()
	return c.get("/oauth/v2/authorization?"+q.Encode(), nil)
}

// redirectParams parses the Location of a redirect back to the client.
func redirectParams(t *testing.T, r result) url.Values {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect; body %q", r.status, r.raw)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != testRedirect {
		t.Fatalf("redirected to %q, want %q", got, testRedirect)
	}
	return u.Query()
}

// code runs an auto-consent authorization and returns the code.
func (c *testClient) code(q url.Values) string {
	c.t.Helper()
	p := redirectParams(c.t, c.authorize(q))
	if p.Get("code") == "" {
		c.t.Fatalf("no code in redirect: %v", p)
	}
	return p.Get("code")
}

func exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testRedirect},
		"client_id":     {DefaultClientID},
		"client_secret": {DefaultClientSecret},
		"code_verifier": {testVerifier},
	}
}

func (c *testClient) exchange(form url.Values) result {
	c.t.Helper()
	return c.post("/oauth/v2/accessToken", form)
}

// tokens runs a whole authorization and exchange and returns the token response.
func (c *testClient) tokens(scope string) result {
	c.t.Helper()
	r := c.exchange(exchangeForm(c.code(authQuery(scope))))
	if r.status != http.StatusOK {
		c.t.Fatalf("exchange: %d %s", r.status, r.raw)
	}
	return r
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
}

func clientForm(kv ...string) url.Values {
	f := url.Values{"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func (c *testClient) api(path, token string) result {
	c.t.Helper()
	return c.get(path, bearer(token))
}

func (c *testClient) introspect(token string) result {
	c.t.Helper()
	return c.post("/oauth/v2/introspectToken", clientForm("token", token))
}

// wantOAuthError checks a token-style error answer.
func wantOAuthError(t *testing.T, r result, status int, code, desc string) {
	t.Helper()
	if r.status != status || r.str("error") != code || (desc != "" && r.str("error_description") != desc) {
		t.Fatalf("got %d %s, want %d error=%q error_description=%q", r.status, r.raw, status, code, desc)
	}
}

// wantAPIError checks LinkedIn's API error body.
func wantAPIError(t *testing.T, r result, status int, serviceCode int64, code, message string) {
	t.Helper()
	if r.status != status || r.num("status") != int64(status) || r.num("serviceErrorCode") != serviceCode ||
		r.str("code") != code || r.str("message") != message {
		t.Fatalf("got %d %s, want %d serviceErrorCode=%d code=%q message=%q", r.status, r.raw, status, serviceCode, code, message)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
}
