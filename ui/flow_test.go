package ui

import (
	"context"
	"encoding/base64"
	"github.com/oauthdiag/oauthdiag/browser"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// stepLine finds a step's row in the stepper and returns its state symbol.
func stepMark(screen, step string) string {
	for _, line := range strings.Split(screen, "\n") {
		i := strings.Index(line, " "+step+" ")
		if i < 0 || !strings.HasPrefix(strings.TrimSpace(line), "│") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "│"))
		if len(fields) >= 2 && strings.HasPrefix(strings.Join(fields[1:], " "), step) {
			return fields[0]
		}
	}
	return ""
}

func TestRunAllWalksTheHappyFlowAgainstTheSandbox(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Configure", "No tokens yet")
	s.keys("A")
	s.waitFor("flow complete")
	scr := s.screen()
	for _, step := range stepNames[:stepRevoke] {
		if got := stepMark(scr, step); got != "✓" {
			t.Errorf("step %s shows %q, want ✓ ok; screen:\n%s", step, got, scr)
		}
	}
	if stepMark(scr, "Revoke") != "○" || !strings.Contains(scr, "Revoke  step 8 of 8") {
		t.Errorf("run all stops before Revoke and selects it:\n%s", scr)
	}
	s.keys("enter")
	s.waitFor("Re-authorization needed", "the flow is complete")
	if got := stepMark(s.screen(), "Revoke"); got != "✓" {
		t.Errorf("enter on Revoke logs out: %q", got)
	}
	golden.RequireEqual(t, s.finish())
}

// Enter runs the selected step and selects the next one, so pressing it repeatedly walks
// the flow one step at a time.
func TestEnterAdvancesOneStepAtATime(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 80, 24)
	s.waitFor("Configure  step 1 of 8")
	for i, step := range []string{"Configure", "Authorize", "Callback", "Exchange"} {
		s.keys("enter")
		next := stepNames[i+1]
		s.waitUntil(step+" ok", func(scr string) bool {
			return stepMark(scr, step) == "✓" && strings.Contains(scr, next+"  step")
		})
		if i < 3 && stepMark(s.screen(), next) != "○" {
			t.Fatalf("after %s, %s must still be pending; screen:\n%s", step, next, s.screen())
		}
	}
	s.waitFor("Exchange ok · next: Call API")
	if !strings.Contains(s.screen(), "1:30 left") {
		t.Errorf("after Exchange the token panel shows the access token's countdown:\n%s", s.screen())
	}
	golden.RequireEqual(t, s.finish())
}

func TestServerErrorStopsAtCallAPIWithItsDiagnosis(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 80, 24)
	s.waitFor("Configure")
	s.keys("A")
	s.waitFor("✗ failed", "provider-outage", "Calls (1✗)", "Call API failed")
	scr := s.screen()
	if stepMark(scr, "Call API") != "✗" || stepMark(scr, "Inspect") != "○" {
		t.Errorf("Call API must be failed and Inspect still pending:\n%s", scr)
	}
	golden.RequireEqual(t, s.finish())
}

func TestFailuresAtEachStepShowTheirDiagnosis(t *testing.T) {
	cases := []struct {
		scenario sandbox.Scenario
		step     string
		code     string
	}{
		{sandbox.UserCancel, "Callback", "user-cancelled"},
		{sandbox.BadSecret, "Exchange", "bad-client-credentials"},
		{sandbox.RevokedToken, "Call API", "token-revoked"},
		{sandbox.ScopeDenied, "Call API", "access-denied"},
		{sandbox.NoRefreshToken, "Refresh", "refresh-not-available"},
		{sandbox.RedirectMismatch, "Authorize", "redirect-uri-mismatch"},
		{sandbox.CodeReuse, "Exchange", "authorization-code-invalid"},
		{sandbox.ExpiredToken, "Call API", "access-token-expired"},
		{sandbox.RateLimited, "Call API", "rate-limited"},
	}
	for _, c := range cases {
		t.Run(string(c.scenario), func(t *testing.T) {
			env := newTestEnv(t, envOptions{scenario: c.scenario})
			s := env.start(t, 120, 40)
			s.waitFor("Configure")
			s.keys("A")
			s.waitFor("✗ failed", c.code)
			if got := stepMark(s.screen(), c.step); got != "✗" {
				t.Errorf("%s shows %q, want ✗; screen:\n%s", c.step, got, s.screen())
			}
		})
	}
}

var osc52 = regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)`)

// Without a browser the user copies the URL (y), signs in elsewhere and pastes the redirect (p).
func TestPastedRedirectCompletesAuthorize(t *testing.T) {
	env := newTestEnv(t, envOptions{browser: true})
	s := env.start(t, 120, 40)
	s.waitFor("Configure")
	s.keys("enter")
	s.waitUntil("Configure ok", func(scr string) bool { return stepMark(scr, "Configure") == "✓" })
	s.keys("enter")
	s.waitFor("2:00 waiting for the browser to come back", "Authorization URL (y copies it")
	if strings.Contains(s.screen(), "state=") && !strings.Contains(s.screen(), "[redacted:state") {
		t.Fatalf("the state must be shown redacted:\n%s", s.screen())
	}
	s.keys("y")
	var authURL string
	teatest.WaitFor(t, s.tm.Output(), func(b []byte) bool {
		m := osc52.FindSubmatch(b)
		if m == nil {
			return false
		}
		raw, err := base64.StdEncoding.DecodeString(string(m[1]))
		authURL = string(raw)
		return err == nil
	}, teatest.WithDuration(5*time.Second))
	if !strings.Contains(authURL, "code_challenge=") || !strings.HasPrefix(authURL, env.base) {
		t.Fatalf("y must copy the whole authorization URL, got %q", authURL)
	}
	// The user signs in with their own browser; the test's browser stands in for it.
	redirect, err := (&browser.Headless{Username: "ada@example.com", Password: "x"}).Authorize(context.Background(), authURL, env.callback)
	if err != nil {
		t.Fatal(err)
	}
	s.keys("p")
	s.waitFor("redirect ▸")
	s.tm.Send(tea.PasteMsg{Content: redirect})
	s.keys("enter")
	s.waitUntil("Authorize ok", func(scr string) bool { return stepMark(scr, "Authorize") == "✓" })
	s.keys("enter")
	s.waitUntil("Callback ok", func(scr string) bool { return stepMark(scr, "Callback") == "✓" })
	s.keys("up")
	s.waitFor("Callback  step 3 of 8")
	if !strings.Contains(s.screen(), "state matches the value sent") {
		t.Errorf("Callback must show its state check:\n%s", s.screen())
	}
}

// Esc stops waiting for the browser; the step fails with a clear reason.
func TestEscStopsWaitingForTheRedirect(t *testing.T) {
	env := newTestEnv(t, envOptions{browser: true})
	s := env.start(t, 120, 40)
	s.waitFor("Configure")
	s.keys("enter")
	s.waitUntil("Configure ok", func(scr string) bool { return stepMark(scr, "Configure") == "✓" })
	s.keys("enter")
	s.waitFor("waiting for the browser to come back")
	s.keys("esc")
	s.waitFor("stopped waiting for the redirect")
	if stepMark(s.screen(), "Authorize") != "✗" {
		t.Errorf("a stopped Authorize is failed:\n%s", s.screen())
	}
}

// The callback countdown is computed from its deadline on each tick, not decremented.
func TestCallbackCountdownFollowsTheClock(t *testing.T) {
	env := newTestEnv(t, envOptions{browser: true})
	m := env.model(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = runStep(t, m, stepConfigure)
	next, cmd := m.Update(runStepMsg{step: stepAuthorize})
	m = drive(t, next.(Model), cmd, authStarted)
	if !strings.Contains(plain(m), "2:00 waiting for the browser") {
		t.Fatalf("want the full timeout shown:\n%s", plain(m))
	}
	env.clock.Advance(75 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	if !strings.Contains(plain(m), "0:45 waiting for the browser") {
		t.Fatalf("after 75 s, 45 s are left:\n%s", plain(m))
	}
}

// Results of an abandoned flow (N) carry the old run number and are dropped.
func TestNewFlowDropsLateResults(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := env.model(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	next, late := m.Update(runStepMsg{step: stepConfigure})
	m = update(t, next.(Model), keyPress("N"))
	m = drive(t, m, late, func(_ Model, msg tea.Msg) bool { _, ok := msg.(stepDoneMsg); return ok })
	if m.flow.steps[stepConfigure].state != statePending {
		t.Fatalf("a result from before N must be ignored, Configure is %s", m.flow.steps[stepConfigure].state)
	}
}

// A browser opener that prints must not print into the TUI: its output is captured or
// discarded, and the URL stays on screen with its copy key. The process's own stdout and
// stderr (the terminal, in real use) are watched for the opener's text.
func TestBrowserOutputNeverReachesTheTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	restore := func() { os.Stdout, os.Stderr = stdout, stderr }
	defer restore()

	env := newTestEnv(t, envOptions{browser: true})
	env.cfg.Browser = browser.Command{Command: `sh -c "echo OPENER-NOISE-OUT; echo OPENER-NOISE-ERR >&2" opener`}
	s := env.start(t, 120, 40)
	s.waitFor("Configure")
	s.keys("enter")
	s.waitUntil("Configure ok", func(scr string) bool { return stepMark(scr, "Configure") == "✓" })
	s.keys("enter")
	s.waitFor("waiting for the browser to come back", "Authorization URL (y copies it", "y copy URL")
	s.waitFor("the browser shows the provider's login")
	out, err := io.ReadAll(s.tm.Output())
	if err != nil {
		t.Fatal(err)
	}
	restore()
	w.Close()
	leaked, _ := io.ReadAll(r)
	for _, where := range []string{string(out), string(leaked), s.screen()} {
		if strings.Contains(where, "OPENER-NOISE") {
			t.Errorf("the browser command's output reached the terminal")
		}
	}
}
