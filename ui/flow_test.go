package ui

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// stepMark finds a step's row in the stepper and returns its state symbol ("" if the row is
// not on screen); a running step shows the spinner's frame.
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

// stepRunning says the step's row shows the spinner rather than an outcome.
func stepRunning(screen, step string) bool {
	switch stepMark(screen, step) {
	case "", "✓", "✗", "○", "–":
		return false
	}
	return true
}

// wantMarks checks the stepper's row of every step against want (step name → symbol).
func wantMarks(t *testing.T, screen string, want map[string]string) {
	t.Helper()
	for _, step := range stepNames {
		w, ok := want[step]
		if !ok {
			continue
		}
		if got := stepMark(screen, step); got != w {
			t.Errorf("step %s shows %q, want %q; screen:\n%s", step, got, w, screen)
		}
	}
}

// marks is want for wantMarks: the steps before at show ok (API call is skipped: the sandbox
// configures no API URL), at shows mark, and the steps after it are pending. marks(numSteps, "")
// is a flow done to the end.
func marks(at stepID, mark string) map[string]string {
	out := map[string]string{}
	for s := stepDiscovery; s < numSteps; s++ {
		switch {
		case s == at:
			out[s.String()] = mark
		case s > at:
			out[s.String()] = "○"
		case s == stepAPICall:
			out[s.String()] = "–"
		default:
			out[s.String()] = "✓"
		}
	}
	return out
}

func TestRunAllWalksTheHappyFlowAgainstTheSandbox(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery", "No tokens yet")
	s.keys("A")
	s.waitFor("flow complete")
	scr := s.screen()
	// Run all stops before Revoke (logging out is the user's call) and selects it.
	wantMarks(t, scr, marks(stepRevoke, "○"))
	for _, want := range []string{
		"Revoke  step 9 of 10", "press enter to run this step",
		"flow complete: watch the tokens below; enter on Revoke logs out",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("after run all the screen lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "✗)") {
		t.Errorf("a happy run records no failed call:\n%s", scr)
	}
	if row := tokenRow(scr, "access"); !strings.Contains(row, "● valid") || !strings.Contains(row, "1:30 left") {
		t.Errorf("the token panel counts the access token down: %q", row)
	}

	// Enter on Revoke logs out, and Verify revoke follows by itself.
	s.keys("enter")
	s.waitFor("Re-authorization needed", "the flow is complete")
	scr = s.screen()
	wantMarks(t, scr, marks(numSteps, ""))
	for _, want := range []string{
		"Verify revoke  step 10 of 10", "✓ ok", "introspection after revocation",
		"Verify revoke ok: the flow is complete; N starts a new one",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("after Revoke the screen lacks %q:\n%s", want, scr)
		}
	}
	for _, row := range []string{"access", "refresh"} {
		if r := tokenRow(scr, row); !strings.Contains(r, "✗ revoked") {
			t.Errorf("after Revoke the %s token shows revoked: %q", row, r)
		}
	}
}

// Enter runs the selected step and selects the next one, so pressing it repeatedly walks
// the flow one step at a time; Authorize brings Callback along, since the browser comes back
// by itself.
func TestEnterAdvancesOneStepAtATime(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 80, 24)
	s.waitFor("Discovery  step 1 of 10")
	for _, c := range []struct {
		step stepID
		done []stepID // the steps enter completes
	}{
		{stepDiscovery, []stepID{stepDiscovery}},
		{stepAuthorize, []stepID{stepAuthorize, stepCallback}},
		{stepExchange, []stepID{stepExchange}},
	} {
		s.keys("enter")
		last := c.done[len(c.done)-1]
		next := last + 1
		s.waitUntil(last.String()+" ok", func(scr string) bool {
			return stepMark(scr, last.String()) == "✓" && strings.Contains(scr, next.String()+"  step")
		})
		scr := s.screen()
		want := map[string]string{}
		for _, d := range c.done {
			want[d.String()] = "✓"
		}
		for p := next; p < numSteps; p++ {
			want[p.String()] = "○"
		}
		wantMarks(t, scr, want)
	}
	s.waitFor("Exchange ok · next: Userinfo (enter)")
	scr := s.screen()
	for _, want := range []string{
		"Userinfo  step 5 of 10", "press enter to run this step, A to run all",
		"What will happen", "/v2/userinfo", // the pending step says what it will send
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("after Exchange the selected Userinfo step lacks %q:\n%s", want, scr)
		}
	}
	if !strings.Contains(tokenRow(scr, "access"), "1:30 left") {
		t.Errorf("after Exchange the token panel shows the access token's countdown:\n%s", scr)
	}
}

func TestServerErrorStopsAtUserinfoWithItsDiagnosis(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 80, 24)
	s.waitFor("Discovery")
	s.keys("A")
	s.waitFor("✗ failed", "provider-outage", "Calls (1✗)", "Userinfo failed")
	scr := s.screen()
	wantMarks(t, scr, marks(stepUserinfo, "✗"))
	for _, want := range []string{
		"Userinfo  step 5 of 10", "✗ failed after",
		"What went wrong", "HTTP 500",
		"✗ provider-outage  The provider failed on its",    // code and title (the pane wraps the title)
		"Userinfo failed: The provider failed on its side", // the status line
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("the failed Userinfo step lacks %q:\n%s", want, scr)
		}
	}
}

func TestFailuresAtEachStepShowTheirDiagnosis(t *testing.T) {
	cases := []struct {
		scenario sandbox.Scenario
		step     stepID
		code     string
	}{
		{sandbox.UserCancel, stepCallback, "user-cancelled"},
		{sandbox.BadSecret, stepExchange, "bad-client-credentials"},
		{sandbox.RevokedToken, stepUserinfo, "token-revoked"},
		{sandbox.ScopeDenied, stepUserinfo, "access-denied"},
		{sandbox.NoRefreshToken, stepRefresh, "refresh-not-available"},
		{sandbox.RedirectMismatch, stepAuthorize, "redirect-uri-mismatch"},
		{sandbox.CodeReuse, stepExchange, "authorization-code-invalid"},
		{sandbox.ExpiredToken, stepUserinfo, "access-token-expired"},
		{sandbox.RateLimited, stepUserinfo, "rate-limited"},
	}
	for _, c := range cases {
		t.Run(string(c.scenario), func(t *testing.T) {
			env := newTestEnv(t, envOptions{scenario: c.scenario})
			s := env.start(t, 120, 40)
			s.waitFor("Discovery")
			s.keys("A")
			// The status line names the failed step (it comes right after the step's result).
			s.waitFor("✗ failed", c.code, c.step.String()+" failed: ")
			wantMarks(t, s.screen(), marks(c.step, "✗"))
		})
	}
}

var osc52 = regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)`)

// Without a browser the user copies the URL (y), signs in elsewhere and pastes the redirect
// (p, the URL, enter) while the Callback step, which Authorize started by itself, waits. Without
// a listener the paste is the only way back; with one it is delivered to the listener.
func TestPastedRedirectCompletesCallback(t *testing.T) {
	for _, c := range []struct {
		name   string
		listen bool
		paste  func(s *session, redirect string)
	}{
		{"no listener, typed", false, func(s *session, r string) { s.typeText(r) }},
		{"listener, bracketed paste", true, func(s *session, r string) { s.tm.Send(tea.PasteMsg{Content: r}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{browser: true})
			env.cfg.Listen = c.listen
			s := env.start(t, 120, 40)
			s.waitFor("Discovery")
			s.keys("enter")
			s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
			s.keys("enter") // Authorize only: Callback follows by itself
			s.waitFor("Callback  step 3 of 10", "2:00 waiting for the browser to come back", "Authorization URL (y copies it")
			scr := s.screen()
			if stepMark(scr, "Authorize") != "✓" || !stepRunning(scr, "Callback") {
				t.Fatalf("Authorize is ok and Callback runs, waiting:\n%s", scr)
			}
			if !c.listen {
				// The status line tells how the redirect comes back when nothing listens for it.
				s.waitFor("paste the redirect URL with p once the browser lands on")
			}
			if strings.Contains(scr, "state=") && !strings.Contains(scr, "[redacted:state") {
				t.Fatalf("the state must be shown redacted:\n%s", scr)
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
			c.paste(s, redirect)
			s.keys("enter")
			s.waitUntil("Callback ok", func(scr string) bool { return stepMark(scr, "Callback") == "✓" })
			s.waitFor("Exchange  step 4 of 10", "Callback ok · next: Exchange (enter)")
			s.keys("up")
			s.waitFor("Callback  step 3 of 10", "Redirect received")
			if !strings.Contains(s.screen(), "state matches the value sent") {
				t.Errorf("Callback must show its state check:\n%s", s.screen())
			}
			final := s.finishModel()
			if cb := final.flow.state.Callback; cb == nil || cb.URL != redirect {
				t.Errorf("the callback is the pasted redirect: %+v", cb)
			}
			legs := final.flow.steps[stepCallback].report.Exchanges
			if !slices.ContainsFunc(legs, func(ex httplog.Exchange) bool {
				return ex.Leg == httplog.LegBrowserRedirect && ex.Request.URL == redirect && ex.ID != ""
			}) {
				t.Errorf("the Callback step records the pasted redirect as its browser leg: %+v", legs)
			}
		})
	}
}

// Esc stops waiting for the browser; the Callback step fails with a clear reason, and
// Authorize stays done.
func TestEscStopsWaitingForTheRedirect(t *testing.T) {
	env := newTestEnv(t, envOptions{browser: true})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("enter")
	s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
	s.keys("enter")
	s.waitFor("waiting for the browser to come back")
	s.keys("esc")
	s.waitFor("stopped waiting for the redirect", "Callback failed: ")
	scr := s.screen()
	wantMarks(t, scr, marks(stepCallback, "✗"))
	if strings.Contains(scr, "waiting for the browser to come back") {
		t.Errorf("the stopped Callback no longer counts down:\n%s", scr)
	}
}

// Authorize starts the Callback step, which counts down to its timeout; the countdown is
// computed from its deadline on each tick, not decremented.
func TestCallbackCountdownFollowsTheClock(t *testing.T) {
	env := newTestEnv(t, envOptions{browser: true})
	m := env.model(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = runStep(t, m, stepDiscovery)
	next, cmd := m.Update(runStepMsg{step: stepAuthorize})
	m = drive(t, next.(Model), cmd, callbackWaiting)
	if m.flow.selected != stepCallback || !m.flow.keys.Paste.Enabled() || !m.flow.keys.Cancel.Enabled() {
		t.Errorf("the waiting Callback is selected, with p and esc: selected %s", m.flow.selected)
	}
	if !strings.Contains(plain(m), "Callback  step 3 of 10") || !strings.Contains(plain(m), "2:00 waiting for the browser") {
		t.Fatalf("want the full timeout shown on the Callback step:\n%s", plain(m))
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
	next, late := m.Update(runStepMsg{step: stepDiscovery})
	m = update(t, next.(Model), keyPress("N"))
	m = drive(t, m, late, func(_ Model, msg tea.Msg) bool { _, ok := msg.(stepDoneMsg); return ok })
	if m.flow.steps[stepDiscovery].state != statePending {
		t.Fatalf("a result from before N must be ignored, Discovery is %s", m.flow.steps[stepDiscovery].state)
	}
}

// Revoke starts Verify revoke by itself. Afterwards the steps that use a token refuse to run,
// with the engine's reason, and the stepper says so before the user tries.
func TestRevokeRunsVerifyRevokeAndEndsTheTokens(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := untilIntrospect(t, env)
	next, cmd := m.Update(runStepMsg{step: stepRevoke})
	m = drive(t, next.(Model), cmd, stepFinished(stepIntrospectAfter))
	rev, after := m.flow.steps[stepRevoke], m.flow.steps[stepIntrospectAfter]
	if rev.state != stateOK || after.state != stateOK {
		t.Fatalf("Revoke is %s (%v), Verify revoke %s (%v)", rev.state, rev.report.Err, after.state, after.report.Err)
	}
	if len(after.report.CallIDs()) == 0 || !slices.ContainsFunc(after.report.Notes, func(n string) bool {
		return strings.Contains(n, "introspection after revocation")
	}) {
		t.Errorf("Verify revoke introspects the revoked token: %+v", after.report)
	}
	if !m.flow.revoked() || m.flow.selected != stepIntrospectAfter {
		t.Errorf("the tokens are revoked and Verify revoke is selected: revoked %t, selected %s", m.flow.revoked(), m.flow.selected)
	}

	const reason = "the tokens were revoked: start a new flow"
	for _, s := range []stepID{stepUserinfo, stepAPICall, stepRefresh, stepRevoke} {
		before := m.flow.steps[s].state
		next, cmd := m.Update(runStepMsg{step: s})
		got := next.(Model)
		if st := statuses(cmd); !slices.Contains(st, s.String()+": "+reason) {
			t.Errorf("%s after revocation: the status says %q, want the engine's reason", s, st)
		}
		if got.flow.busy() || got.flow.steps[s].state != before {
			t.Errorf("%s after revocation must not run: it is %s", s, got.flow.steps[s].state)
		}
	}
	if m.keys.RefreshNow.Enabled() {
		t.Errorf("R (refresh now) is offered for revoked tokens")
	}
	m = update(t, m, keyPress("up")) // Revoke
	m = update(t, m, keyPress("up")) // Refresh, never run
	if scr := plain(m); !strings.Contains(scr, "waiting: "+reason) || !strings.Contains(scr, "Not ready: "+reason) {
		t.Errorf("the pending Refresh says why it cannot run:\n%s", scr)
	}
}

// Going to Calls from a failed step selects exactly the call that failed it, even when later
// calls came after it.
func TestCallsFromAFailedStepSelectsItsCall(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	m := untilExchange(t, env, WithAutoRefresh(false))
	m = runStep(t, m, stepUserinfo)
	rec := m.flow.steps[stepUserinfo]
	if rec.state != stateFailed {
		t.Fatalf("under server-error Userinfo fails, it is %s", rec.state)
	}
	var want string
	for _, ex := range rec.report.Exchanges {
		if ex.ID != "" && ex.Failed() {
			if !strings.HasSuffix(ex.Request.URL, "/v2/userinfo") || ex.Status() != 500 {
				t.Fatalf("the failed call is the userinfo request answered 500: %s %d", ex.Request.URL, ex.Status())
			}
			want = ex.ID
		}
	}
	if want == "" {
		t.Fatalf("the failed Userinfo step names no recorded call: %+v", rec.report.Exchanges)
	}
	// A later call: the list follows the newest one, which is not the failed call.
	m = runStep(t, m, stepIntrospect)
	if m.flow.selected != stepUserinfo || m.flow.steps[stepIntrospect].state != stateOK {
		t.Fatalf("Introspect ran (%s) and left the failed Userinfo selected (%s)", m.flow.steps[stepIntrospect].state, m.flow.selected)
	}
	// The direct test has no program reading the live events: hand the list what the session holds.
	m = update(t, m, callsReloadedMsg{calls: env.session.Entries()})
	if c, _ := m.calls.selected(); c.ID == want {
		t.Fatalf("the list must follow the newest call before the switch, it is on %s", c.ID)
	}
	m = update(t, m, keyPress("3"))
	if c, ok := m.calls.selected(); m.screen != screenCalls || !ok || c.ID != want || !c.Failed {
		t.Errorf("3 from the failed Userinfo selects %s, got %+v (screen %s)", want, c, m.screen)
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
	s.waitFor("Discovery")
	s.keys("enter")
	s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
	s.keys("enter")
	// Authorize ends once the opener has exited, so the wait proves it ran.
	s.waitFor("waiting for the browser to come back", "Authorization URL (y copies it", "y copy URL")
	if stepMark(s.screen(), "Authorize") != "✓" {
		t.Fatalf("the opener ran and Authorize is ok:\n%s", s.screen())
	}
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
