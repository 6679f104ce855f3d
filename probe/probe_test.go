package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oauthdiag/oauthdiag/browser"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/probe"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// probeVerdicts is what a server earns on every check; a missing entry fails the test, so each
// table row states the whole report.
type probeVerdicts map[string]probe.Verdict

const (
	pass = probe.VerdictPass
	dev  = probe.VerdictDeviation
	na   = probe.VerdictNotApplicable
)

// probeSandbox starts the sandbox in the given compliance mode, with its login and consent pages
// (completed by the headless browser), and returns probe options for its default client.
func probeSandbox(t *testing.T, mode sandbox.Compliance, opts ...sandbox.Option) probe.Options {
	t.Helper()
	sb := testkit.StartSandbox(t, append([]sandbox.Option{sandbox.WithCompliance(mode)}, opts...)...)
	provider := oauthflow.LinkedInAt(sb.BaseURL(), sb.BaseURL())
	return probe.Options{
		Config: oauthflow.Config{Provider: provider, Client: oauthflow.Client{
			ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI,
		}},
		Discover:     true,
		Issuer:       sb.Issuer(),
		DiscoveryURL: provider.DiscoveryURL,
		Browser:      &browser.Headless{Username: "member@example.com", Password: "probe-password"},
		Now:          func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) },
		Random:       testkit.Random("probe"),
	}
}

// probePeer returns probe options for a peer's confidential client, found through discovery.
func probePeer(p *peertest.Peer) probe.Options {
	return probe.Options{
		Config: oauthflow.Config{
			Provider: oauthflow.Provider{Issuer: p.Issuer},
			Client:   oauthflow.Client{ID: p.ClientID, Secret: p.ClientSecret, RedirectURI: p.RedirectURI, AuthMethod: oauthflow.AuthBasic},
		},
		Discover: true,
		Issuer:   p.Issuer,
		Browser:  &browser.Headless{Username: p.Username, Password: p.Password},
	}
}

func runProbe(t *testing.T, opts probe.Options) *probe.Report {
	t.Helper()
	rep, err := probe.Run(t.Context(), opts)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return rep
}

// checkVerdicts compares every check's verdict and, where given, evidence fragments.
func checkVerdicts(t *testing.T, rep *probe.Report, want probeVerdicts, evidence map[string][]string) {
	t.Helper()
	if len(rep.Checks) != len(probe.CheckNames()) {
		t.Errorf("report has %d checks, want %d", len(rep.Checks), len(probe.CheckNames()))
	}
	for i, name := range probe.CheckNames() {
		if i < len(rep.Checks) && rep.Checks[i].Name != name {
			t.Errorf("check %d is %q, want %q (the order is fixed)", i, rep.Checks[i].Name, name)
		}
		c, ok := rep.Check(name)
		if !ok {
			t.Errorf("check %s missing from the report", name)
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("test table lacks check %s (got %s: %s)", name, c.Verdict, c.Evidence)
			continue
		}
		if c.Verdict != w {
			t.Errorf("%s: verdict %s, want %s; evidence: %s", name, c.Verdict, w, c.Evidence)
		}
		if c.Reference == "" || c.Evidence == "" {
			t.Errorf("%s: reference %q and evidence %q must both be set", name, c.Reference, c.Evidence)
		}
		for _, frag := range evidence[name] {
			if !strings.Contains(c.Evidence, frag) {
				t.Errorf("%s: evidence lacks %q: %s", name, frag, c.Evidence)
			}
		}
	}
	var passed, deviations, notApplicable int
	for _, c := range rep.Checks {
		switch c.Verdict {
		case pass:
			passed++
		case dev:
			deviations++
		case na:
			notApplicable++
		}
	}
	if rep.Passed != passed || rep.Deviations != deviations || rep.NotApplicable != notApplicable || rep.Errors != 0 {
		t.Errorf("tallies %d/%d/%d/%d, want %d pass, %d deviation, %d not applicable, 0 errors",
			rep.Passed, rep.Deviations, rep.NotApplicable, rep.Errors, passed, deviations, notApplicable)
	}
	if t.Failed() {
		t.Log("\n" + probe.Render(rep))
	}
}

// TestProbeSandbox runs the probe against the sandbox's three compliance modes: strict must pass
// everything, lenient must show every deviation it was built with, and linkedin mode earns the
// verdicts LinkedIn's documented behaviour earns (its own error codes where RFC 6749 says invalid_grant,
// introspection and revocation missing from discovery, no RFC 9207).
func TestProbeSandbox(t *testing.T) {
	cases := []struct {
		mode     sandbox.Compliance
		want     probeVerdicts
		evidence map[string][]string
	}{
		{
			mode: sandbox.ComplianceStrict,
			want: probeVerdicts{
				probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: pass, probe.DiscoveryIntrospectRevoke: pass,
				probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: pass,
				probe.WrongPKCEVerifier: pass, probe.CodeReuse: pass, probe.RevokedAccessTokenInactive: pass,
				probe.RevokedRefreshTokenRefused: pass, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: pass,
			},
			evidence: map[string][]string{
				probe.WrongClientSecret:           {"HTTP 401 invalid_client"},
				probe.UnregisteredRedirectURI:     {"stopped on an HTTP 400 page", "/oauthdiag-probe-unregistered"},
				probe.WrongPKCEVerifier:           {"HTTP 400 invalid_grant"},
				probe.CodeReuse:                   {"HTTP 400 invalid_grant", "first exchange was revoked"},
				probe.RefreshTokenRotation:        {"not rotated"},
				probe.AuthorizationResponseIssuer: {"the issuer exactly"},
			},
		},
		{
			mode: sandbox.ComplianceLenient,
			want: probeVerdicts{
				probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: dev, probe.DiscoveryIntrospectRevoke: dev,
				probe.WrongClientSecret: dev, probe.UnregisteredRedirectURI: dev, probe.TokenRedirectURIMismatch: dev,
				probe.WrongPKCEVerifier: dev, probe.CodeReuse: dev, probe.RevokedAccessTokenInactive: dev,
				probe.RevokedRefreshTokenRefused: dev, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: na,
			},
			evidence: map[string][]string{
				probe.DiscoveryPKCEMethods:       {"code_challenge_methods_supported is absent"},
				probe.DiscoveryIntrospectRevoke:  {"introspection_endpoint is not listed", "revocation_endpoint is not listed"},
				probe.WrongClientSecret:          {"accepted"},
				probe.UnregisteredRedirectURI:    {"redirected there with an authorization code"},
				probe.TokenRedirectURIMismatch:   {"accepted"},
				probe.WrongPKCEVerifier:          {"accepted"},
				probe.CodeReuse:                  {"accepted again"},
				probe.RevokedAccessTokenInactive: {"still calls the access token active"},
				// Lenient mode refuses a revoked refresh token, but in LinkedIn's words.
				probe.RevokedRefreshTokenRefused:  {"invalid_request", "instead of invalid_grant"},
				probe.AuthorizationResponseIssuer: {"does not advertise"},
			},
		},
		{
			mode: sandbox.ComplianceLinkedIn,
			want: probeVerdicts{
				probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: pass, probe.DiscoveryIntrospectRevoke: dev,
				probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: dev,
				probe.WrongPKCEVerifier: dev, probe.CodeReuse: dev, probe.RevokedAccessTokenInactive: pass,
				probe.RevokedRefreshTokenRefused: dev, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: na,
			},
			evidence: map[string][]string{
				probe.DiscoveryIntrospectRevoke:  {"/oauth/v2/introspectToken answered (HTTP 200)", "/oauth/v2/revoke answered (HTTP 200)"},
				probe.WrongClientSecret:          {"client_secret_post", "HTTP 401 invalid_client"},
				probe.TokenRedirectURIMismatch:   {"rejected, but with HTTP 400 invalid_redirect_uri", "instead of invalid_grant"},
				probe.WrongPKCEVerifier:          {"rejected, but with HTTP 400 invalid_redirect_uri", "instead of invalid_grant"},
				probe.CodeReuse:                  {"rejected, but with HTTP 400 invalid_request", "instead of invalid_grant"},
				probe.RevokedAccessTokenInactive: {"status=revoked"},
				probe.RevokedRefreshTokenRefused: {"rejected, but with HTTP 400 invalid_request"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			rep := runProbe(t, probeSandbox(t, tc.mode))
			checkVerdicts(t, rep, tc.want, tc.evidence)
			if c, _ := rep.Check(probe.RefreshTokenRotation); !c.Fact {
				t.Errorf("refresh-token-rotation of a confidential client must be reported as a fact: %+v", c)
			}
		})
	}
}

// TestProbeZitadel asserts the verdicts the zitadel/oidc OP earns: it conforms on every judged check,
// rotates refresh tokens, and does not implement RFC 9207.
func TestProbeZitadel(t *testing.T) {
	t.Parallel()
	p := peertest.Zitadel(t)
	rep := runProbe(t, probePeer(p))
	checkVerdicts(t, rep, probeVerdicts{
		probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: pass, probe.DiscoveryIntrospectRevoke: pass,
		probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: pass,
		probe.WrongPKCEVerifier: pass, probe.CodeReuse: pass, probe.RevokedAccessTokenInactive: pass,
		probe.RevokedRefreshTokenRefused: pass, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: na,
	}, map[string][]string{
		probe.WrongClientSecret:           {"client_secret_basic", "HTTP 401 invalid_client"},
		probe.UnregisteredRedirectURI:     {"redirect_uri is missing in the client configuration"},
		probe.TokenRedirectURIMismatch:    {"HTTP 400 invalid_grant"},
		probe.CodeReuse:                   {"HTTP 400 invalid_grant", "first exchange stays active"},
		probe.RefreshTokenRotation:        {"rotated: the refresh response carried a new refresh token"},
		probe.AuthorizationResponseIssuer: {"no iss in the authorization response"},
	})
}

// TestProbeZitadelPublicClient probes with zitadel's public client: no secret to get wrong,
// rotation is judged (RFC 9700 requires it of public clients), and introspection, which zitadel
// refuses to public clients, cannot observe revocation.
func TestProbeZitadelPublicClient(t *testing.T) {
	t.Parallel()
	p := peertest.Zitadel(t)
	opts := probePeer(p)
	opts.Config.Client = oauthflow.Client{ID: p.PublicClientID, AuthMethod: oauthflow.AuthNone, RedirectURI: p.RedirectURI}
	rep := runProbe(t, opts)
	checkVerdicts(t, rep, probeVerdicts{
		probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: pass, probe.DiscoveryIntrospectRevoke: pass,
		probe.WrongClientSecret: na, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: pass,
		probe.WrongPKCEVerifier: pass, probe.CodeReuse: pass, probe.RevokedAccessTokenInactive: na,
		probe.RevokedRefreshTokenRefused: pass, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: na,
	}, map[string][]string{
		probe.WrongClientSecret:          {"public client"},
		probe.RevokedAccessTokenInactive: {"refuses this public client", "HTTP 401"},
		probe.RefreshTokenRotation:       {"required for public clients"},
	})
	if c, _ := rep.Check(probe.RefreshTokenRotation); c.Fact {
		t.Errorf("rotation is judged for a public client, not reported as a fact: %+v", c)
	}
}

// TestProbeOIDCProvider asserts the verdicts panva's oidc-provider earns: every check passes, RFC 9207
// included, and refresh tokens of a confidential client are not rotated. CI starts the server; locally
// run peers/oidc-provider/start.sh, or the test is skipped (fails with OAUTHDIAG_REQUIRE_PEERS=1).
func TestProbeOIDCProvider(t *testing.T) {
	t.Parallel()
	p := peertest.OIDCProvider(t)
	rep := runProbe(t, probePeer(p))
	checkVerdicts(t, rep, probeVerdicts{
		probe.DiscoveryEndpoints: pass, probe.DiscoveryPKCEMethods: pass, probe.DiscoveryIntrospectRevoke: pass,
		probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: pass,
		probe.WrongPKCEVerifier: pass, probe.CodeReuse: pass, probe.RevokedAccessTokenInactive: pass,
		probe.RevokedRefreshTokenRefused: pass, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: pass,
	}, map[string][]string{
		probe.WrongClientSecret:           {"HTTP 401 invalid_client"},
		probe.UnregisteredRedirectURI:     {"invalid_redirect_uri"},
		probe.CodeReuse:                   {"HTTP 400 invalid_grant", "first exchange was revoked"},
		probe.RefreshTokenRotation:        {"not rotated"},
		probe.AuthorizationResponseIssuer: {fmt.Sprintf("iss=%q", p.Issuer)},
	})
}

// TestProbeWithoutDiscovery: with explicit endpoints the discovery checks do not apply, and the iss
// the strict sandbox sends is compared with the configured issuer.
func TestProbeWithoutDiscovery(t *testing.T) {
	t.Parallel()
	opts := probeSandbox(t, sandbox.ComplianceStrict)
	opts.Discover = false
	rep := runProbe(t, opts)
	checkVerdicts(t, rep, probeVerdicts{
		probe.DiscoveryEndpoints: na, probe.DiscoveryPKCEMethods: na, probe.DiscoveryIntrospectRevoke: na,
		probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: pass,
		probe.WrongPKCEVerifier: pass, probe.CodeReuse: pass, probe.RevokedAccessTokenInactive: pass,
		probe.RevokedRefreshTokenRefused: pass, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: pass,
	}, map[string][]string{
		probe.DiscoveryEndpoints: {"no discovery document was read"},
	})
}

// secretLog collects every secret value that crossed the wire during a probe.
type secretLog struct {
	mu     sync.Mutex
	values map[string]bool
}

func (s *secretLog) add(v string) {
	if len(v) < 8 {
		return
	}
	s.mu.Lock()
	s.values[v] = true
	s.mu.Unlock()
}

// secretTransport records the secrets in token-endpoint traffic: the form fields sent and the tokens
// returned. With echo set it also plays a server that quotes the secret it was sent in a long
// error_description, so the secret straddles the point where evidence is cut short.
type secretTransport struct {
	log  *secretLog
	echo bool
}

func (st secretTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent string
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if form, err := url.ParseQuery(string(body)); err == nil {
			for _, k := range []string{"code", "code_verifier", "client_secret", "refresh_token", "token"} {
				if v := form.Get(k); v != "" {
					st.log.add(v)
					sent = v
				}
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, ok := fields[k].(string); ok {
				st.log.add(s)
			}
		}
		if _, isError := fields["error"].(string); isError && st.echo && sent != "" {
			// 82 characters before the secret: a description cut at 100 keeps its first 18.
			fields["error_description"] = strings.Repeat("padding ", 9) + "the value " + sent + " was refused"
			if body, err = json.Marshal(fields); err != nil {
				return nil, err
			}
			resp.ContentLength = int64(len(body))
			resp.Header.Del("Content-Length")
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// secretBrowser records the codes of the redirects the real browser brings back.
type secretBrowser struct {
	log  *secretLog
	next browser.Browser
}

func (b secretBrowser) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	redirect, err := b.next.Authorize(ctx, authURL, redirectURI)
	if u, perr := url.Parse(redirect); perr == nil {
		b.log.add(u.Query().Get("code"))
	}
	return redirect, err
}

// TestProbeNeverRevealsSecrets runs the probe against the lenient sandbox (which hands out tokens
// for every mistake) and the strict one (which refuses them, behind a transport that quotes the
// refused secret in a long error_description) with a canary client secret, and asserts that no
// secret, code, verifier or token that crossed the wire appears in the report, as JSON or as text,
// whole or cut short.
func TestProbeNeverRevealsSecrets(t *testing.T) {
	t.Parallel()
	const canary = "canary-probe-secret-7f3e1d"
	for _, tc := range []struct {
		mode          sandbox.Compliance
		echo          bool
		minDeviations int
	}{
		{sandbox.ComplianceLenient, false, 9},
		{sandbox.ComplianceStrict, true, 0},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			opts := probeSandbox(t, tc.mode, sandbox.WithClient("canary-client", canary))
			opts.Config.Client.ID, opts.Config.Client.Secret = "canary-client", canary
			seen := &secretLog{values: map[string]bool{canary: true}}
			opts.HTTPClient = &http.Client{Transport: secretTransport{log: seen, echo: tc.echo}}
			opts.Browser = secretBrowser{log: seen, next: opts.Browser}
			rep := runProbe(t, opts)

			if rep.Deviations < tc.minDeviations {
				t.Fatalf("the lenient sandbox should have shown its deviations (the secrets they expose are the point): %d", rep.Deviations)
			}
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			outputs := map[string]string{"json": string(js), "text": probe.Render(rep)}
			if len(seen.values) < 10 {
				t.Fatalf("only %d secrets were seen on the wire; the transport did not record the probe's traffic", len(seen.values))
			}
			if tc.echo && !strings.Contains(outputs["text"], "padding padding") {
				t.Fatalf("no error_description quoting a secret reached the report, so cut secrets were not tested:\n%s", outputs["text"])
			}
			for name, out := range outputs {
				for v := range seen.values {
					// A secret cut short where evidence is truncated still gives its beginning away.
					if prefix := v[:min(len(v), 12)]; strings.Contains(out, prefix) {
						t.Errorf("%s output reveals the secret %.12s… (at least its first %d characters)", name, v, len(prefix))
					}
				}
			}
		})
	}
}

// TestProbeUnreachable: a provider that does not answer is an error, not a report full of failures.
func TestProbeUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	provider := oauthflow.LinkedInAt(base, base)
	for _, discover := range []bool{true, false} {
		t.Run(fmt.Sprintf("discover=%v", discover), func(t *testing.T) {
			_, err := probe.Run(t.Context(), probe.Options{
				Config: oauthflow.Config{Provider: provider, Client: oauthflow.Client{
					ID: "id", Secret: "secret", RedirectURI: oauthflow.DefaultRedirectURI}},
				Discover: discover, Issuer: provider.Issuer, DiscoveryURL: provider.DiscoveryURL,
				Browser: &browser.Headless{},
			})
			if !errors.Is(err, probe.ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
		})
	}
}

// TestProbeConfigurationErrors: a probe that cannot run says why instead of reporting.
func TestProbeConfigurationErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*probe.Options)
		want string
	}{
		{"no browser", func(o *probe.Options) { o.Browser = nil }, "needs a browser"},
		{"no client id", func(o *probe.Options) { o.Config.Client.ID = "" }, "--client-id"},
		{"discovery without issuer", func(o *probe.Options) {
			o.Discover = true
			o.Issuer, o.DiscoveryURL = "", ""
		}, "issuer"},
		{"no discovery document and no endpoints", func(o *probe.Options) {
			o.Config.Provider = oauthflow.Provider{Issuer: o.Config.Provider.Issuer}
			o.Discover, o.Issuer, o.DiscoveryURL = true, "", o.Config.Provider.Issuer+"/nowhere"
		}, "(discovery: no discovery document at"},
		{"no token endpoint", func(o *probe.Options) {
			o.Discover = false
			o.Config.Provider.Endpoints.Token = ""
		}, "--token-url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := probeSandbox(t, sandbox.ComplianceLinkedIn)
			opts.Discover = false
			tc.edit(&opts)
			_, err := probe.Run(t.Context(), opts)
			e, ok := oauthflow.AsError(err)
			if !ok || e.Kind != oauthflow.KindConfig || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a KindConfig error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestMain(m *testing.M) {
	testkit.RunHelpers(m, map[string]func() int{"browse": helperBrowser})
}

// helperBrowserEnv is the "user:password" the browse helper signs in with.
const helperBrowserEnv = "OAUTHDIAG_PROBE_HELPER_BROWSER"

// helperBrowser, the browse helper, is a stand-in for `oauthdiag browse` (package main cannot be
// imported): the same HeadlessBrowser on the URL given last, the same exit statuses (0 and the
// redirect on stdout; browser.ExitStoppedOnPage stopped on a page; 1 anything else).
func helperBrowser() int {
	authURL := os.Args[len(os.Args)-1]
	user, password, _ := strings.Cut(os.Getenv(helperBrowserEnv), ":")
	redirect, err := (&browser.Headless{Username: user, Password: password}).Authorize(context.Background(), authURL, "")
	var pe *browser.PageError
	switch {
	case err == nil:
		fmt.Println(redirect)
		return 0
	case errors.As(err, &pe):
		fmt.Fprintln(os.Stderr, err)
		return browser.ExitStoppedOnPage
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// TestProbeBrowserCommand probes zitadel through --browser-cmd: each authorization is a separate
// process, and the unregistered redirect_uri shows up as exit status 4 with no URL printed.
func TestProbeBrowserCommand(t *testing.T) {
	p := peertest.Zitadel(t)
	t.Setenv(helperBrowserEnv, p.Username+":"+p.Password)
	opts := probePeer(p)
	opts.Browser = browser.Command{Command: testkit.ChildCommandLine(t, "browse")}
	rep := runProbe(t, opts)
	c, _ := rep.Check(probe.UnregisteredRedirectURI)
	if c.Verdict != pass || !strings.Contains(c.Evidence, "exit status 4") {
		t.Errorf("unregistered-redirect-uri through a browser command: %s: %s", c.Verdict, c.Evidence)
	}
	if rep.Errors != 0 || rep.Deviations != 0 {
		t.Errorf("zitadel through a browser command: %s\n%s", probe.Summary(rep), probe.Render(rep))
	}
}

// TestRenderProbe: one line per check with its mark, name, reference and evidence, then the tally.
func TestRenderProbe(t *testing.T) {
	rep := &probe.Report{
		Provider: "example", Issuer: "https://id.example.com",
		Checks: []probe.Check{
			{Name: "a-check", Verdict: pass, Reference: "RFC 1 §1", Evidence: "fine"},
			{Name: "another-check", Verdict: dev, Reference: "RFC 22 §2.2", Evidence: "rejected, but\nwith X"},
			{Name: "n", Verdict: na, Reference: "RFC 3", Evidence: "no endpoint"},
			{Name: "fact", Verdict: pass, Reference: "RFC 4", Evidence: "rotated", Fact: true},
			{Name: "broken", Verdict: probe.VerdictError, Reference: "RFC 5", Evidence: "no answer"},
		},
		Passed: 2, Deviations: 1, NotApplicable: 1, Errors: 1,
	}
	got := probe.Render(rep)
	want := "Conformance probe of example (https://id.example.com)\n\n" +
		"  ✓  a-check        RFC 1 §1     fine\n" +
		"  ✗  another-check  RFC 22 §2.2  rejected, but with X\n" +
		"  –  n              RFC 3        no endpoint\n" +
		"  i  fact           RFC 4        rotated\n" +
		"  !  broken         RFC 5        no answer\n" +
		"\n2 pass, 1 deviation, 1 not applicable, 1 could not run\n"
	if got != want {
		t.Errorf("Render:\n%s\nwant:\n%s", got, want)
	}
	rep.Errors = 0
	if s := probe.Summary(rep); s != "2 pass, 1 deviation, 1 not applicable" {
		t.Errorf("Summary = %q", s)
	}
}

// TestProbeLoginFails: when the browser cannot log in, the checks that need a code cannot run; the
// report says so (with the reason once) instead of inventing verdicts, and discovery is still judged.
func TestProbeLoginFails(t *testing.T) {
	t.Parallel()
	p := peertest.Zitadel(t)
	opts := probePeer(p)
	opts.Browser = &browser.Headless{Username: p.Username, Password: "not-the-password"}
	rep := runProbe(t, opts)
	for _, c := range rep.Checks {
		switch {
		case strings.HasPrefix(c.Name, "discovery-"):
			if c.Verdict != pass {
				t.Errorf("%s: %s, want pass (discovery needs no login): %s", c.Name, c.Verdict, c.Evidence)
			}
		case c.Verdict != probe.VerdictError:
			t.Errorf("%s: %s, want error: %s", c.Name, c.Verdict, c.Evidence)
		case c.Name == probe.AuthorizationResponseIssuer:
			if !strings.Contains(c.Evidence, "check the username and password") {
				t.Errorf("the first failure should carry the browser's reason: %s", c.Evidence)
			}
		case !strings.Contains(c.Evidence, "the first authorization already failed"):
			t.Errorf("%s: evidence should point at the first failure: %s", c.Name, c.Evidence)
		}
	}
	if rep.Errors != 9 || !strings.Contains(probe.Summary(rep), "9 could not run") {
		t.Errorf("summary %q, want 9 checks that could not run", probe.Summary(rep))
	}
}

// TestProbeDiscoveryDocument: a missing document makes the discovery checks not applicable (the
// preset's endpoints still serve the other checks); a document that lacks required members or
// claims another issuer is a deviation. The broken document is the sandbox's own, edited on the way.
func TestProbeDiscoveryDocument(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		edit     func(doc map[string]any) // nil: no document at all (404)
		want     probeVerdicts
		evidence map[string][]string
	}{
		{
			name: "missing",
			want: probeVerdicts{
				probe.DiscoveryEndpoints: na, probe.DiscoveryPKCEMethods: na, probe.DiscoveryIntrospectRevoke: na,
			},
			evidence: map[string][]string{probe.DiscoveryEndpoints: {"HTTP 404"}},
		},
		{
			name: "incomplete, wrong issuer",
			edit: func(doc map[string]any) {
				delete(doc, "jwks_uri")
				delete(doc, "subject_types_supported")
				doc["issuer"] = "https://elsewhere.example/oauth"
				doc["code_challenge_methods_supported"] = []string{"plain"}
			},
			want: probeVerdicts{
				probe.DiscoveryEndpoints: dev, probe.DiscoveryPKCEMethods: dev, probe.DiscoveryIntrospectRevoke: dev,
			},
			evidence: map[string][]string{
				probe.DiscoveryEndpoints:   {"lacks required jwks_uri, subject_types_supported", `claims issuer "https://elsewhere.example/oauth"`},
				probe.DiscoveryPKCEMethods: {"without S256"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := probeSandbox(t, sandbox.ComplianceLinkedIn)
			sandboxDoc := opts.DiscoveryURL
			docServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.edit == nil {
					http.NotFound(w, r)
					return
				}
				resp, err := http.Get(sandboxDoc)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				defer resp.Body.Close()
				var doc map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				tc.edit(doc)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(doc)
			}))
			t.Cleanup(docServer.Close)
			opts.DiscoveryURL = docServer.URL + "/oauth/.well-known/openid-configuration"
			rep := runProbe(t, opts)
			// The checks that do not read the document earn what linkedin mode always earns.
			want := probeVerdicts{
				probe.WrongClientSecret: pass, probe.UnregisteredRedirectURI: pass, probe.TokenRedirectURIMismatch: dev,
				probe.WrongPKCEVerifier: dev, probe.CodeReuse: dev, probe.RevokedAccessTokenInactive: pass,
				probe.RevokedRefreshTokenRefused: dev, probe.RefreshTokenRotation: pass, probe.AuthorizationResponseIssuer: na,
			}
			maps.Copy(want, tc.want)
			checkVerdicts(t, rep, want, tc.evidence)
		})
	}
}
