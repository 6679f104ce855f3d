package ui

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// fakeClock is the one clock a test shares between the sandbox, the runner, the recorder
// and the UI, so that countdowns move only when the test says so.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 11, 23, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// counterReader is a reproducible randomness source: a SHA-256 counter stream.
type counterReader struct {
	mu   sync.Mutex
	seed string
	n    int
	buf  []byte
}

func (r *counterReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.buf) < len(p) {
		sum := sha256.Sum256([]byte(r.seed + strconv.Itoa(r.n)))
		r.n++
		r.buf = append(r.buf, sum[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// testEnv is a sandbox, a recording session and a UI config wired together as the demo
// command wires them.
type testEnv struct {
	sb       *sandbox.Server
	base     string
	callback string
	clock    *fakeClock
	session  *recorder.Session
	cfg      Config
}

type envOptions struct {
	scenario   sandbox.Scenario
	accessTTL  time.Duration
	refreshTTL time.Duration
	browser    bool
	// apiCall makes the API call step GET the sandbox's versioned /rest/me, as
	// `oauthdiag flow --sandbox` does.
	apiCall bool
	// timeout is the HTTP client's (default 10 s); slowDelay the sandbox's stall in the slow
	// scenario (default the sandbox's).
	timeout, slowDelay time.Duration
}

func newTestEnv(t *testing.T, opts envOptions) *testEnv {
	t.Helper()
	if opts.scenario == "" {
		opts.scenario = sandbox.Happy
	}
	if opts.accessTTL == 0 {
		opts.accessTTL = 90 * time.Second
	}
	if opts.refreshTTL == 0 {
		opts.refreshTTL = 5 * time.Minute
	}
	if opts.timeout == 0 {
		opts.timeout = 10 * time.Second
	}
	if opts.slowDelay == 0 {
		opts.slowDelay = sandbox.DefaultSlowDelay
	}
	clock := newFakeClock()
	port := freePort(t)
	redirect := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"
	sb := sandbox.New(
		sandbox.WithScenario(opts.scenario),
		sandbox.WithSlowDelay(opts.slowDelay),
		sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, redirect),
		sandbox.WithAccessTokenTTL(opts.accessTTL),
		sandbox.WithRefreshTokenTTL(opts.refreshTTL),
		sandbox.WithClock(clock.Now),
		sandbox.WithRandom(&counterReader{seed: "sandbox"}),
		sandbox.WithSigningKey(testSigningKey(t)),
	)
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { sb.Close() })

	store, err := recorder.Open(t.TempDir(), recorder.WithClock(clock.Now), recorder.WithIDs(&counterReader{seed: "ids"}))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := store.NewSession(recorder.SessionMeta{Provider: "linkedin", ClientID: sandbox.DefaultClientID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	sess.Redactor().AddSecret(recorder.KindClientSecret, sandbox.DefaultClientSecret)
	client := &http.Client{Timeout: opts.timeout, Transport: sess.Transport(nil)}
	p := oauthflow.LinkedInAt(base, base)
	if opts.apiCall {
		p.Endpoints.API = base + "/rest/me"
		p.APIHeaders = map[string]string{"LinkedIn-Version": clock.Now().UTC().Format("200601")}
	}
	cfg := oauthflow.Config{Provider: p, Client: oauthflow.Client{
		ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: redirect, PKCE: true,
	}}
	runner := oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(client), oauthflow.WithClock(clock.Now),
		oauthflow.WithRandom(&counterReader{seed: "runner"}))
	var br browser.Browser
	if !opts.browser {
		br = &browser.Headless{Username: "ada@example.com", Password: "sandbox"}
	}
	return &testEnv{
		sb: sb, base: base, callback: redirect, clock: clock, session: sess,
		cfg: Config{
			Runner: runner, Session: sess, HTTPClient: client,
			Discover: true, Issuer: sb.Issuer(), DiscoveryURL: p.DiscoveryURL,
			Browser: br, Listen: true, CallbackTimeout: 2 * time.Minute,
			BundleDir: t.TempDir(), ToolVersion: "test", Mode: "demo",
			Scenarios: sandboxSwitcher{sb},
		},
	}
}

// sandboxSwitcher adapts the sandbox to the scenario menu, as main does.
type sandboxSwitcher struct{ sb *sandbox.Server }

func (s sandboxSwitcher) Scenarios() []Scenario {
	var out []Scenario
	for _, sc := range sandbox.Scenarios() {
		out = append(out, Scenario{Name: string(sc), Description: sc.Description(), FailingStep: sc.FailingStep()})
	}
	return out
}
func (s sandboxSwitcher) Current() string { return string(s.sb.Scenario()) }
func (s sandboxSwitcher) SetScenario(name string) error {
	sc, err := sandbox.ParseScenario(name)
	if err != nil {
		return err
	}
	s.sb.SetScenario(sc)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func testSigningKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/signing-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func (e *testEnv) model(t *testing.T, opts ...Option) Model {
	t.Helper()
	opts = append([]Option{WithClock(e.clock.Now), WithDarkBackground(true)}, opts...)
	m, err := New(context.Background(), e.cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// probe wraps the root model for teatest: after every update it publishes the plain text of
// the screen, so a test can wait for what a user would see without parsing the renderer's
// incremental output.
type probe struct {
	m    Model
	last *atomic.Pointer[string]
}

func (p probe) Init() tea.Cmd { return p.m.Init() }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := p.m.Update(msg)
	p.m = next.(Model)
	s := ansi.Strip(p.m.render())
	p.last.Store(&s)
	return p, cmd
}

func (p probe) View() tea.View { return p.m.View() }

// session is a teatest program around the root model.
type session struct {
	t    *testing.T
	tm   *teatest.TestModel
	last *atomic.Pointer[string]
	env  *testEnv
}

// pinned are the program options every UI test uses: colour profile and terminal are
// fixed, so the screens do not depend on the machine the tests run on.
func pinned() teatest.TestOption {
	return teatest.WithProgramOptions(
		tea.WithColorProfile(colorprofile.TrueColor),
		tea.WithEnvironment([]string{"TERM=xterm-256color", "COLORTERM=truecolor"}),
	)
}

func (e *testEnv) start(t *testing.T, w, h int, opts ...Option) *session {
	t.Helper()
	last := newLast()
	tm := teatest.NewTestModel(t, probe{m: e.model(t, opts...), last: last}, teatest.WithInitialTermSize(w, h), pinned())
	s := &session{t: t, tm: tm, last: last, env: e}
	t.Cleanup(func() {
		_ = tm.Quit()
		// The final model owns what the program opened (listeners, subscriptions).
		if fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe); ok {
			fm.m.Close()
		}
	})
	return s
}

func newLast() *atomic.Pointer[string] {
	last := &atomic.Pointer[string]{}
	empty := ""
	last.Store(&empty)
	return last
}

// finishModel quits and returns the final root model.
func (s *session) finishModel() Model {
	s.t.Helper()
	if err := s.tm.Quit(); err != nil {
		s.t.Fatal(err)
	}
	return s.tm.FinalModel(s.t, teatest.WithFinalTimeout(10*time.Second)).(probe).m
}

func (s *session) screen() string { return *s.last.Load() }

// waitFor waits until the screen shows every one of texts.
func (s *session) waitFor(texts ...string) {
	s.t.Helper()
	teatest.WaitFor(s.t, s.tm.Output(), func([]byte) bool {
		scr := s.screen()
		for _, t := range texts {
			if !strings.Contains(scr, t) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// waitUntil waits until cond holds for the screen.
func (s *session) waitUntil(what string, cond func(string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond(s.screen()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen is:\n%s", what, s.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *session) keys(keys ...string) {
	for _, k := range keys {
		s.tm.Send(keyPress(k))
	}
}

func (s *session) typeText(text string) { s.tm.Type(text) }

// failedCall is the one recorded call that failed, as the session holds it: tests name calls by
// what they are, not by the ids the order of the calls happens to give them.
func (e *testEnv) failedCall(t *testing.T) recorder.Summary {
	t.Helper()
	var failed []recorder.Summary
	for _, c := range e.session.Entries() {
		if c.Failed {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("want exactly one failed call, the session holds %+v", failed)
	}
	return failed[0]
}

// replayOf is the id of the call that resent id, "" while there is none.
func (e *testEnv) replayOf(id string) string {
	for _, c := range e.session.Entries() {
		if c.ReplayOf == id {
			return c.ID
		}
	}
	return ""
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:\d{4,5}`)

// normalize replaces the sandbox's and the callback's random ports so goldens are stable.
func (e *testEnv) normalize(s string) string {
	sbPort := strings.TrimPrefix(e.base, "http://127.0.0.1:")
	cbPort := strings.TrimPrefix(strings.TrimSuffix(e.callback, "/callback"), "http://127.0.0.1:")
	return portRE.ReplaceAllStringFunc(s, func(hp string) string {
		port := strings.TrimPrefix(hp, "127.0.0.1:")
		switch port {
		case sbPort:
			return "127.0.0.1:" + fitTo("SBOX", len(port))
		case cbPort:
			return "127.0.0.1:" + fitTo("CBCK", len(port))
		}
		return hp
	})
}

func fitTo(s string, n int) string {
	for len(s) < n {
		s += "_"
	}
	return s[:n]
}

// keyPress builds the message a terminal sends for a key name as key.Binding spells it.
func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) == 1 {
		return tea.KeyPressMsg{Code: r[0], Text: k}
	}
	panic("keyPress: unknown key " + k)
}

// update feeds one message to the root model (direct-Update tests).
func update(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// plain is the screen as text.
func plain(m Model) string { return ansi.Strip(m.render()) }

// drive plays the part of the program for direct-Update tests: it runs cmd and every command
// that follows from it in goroutines, feeds their messages back into the model in order, and
// returns once a message satisfies until. Clock ticks and spinner frames are not fed: tests
// move the clock themselves.
func drive(t *testing.T, m Model, cmd tea.Cmd, until func(Model, tea.Msg) bool) Model {
	t.Helper()
	msgs := make(chan tea.Msg, 64)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			msg := c()
			if batch, ok := msg.(tea.BatchMsg); ok {
				for _, sub := range batch {
					run(sub)
				}
				return
			}
			msgs <- msg
		}()
	}
	run(cmd)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case msg := <-msgs:
			switch msg.(type) {
			case nil, tickMsg, spinner.TickMsg, callEventMsg:
				continue
			}
			next, c := m.Update(msg)
			m = next.(Model)
			run(c)
			if until(m, msg) {
				return m
			}
		case <-deadline:
			t.Fatalf("drive: timed out; the screen is:\n%s", plain(m))
		}
	}
}

// stepFinished stops drive once a step has ended, one way or the other.
func stepFinished(s stepID) func(Model, tea.Msg) bool {
	return func(m Model, _ tea.Msg) bool {
		st := m.flow.steps[s].state
		return st == stateOK || st == stateFailed || st == stateSkipped
	}
}

// callbackWaiting stops drive once Authorize has succeeded and the Callback step it started by
// itself waits for the browser to come back.
func callbackWaiting(m Model, _ tea.Msg) bool {
	return m.flow.steps[stepAuthorize].state == stateOK && m.flow.waiting()
}

// runStep asks the root model to run a step and drives it to its result. A step that starts
// the next by itself (Authorize starts Callback, Revoke starts Verify revoke) is driven until
// that one has ended too: nothing may still run when the test goes on.
func runStep(t *testing.T, m Model, s stepID) Model {
	t.Helper()
	next, cmd := m.Update(runStepMsg{step: s})
	done := stepFinished(s)
	return drive(t, next.(Model), cmd, func(m Model, msg tea.Msg) bool { return done(m, msg) && !m.flow.busy() })
}
