package inspector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

var updateFixtures = flag.Bool("update-fixtures", false, "recapture testdata/diagnosis/*.json from the sandbox and the peer servers")

// TestCaptureFixtures talks to the real servers and records each fault's exchange as a fixture.
// Every captured case is diagnosed on the spot, so a capture that does not yield its code fails
// instead of being written.
func TestCaptureFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to recapture the fixtures from the sandbox and the peers")
	}
	t.Run("sandbox-linkedin", func(t *testing.T) {
		c := newCapturer(t, "8766")
		captureSandboxScenarios(t, c, sandbox.ComplianceLinkedIn)
		captureSandboxTargeted(t, c)
		c.write("sandbox-linkedin.json", "the embedded sandbox in LinkedIn compliance mode (LinkedIn's own codes and messages), driven by oauthflow")
	})
	t.Run("sandbox-strict", func(t *testing.T) {
		c := newCapturer(t, "8767")
		captureSandboxScenarios(t, c, sandbox.ComplianceStrict)
		captureSandboxStrictTargeted(t, c)
		c.write("sandbox-strict.json", "the embedded sandbox in strict mode (RFC 6749/6750/7009/7662 vocabulary), driven by oauthflow")
	})
	t.Run("zitadel", func(t *testing.T) {
		c := newCapturer(t, "9102")
		capturePeer(t, c, peertest.Zitadel(t), peerQuirks{})
		c.write("zitadel-oidc.json", "zitadel/oidc v3.51.17 OpenID Provider (its example storage and login), run in-process by internal/peertest")
	})
	t.Run("oidc-provider", func(t *testing.T) {
		p := peertest.OIDCProvider(t)
		c := newCapturer(t, "9101")
		capturePeer(t, c, p, peerQuirks{consentParam: true, cancelable: true, genericGrantError: true})
		c.write("oidc-provider.json", "panva oidc-provider 9.13.3 (peers/oidc-provider), a separately running OpenID-certified server")
	})
	t.Run("transport", func(t *testing.T) {
		c := newCapturer(t, "8768")
		captureTransport(t, c)
		c.write("transport.json", "real transport failures on 127.0.0.1: a closed port, a TLS certificate the client does not trust")
	})
}

// capturer collects cases, replacing secrets and the run's random port.
type capturer struct {
	t       *testing.T
	port    string // the canonical port written into fixtures
	mu      sync.Mutex
	secrets []string
	hosts   []string
	cases   []fixtureCase
}

func newCapturer(t *testing.T, port string) *capturer { return &capturer{t: t, port: port} }

func (c *capturer) secret(vals ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range vals {
		if len(v) >= 6 && !slices.Contains(c.secrets, v) {
			c.secrets = append(c.secrets, v)
		}
	}
}

func (c *capturer) host(base string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, err := url.Parse(base); err == nil && u.Host != "" && !slices.Contains(c.hosts, u.Host) {
		c.hosts = append(c.hosts, u.Host)
	}
}

func (c *capturer) secretsOfFlow(cfg oauthflow.Config, fr *oauthflow.FlowResult) {
	c.secret(cfg.Client.Secret)
	if fr == nil {
		return
	}
	for _, tok := range []*oauthflow.Token{fr.Token, fr.Refreshed} {
		if tok != nil {
			c.secret(tok.AccessToken, tok.RefreshToken, tok.IDToken)
		}
	}
	if fr.Callback != nil {
		c.secret(fr.Callback.Code)
	}
	if fr.AuthRequest != nil {
		c.secret(fr.AuthRequest.Verifier)
	}
}

// clean replaces secrets and the random port.
func (c *capturer) clean(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	for _, h := range c.hosts {
		hostname, port, _ := net.SplitHostPort(h)
		s = strings.ReplaceAll(s, h, hostname+":"+c.port)
		s = strings.ReplaceAll(s, hostname+"%3A"+port, hostname+"%3A"+c.port) // inside an encoded URL
	}
	return s
}

var secretFormFields = []string{"code", "code_verifier", "client_secret", "refresh_token", "token", "client_assertion", "password", "session_password"}

func (c *capturer) cleanHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Cookie", "Set-Cookie":
			continue
		case "Authorization":
			scheme, _, _ := strings.Cut(vs[0], " ")
			out[k] = []string{scheme + " [redacted]"}
			continue
		}
		for _, v := range vs {
			out[k] = append(out[k], c.clean(v))
		}
	}
	return out
}

func (c *capturer) cleanBody(contentType string, body []byte) string {
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for _, f := range secretFormFields {
				if form.Has(f) {
					form.Set(f, "[redacted]")
				}
			}
			return c.clean(form.Encode())
		}
	}
	return c.clean(string(body))
}

// add records a failed (or, for context rules, successful) step and checks its diagnosis.
func (c *capturer) add(name, want string, bestGuess bool, step oauthflow.StepReport, fx fixtureContext, redirect string) {
	c.t.Helper()
	fc := fixtureCase{Name: name, Want: want, BestGuess: bestGuess, Step: step.Name, Context: fx}
	if n := len(step.Exchanges); n > 0 {
		ex := step.Exchanges[n-1]
		fe := &fixtureExchange{Request: fixtureRequest{Method: ex.Request.Method, URL: c.clean(ex.Request.URL),
			Header: c.cleanHeader(ex.Request.Header), Body: c.cleanBody(ex.Request.Header.Get("Content-Type"), ex.Request.Body)}}
		if r := ex.Response; r != nil {
			fe.Response = &fixtureResponse{Status: r.Status, Header: c.cleanHeader(r.Header), Body: c.clean(string(r.Body))}
			fe.ReceivedAt = ex.Started.Add(ex.Duration).UTC()
		}
		fc.Exchange = fe
	}
	var page *browser.PageError
	switch e, ok := oauthflow.AsError(step.Err); {
	case errors.As(step.Err, &page):
		fc.Page = &fixturePage{Status: page.Status, URL: c.clean(page.URL), Text: c.clean(page.Text), Reason: int(page.Reason)}
	case ok && e.Kind == oauthflow.KindRedirect, ok && e.Code == oauthflow.CodeStateMismatch:
		fc.Redirect = c.clean(redirect)
	case ok && e.Kind != oauthflow.KindOAuth && e.Kind != oauthflow.KindAPI && e.Kind != oauthflow.KindHTTP:
		fc.ClientError = &fixtureClientError{Kind: e.Kind.String(), Code: e.Code, Description: c.clean(e.Description), Hint: c.clean(e.Hint), Status: e.Status}
	case !ok && step.Err != nil:
		c.t.Fatalf("%s: cannot record error %T: %v", name, step.Err, step.Err)
	}
	fc.Context.ConfiguredIssuer = c.clean(fc.Context.ConfiguredIssuer)
	fc.Context.ClaimedIssuer = c.clean(fc.Context.ClaimedIssuer)
	fc.Context.RedirectURI = c.clean(fc.Context.RedirectURI)

	// The case must yield its code now, from the recorded form, and carry no secret.
	obs, ctx := fc.build(c.t)
	ds := Diagnose(obs, ctx)
	if len(ds) == 0 || ds[0].Code != want || ds[0].BestGuess != bestGuess {
		c.t.Errorf("capture %s: got %v, want %s (best guess %v)\n%s", name, codes(ds), want, bestGuess, RenderDiagnoses(ds))
	}
	b, _ := json.Marshal(fc)
	for _, s := range c.secrets {
		if strings.Contains(string(b), s) {
			c.t.Fatalf("capture %s: a secret survived redaction", name)
		}
	}
	c.mu.Lock()
	c.cases = append(c.cases, fc)
	c.mu.Unlock()
}

func (c *capturer) write(file, source string) {
	c.t.Helper()
	if c.t.Failed() {
		c.t.Fatalf("not writing %s: the capture failed", file)
	}
	slices.SortFunc(c.cases, func(a, b fixtureCase) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // bodies stay readable: & < > as the servers sent them
	if err := enc.Encode(fixtureFile{Source: source, Cases: c.cases}); err != nil {
		c.t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join(fixtureDir, file)
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("wrote %d cases to %s", len(c.cases), path)
}

// flowContext describes what a flow's client knew.
func flowContext(cfg oauthflow.Config, fr *oauthflow.FlowResult, at time.Time) fixtureContext {
	fx := fixtureContext{Provider: cfg.Provider.Name, ConfiguredIssuer: cfg.Provider.Issuer}
	if fr == nil {
		return fx
	}
	fx.ClaimedIssuer = fr.ClaimedIssuer
	if fr.Provider.Name != "" {
		fx.Provider = fr.Provider.Name
	}
	if ar := fr.AuthRequest; ar != nil {
		fx.RedirectURI, fx.PKCE, fx.Scopes = ar.RedirectURI, ar.Challenge != "", ar.Scopes
	}
	if tok := fr.CurrentToken(); tok != nil {
		fx.Token = tokenContext(tok, at)
	}
	return fx
}

func tokenContext(tok *oauthflow.Token, at time.Time) *fixtureToken {
	ft := &fixtureToken{Scope: tok.Scope, ReceivedAgo: at.Sub(tok.ReceivedAt).Round(time.Second).String(), Refresh: tok.RefreshToken != ""}
	if !tok.Expiry.IsZero() {
		ft.ExpiresIn = tok.Expiry.Sub(at).Round(time.Second).String()
	}
	if !tok.RefreshExpiry.IsZero() {
		ft.RefreshExpireIn = tok.RefreshExpiry.Sub(at).Round(time.Second).String()
	}
	return ft
}

// traced makes one call under a context that gathers its exchanges.
func traced[T any](ctx context.Context, call func(context.Context) (T, error)) (T, *httplog.Collector, error) {
	ctx, col := httplog.Collect(ctx)
	v, err := call(ctx)
	return v, col, err
}

func stepOf(name string, trace *httplog.Collector, err error) oauthflow.StepReport {
	s := oauthflow.StepReport{Name: name, Status: oauthflow.StatusOK, Exchanges: trace.Exchanges(), Err: err}
	if err != nil {
		s.Status = oauthflow.StatusFailed
	}
	return s
}

func captureSandboxScenarios(t *testing.T, c *capturer, mode sandbox.Compliance) {
	wants := map[sandbox.Scenario]struct {
		code  string
		guess bool
	}{
		sandbox.ServerError: {CodeProviderOutage, false}, sandbox.RateLimited: {CodeRateLimited, false},
		sandbox.ExpiredToken: {CodeAccessTokenExpired, false}, sandbox.RevokedToken: {CodeTokenRevoked, false},
		sandbox.UserCancel: {CodeUserCancelled, false}, sandbox.RedirectMismatch: {CodeRedirectURIMismatch, false},
		sandbox.BadSecret: {CodeBadClientCredentials, false}, sandbox.CodeReuse: {CodeAuthorizationCodeBad, false},
		sandbox.ScopeDenied: {CodeAccessDenied, false}, sandbox.Slow: {CodeTimeout, false},
		sandbox.Flaky: {CodeProviderOutage, false}, sandbox.NoRefreshToken: {CodeRefreshNotAvailable, false},
	}
	for _, sc := range sandbox.Scenarios() {
		w, ok := wants[sc]
		if !ok {
			continue
		}
		setup := sandboxSetup{scenario: sc, compliance: mode}
		if sc == sandbox.Slow {
			setup.client = &http.Client{Timeout: 200 * time.Millisecond}
			setup.opts = []sandbox.Option{sandbox.WithSlowDelay(2 * time.Second)}
		}
		run := runSandboxFlow(t, setup)
		c.host(run.srv.BaseURL())
		c.secretsOfFlow(run.cfg, run.result)
		s := run.result.FailedStep()
		if s == nil {
			t.Fatalf("%s: the flow did not fail", sc)
		}
		redirect := ""
		if run.result.Callback != nil {
			redirect = withState(run.result.Callback.URL, fixtureState)
		}
		c.add("scenario "+string(sc), w.code, w.guess, *s, flowContext(run.cfg, run.result, time.Now()), redirect)
	}
}

// withState rewrites a redirect's state (a per-run random value) to the fixtures' one.
func withState(raw, state string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if q.Has("state") {
		q.Set("state", state)
	}
	if q.Has("code") {
		q.Set("code", "[redacted]")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sandboxRunner starts a sandbox and returns a runner for its default client.
func sandboxRunner(t *testing.T, c *capturer, mode sandbox.Compliance, opts ...sandbox.Option) (*sandbox.Server, *oauthflow.Runner, oauthflow.Config) {
	t.Helper()
	srv := testkit.StartSandbox(t, append([]sandbox.Option{sandbox.WithAutoConsent(true), sandbox.WithSigningKey(sandboxKey()), sandbox.WithCompliance(mode)}, opts...)...)
	base := srv.BaseURL()
	c.host(base)
	cfg := oauthflow.Config{Provider: oauthflow.LinkedInAt(base, base),
		Client: oauthflow.Client{ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI, PKCE: true}}
	c.secret(cfg.Client.Secret)
	return srv, oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(&http.Client{Timeout: 10 * time.Second})), cfg
}

// authorizeOnly runs the browser leg and parses the redirect, returning a fresh code.
func authorizeOnly(t *testing.T, c *capturer, r *oauthflow.Runner, b browser.Browser, extra url.Values) (*oauthflow.AuthRequest, *oauthflow.Callback) {
	t.Helper()
	ar, err := r.AuthorizationRequest(extra)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := b.Authorize(context.Background(), ar.URL, ar.RedirectURI)
	if err != nil {
		t.Fatalf("authorization: %v", err)
	}
	cb, err := oauthflow.ParseRedirect(ar, "", redirect)
	if err != nil {
		t.Fatalf("redirect: %v", err)
	}
	c.secret(ar.Verifier, cb.Code)
	return ar, cb
}

func arContext(cfg oauthflow.Config, ar *oauthflow.AuthRequest) fixtureContext {
	return fixtureContext{Provider: cfg.Provider.Name, ConfiguredIssuer: cfg.Provider.Issuer, RedirectURI: ar.RedirectURI, PKCE: ar.Challenge != "", Scopes: ar.Scopes}
}

// captureSandboxTargeted records faults no scenario produces, by sending what a broken client
// would send.
func captureSandboxTargeted(t *testing.T, c *capturer) {
	ctx := context.Background()
	br := &browser.Headless{}

	// A code older than LinkedIn's 30 minutes: the sandbox clock moves on between the legs.
	clock := testkit.NewClock(time.Now())
	_, r, cfg := sandboxRunner(t, c, sandbox.ComplianceLinkedIn, sandbox.WithClock(clock.Now), sandbox.WithRefreshTokenTTL(time.Hour))
	ar, cb := authorizeOnly(t, c, r, br, nil)
	clock.Advance(31 * time.Minute)
	_, tr, err := traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, ar, cb) })
	fx := arContext(cfg, ar)
	fx.CodeAge = "31m0s"
	c.add("code older than 30 minutes", CodeAuthorizationCodeBad, false, stepOf(oauthflow.StepExchange, tr, err), fx, "")

	// A wrong PKCE verifier: LinkedIn lumps it with other causes into invalid_redirect_uri.
	ar, cb = authorizeOnly(t, c, r, br, nil)
	bad := *ar
	bad.Verifier = strings.Repeat("v", 43)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb) })
	c.add("wrong code_verifier", CodeAuthorizationCodeBad, true, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar), "")

	// No verifier although the authorization sent a challenge.
	ar, cb = authorizeOnly(t, c, r, br, nil)
	bad = *ar
	bad.Verifier = ""
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb) })
	c.add("code_verifier missing", CodePKCEMismatch, false, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar), "")

	// The token request names another redirect_uri than the authorization request.
	ar, cb = authorizeOnly(t, c, r, br, nil)
	bad = *ar
	bad.RedirectURI = "http://127.0.0.1:8765/other"
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb) })
	c.add("redirect_uri differs at the token endpoint", CodeRedirectURIMismatch, false, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar), "")

	// A refresh token past its lifetime, known locally to be expired.
	ar, cb = authorizeOnly(t, c, r, br, nil)
	tok, err := r.ExchangeCode(ctx, ar, cb)
	if err != nil {
		t.Fatal(err)
	}
	c.secret(tok.AccessToken, tok.RefreshToken, tok.IDToken)
	clock.Advance(2 * time.Hour)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.Refresh(ctx, tok.RefreshToken) })
	fx = arContext(cfg, ar)
	fx.Token = &fixtureToken{Scope: tok.Scope, ReceivedAgo: "2h0m0s", ExpiresIn: "1438h0m0s", Refresh: true, RefreshExpireIn: "-1h0m0s"}
	c.add("refresh token expired", CodeRefreshTokenExpired, false, stepOf(oauthflow.StepRefresh, tr, err), fx, "")

	// A refresh token the server does not know, with nothing local to tell why.
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) {
		return r.Refresh(ctx, "unknown-refresh-token-value")
	})
	c.add("refresh token refused", CodeReauthorizationRequired, true, stepOf(oauthflow.StepRefresh, tr, err), arContext(cfg, ar), "")

	// An access token the API does not know.
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) {
		return r.Userinfo(ctx, "not-an-issued-token")
	})
	c.add("unknown access token", CodeInvalidAccessToken, false, stepOf(oauthflow.StepUserinfo, tr, err), arContext(cfg, ar), "")

	// A call without any Authorization header.
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) { return r.Userinfo(ctx, "") })
	c.add("no bearer token", CodeInvalidAccessToken, false, stepOf(oauthflow.StepUserinfo, tr, err), arContext(cfg, ar), "")

	// Versioned API calls: no LinkedIn-Version, then a retired one.
	srv2, r2, cfg2 := sandboxRunner(t, c, sandbox.ComplianceLinkedIn)
	ar2, cb2 := authorizeOnly(t, c, r2, br, nil)
	tok2, err := r2.ExchangeCode(ctx, ar2, cb2)
	if err != nil {
		t.Fatal(err)
	}
	c.secret(tok2.AccessToken, tok2.RefreshToken, tok2.IDToken)
	fx2 := arContext(cfg2, ar2)
	fx2.Token = tokenContext(tok2, time.Now())
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) {
		return r2.CallAPI(ctx, tok2.AccessToken, oauthflow.APIRequest{URL: srv2.BaseURL() + "/rest/me"})
	})
	c.add("rest call without LinkedIn-Version", CodeMissingAPIVersion, false, stepOf(oauthflow.StepAPICall, tr, err), fx2, "")
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) {
		return r2.CallAPI(ctx, tok2.AccessToken, oauthflow.APIRequest{URL: srv2.BaseURL() + "/rest/me", Header: http.Header{"Linkedin-Version": {"202001"}}})
	})
	c.add("rest call with a retired LinkedIn-Version", CodeMissingAPIVersion, false, stepOf(oauthflow.StepAPICall, tr, err), fx2, "")
	// A method the API does not serve: no rule knows 405, the evidence is shown as is.
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) {
		return r2.CallAPI(ctx, tok2.AccessToken, oauthflow.APIRequest{Method: http.MethodPost, URL: srv2.BaseURL() + "/v2/userinfo", Body: []byte("{}")})
	})
	c.add("method not allowed", CodeUnclassified, true, stepOf(oauthflow.StepAPICall, tr, err), fx2, "")
	// A token-endpoint URL that points at a web page.
	pageRunner := oauthflow.NewRunner(oauthflow.Config{Provider: func() oauthflow.Provider {
		p := cfg2.Provider
		p.Endpoints.Token = srv2.BaseURL() + "/"
		return p
	}(), Client: cfg2.Client})
	ar3, cb3 := authorizeOnly(t, c, r2, br, nil)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return pageRunner.ExchangeCode(ctx, ar3, cb3) })
	c.add("token endpoint URL is a web page", CodeUnexpectedFormat, false, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg2, ar3), "")
	// Introspection with a wrong client secret.
	wrong := cfg2
	wrong.Client.Secret = "not-the-sandbox-secret"
	c.secret(wrong.Client.Secret)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Introspection, error) {
		return oauthflow.NewRunner(wrong).Introspect(ctx, tok2.AccessToken, "access_token")
	})
	c.add("introspection with a wrong secret", CodeBadClientCredentials, false, stepOf(oauthflow.StepIntrospect, tr, err), fx2, "")
	// A token request without client credentials.
	noCreds := cfg2
	noCreds.Client.AuthMethod = oauthflow.AuthNone
	noCreds.Client.ID = ""
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) {
		return oauthflow.NewRunner(noCreds).Refresh(ctx, tok2.RefreshToken)
	})
	c.add("token request without client_id", CodeBadClientCredentials, false, stepOf(oauthflow.StepRefresh, tr, err), fx2, "")

	// Discovery: an issuer with no document, and the issuer LinkedIn used before 2024.
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.DiscoveryResult, error) {
		return r2.Discover(ctx, srv2.BaseURL()+"/nowhere", "")
	})
	c.add("no discovery document", CodeEndpointNotFound, false, stepOf(oauthflow.StepDiscovery, tr, err), fixtureContext{Provider: "linkedin"}, "")
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.DiscoveryResult, error) {
		return r2.Discover(ctx, srv2.Issuer(), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	c.add("legacy issuer pinned", CodeIssuerMismatch, false, stepOf(oauthflow.StepDiscovery, tr, nil), fixtureContext{Provider: "linkedin", ConfiguredIssuer: srv2.BaseURL()}, "")

	// A server clock ten minutes ahead.
	skewed := testkit.StartSandbox(t, sandbox.WithSigningKey(sandboxKey()), sandbox.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	c.host(skewed.BaseURL())
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.DiscoveryResult, error) {
		return r2.Discover(ctx, skewed.Issuer(), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	c.add("server clock ten minutes ahead", CodeClockSkew, false, stepOf(oauthflow.StepDiscovery, tr, nil), fixtureContext{Provider: "linkedin"}, "")

	// A scope the app's products do not grant.
	scoped := cfg2
	scoped.Client.Scopes = []string{"openid", "profile", "r_ads_reporting_fake"}
	fr := oauthflow.NewRunner(scoped).RunFlow(ctx, oauthflow.FlowOptions{Browser: br})
	c.secretsOfFlow(scoped, fr)
	c.add("scope not enabled for the app", CodeScopeNotAuthorized, false, *fr.FailedStep(), flowContext(scoped, fr, time.Now()), withState(fr.Callback.URL, fixtureState))

	// A response type the app may not use.
	fr = oauthflow.NewRunner(cfg2).RunFlow(ctx, oauthflow.FlowOptions{Browser: br, ExtraAuthParams: url.Values{"response_type": {"token"}}})
	c.secretsOfFlow(cfg2, fr)
	c.add("response_type not supported", CodeGrantNotAllowed, false, *fr.FailedStep(), flowContext(cfg2, fr, time.Now()), withState(fr.Callback.URL, fixtureState))

	// An unregistered client_id gets an error page.
	unknown := cfg2
	unknown.Client.ID = "not-a-registered-app"
	fr = oauthflow.NewRunner(unknown).RunFlow(ctx, oauthflow.FlowOptions{Browser: br})
	c.add("unknown client_id", CodeBadClientCredentials, false, *fr.FailedStep(), flowContext(unknown, fr, time.Now()), "")

	// A redirect whose state is not the one sent.
	ar4, _ := r2.AuthorizationRequest(nil)
	redirect, err := br.Authorize(ctx, ar4.URL, ar4.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	forged := withState(redirect, "forged-state")
	_, err = oauthflow.ParseRedirect(ar4, "", redirect)
	if err != nil {
		t.Fatal(err)
	}
	_, err = oauthflow.ParseRedirect(&oauthflow.AuthRequest{State: "other", RedirectURI: ar4.RedirectURI}, "", redirect)
	c.add("state mismatch", CodeStateMismatch, false, oauthflow.StepReport{Name: oauthflow.StepCallback, Status: oauthflow.StatusFailed, Err: err}, arContext(cfg2, ar4), forged)

	// No client secret configured.
	noSecret := cfg2
	noSecret.Client.Secret = ""
	fr = oauthflow.NewRunner(noSecret).RunFlow(ctx, oauthflow.FlowOptions{Browser: br})
	c.add("client secret missing from the configuration", CodeConfiguration, false, *fr.FailedStep(), flowContext(noSecret, fr, time.Now()), "")

	// A provider that keeps revoked tokens active (the lenient sandbox).
	run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, compliance: sandbox.ComplianceLenient})
	c.host(run.srv.BaseURL())
	c.secretsOfFlow(run.cfg, run.result)
	c.add("revoked token still active", CodeRevocationNotEffective, false, *run.result.FailedStep(), flowContext(run.cfg, run.result, time.Now()), "")
}

func captureSandboxStrictTargeted(t *testing.T, c *capturer) {
	ctx := context.Background()
	br := &browser.Headless{}
	_, r, cfg := sandboxRunner(t, c, sandbox.ComplianceStrict)
	ar, cb := authorizeOnly(t, c, r, br, nil)
	bad := *ar
	bad.Verifier = strings.Repeat("v", 43)
	_, tr, err := traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb) })
	c.add("wrong code_verifier", CodePKCEMismatch, false, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar), "")

	_, r2, cfg2 := sandboxRunner(t, c, sandbox.ComplianceStrict, sandbox.WithScenario(sandbox.NoRefreshToken))
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) {
		return r2.Refresh(ctx, "a-refresh-token-from-elsewhere")
	})
	c.add("refresh grant not allowed", CodeRefreshNotAvailable, false, stepOf(oauthflow.StepRefresh, tr, err), fixtureContext{Provider: cfg2.Provider.Name}, "")

	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) {
		return r.Userinfo(ctx, "not-an-issued-token")
	})
	c.add("unknown access token (RFC 6750 challenge)", CodeInvalidAccessToken, false, stepOf(oauthflow.StepUserinfo, tr, err), arContext(cfg, ar), "")

	// A scope the server does not know: RFC 6749's invalid_scope on the redirect.
	scoped := cfg
	scoped.Client.Scopes = []string{"openid", "r_not_a_scope"}
	fr := oauthflow.NewRunner(scoped).RunFlow(ctx, oauthflow.FlowOptions{Browser: br})
	c.secretsOfFlow(scoped, fr)
	c.add("unknown scope", CodeScopeNotAuthorized, false, *fr.FailedStep(), flowContext(scoped, fr, time.Now()), withState(fr.Callback.URL, fixtureState))

	// A public client that sends no PKCE challenge (the request is built by hand: the client
	// configuration check would refuse it first).
	_, _, pubCfg := sandboxRunner(t, c, sandbox.ComplianceStrict, sandbox.WithClient("native-app", "", sandbox.DefaultRedirectURI))
	pubCfg.Client = oauthflow.Client{ID: "native-app", RedirectURI: sandbox.DefaultRedirectURI, AuthMethod: oauthflow.AuthNone}
	pub := oauthflow.NewRunner(pubCfg)
	par, err := pub.AuthorizationRequest(nil)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := br.Authorize(ctx, par.URL, par.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	_, err = oauthflow.ParseRedirect(par, "", redirect)
	c.add("public client without PKCE", CodePKCEMismatch, false, oauthflow.StepReport{Name: oauthflow.StepCallback, Status: oauthflow.StatusFailed, Err: err},
		arContext(pubCfg, par), withState(redirect, fixtureState))
}

// peerQuirks are the differences between the peers that the capture must work around.
type peerQuirks struct {
	consentParam      bool // oidc-provider issues refresh tokens only with prompt=consent
	cancelable        bool // the login or consent page has a cancel control
	genericGrantError bool // every grant fault reads "grant request is invalid"
}

func capturePeer(t *testing.T, c *capturer, p *peertest.Peer, q peerQuirks) {
	ctx := context.Background()
	c.host(p.Issuer)
	c.secret(p.ClientSecret, p.Password)
	cfg := oauthflow.Config{
		Provider: oauthflow.Provider{Name: p.Name, Issuer: p.Issuer},
		Client: oauthflow.Client{ID: p.ClientID, Secret: p.ClientSecret, RedirectURI: p.RedirectURI, AuthMethod: oauthflow.AuthBasic, PKCE: true,
			Scopes: []string{"openid", "profile", "email", "offline_access"}},
	}
	var extra url.Values
	if q.consentParam {
		extra = url.Values{"prompt": {"consent"}}
	}
	br := &browser.Headless{Username: p.Username, Password: p.Password}
	r := oauthflow.NewRunner(cfg)
	disc, err := r.Discover(ctx, p.Issuer, "")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg.Provider = oauthflow.MergeDiscovered(cfg.Provider, disc.Provider)
	r = oauthflow.NewRunner(cfg)

	// A code used twice.
	ar, cb := authorizeOnly(t, c, r, br, extra)
	tok, err := r.ExchangeCode(ctx, ar, cb)
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	c.secret(tok.AccessToken, tok.RefreshToken, tok.IDToken)
	_, tr, err := traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, ar, cb) })
	c.add("code used twice", CodeAuthorizationCodeBad, q.genericGrantError, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar), "")

	// A wrong PKCE verifier.
	ar2, cb2 := authorizeOnly(t, c, r, br, extra)
	bad := *ar2
	bad.Verifier = strings.Repeat("w", 43)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb2) })
	want, guess := CodePKCEMismatch, false
	if q.genericGrantError {
		// Nothing in the answer or the request tells this from a reused code.
		want, guess = CodeAuthorizationCodeBad, true
	}
	c.add("wrong code_verifier", want, guess, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar2), "")

	// Another redirect_uri at the token endpoint.
	ar3, cb3 := authorizeOnly(t, c, r, br, extra)
	bad = *ar3
	bad.RedirectURI = "http://127.0.0.1:8765/other"
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.ExchangeCode(ctx, &bad, cb3) })
	c.add("redirect_uri differs at the token endpoint", CodeRedirectURIMismatch, false, stepOf(oauthflow.StepExchange, tr, err), arContext(cfg, ar3), "")

	// A wrong client secret.
	wrong := cfg
	wrong.Client.Secret = "wrong-secret-value"
	c.secret(wrong.Client.Secret)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) {
		return oauthflow.NewRunner(wrong).Refresh(ctx, tok.RefreshToken)
	})
	c.add("wrong client secret", CodeBadClientCredentials, false, stepOf(oauthflow.StepRefresh, tr, err), arContext(cfg, ar), "")

	// A revoked refresh token, then the revoked access token at userinfo.
	if err := r.Revoke(ctx, tok.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.Token, error) { return r.Refresh(ctx, tok.RefreshToken) })
	c.add("revoked refresh token", CodeReauthorizationRequired, true, stepOf(oauthflow.StepRefresh, tr, err), arContext(cfg, ar), "")
	if err := r.Revoke(ctx, tok.AccessToken, "access_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	in, err := r.Introspect(ctx, tok.AccessToken, "access_token")
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	if in.Active {
		t.Fatalf("%s keeps a revoked access token active", p.Name)
	}
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.APIResponse, error) { return r.Userinfo(ctx, tok.AccessToken) })
	fx := arContext(cfg, ar)
	fx.Token = tokenContext(tok, time.Now())
	fx.Token.AccessRevoked = true
	c.add("revoked access token at userinfo", CodeTokenRevoked, false, stepOf(oauthflow.StepUserinfo, tr, err), fx, "")
	// The same answer without the client's knowledge of the revocation.
	c.add("rejected access token at userinfo", unknownTokenWant(p.Name), true, stepOf(oauthflow.StepUserinfo, tr, err), arContext(cfg, ar), "")

	// An unregistered redirect_uri: an error page, no redirect.
	other := cfg
	other.Client.RedirectURI = "http://127.0.0.1:8765/unregistered"
	fr := oauthflow.NewRunner(other).RunFlow(ctx, oauthflow.FlowOptions{Browser: br, ExtraAuthParams: extra})
	c.add("unregistered redirect_uri", CodeRedirectURIMismatch, false, *fr.FailedStep(), flowContext(other, fr, time.Now()), "")

	if q.cancelable {
		fr = r.RunFlow(ctx, oauthflow.FlowOptions{Browser: &browser.Headless{Username: p.Username, Password: p.Password, Cancel: true}, ExtraAuthParams: extra})
		c.secretsOfFlow(cfg, fr)
		redirect := ""
		if fr.Callback != nil {
			redirect = withState(fr.Callback.URL, fixtureState)
		}
		c.add("user cancels", CodeUserCancelled, false, *fr.FailedStep(), flowContext(cfg, fr, time.Now()), redirect)
	} else {
		// A wrong password brings the login form back.
		fr = r.RunFlow(ctx, oauthflow.FlowOptions{Browser: &browser.Headless{Username: p.Username, Password: "not-the-password"}, ExtraAuthParams: extra})
		c.add("wrong password", CodeLoginFailed, false, *fr.FailedStep(), flowContext(cfg, fr, time.Now()), "")
	}
}

// unknownTokenWant is what a refused access token yields when the client knows nothing about
// it: oidc-provider answers RFC 6750's invalid_token (401), zitadel a bare 403.
func unknownTokenWant(peer string) string {
	if peer == "zitadel-oidc" {
		return CodeAccessDenied
	}
	return CodeInvalidAccessToken
}

func captureTransport(t *testing.T, c *capturer) {
	ctx := context.Background()
	// A port nothing listens on: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c.host(closed)
	r := oauthflow.NewRunner(oauthflow.Config{}, oauthflow.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	_, tr, err := traced(ctx, func(ctx context.Context) (*oauthflow.DiscoveryResult, error) { return r.Discover(ctx, closed, "") })
	c.add("connection refused", CodeNetworkUnreachable, false, stepOf(oauthflow.StepDiscovery, tr, err), fixtureContext{Provider: "custom"}, "")

	// A TLS server whose certificate the client does not trust.
	srv := sandbox.New(sandbox.WithSigningKey(sandboxKey()))
	tlsSrv := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(tlsSrv.Close)
	c.host(tlsSrv.URL)
	_, tr, err = traced(ctx, func(ctx context.Context) (*oauthflow.DiscoveryResult, error) {
		return r.Discover(ctx, tlsSrv.URL+"/oauth", "")
	})
	c.add("untrusted TLS certificate", CodeTLSError, false, stepOf(oauthflow.StepDiscovery, tr, err), fixtureContext{Provider: "custom"}, "")
}
