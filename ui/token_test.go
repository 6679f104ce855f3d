package ui

import (
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// untilExchange drives a fresh model through Discovery … Exchange, so it holds a token.
// Callback is not run by hand: Authorize starts it.
func untilExchange(t *testing.T, env *testEnv, opts ...Option) Model {
	t.Helper()
	m := env.model(t, opts...)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, s := range []stepID{stepDiscovery, stepAuthorize, stepExchange} {
		m = runStep(t, m, s)
	}
	for s := stepDiscovery; s <= stepExchange; s++ {
		if st := m.flow.steps[s].state; st != stateOK {
			t.Fatalf("%s is %s: %v", s, st, m.flow.steps[s].report.Err)
		}
	}
	return m
}

func tokenRow(screen, label string) string {
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimSpace(strings.Trim(strings.TrimSpace(line), "│")), label+" ") {
			return line
		}
	}
	return ""
}

// The countdown is recomputed from the absolute expiry on every tick: advancing the clock
// by any amount shows exactly the time left, and the state turns to warning, then expired.
func TestTokenCountdownFollowsTheClock(t *testing.T) {
	env := newTestEnv(t, envOptions{accessTTL: 90 * time.Second, refreshTTL: 5 * time.Minute})
	m := untilExchange(t, env, WithAutoRefresh(false))
	steps := []struct {
		advance time.Duration
		access  []string
		refresh []string
	}{
		{0, []string{"● valid", "1:30 left", "0%"}, []string{"● valid", "5:00 left"}},
		{time.Second, []string{"● valid", "1:29 left", "1%"}, []string{"4:59 left"}},
		{73 * time.Second, []string{"● valid", "0:16 left", "82%"}, []string{"3:46 left"}},
		{2 * time.Second, []string{"▲ expiring-soon", "0:14 left", "84%"}, []string{"3:44 left"}},
		{20 * time.Second, []string{"✗ expired", "expired 0:06 ago", "100%"}, []string{"● valid", "3:24 left"}},
		{4 * time.Minute, []string{"✗ expired"}, []string{"✗ expired", "expired 0:36 ago"}},
	}
	for _, s := range steps {
		env.clock.Advance(s.advance)
		m = update(t, m, tickMsg{seq: -1})
		scr := plain(m)
		for _, want := range s.access {
			if row := tokenRow(scr, "access"); !strings.Contains(row, want) {
				t.Errorf("after +%s the access row %q lacks %q", s.advance, row, want)
			}
		}
		for _, want := range s.refresh {
			if row := tokenRow(scr, "refresh"); !strings.Contains(row, want) {
				t.Errorf("after +%s the refresh row %q lacks %q", s.advance, row, want)
			}
		}
	}
	if scr := plain(m); !strings.Contains(scr, "Re-authorization needed") {
		t.Errorf("with both tokens expired the panel must ask for re-authorization:\n%s", scr)
	}
}

// The bar's colour follows the state: fresh, warning, expired.
func TestTokenBarColourFollowsTheState(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m := untilExchange(t, env, WithAutoRefresh(false))
	st := NewStyles(true)
	has := func(c color.Color) bool { return strings.Contains(m.tokens.View("", false), sgrFg(c)) }
	if !has(st.Token.BarFull) {
		t.Errorf("a fresh token's bar is drawn in the fresh colour")
	}
	env.clock.Advance(80 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	if !has(st.Token.BarWarn) {
		t.Errorf("10 s before expiry the bar is drawn in the warning colour")
	}
	env.clock.Advance(20 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	if !has(st.Token.BarDead) {
		t.Errorf("after expiry the bar is drawn in the expired colour")
	}
}

func sgrFg(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return "38;2;" + itoa(int(r>>8)) + ";" + itoa(int(g>>8)) + ";" + itoa(int(b>>8))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for n > 0 {
		d = append([]byte{byte('0' + n%10)}, d...)
		n /= 10
	}
	return string(d)
}

// Auto-refresh fires shortly before expiry, shows it on the Refresh step and restarts the
// countdown from the new token's expiry.
func TestAutoRefreshRefreshesShortlyBeforeExpiry(t *testing.T) {
	env := newTestEnv(t, envOptions{accessTTL: 90 * time.Second})
	m := untilExchange(t, env)
	before := m.flow.token().AccessToken
	env.clock.Advance(60 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	if m.flow.steps[stepRefresh].state != statePending {
		t.Fatalf("30 s before expiry nothing is refreshed yet")
	}
	env.clock.Advance(20 * time.Second)
	next, cmd := m.Update(tickMsg{seq: -1})
	m = next.(Model)
	if m.flow.steps[stepRefresh].state != stateRunning || !strings.Contains(plain(m), "refreshing the access token") {
		t.Fatalf("10 s before expiry auto-refresh must be running and shown:\n%s", plain(m))
	}
	m = drive(t, m, cmd, stepFinished(stepRefresh))
	if m.flow.token().AccessToken == before {
		t.Fatal("auto-refresh did not replace the access token")
	}
	rec := m.flow.steps[stepRefresh]
	if rec.state != stateOK || !rec.auto {
		t.Fatalf("the Refresh step shows the automatic refresh: %+v", rec)
	}
	if row := tokenRow(plain(m), "access"); !strings.Contains(row, "1:30 left") {
		t.Errorf("the new token's countdown starts from its own expiry: %q", row)
	}
	if m.flow.selected != stepUserinfo {
		t.Errorf("auto-refresh must not move the user's selection, got %s", m.flow.selected)
	}
}

// statuses runs cmd, and the commands it batches, and returns the status lines they show.
// Only for commands that return at once.
func statuses(cmd tea.Cmd) []string {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []string
		for _, c := range msg {
			out = append(out, statuses(c)...)
		}
		return out
	case statusMsg:
		return []string{msg.text}
	}
	return nil
}

// A stored token near its expiry is refreshed automatically once the Refresh step can run:
// before Discovery the clock's ticks neither start nor announce a refresh.
func TestAutoRefreshWaitsUntilRefreshCanRun(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	now := env.clock.Now()
	env.cfg.InitialToken = &oauthflow.Token{AccessToken: "at-stored", RefreshToken: "rt-stored", TokenType: "Bearer",
		ReceivedAt: now.Add(-85 * time.Second), Expiry: now.Add(5 * time.Second), ExpiresIn: 90}
	m := env.model(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	for i := range 3 {
		next, cmd := m.Update(tickMsg{seq: -1})
		m = next.(Model)
		if st := statuses(cmd); len(st) > 0 {
			t.Fatalf("tick %d before Discovery announces %q", i, st)
		}
		if m.flow.steps[stepRefresh].state != statePending {
			t.Fatalf("tick %d before Discovery starts Refresh", i)
		}
	}
	m = runStep(t, m, stepDiscovery)
	m = update(t, m, tickMsg{seq: -1})
	if m.flow.steps[stepRefresh].state != stateRunning || !m.flow.steps[stepRefresh].auto {
		t.Errorf("after Discovery the stored token is refreshed automatically: %+v", m.flow.steps[stepRefresh])
	}
}

// With auto-refresh off the token expires; R refreshes it by hand.
func TestExpiredTokenRefreshedByHand(t *testing.T) {
	env := newTestEnv(t, envOptions{accessTTL: 30 * time.Second})
	m := untilExchange(t, env)
	m = update(t, m, keyPress("a"))
	env.clock.Advance(40 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	if row := tokenRow(plain(m), "access"); !strings.Contains(row, "expired 0:10 ago") {
		t.Fatalf("with auto-refresh off the token expires: %q", row)
	}
	if !strings.Contains(plain(m), "next: refresh") {
		t.Errorf("the inspector's next action is shown: refresh")
	}
	next, cmd := m.Update(keyPress("R"))
	m = drive(t, next.(Model), cmd, stepFinished(stepRefresh))
	if row := tokenRow(plain(m), "access"); !strings.Contains(row, "0:30 left") {
		t.Errorf("R refreshed the token: %q", row)
	}
}

// The no-refresh-token scenario leaves nothing to refresh with: once the access token
// expires, re-authorization is the only way.
func TestNoRefreshTokenNeedsReauthorization(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.NoRefreshToken, accessTTL: 20 * time.Second})
	m := untilExchange(t, env)
	env.clock.Advance(25 * time.Second)
	m = update(t, m, tickMsg{seq: -1})
	scr := plain(m)
	if !strings.Contains(scr, "Re-authorization needed") || m.flow.steps[stepRefresh].state != statePending {
		t.Fatalf("without a refresh token the panel asks for re-authorization and nothing is refreshed:\n%s", scr)
	}
}

// The palette follows the terminal's background unless it was fixed.
func TestPaletteFollowsTheBackground(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	m, err := New(t.Context(), env.cfg, WithClock(env.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	dark, light := NewStyles(true), NewStyles(false)
	brand := func(st Styles) string { return sgrFg(st.Header.Brand.GetForeground()) }
	m = update(t, m, tea.BackgroundColorMsg{Color: color.White})
	if v := m.render(); !strings.Contains(v, brand(light)) || strings.Contains(v, brand(dark)) {
		t.Errorf("on a light background the light palette is used")
	}
	m = update(t, m, tea.BackgroundColorMsg{Color: color.Black})
	if v := m.render(); !strings.Contains(v, brand(dark)) {
		t.Errorf("on a dark background the dark palette is used")
	}
}
