package oauthflow_test

import (
	"net"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// TestAuthorizeFailsLikeRunFlow: `oauthdiag call` authorizes through Runner.Authorize and
// `oauthdiag flow` through RunFlow; the same browser, listener and provider must fail the same
// step with the same typed error in both.
func TestAuthorizeFailsLikeRunFlow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		scenario sandbox.Scenario
		busyPort bool // the redirect URI's port is taken before the flow starts
		browser  browser.Browser
		step     string
		kind     oauthflow.ErrorKind
		code     string
		status   int
		// loginPages: the authorization endpoint was reached (the user was sent to log in).
		loginPages bool
	}{
		{name: "the authorization page stops on an unregistered redirect URI", scenario: sandbox.RedirectMismatch,
			browser: &browser.Headless{}, loginPages: true,
			step: oauthflow.StepAuthorize, kind: oauthflow.KindBrowser, code: oauthflow.CodeBrowserStopped, status: 400},
		{name: "busy port with a real browser: nobody is sent to log in", busyPort: true,
			browser: &loopbackBrowser{},
			step:    oauthflow.StepAuthorize, kind: oauthflow.KindConfig, code: oauthflow.CodePortBusy},
		{name: "busy port with a browser command that prints nothing: it still runs", busyPort: true,
			browser: browser.Command{Command: "true"},
			step:    oauthflow.StepCallback, kind: oauthflow.KindConfig, code: oauthflow.CodePortBusy},
		{name: "busy port with a browser command that prints the redirect: it is used", busyPort: true,
			browser: browser.Command{Command: `sh -c 's=${0##*state=}; echo "REDIRECT?error=access_denied&state=${s%%&*}"'`},
			step:    oauthflow.StepCallback, kind: oauthflow.KindRedirect, code: "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			redirect := "http://127.0.0.1:" + freePort(t) + "/callback"
			if tc.busyPort {
				busy, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { busy.Close() })
				redirect = "http://" + busy.Addr().String() + "/callback"
			}
			br := tc.browser
			if cb, ok := br.(browser.Command); ok {
				cb.Command = strings.ReplaceAll(cb.Command, "REDIRECT", redirect)
				br = cb
			}
			opts := []sandbox.Option{sandbox.WithAutoConsent(true)}
			if tc.scenario != "" {
				opts = append(opts, sandbox.WithScenario(tc.scenario))
			}
			if tc.scenario != sandbox.RedirectMismatch {
				opts = append(opts, sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, redirect))
			}
			check := func(what string, e *oauthflow.Error) {
				t.Helper()
				if e.Step != tc.step || e.Kind != tc.kind || e.Code != tc.code || e.Status != tc.status {
					t.Errorf("%s: step %q kind %v code %q status %d; want %q %v %q %d (%v)",
						what, e.Step, e.Kind, e.Code, e.Status, tc.step, tc.kind, tc.code, tc.status, e)
				}
			}
			checkLogin := func(what string, s *sandbox.Server) {
				t.Helper()
				if reached := s.Stats().AuthorizationRequests > 0; reached != tc.loginPages {
					t.Errorf("%s: authorization endpoint reached = %v, want %v", what, reached, tc.loginPages)
				}
			}

			s := testkit.StartSandbox(t, opts...)
			cfg := sandboxConfig(s)
			cfg.Client.RedirectURI = redirect
			fr := oauthflow.NewRunner(cfg).RunFlow(t.Context(), oauthflow.FlowOptions{Browser: br, Listen: true})
			check("RunFlow", checkFailsAt(t, fr, tc.step))
			checkLogin("RunFlow", s)

			s = testkit.StartSandbox(t, opts...)
			cfg = sandboxConfig(s)
			cfg.Client.RedirectURI = redirect
			var reported []string
			a, err := oauthflow.NewRunner(cfg).Authorize(t.Context(), oauthflow.FlowOptions{Browser: br, Listen: true,
				OnStep: func(st oauthflow.StepReport) { reported = append(reported, st.Name+":"+string(st.Status)) }})
			e, ok := oauthflow.AsError(err)
			if !ok {
				t.Fatalf("Authorize = %T %v, want an *oauthflow.Error", err, err)
			}
			check("Authorize", e)
			checkLogin("Authorize", s)
			if last := a.Steps[len(a.Steps)-1]; last.Name != tc.step || last.Status != oauthflow.StatusFailed || last.Err != err {
				t.Errorf("Authorize's last step is %s %s (%v), want %s failed with the returned error", last.Name, last.Status, last.Err, tc.step)
			}
			if len(reported) != len(a.Steps) {
				t.Errorf("OnStep saw %v, the result has %d steps", reported, len(a.Steps))
			}
			if a.Token != nil {
				t.Error("a failed authorization returned a token")
			}
		})
	}
}
