package ui

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/internal/hostile"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// These tests run the TUI against a provider that hides terminal escapes in every text it
// controls, and check the views the TUI hands to the terminal: the server's escapes must be
// shown (as \x1b…) and never sent. The views have escapes of their own, the styles' colours;
// those are all SGR sequences (ESC [ … m), so any other escape, and any other control
// character, is the server's.

// sgrRE matches a style's escape sequence.
var sgrRE = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// assertViewSafe fails when view holds anything but the styles' own escapes: an escape
// sequence other than SGR (OSC 52, OSC 0, CSI 2J…), a BEL, CR or other C0 control but
// newline and tab, DEL, a C1 control or a bidirectional override.
func assertViewSafe(t *testing.T, what, view string) {
	t.Helper()
	rest := sgrRE.ReplaceAllString(view, "")
	for i, r := range rest {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			from, to := max(0, i-40), min(len(rest), i+40)
			t.Errorf("%s sends %U from the server to the terminal: …%q…", what, r, rest[from:to])
			return
		}
	}
}

// assertShownVisibly fails unless the server's field is on screen with its escapes visible.
// Lines wrap anywhere in the long escaped text, so it is looked for with the wrapping (line
// breaks, indents, pane borders) taken out.
func assertShownVisibly(t *testing.T, what, view string, fields ...string) {
	t.Helper()
	text := ansi.Strip(view)
	flat := strings.NewReplacer("\n", "", " ", "", "│", "").Replace(text)
	for _, f := range fields {
		if !strings.Contains(flat, "["+f+"]") {
			t.Errorf("%s does not show the server's %s:\n%s", what, f, text)
		}
	}
	if !strings.Contains(flat, `\x1b]`) && !strings.Contains(flat, `\u009d`) {
		t.Errorf("%s does not show the escapes in their visible form (\\x1b]…):\n%s", what, text)
	}
}

// hostileConfig wires the TUI to the hostile provider as the tui command wires it to a real one,
// with the headless browser.
func hostileConfig(t *testing.T, srv *hostile.TermServer) Config {
	t.Helper()
	c := srv.Canaries
	store, err := recorder.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := store.NewSession(recorder.SessionMeta{Provider: "hostile", ClientID: c.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	sess.Redactor().AddSecret(recorder.KindClientSecret, c.ClientSecret)
	client := &http.Client{Timeout: 10 * time.Second, Transport: sess.Transport(nil)}
	cfg := oauthflow.Config{Provider: oauthflow.Provider{Name: "hostile", Issuer: srv.Issuer()}, Client: oauthflow.Client{
		ID: c.ClientID, Secret: c.ClientSecret, RedirectURI: "http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/callback",
		Scopes: []string{"openid"}, AuthMethod: oauthflow.AuthPost, PKCE: true,
	}}
	return Config{
		Runner: oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(client)), Session: sess, HTTPClient: client,
		Discover: true, Issuer: srv.Issuer(), Browser: &browser.Headless{}, CallbackTimeout: time.Minute,
		BundleDir: t.TempDir(), ToolVersion: "test",
	}
}

func hostileModel(t *testing.T, cfg Config) Model {
	t.Helper()
	m, err := New(context.Background(), cfg, WithDarkBackground(true), WithAutoRefresh(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
}

// TestEveryPaneShowsHostileTextSafely walks the flow against the provider failing at each step
// it can fail at, and once all the way, and checks every pane that shows what the server said:
// the step's error, diagnosis, notes, redirect parameters and HTTP exchanges on the Flow screen,
// the status line, the token panel, the introspection and the ID token's claims on the Inspect
// screen, the call list and a call's detail.
func TestEveryPaneShowsHostileTextSafely(t *testing.T) {
	cases := []struct {
		name  string
		opts  hostile.TermOptions
		steps []stepID
		// failed is the step that fails and the fields its pane shows.
		failed stepID
		shown  []string
	}{
		{name: "token endpoint error", opts: hostile.TermOptions{FailToken: true},
			steps: []stepID{stepDiscovery, stepAuthorize, stepExchange}, failed: stepExchange, shown: []string{"error_description"}},
		{name: "callback error=", opts: hostile.TermOptions{Authorize: hostile.AuthorizeError},
			steps: []stepID{stepDiscovery, stepAuthorize}, failed: stepCallback, shown: []string{"callback_error_description", "callback_error_uri"}},
		{name: "login page", opts: hostile.TermOptions{Authorize: hostile.AuthorizePage},
			steps: []stepID{stepDiscovery, stepAuthorize}, failed: stepAuthorize, shown: []string{"page_heading"}},
		{name: "plain-text userinfo error", opts: hostile.TermOptions{FailUserinfo: true},
			steps: []stepID{stepDiscovery, stepAuthorize, stepExchange, stepUserinfo}, failed: stepUserinfo,
			shown: []string{"userinfo_body", "userinfo_www_authenticate", "userinfo_request_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := hostile.StartTerm(t, hostile.NewCanaries(t.Name()), tc.opts)
			m := hostileModel(t, hostileConfig(t, srv))
			for _, s := range tc.steps {
				m = runStep(t, m, s)
			}
			if st := m.flow.steps[tc.failed].state; st != stateFailed {
				t.Fatalf("%s is %s, want failed:\n%s", tc.failed, st, plain(m))
			}
			m.flow.selected = tc.failed
			m.flow.refreshDetail()
			pane := m.flow.detailContent(m.flow.detailWidth())
			assertViewSafe(t, "the failed step's pane", pane)
			assertShownVisibly(t, "the failed step's pane", pane, tc.shown...)
			assertViewSafe(t, "the screen", m.render())

			m.flow.selected = stepDiscovery
			m.flow.refreshDetail()
			discovery := m.flow.detailContent(m.flow.detailWidth())
			assertViewSafe(t, "the Discovery pane", discovery)
			assertShownVisibly(t, "the Discovery pane", discovery, "issuer") // the claimed issuer, in a note

			// The Calls screen: the list, then the failed call opened (discovery's, the first,
			// when the browser failed, whose calls are not recorded). drive leaves out the
			// recorder's live events, so the list is loaded as after a reload.
			m = update(t, m, callsReloadedMsg{calls: m.cfg.Session.Entries()})
			m = update(t, m, keyPress("3"))
			assertViewSafe(t, "the call list", m.render())
			if len(m.calls.all) == 0 {
				t.Fatalf("no call was recorded:\n%s", plain(m))
			}
			open := m.calls.all[0].ID
			for _, c := range m.calls.all {
				if c.Failed {
					open = c.ID
				}
			}
			target := slices.IndexFunc(m.calls.visible, func(i int) bool { return m.calls.all[i].ID == open })
			for range m.calls.visible {
				switch {
				case m.calls.cursor > target:
					m = update(t, m, keyPress("up"))
				case m.calls.cursor < target:
					m = update(t, m, keyPress("down"))
				}
			}
			if at := m.calls.all[m.calls.visible[m.calls.cursor]].ID; at != open {
				t.Fatalf("the cursor is on %s, not on %s", at, open)
			}
			next, cmd := m.Update(keyPress("enter"))
			m = drive(t, next.(Model), cmd, func(m Model, msg tea.Msg) bool { _, ok := msg.(entryLoadedMsg); return ok })
			detail := m.calls.detail.content(120)
			assertViewSafe(t, "the call's detail", detail)
			assertShownVisibly(t, "the call's detail", detail)
			assertViewSafe(t, "the screen with the call's detail", m.render())
		})
	}
}

// TestInspectAndTokensShowHostileTextSafely: a flow that passes through Introspect leaves the
// server's introspection fields, the ID token's claims and the granted scopes on screen.
func TestInspectAndTokensShowHostileTextSafely(t *testing.T) {
	t.Parallel()
	srv := hostile.StartTerm(t, hostile.NewCanaries(t.Name()), hostile.TermOptions{})
	m := hostileModel(t, hostileConfig(t, srv))
	for _, s := range []stepID{stepDiscovery, stepAuthorize, stepExchange, stepUserinfo, stepIntrospect} {
		m = runStep(t, m, s)
	}
	if st := m.flow.steps[stepIntrospect].state; st != stateOK {
		t.Fatalf("Introspect is %s:\n%s", st, plain(m))
	}
	m = update(t, m, keyPress("2"))
	inspect := m.inspect.content(120)
	assertViewSafe(t, "the Inspect screen", inspect)
	assertShownVisibly(t, "the Inspect screen", inspect, "introspection_username", "introspection_scope", "introspection_extra", "name", "email")
	screen := m.render()
	assertViewSafe(t, "the screen with the token panel", screen)
	assertShownVisibly(t, "the token panel", m.tokens.View("", false), "scope")

	m.flow.selected = stepUserinfo
	m.flow.refreshDetail()
	userinfo := m.flow.detailContent(m.flow.detailWidth())
	assertViewSafe(t, "the Userinfo pane", userinfo)
	assertShownVisibly(t, "the Userinfo pane", userinfo, "userinfo_name")
}

// viewProbe is the root model for teatest, keeping the last view it rendered as the terminal
// got it, escapes and all.
type viewProbe struct {
	m    Model
	last *atomic.Pointer[string]
}

func (p viewProbe) Init() tea.Cmd { return p.m.Init() }

func (p viewProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := p.m.Update(msg)
	p.m = next.(Model)
	v := p.m.render()
	p.last.Store(&v)
	return p, cmd
}

func (p viewProbe) View() tea.View { return p.m.View() }

// TestHostileErrorDescriptionInTheRunningTUI: in the program itself, A runs the flow into the
// token endpoint's hostile error; the Flow screen shows the error_description visibly, the status
// line reports the failure, and no frame on the way hands the terminal any of its escapes.
func TestHostileErrorDescriptionInTheRunningTUI(t *testing.T) {
	t.Parallel()
	srv := hostile.StartTerm(t, hostile.NewCanaries(t.Name()), hostile.TermOptions{FailToken: true})
	m, err := New(context.Background(), hostileConfig(t, srv), WithDarkBackground(true), WithAutoRefresh(false))
	if err != nil {
		t.Fatal(err)
	}
	last := &atomic.Pointer[string]{}
	empty := ""
	last.Store(&empty)
	tm := teatest.NewTestModel(t, viewProbe{m: m, last: last}, teatest.WithInitialTermSize(120, 40), pinned())
	t.Cleanup(func() {
		_ = tm.Quit()
		if fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(viewProbe); ok {
			fm.m.Close()
		}
	})
	var frames []string
	teatest.WaitFor(t, tm.Output(), func([]byte) bool {
		v := *last.Load()
		if v != "" && (len(frames) == 0 || frames[len(frames)-1] != v) {
			frames = append(frames, v)
		}
		return strings.Contains(ansi.Strip(v), "Discovery")
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	tm.Send(keyPress("A"))
	teatest.WaitFor(t, tm.Output(), func([]byte) bool {
		v := *last.Load()
		if len(frames) == 0 || frames[len(frames)-1] != v {
			frames = append(frames, v)
		}
		text := ansi.Strip(v)
		return strings.Contains(text, "What went wrong") && strings.Contains(text, "[error_description]") && strings.Contains(text, "Exchange failed")
	}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	assertShownVisibly(t, "the screen after the failed exchange", frames[len(frames)-1], "error_description")
	for i, f := range frames {
		assertViewSafe(t, "frame "+strconv.Itoa(i), f)
	}
}
