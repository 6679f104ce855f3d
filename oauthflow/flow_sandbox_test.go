package oauthflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// flowOrder is every step RunFlow reports, in order.
var flowOrder = []string{
	oauthflow.StepDiscovery, oauthflow.StepAuthorize, oauthflow.StepCallback, oauthflow.StepExchange,
	oauthflow.StepUserinfo, oauthflow.StepAPICall, oauthflow.StepIntrospect, oauthflow.StepRefresh,
	oauthflow.StepRevoke, oauthflow.StepIntrospectAfter,
}

// sandboxConfig is the LinkedIn preset pointed at the sandbox with its built-in client.
func sandboxConfig(s *sandbox.Server) oauthflow.Config {
	return oauthflow.Config{
		Provider: oauthflow.LinkedInAt(s.BaseURL(), s.BaseURL()),
		Client: oauthflow.Client{ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret,
			RedirectURI: oauthflow.DefaultRedirectURI, PKCE: true},
	}
}

// stepStatuses lists each step's name and status, for messages.
func stepStatuses(fr *oauthflow.FlowResult) string {
	var b strings.Builder
	for _, s := range fr.Steps {
		b.WriteString(s.Name + "=" + string(s.Status))
		if s.Err != nil {
			b.WriteString(" (" + s.Err.Error() + ")")
		}
		b.WriteString("; ")
	}
	return b.String()
}

// checkFailsAt asserts that the flow failed at step (every step before it ok or skipped for a
// reason, every step after it skipped) and returns that step's *Error.
func checkFailsAt(t *testing.T, fr *oauthflow.FlowResult, step string) *oauthflow.Error {
	t.Helper()
	if fr.OK {
		t.Fatalf("the flow reports ok; want a failure at %s: %s", step, stepStatuses(fr))
	}
	names := make([]string, len(fr.Steps))
	for i, s := range fr.Steps {
		names[i] = s.Name
	}
	if !slices.Equal(names, flowOrder) {
		t.Errorf("steps reported %v, want all of %v in order", names, flowOrder)
	}
	failed := fr.FailedStep()
	if failed == nil || failed.Name != step {
		t.Fatalf("failed step = %v, want %s: %s", failed, step, stepStatuses(fr))
	}
	after := false
	for _, s := range fr.Steps {
		switch {
		case s.Name == step:
			after = true
		case after && s.Status != oauthflow.StatusSkipped:
			t.Errorf("step %s after the failure is %s, want skipped", s.Name, s.Status)
		case !after && s.Status == oauthflow.StatusFailed:
			t.Errorf("step %s before %s failed", s.Name, step)
		}
	}
	e, ok := oauthflow.AsError(failed.Err)
	if !ok {
		t.Fatalf("step %s failed with %T %v, want an *oauthflow.Error", step, failed.Err, failed.Err)
	}
	if e.Step != step {
		t.Errorf("the error names step %q, want %q", e.Step, step)
	}
	return e
}

func TestSandboxScenarios(t *testing.T) {
	t.Parallel()
	type want struct {
		step             string // "" = the whole flow succeeds
		kind             oauthflow.ErrorKind
		code             string
		status           int
		serviceErrorCode int
		retryAfter       time.Duration
	}
	rows := map[sandbox.Scenario]want{
		sandbox.Happy:            {},
		sandbox.ServerError:      {step: "userinfo", kind: oauthflow.KindAPI, code: "INTERNAL_SERVER_ERROR", status: 500},
		sandbox.RateLimited:      {step: "userinfo", kind: oauthflow.KindAPI, code: "TOO_MANY_REQUESTS", status: 429, retryAfter: time.Second},
		sandbox.ExpiredToken:     {step: "userinfo", kind: oauthflow.KindAPI, code: "EXPIRED_ACCESS_TOKEN", status: 401, serviceErrorCode: 65602},
		sandbox.RevokedToken:     {step: "userinfo", kind: oauthflow.KindAPI, code: "REVOKED_ACCESS_TOKEN", status: 401, serviceErrorCode: 65601},
		sandbox.UserCancel:       {step: "callback", kind: oauthflow.KindRedirect, code: "user_cancelled_login"},
		sandbox.RedirectMismatch: {step: "authorize", kind: oauthflow.KindBrowser, code: oauthflow.CodeBrowserStopped, status: 400},
		sandbox.BadSecret:        {step: "exchange", kind: oauthflow.KindOAuth, code: "invalid_client", status: 401},
		sandbox.CodeReuse:        {step: "exchange", kind: oauthflow.KindOAuth, code: "invalid_request", status: 400},
		sandbox.ScopeDenied:      {step: "userinfo", kind: oauthflow.KindAPI, code: "ACCESS_DENIED", status: 403, serviceErrorCode: 100},
		sandbox.Slow:             {step: "userinfo", kind: oauthflow.KindTransport, code: oauthflow.CodeTimeout},
		sandbox.Flaky:            {step: "userinfo", kind: oauthflow.KindAPI, code: "SERVICE_UNAVAILABLE", status: 503},
		sandbox.NoRefreshToken:   {step: "refresh", kind: oauthflow.KindUnavailable, code: oauthflow.CodeNoRefreshToken},
	}
	for _, sc := range sandbox.Scenarios() {
		w, ok := rows[sc]
		if !ok {
			t.Errorf("scenario %s has no row: say where it must fail", sc)
			continue
		}
		t.Run(string(sc), func(t *testing.T) {
			t.Parallel()
			if sc != sandbox.Slow && sc.FailingStep() != w.step {
				t.Errorf("the sandbox says %s fails at %q, this table says %q", sc, sc.FailingStep(), w.step)
			}
			opts := []sandbox.Option{sandbox.WithScenario(sc), sandbox.WithAutoConsent(true)}
			var runnerOpts []oauthflow.Option
			if sc == sandbox.Slow {
				opts = append(opts, sandbox.WithSlowDelay(2*time.Second))
				runnerOpts = append(runnerOpts, oauthflow.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
			}
			s := testkit.StartSandbox(t, opts...)
			r := oauthflow.NewRunner(sandboxConfig(s), runnerOpts...)
			var live []string
			fr := r.RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{},
				OnStep: func(sr oauthflow.StepReport) { live = append(live, sr.Name) }})
			if !slices.Equal(live, flowOrder) {
				t.Errorf("OnStep saw %v, want every step once, in order", live)
			}
			if w.step == "" {
				checkHappyFlow(t, s, fr)
				return
			}
			e := checkFailsAt(t, fr, w.step)
			if e.Kind != w.kind || e.Code != w.code || e.Status != w.status || e.ServiceErrorCode != w.serviceErrorCode || e.RetryAfter != w.retryAfter {
				t.Errorf("error kind %v code %q status %d serviceErrorCode %d retryAfter %v\nwant       %v %q %d %d %v\n(%v)",
					e.Kind, e.Code, e.Status, e.ServiceErrorCode, e.RetryAfter, w.kind, w.code, w.status, w.serviceErrorCode, w.retryAfter, e)
			}
			if e.Description == "" && e.Err == nil {
				t.Errorf("the error gives no cause: %v", e)
			}
			failed := fr.FailedStep()
			if w.status != 0 && failed.HTTPStatus() != w.status {
				t.Errorf("the failing step shows HTTP %d, want %d", failed.HTTPStatus(), w.status)
			}
			switch w.step {
			case "userinfo", "exchange":
				// The failed call is in the step's record, answer and all (or the transport error).
				if len(failed.Exchanges) != 1 {
					t.Fatalf("the failing step recorded %d exchanges, want 1", len(failed.Exchanges))
				}
				if ex := failed.Exchanges[0]; (ex.Response == nil) != (w.kind == oauthflow.KindTransport) {
					t.Errorf("exchange response %+v err %v", ex.Response, ex.Err)
				}
			}
		})
	}
}

// checkHappyFlow asserts a whole successful flow against the sandbox.
func checkHappyFlow(t *testing.T, s *sandbox.Server, fr *oauthflow.FlowResult) {
	t.Helper()
	if !fr.OK || fr.FailedStep() != nil {
		t.Fatalf("the flow failed: %s", stepStatuses(fr))
	}
	for _, st := range fr.Steps {
		want := oauthflow.StatusOK
		if st.Name == oauthflow.StepAPICall {
			want = oauthflow.StatusSkipped // no API URL given
		}
		if st.Status != want {
			t.Errorf("step %s is %s, want %s", st.Name, st.Status, want)
		}
	}
	if fr.Provider.Issuer != s.Issuer() || fr.ClaimedIssuer != s.Issuer() {
		t.Errorf("issuer %q claimed %q, want %q", fr.Provider.Issuer, fr.ClaimedIssuer, s.Issuer())
	}
	tok := fr.Token
	if tok == nil || tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token %+v", tok)
	}
	if tok.ExpiresIn != 5184000 || tok.RefreshTokenExpiresIn != 31536000 {
		t.Errorf("LinkedIn lifetimes: expires_in %d refresh_token_expires_in %d", tok.ExpiresIn, tok.RefreshTokenExpiresIn)
	}
	if fr.Userinfo == nil || fr.Userinfo.Status != 200 {
		t.Errorf("userinfo %+v", fr.Userinfo)
	}
	if in := fr.Introspection; in == nil || !in.Active || in.Status != "active" || in.AuthType != "3L" {
		t.Errorf("introspection %+v", in)
	}
	if fr.Refreshed == nil || fr.Refreshed.AccessToken == tok.AccessToken {
		t.Errorf("refresh gave %+v", fr.Refreshed)
	}
	// RFC 7662 §2.2 says nothing more than active=false about an inactive token; LinkedIn adds its status.
	wantStatus := "revoked"
	if s.Compliance() == sandbox.ComplianceStrict {
		wantStatus = ""
	}
	if in := fr.IntrospectionAfterRevoke; in == nil || in.Active || in.Status != wantStatus {
		t.Errorf("introspection after revocation %+v, want inactive, status %q", in, wantStatus)
	}
	st := s.Stats()
	if st.AuthorizationCodeGrants != 1 || st.RefreshGrants != 1 || st.Revocations != 2 || st.Introspections != 2 {
		t.Errorf("sandbox saw %+v", st)
	}
}

func TestSandboxStrictCompliance(t *testing.T) {
	t.Parallel()
	t.Run("happy, with RFC 9207 iss on the redirect", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithCompliance(sandbox.ComplianceStrict), sandbox.WithAutoConsent(true))
		fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
		checkHappyFlow(t, s, fr)
		if fr.Callback.Iss != s.Issuer() {
			t.Errorf("callback iss %q", fr.Callback.Iss)
		}
		if !slices.Contains(fr.Steps[2].Notes, "iss on the redirect matches (RFC 9207)") {
			t.Errorf("callback notes %v", fr.Steps[2].Notes)
		}
	})
	t.Run("cancel is access_denied", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithCompliance(sandbox.ComplianceStrict), sandbox.WithAutoConsent(true), sandbox.WithScenario(sandbox.UserCancel))
		fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
		if e := checkFailsAt(t, fr, "callback"); e.Kind != oauthflow.KindRedirect || e.Code != "access_denied" {
			t.Errorf("got %v", e)
		}
	})
	t.Run("code reuse is invalid_grant", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithCompliance(sandbox.ComplianceStrict), sandbox.WithAutoConsent(true), sandbox.WithScenario(sandbox.CodeReuse))
		fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
		if e := checkFailsAt(t, fr, "exchange"); e.Kind != oauthflow.KindOAuth || e.Code != "invalid_grant" || e.Status != 400 {
			t.Errorf("got %v", e)
		}
	})
	t.Run("a redirect from another issuer is refused", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithCompliance(sandbox.ComplianceStrict), sandbox.WithAutoConsent(true))
		cfg := sandboxConfig(s)
		cfg.Provider.Issuer = "https://www.linkedin.com/oauth" // the client expects the real LinkedIn
		fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
		if e := checkFailsAt(t, fr, "callback"); e.Kind != oauthflow.KindValidation || e.Code != oauthflow.CodeIssuerMismatch {
			t.Errorf("got %v", e)
		}
		if notes := fr.Steps[0].Notes; len(notes) == 0 || !strings.Contains(notes[0], "claims issuer "+s.Issuer()) {
			t.Errorf("discovery must note the issuer the document claims: %v", notes)
		}
	})
}

func TestSandboxLenientRevocationIsCaught(t *testing.T) {
	t.Parallel()
	s := testkit.StartSandbox(t, sandbox.WithCompliance(sandbox.ComplianceLenient), sandbox.WithAutoConsent(true))
	fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
	e := checkFailsAt(t, fr, oauthflow.StepIntrospectAfter)
	if e.Kind != oauthflow.KindValidation || e.Code != "revoked_token_active" || e.Hint == "" {
		t.Errorf("a revoked token still active must be reported: %v", e)
	}
}

func TestSandboxLoginAndConsentPages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		browser  *browser.Headless
		wantStep string // "" = success
		wantCode string
	}{
		{name: "sign in and allow", browser: &browser.Headless{Username: "member@example.com", Password: "pw"}},
		{name: "cancel", browser: &browser.Headless{Username: "member@example.com", Password: "pw", Cancel: true},
			wantStep: "callback", wantCode: "user_cancelled_login"},
		{name: "blank password is refused on the page", browser: &browser.Headless{Username: "member@example.com"},
			wantStep: "authorize", wantCode: oauthflow.CodeBrowserStopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testkit.StartSandbox(t, sandbox.WithAutoConsent(false))
			fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: tc.browser})
			if tc.wantStep == "" {
				checkHappyFlow(t, s, fr)
				if st := s.Stats(); st.Logins != 1 || st.Consents != 1 {
					t.Errorf("the pages were not used: %+v", st)
				}
				return
			}
			e := checkFailsAt(t, fr, tc.wantStep)
			if e.Code != tc.wantCode {
				t.Errorf("code %q, want %q (%v)", e.Code, tc.wantCode, e)
			}
			if tc.wantStep == "callback" && (e.Kind != oauthflow.KindRedirect || !strings.HasPrefix(e.Code, "user_cancelled_")) {
				t.Errorf("a cancel must come back as LinkedIn's user_cancelled_*: %v", e)
			}
		})
	}
}

// loopbackBrowser behaves like a desktop browser: it walks the pages and then requests the
// redirect URL itself, so the redirect reaches the flow through the loopback listener.
type loopbackBrowser struct{ pages browser.Headless }

func (b *loopbackBrowser) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	redirect, err := b.pages.Authorize(ctx, authURL, redirectURI)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, redirect, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return "", nil
}

// silentBrowser opens nothing and never comes back.
type silentBrowser struct{}

func (silentBrowser) Authorize(context.Context, string, string) (string, error) { return "", nil }

func TestSandboxRedirectThroughTheLoopbackListener(t *testing.T) {
	t.Parallel()
	redirect := "http://127.0.0.1:" + freePort(t) + "/callback"
	s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true), sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, redirect))
	cfg := sandboxConfig(s)
	cfg.Client.RedirectURI = redirect
	var observed []string
	fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(),
		Browser: &loopbackBrowser{}, Listen: true, CallbackTimeout: 10 * time.Second,
		Observe: func(step, leg, u string) httplog.Exchange {
			observed = append(observed, step+" "+leg)
			return httplog.Exchange{}
		}})
	checkHappyFlow(t, s, fr)
	if !strings.HasPrefix(fr.Callback.URL, redirect+"?") {
		t.Errorf("callback URL %q did not come through the listener at %s", fr.Callback.URL, redirect)
	}
	if !slices.Equal(observed, []string{"authorize authorization-url", "callback browser-redirect"}) {
		t.Errorf("observed browser legs %v", observed)
	}
}

func TestSandboxFlowListenerProblems(t *testing.T) {
	t.Parallel()
	t.Run("busy port", func(t *testing.T) {
		t.Parallel()
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { busy.Close() })
		redirect := "http://" + busy.Addr().String() + "/callback"
		s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true), sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, redirect))
		cfg := sandboxConfig(s)
		cfg.Client.RedirectURI = redirect
		fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &loopbackBrowser{}, Listen: true})
		e := checkFailsAt(t, fr, "authorize")
		if e.Kind != oauthflow.KindConfig || e.Code != oauthflow.CodePortBusy || !strings.Contains(e.Error(), "already in use") {
			t.Errorf("got %v", e)
		}
		if st := s.Stats(); st.AuthorizationRequests != 0 {
			t.Errorf("the user was sent to log in although the redirect could never be received: %+v", st)
		}
	})
	t.Run("browser never comes back", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true))
		cfg := sandboxConfig(s)
		cfg.Client.RedirectURI = "http://127.0.0.1:0/callback"
		fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(),
			Browser: silentBrowser{}, Listen: true, CallbackTimeout: 30 * time.Millisecond})
		if e := checkFailsAt(t, fr, "callback"); e.Kind != oauthflow.KindTimeout || e.Code != oauthflow.CodeCallbackTimeout {
			t.Errorf("got %v", e)
		}
	})
	t.Run("no listener and nothing returned", func(t *testing.T) {
		t.Parallel()
		s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true))
		fr := oauthflow.NewRunner(sandboxConfig(s)).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: silentBrowser{}})
		if e := checkFailsAt(t, fr, "callback"); e.Kind != oauthflow.KindConfig || e.Hint == "" {
			t.Errorf("got %v", e)
		}
	})
}

func TestSandboxFlowBadConfiguration(t *testing.T) {
	t.Parallel()
	s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true))
	cfg := sandboxConfig(s)
	cfg.Client.Secret = ""
	fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
	e := checkFailsAt(t, fr, "authorize")
	if e.Kind != oauthflow.KindConfig || !strings.Contains(e.Error(), "--client-secret") {
		t.Errorf("got %v", e)
	}
	if st := s.Stats(); st.AuthorizationRequests != 0 {
		t.Errorf("the browser was sent although the configuration cannot work: %+v", st)
	}
}

// TestIntrospectionRefusedForLackOfClientAuthentication: a server may refuse introspection to a
// client that cannot authenticate (RFC 7662 §2.1). For a public client that is the server's policy
// and the step is skipped with the refusal shown; for a confidential client it is a failure.
func TestIntrospectionRefusedForLackOfClientAuthentication(t *testing.T) {
	t.Parallel()
	refusing := newEndpointServer(t, http.StatusUnauthorized, "application/json", `{"error":"invalid_client","error_description":"client authentication required"}`)
	cases := []struct {
		name   string
		id     string
		secret string
		method oauthflow.AuthMethod
		failed bool
	}{
		{name: "public client", id: "public-app", method: oauthflow.AuthNone},
		{name: "confidential client", id: sandbox.DefaultClientID, secret: sandbox.DefaultClientSecret, method: oauthflow.AuthPost, failed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testkit.StartSandbox(t, sandbox.WithAutoConsent(true), sandbox.WithClient(tc.id, tc.secret))
			cfg := sandboxConfig(s)
			cfg.Client.ID, cfg.Client.Secret, cfg.Client.AuthMethod = tc.id, tc.secret, tc.method
			cfg.Provider.Endpoints.Introspection = refusing.URL + "/introspect"
			fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(), Browser: &browser.Headless{}})
			if tc.failed {
				if e := checkFailsAt(t, fr, oauthflow.StepIntrospect); e.Code != "invalid_client" || e.Status != 401 {
					t.Errorf("got %v", e)
				}
				return
			}
			if !fr.OK {
				t.Fatalf("a public client refused introspection must not fail the flow: %s", stepStatuses(fr))
			}
			for _, name := range []string{oauthflow.StepIntrospect, oauthflow.StepIntrospectAfter} {
				i := slices.Index(flowOrder, name)
				st := fr.Steps[i]
				if st.Status != oauthflow.StatusSkipped || st.Err != nil || len(st.Exchanges) != 1 || !strings.Contains(strings.Join(st.Notes, " "), "invalid_client") {
					t.Errorf("%s: %+v", name, st)
				}
			}
			if fr.Introspection != nil || fr.IntrospectionAfterRevoke != nil {
				t.Error("a refused introspection left a result behind")
			}
			if st := s.Stats(); st.RefreshGrants != 1 || st.Revocations != 2 {
				t.Errorf("the steps after introspection must still run: %+v", st)
			}
		})
	}
}

// TestRedirectWithoutPromisedIssIsRefused: a server whose metadata promises RFC 9207's iss but
// whose redirect lacks it is refused (RFC 9207 §2.4). The sandbox in LinkedIn mode sends no iss;
// here its discovery document is made to promise one.
func TestRedirectWithoutPromisedIssIsRefused(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.WithAutoConsent(true))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			sb.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sb.Handler().ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Errorf("sandbox discovery: %v", err)
		}
		doc["authorization_response_iss_parameter_supported"] = true
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	cfg := oauthflow.Config{Provider: oauthflow.LinkedInAt(srv.URL, srv.URL), Client: oauthflow.Client{ID: sandbox.DefaultClientID,
		Secret: sandbox.DefaultClientSecret, RedirectURI: oauthflow.DefaultRedirectURI, PKCE: true}}
	fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Discover: true, Issuer: srv.URL + "/oauth", Browser: &browser.Headless{}})
	e := checkFailsAt(t, fr, oauthflow.StepCallback)
	if e.Kind != oauthflow.KindValidation || e.Code != oauthflow.CodeIssuerMismatch || !strings.Contains(e.Description, "no iss") {
		t.Errorf("got %v", e)
	}

	// The same redirect on the path `oauthdiag call` takes, with the discovered provider.
	r := oauthflow.NewRunner(cfg)
	r.SetProvider(fr.Provider)
	auth, err := r.Authorize(t.Context(), oauthflow.FlowOptions{Browser: &browser.Headless{}})
	if !errors.As(err, &e) || e.Step != oauthflow.StepCallback || e.Code != oauthflow.CodeIssuerMismatch {
		t.Errorf("Authorize: %v", err)
	}
	if auth != nil && auth.Token != nil {
		t.Error("Authorize exchanged the code of a redirect it should have refused")
	}
}
