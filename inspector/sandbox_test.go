package inspector

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// sandboxKey is generated once: RSA key generation would dominate the suite's time.
var sandboxKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// sandboxRun is one flow against a fresh sandbox.
type sandboxRun struct {
	srv    *sandbox.Server
	cfg    oauthflow.Config
	result *oauthflow.FlowResult
	now    time.Time
}

type sandboxSetup struct {
	scenario   sandbox.Scenario
	compliance sandbox.Compliance
	client     *http.Client
	opts       []sandbox.Option
	flow       func(*oauthflow.FlowOptions)
	cfg        func(*oauthflow.Config)
}

// runSandboxFlow starts the sandbox with a scenario and walks the whole flow through it, as
// `oauthdiag flow --sandbox NAME` does.
func runSandboxFlow(t *testing.T, setup sandboxSetup) sandboxRun {
	t.Helper()
	opts := append([]sandbox.Option{sandbox.WithScenario(setup.scenario), sandbox.WithAutoConsent(true), sandbox.WithSigningKey(sandboxKey())}, setup.opts...)
	if setup.compliance != "" {
		opts = append(opts, sandbox.WithCompliance(setup.compliance))
	}
	srv := testkit.StartSandbox(t, opts...)
	base := srv.BaseURL()
	provider := oauthflow.LinkedInAt(base, base)
	provider.Name = "linkedin-sandbox" // as `oauthdiag flow --sandbox` names it
	cfg := oauthflow.Config{
		Provider: provider,
		Client: oauthflow.Client{ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret,
			RedirectURI: sandbox.DefaultRedirectURI, PKCE: true},
	}
	if setup.cfg != nil {
		setup.cfg(&cfg)
	}
	client := setup.client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	runner := oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(client))
	fo := oauthflow.FlowOptions{Discover: true, Issuer: srv.Issuer(), Browser: &browser.Headless{}}
	if setup.flow != nil {
		setup.flow(&fo)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fr := runner.RunFlow(ctx, fo)
	return sandboxRun{srv: srv, cfg: cfg, result: fr, now: time.Now()}
}

func codes(ds []Diagnosis) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

func failedStep(fr *oauthflow.FlowResult) string {
	if s := fr.FailedStep(); s != nil {
		return s.Name
	}
	return ""
}

// TestSandboxScenarios is the acceptance test: every fault scenario of the sandbox, run through
// the whole flow, yields its diagnosis code first.
func TestSandboxScenarios(t *testing.T) {
	tests := []struct {
		scenario  sandbox.Scenario
		want      string
		step      string
		bestGuess bool
		setup     func(*sandboxSetup)
		check     func(t *testing.T, d Diagnosis)
	}{
		{scenario: sandbox.ServerError, want: CodeProviderOutage, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			mustMention(t, d.Fix, "support bundle")
			mustHaveEvidence(t, d, "HTTP 500", "code=INTERNAL_SERVER_ERROR")
		}},
		{scenario: sandbox.RateLimited, want: CodeRateLimited, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			if d.RetryAfter != time.Second {
				t.Errorf("RetryAfter = %v, want 1s from the Retry-After header", d.RetryAfter)
			}
			mustMention(t, d.Fix, "Wait 1s")
			mustHaveEvidence(t, d, "Retry-After: 1", "HTTP 429")
		}},
		{scenario: sandbox.ExpiredToken, want: CodeAccessTokenExpired, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, `message="Expired access token"`)
			mustMention(t, d.Fix, "Refresh")
		}},
		{scenario: sandbox.RevokedToken, want: CodeTokenRevoked, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "serviceErrorCode=65601", "code=REVOKED_ACCESS_TOKEN", "the token had been issued less than a second before")
			mustMention(t, d.Fix, "LinkedIn is known to answer 65601")
		}},
		{scenario: sandbox.UserCancel, want: CodeUserCancelled, step: oauthflow.StepCallback, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "error=user_cancelled_login")
		}},
		{scenario: sandbox.RedirectMismatch, want: CodeRedirectURIMismatch, step: oauthflow.StepAuthorize, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "HTTP 400 page", "redirect_uri does not match")
		}},
		{scenario: sandbox.BadSecret, want: CodeBadClientCredentials, step: oauthflow.StepExchange, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "error=invalid_client", "HTTP 401", "client authentication used: post")
		}},
		{scenario: sandbox.CodeReuse, want: CodeAuthorizationCodeBad, step: oauthflow.StepExchange, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "authorization code not found")
		}},
		{scenario: sandbox.ScopeDenied, want: CodeAccessDenied, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "serviceErrorCode=100", "carries every requested scope")
		}},
		{scenario: sandbox.Slow, want: CodeTimeout, step: oauthflow.StepUserinfo, setup: func(s *sandboxSetup) {
			s.client = &http.Client{Timeout: 200 * time.Millisecond}
			s.opts = append(s.opts, sandbox.WithSlowDelay(2*time.Second))
		}},
		{scenario: sandbox.Flaky, want: CodeProviderOutage, step: oauthflow.StepUserinfo, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "HTTP 503")
			mustMention(t, d.Fix, "transient: retry")
		}},
		{scenario: sandbox.NoRefreshToken, want: CodeRefreshNotAvailable, step: oauthflow.StepRefresh, check: func(t *testing.T, d Diagnosis) {
			mustHaveEvidence(t, d, "approved for programmatic refresh")
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scenario), func(t *testing.T) {
			t.Parallel()
			setup := sandboxSetup{scenario: tt.scenario}
			if tt.setup != nil {
				tt.setup(&setup)
			}
			run := runSandboxFlow(t, setup)
			if got := failedStep(run.result); got != tt.step {
				t.Fatalf("the flow failed at %q, want %q (scenario fails at %q)", got, tt.step, tt.scenario.FailingStep())
			}
			ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
			if len(ds) == 0 || ds[0].Code != tt.want {
				t.Fatalf("diagnoses %v, want %s first\n%s", codes(ds), tt.want, RenderDiagnoses(ds))
			}
			d := ds[0]
			if d.Step != tt.step || d.BestGuess != tt.bestGuess || d.Title == "" || d.Fix == "" || len(d.Evidence) == 0 {
				t.Errorf("diagnosis %+v: want step %s, best guess %v, a title, a fix and evidence", d, tt.step, tt.bestGuess)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestSandboxHappyFlowHasNothingToDiagnose(t *testing.T) {
	run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy})
	if !run.result.OK {
		t.Fatalf("happy flow failed at %s", failedStep(run.result))
	}
	if ds := DiagnoseFlow(run.result, run.cfg, nil, run.now); len(ds) != 0 {
		t.Fatalf("a happy flow got diagnoses:\n%s", RenderDiagnoses(ds))
	}
}

func TestSandboxStrictCompliance(t *testing.T) {
	// Strict mode answers with RFC 6749 vocabulary: the same faults must give the same codes.
	tests := []struct {
		scenario sandbox.Scenario
		want     string
	}{
		{sandbox.CodeReuse, CodeAuthorizationCodeBad},
		{sandbox.BadSecret, CodeBadClientCredentials},
		{sandbox.ExpiredToken, CodeAccessTokenExpired},
		{sandbox.RevokedToken, CodeTokenRevoked},
		{sandbox.ScopeDenied, CodeAccessDenied},
	}
	for _, tt := range tests {
		t.Run(string(tt.scenario), func(t *testing.T) {
			t.Parallel()
			run := runSandboxFlow(t, sandboxSetup{scenario: tt.scenario, compliance: sandbox.ComplianceStrict})
			ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
			if len(ds) == 0 || ds[0].Code != tt.want {
				t.Fatalf("diagnoses %v, want %s first\n%s", codes(ds), tt.want, RenderDiagnoses(ds))
			}
		})
	}
}

func TestSandboxContextDiagnoses(t *testing.T) {
	t.Run("clock skew from the Date header", func(t *testing.T) {
		skewed := func() time.Time { return time.Now().Add(10 * time.Minute) }
		run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, opts: []sandbox.Option{sandbox.WithClock(skewed)}})
		ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
		if !slices.Contains(codes(ds), CodeClockSkew) {
			t.Fatalf("diagnoses %v, want clock-skew\n%s", codes(ds), RenderDiagnoses(ds))
		}
		d := ds[slices.Index(codes(ds), CodeClockSkew)]
		mustHaveEvidence(t, d, "ahead of the local clock")
	})
	t.Run("legacy LinkedIn issuer pinned", func(t *testing.T) {
		run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, cfg: func(c *oauthflow.Config) {
			c.Provider.Issuer = strings.TrimSuffix(c.Provider.Issuer, "/oauth")
		}})
		ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
		if len(ds) == 0 || ds[0].Code != CodeIssuerMismatch {
			t.Fatalf("diagnoses %v, want issuer-mismatch first\n%s", codes(ds), RenderDiagnoses(ds))
		}
		mustHaveEvidence(t, ds[0], "one issuer is a path prefix of the other")
	})
	t.Run("versioned API call without LinkedIn-Version", func(t *testing.T) {
		run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, cfg: func(c *oauthflow.Config) {
			c.Provider.Endpoints.API = strings.TrimSuffix(c.Provider.Endpoints.Token, "/oauth/v2/accessToken") + "/rest/me"
		}})
		ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
		if len(ds) == 0 || ds[0].Code != CodeMissingAPIVersion || ds[0].Step != oauthflow.StepAPICall {
			t.Fatalf("diagnoses %v, want missing-api-version at api-call\n%s", codes(ds), RenderDiagnoses(ds))
		}
		mustHaveEvidence(t, ds[0], "code=VERSION_MISSING")
	})
	t.Run("inactive LinkedIn version", func(t *testing.T) {
		run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, cfg: func(c *oauthflow.Config) {
			c.Provider.Endpoints.API = strings.TrimSuffix(c.Provider.Endpoints.Token, "/oauth/v2/accessToken") + "/rest/me"
			c.Provider.APIHeaders = map[string]string{"LinkedIn-Version": "202001"}
		}})
		ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
		if len(ds) == 0 || ds[0].Code != CodeMissingAPIVersion {
			t.Fatalf("diagnoses %v, want missing-api-version\n%s", codes(ds), RenderDiagnoses(ds))
		}
		mustMention(t, ds[0].Fix, "202001 is not active")
	})
}

func TestDiagnosesCarryNoSecrets(t *testing.T) {
	for _, sc := range []sandbox.Scenario{sandbox.RevokedToken, sandbox.ExpiredToken, sandbox.CodeReuse, sandbox.BadSecret} {
		run := runSandboxFlow(t, sandboxSetup{scenario: sc})
		ds := DiagnoseFlow(run.result, run.cfg, nil, run.now)
		out, err := json.Marshal(ds)
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{run.cfg.Client.Secret}
		if tok := run.result.Token; tok != nil {
			secrets = append(secrets, tok.AccessToken, tok.RefreshToken, tok.IDToken)
		}
		if cb := run.result.Callback; cb != nil {
			secrets = append(secrets, cb.Code)
		}
		if ar := run.result.AuthRequest; ar != nil {
			secrets = append(secrets, ar.Verifier)
		}
		for _, s := range secrets {
			if s != "" && (strings.Contains(string(out), s) || strings.Contains(RenderDiagnoses(ds), s)) {
				t.Errorf("%s: a diagnosis reveals a secret of %d bytes", sc, len(s))
			}
		}
	}
}

func mustMention(t *testing.T, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("%q does not mention %q", text, want)
	}
}

func mustHaveEvidence(t *testing.T, d Diagnosis, wants ...string) {
	t.Helper()
	all := strings.Join(d.Evidence, "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("%s: evidence lacks %q:\n%s", d.Code, w, all)
		}
	}
}
