package ui

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// untilIntrospect drives the flow through Introspect (before Refresh and Revoke).
func untilIntrospect(t *testing.T, env *testEnv) Model {
	t.Helper()
	m := untilExchange(t, env, WithAutoRefresh(false))
	for _, s := range []stepID{stepUserinfo, stepAPICall, stepIntrospect} {
		m = runStep(t, m, s)
		// The sandbox's configuration names no API URL, so the API call is skipped.
		if st := m.flow.steps[s].state; st != stateOK && !(s == stepAPICall && st == stateSkipped) {
			t.Fatalf("%s is %s: %v", s, st, m.flow.steps[s].report.Err)
		}
	}
	return m
}

// The Inspect screen shows the introspection, the ID token with a verdict per check and the
// comparison of both views, at 80 and 120 columns.
func TestInspectScreen(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			env := newTestEnv(t, envOptions{})
			m := untilIntrospect(t, env)
			m = update(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			m = update(t, m, keyPress("2"))
			full := ansi.Strip(m.inspect.content(size[0]))
			for _, want := range []string{
				"● active", "scopes", "openid", "client_id", "sandbox-client",
				"✓ verified", "✓ signature", "✓ iss", "✓ aud", "✓ exp", "✓ nonce",
				"✓ the client and the server agree",
			} {
				if !strings.Contains(full, want) {
					t.Errorf("the Inspect screen lacks %q:\n%s", want, full)
				}
			}
			golden.RequireEqual(t, env.normalize(plain(m)))
		})
	}
}

// Revoking and inspecting again shows the server's changed view and the disagreement.
func TestInspectAfterRevocationShowsTheDisagreement(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := untilIntrospect(t, env)
	m = runStep(t, m, stepRevoke)
	// r on the Inspect screen introspects again: it runs the Introspect step.
	m = update(t, m, keyPress("2"))
	next, cmd := m.Update(keyPress("r"))
	m = drive(t, next.(Model), cmd, stepFinished(stepIntrospect))
	full := ansi.Strip(m.inspect.content(120))
	if !strings.Contains(full, "✗ revoked") && !strings.Contains(full, "✗ inactive") {
		t.Errorf("after revocation the server reports the token dead:\n%s", full)
	}
	if m.flow.steps[stepIntrospect].state != stateFailed || len(m.flow.steps[stepIntrospect].diagnoses) == 0 {
		t.Errorf("inspecting a revoked token fails the step with a diagnosis: %+v", m.flow.steps[stepIntrospect])
	}
}

// x writes the bundle, shows its path and what is inside, and nothing secret is in it.
func TestBundleExport(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("A")
	s.waitFor("✗ failed", "Calls (1✗)")
	s.keys("x")
	s.waitFor("Support bundle written", "report.md", "calls.har", "redacted", "client_secret ×1")
	scr := s.screen()
	var path string
	for _, line := range strings.Split(scr, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "path" {
			path = f[1]
		}
	}
	if path == "" || !strings.HasPrefix(path, env.cfg.BundleDir) {
		t.Fatalf("the summary names the bundle's path in %s:\n%s", env.cfg.BundleDir, scr)
	}
	if fc := env.failedCall(t); !strings.Contains(scr, fc.ID+" GET") || !strings.Contains(scr, "500") {
		t.Errorf("the summary lists the failed call:\n%s", scr)
	}
	final := s.finishModel()
	canaries := []string{sandbox.DefaultClientSecret, final.flow.token().AccessToken, final.flow.token().RefreshToken, final.flow.state.Callback.Code}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the bundle is not a readable zip: %v", err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		for _, c := range canaries {
			if c != "" && strings.Contains(string(b), c) {
				t.Errorf("%s in the bundle holds a secret (%.8s…)", f.Name, c)
			}
		}
		if f.Name == "diagnosis.json" && !strings.Contains(string(b), "provider-outage") {
			t.Errorf("diagnosis.json lacks the failure's diagnosis:\n%s", b)
		}
	}
	for _, n := range []string{"report.md", "calls.har", "diagnosis.json", "manifest.json"} {
		if !names[n] {
			t.Errorf("the bundle lacks %s", n)
		}
	}
}

// Secrets are masked everywhere until s is pressed; then a warning stays visible.
func TestSecretsStayMaskedUntilRevealed(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := untilIntrospect(t, env)
	canaries := map[string]string{
		"client secret": sandbox.DefaultClientSecret, "access token": m.flow.token().AccessToken,
		"refresh token": m.flow.token().RefreshToken, "code": m.flow.state.Callback.Code, "PKCE verifier": m.flow.state.AuthRequest.Verifier,
	}
	screens := func(m Model) string {
		var b strings.Builder
		for _, sc := range []string{"1", "2", "3"} {
			m = update(t, m, keyPress(sc))
			b.WriteString(plain(m))
			b.WriteString(ansi.Strip(m.inspect.content(200)))
			b.WriteString(ansi.Strip(m.calls.View("")))
		}
		for s := stepDiscovery; s < numSteps; s++ {
			m.flow.selected = s
			b.WriteString(ansi.Strip(m.flow.detailContent(200)))
		}
		return b.String()
	}
	hidden := screens(m)
	for what, v := range canaries {
		if strings.Contains(hidden, v) {
			t.Errorf("the %s is on screen without reveal", what)
		}
	}
	m = update(t, m, keyPress("s"))
	shown := screens(m)
	if !strings.Contains(plain(m), "SECRETS VISIBLE") {
		t.Errorf("revealed secrets come with a visible warning")
	}
	for _, what := range []string{"client secret", "access token"} {
		if !strings.Contains(shown, canaries[what]) {
			t.Errorf("after s the %s is shown", what)
		}
	}
	m = update(t, m, keyPress("s"))
	if again := screens(m); strings.Contains(again, canaries["access token"]) || strings.Contains(plain(m), "SECRETS VISIBLE") {
		t.Errorf("s hides the secrets again")
	}
}

// Every screen fits the terminal exactly, from 80x24 up, and degrades below it.
func TestLayoutFitsTheTerminal(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := untilIntrospect(t, env)
	sizes := [][2]int{{80, 24}, {120, 40}, {100, 30}, {64, 20}, {50, 16}, {200, 60}}
	for _, sz := range sizes {
		for _, key := range []string{"1", "2", "3", "?"} {
			mm := update(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			mm = update(t, mm, keyPress(key))
			lines := strings.Split(plain(mm), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%dx%d screen %s: %d lines", sz[0], sz[1], key, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%dx%d screen %s: line %d is %d wide: %q", sz[0], sz[1], key, i, w, l)
				}
			}
		}
	}
	tiny := update(t, m, tea.WindowSizeMsg{Width: 30, Height: 10})
	if !strings.Contains(plain(tiny), "40x14") || !strings.Contains(plain(tiny), "30x10") {
		t.Errorf("a tiny terminal gets a message, not a broken layout:\n%s", plain(tiny))
	}
	narrow := update(t, m, tea.WindowSizeMsg{Width: 60, Height: 20})
	if !strings.Contains(plain(narrow), "✓✓✓✓✓–✓○○○ Refresh") {
		t.Errorf("a narrow terminal shows the stepper as one line:\n%s", plain(narrow))
	}
}

// ? shows the full key map; keys that do nothing now are left out.
func TestHelpListsOnlyKeysThatApply(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := env.model(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(t, m, keyPress("?"))
	scr := plain(m)
	for _, want := range []string{"Keys", "Flow screen", "run step", "run all", "explain", "Screens", "export support bundle", "scenario menu", "auto-refresh on/off"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the key map lacks %q:\n%s", want, scr)
		}
	}
	for _, absent := range []string{"paste redirect", "refresh token now", "copy URL"} {
		if strings.Contains(scr, absent) {
			t.Errorf("before Authorize and Exchange the key map must not offer %q", absent)
		}
	}
	m = update(t, m, keyPress("?"))
	if strings.Contains(plain(m), "Flow screen") {
		t.Errorf("? closes the key map")
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			sized := update(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			golden.RequireEqual(t, env.normalize(plain(update(t, sized, keyPress("?")))))
		})
	}

	cfg := env.cfg
	cfg.Scenarios = nil
	outside, err := New(t.Context(), cfg, WithClock(env.clock.Now), WithDarkBackground(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(outside.Close)
	outside = update(t, outside, tea.WindowSizeMsg{Width: 120, Height: 40})
	outside = update(t, outside, keyPress("?"))
	if strings.Contains(plain(outside), "scenario menu") {
		t.Errorf("outside the demo there is no scenario menu to offer")
	}
}

// NO_COLOR turns colours off; the symbols still carry every state.
func TestNoColorDropsColoursButKeepsSymbols(t *testing.T) {
	run := func(env []string) string {
		e := newTestEnv(t, envOptions{})
		last := newLast()
		tm := teatest.NewTestModel(t, probe{m: e.model(t), last: last}, teatest.WithInitialTermSize(100, 30),
			teatest.WithProgramOptions(tea.WithEnvironment(env)))
		s := &session{t: t, tm: tm, last: last, env: e}
		s.waitFor("Discovery")
		s.keys("enter")
		s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
		if err := tm.Quit(); err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(tm.FinalOutput(t))
		return string(out)
	}
	// TTY_FORCE: the test's output is no terminal, which would turn colours off by itself.
	colour := run([]string{"TERM=xterm-256color", "COLORTERM=truecolor", "TTY_FORCE=1"})
	if !strings.Contains(colour, "38;2;") {
		t.Fatalf("with a colour terminal the output has colours")
	}
	mono := run([]string{"TERM=xterm-256color", "COLORTERM=truecolor", "TTY_FORCE=1", "NO_COLOR=1"})
	if strings.Contains(mono, "38;2;") || strings.Contains(mono, "38;5;") || strings.Contains(mono, "\x1b[3") && strings.Contains(mono, "m✓") {
		t.Errorf("NO_COLOR output still sets colours")
	}
	if !strings.Contains(mono, "✓") {
		t.Errorf("without colours the state symbols remain")
	}
}
