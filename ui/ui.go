// Package ui is the terminal user interface of oauthdiag: the flow stepper, the token panel,
// the inspect and calls screens. It holds presentation and interaction only; the protocol is
// oauthflow's, the recording recorder's and the judgement inspector's.
package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// Config is what the TUI runs against; main builds it from flags.
type Config struct {
	// Runner performs the flow's steps; its HTTP client should record into Session.
	Runner *oauthflow.Runner
	// Session records every call and redacts everything shown.
	Session *recorder.Session
	// HTTPClient is the recording client, for the JWKS fetch and replays.
	HTTPClient *http.Client

	// Discover makes the Discovery step read the discovery document (from DiscoveryURL, or Issuer's).
	Discover     bool
	Issuer       string
	DiscoveryURL string

	// Browser takes the user through the authorization URL when Authorize runs; nil opens
	// nothing (the user copies the URL and pastes the redirect back).
	Browser browser.Browser
	// Listen runs the loopback listener on the redirect URI's port (loopback URIs only).
	Listen          bool
	CallbackTimeout time.Duration
	ExtraAuthParams url.Values

	// Scenarios switches the demo provider's fault at run time; nil outside the demo.
	Scenarios ScenarioSwitcher
	// BundleDir is where x writes support bundles.
	BundleDir   string
	ToolVersion string
	// Mode names the setting in the header, e.g. "demo".
	Mode string
	// SaveToken, if set, persists every token the flow gets: the token in use, the scopes the
	// authorization requested, the exchanges that brought it, and whether it came from a refresh
	// (true) or a new authorization. It is called inside a command, one at a time.
	SaveToken func(tok *oauthflow.Token, scopes []string, exchanges []httplog.Exchange, refreshed bool) error
	// GuardRefresh, if set, runs before every refresh, inside the command: it serialises the
	// refresh with other processes using the same stored token (the profile lock) and returns a
	// newer token one of them already got, which is used instead of refreshing again. release
	// is called once the refreshed token is saved.
	GuardRefresh func(ctx context.Context, current *oauthflow.Token) (newer *oauthflow.Token, release func(), err error)
	// InitialToken is a token already held (a profile's stored one): the panel counts it
	// down and the steps that use a token can use it without a new authorization.
	InitialToken *oauthflow.Token
	// Profile names the profile in the status bar.
	Profile string
}

// Option tunes the model.
type Option func(*options)

type options struct {
	clock       func() time.Time
	dark        *bool
	autoRefresh bool
}

// WithClock sets the clock every countdown is computed from (tests make it fixed).
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithDarkBackground fixes the palette instead of asking the terminal for its background.
func WithDarkBackground(dark bool) Option { return func(o *options) { o.dark = &dark } }

// WithAutoRefresh sets whether auto-refresh starts on (it does by default).
func WithAutoRefresh(on bool) Option { return func(o *options) { o.autoRefresh = on } }

type screen int

const (
	screenFlow screen = iota
	screenInspect
	screenCalls
	numScreens
)

func (s screen) String() string {
	switch s {
	case screenFlow:
		return "Flow"
	case screenInspect:
		return "Inspect"
	case screenCalls:
		return "Calls"
	}
	return "screen?"
}

// tickMsg drives everything that depends on the clock. Only the tick carrying the expected
// sequence number re-arms the loop, so there is exactly one loop however many ticks arrive.
type tickMsg struct{ seq int }

func tickCmd(seq int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{seq: seq} })
}

// Model is the root of the TUI.
type Model struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	clock  func() time.Time
	styles *Styles
	fixed  bool // palette fixed by WithDarkBackground
	keys   globalKeys
	help   help.Model
	spin   spinner.Model

	screen   screen
	showHelp bool
	reveal   bool
	red      *recorder.Redactor

	flow    flowModel
	inspect inspectModel
	calls   callsModel
	tokens  tokenPanel
	status  statusBar
	picker  scenarioPicker
	bundle  *bundle.Summary

	events      <-chan recorder.Event
	unsubscribe func()
	tickSeq     int
	spinning    bool

	width, height int
}

// New builds the root model. It subscribes to the session's live events; Run (or the
// program's end) releases the subscription.
func New(ctx context.Context, cfg Config, opts ...Option) (Model, error) {
	if cfg.Runner == nil {
		return Model{}, errors.New("ui: no flow runner")
	}
	if cfg.Session == nil {
		return Model{}, errors.New("ui: no recording session")
	}
	o := options{clock: time.Now, autoRefresh: true}
	for _, opt := range opts {
		opt(&o)
	}
	dark := true
	if o.dark != nil {
		dark = *o.dark
	}
	st := NewStyles(dark)
	ctx, cancel := context.WithCancel(ctx)
	red := cfg.Session.Redactor()
	mk := masker{red: red}
	sess := cfg.Session
	backend := flowBackend{
		runner: cfg.Runner, session: sess, httpClient: cfg.HTTPClient, now: o.clock,
		opts: oauthflow.FlowOptions{
			Discover: cfg.Discover, Issuer: cfg.Issuer, DiscoveryURL: cfg.DiscoveryURL,
			Browser: cfg.Browser, Listen: cfg.Listen, CallbackTimeout: cfg.CallbackTimeout, ExtraAuthParams: cfg.ExtraAuthParams,
			AcceptPaste: true,
			Observe: func(step, leg, rawURL string) httplog.Exchange {
				return sess.Observe(step, leg, rawURL, "").Exchange
			},
		},
		saveToken: cfg.SaveToken, guardRefresh: cfg.GuardRefresh,
	}
	h := help.New()
	h.Styles = st.Help
	c := cfg.Runner.Config()
	m := Model{
		cfg: cfg, ctx: ctx, cancel: cancel, clock: o.clock, styles: &st, fixed: o.dark != nil,
		keys: newGlobalKeys(), help: h, red: red,
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		flow:    newFlowModel(ctx, &st, backend, mk, o.clock, cfg.InitialToken),
		inspect: newInspectModel(&st, mk),
		calls:   newCallsModel(ctx, &st, cfg.Session, replayBackend{client: cfg.HTTPClient}, mk),
		tokens:  newTokenPanel(&st, o.autoRefresh, mk),
		status:  statusBar{styles: &st, provider: c.Provider.Name, clientID: c.Client.ID, sessionID: cfg.Session.ID()},
		picker:  newScenarioPicker(&st, cfg.Scenarios),
	}
	if cfg.Scenarios != nil {
		m.status.scenario = cfg.Scenarios.Current()
	}
	m.status.profile = cfg.Profile
	if tok := cfg.InitialToken; tok != nil {
		learnToken(mk, tok)
		m.calls.accessToken = tok.AccessToken
		m.status = m.status.show(statusMsg{text: "using the stored token: run Discovery, then the steps that use a token use it; Authorize gets a new one"}, m.clock())
	}
	m.events, m.unsubscribe = cfg.Session.Subscribe()
	for _, c := range cfg.Session.Entries() {
		m.calls = m.calls.upsert(c)
	}
	m.tokens = m.tokens.update(nil, false, m.clock())
	m.updateKeys()
	return m, nil
}

// Run shows the TUI full-screen until the user quits or ctx ends.
func Run(ctx context.Context, cfg Config, opts ...Option) error {
	m, err := New(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	final, err := tea.NewProgram(m, tea.WithContext(ctx)).Run()
	if fm, ok := final.(Model); ok {
		fm.Close()
	} else {
		m.Close()
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// Close stops what the model started: the event subscription, waits and listeners. Call it
// on the final model, once the program has ended.
func (m Model) Close() {
	if m.flow.cancelWait != nil {
		m.flow.cancelWait()
	}
	_ = m.flow.flow.Close()
	if m.unsubscribe != nil {
		m.unsubscribe()
	}
	m.cancel()
}

func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tickCmd(m.tickSeq), waitForCallEvent(m.events)}
	if !m.fixed {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// typing says a text field has focus, so global keys (other than ctrl+c) are typed into it.
func (m Model) typing() bool {
	switch {
	case m.picker.open, m.bundle != nil:
		return false
	case m.screen == screenFlow:
		return m.flow.typing()
	case m.screen == screenCalls:
		return m.calls.typing()
	}
	return false
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m = m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		if !m.fixed {
			*m.styles = NewStyles(msg.IsDark())
			m.help.Styles = m.styles.Help
			m = m.layout()
		}
		return m, nil
	case tickMsg:
		return m.tick(msg.seq)
	case spinner.TickMsg:
		if !m.busy() {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case statusMsg:
		m.status = m.status.show(msg, m.clock())
		return m, nil
	case callEventMsg:
		var cmd tea.Cmd
		m.calls, cmd = m.calls.Update(msg)
		if msg.ok {
			cmds = append(cmds, waitForCallEvent(m.events))
		}
		spin := m.startSpinner()
		return m, tea.Batch(append(cmds, cmd, spin)...)
	case callsReloadedMsg, entryLoadedMsg, replayDoneMsg, curlMsg:
		var cmd tea.Cmd
		m.calls, cmd = m.calls.Update(msg)
		m.updateKeys()
		spin := m.startSpinner()
		return m, tea.Batch(cmd, spin)
	case stepDoneMsg:
		var cmd tea.Cmd
		current := msg.run == m.flow.run
		m.flow, cmd = m.flow.Update(msg)
		if current && msg.inspect != nil {
			m.inspect, _ = m.inspect.Update(inspectionMsg{result: msg.inspect})
		}
		m = m.afterFlow()
		spin := m.startSpinner()
		return m, tea.Batch(cmd, spin)
	case runStepMsg:
		var cmd tea.Cmd
		m.flow, cmd = m.flow.runStep(msg.step, false)
		m = m.afterFlow()
		spin := m.startSpinner()
		return m, tea.Batch(cmd, spin)
	case bundleDoneMsg:
		if msg.err != nil {
			m.status = m.status.show(statusMsg{text: "bundle export failed: " + msg.err.Error(), isErr: true}, m.clock())
			return m, nil
		}
		sum := msg.summary
		m.bundle = &sum
		m.status = m.status.show(statusMsg{text: "support bundle written to " + sum.Path}, m.clock())
		m.updateKeys()
		return m, nil
	case scenarioSetMsg:
		var cmd tea.Cmd
		m.picker, cmd = m.picker.Update(msg)
		if msg.err == nil {
			m.status.scenario = msg.scenario.Name
		}
		return m, cmd
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		return m.handlePaste(msg)
	}
	return m, nil
}

// handlePaste gives pasted text to the focused field; pasted while the Callback step waits, it is
// taken as the redirect URL even when the paste field is not open.
func (m Model) handlePaste(msg tea.PasteMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case m.picker.open || m.bundle != nil:
		return m, nil
	case m.screen == screenFlow && (m.flow.typing() || m.flow.waiting()):
		m.flow, cmd = m.flow.Update(msg)
		m = m.afterFlow()
	case m.screen == screenCalls && m.calls.typing():
		m.calls, cmd = m.calls.Update(msg)
	}
	return m, cmd
}

// afterFlow brings the token panel, the other screens and the keys in line with the flow.
func (m Model) afterFlow() Model {
	if tok := m.flow.token(); tok != m.tokens.token || m.flow.revoked() != m.tokens.revoked {
		changed := tokenChangedMsg{token: tok, revoked: m.flow.revoked()}
		m.inspect, _ = m.inspect.Update(changed)
		m.calls.accessToken = ""
		if changed.token != nil && !changed.revoked {
			m.calls.accessToken = changed.token.AccessToken
		}
	}
	m.tokens = m.tokens.update(m.flow.token(), m.flow.revoked(), m.clock())
	m.updateKeys()
	return m
}

func (m Model) busy() bool {
	if m.flow.busy() || m.calls.detail.replaying {
		return true
	}
	if n := len(m.calls.all); n > 0 && m.calls.all[n-1].Pending {
		return true
	}
	return false
}

// startSpinner starts the spinner's own tick loop when something began running.
func (m *Model) startSpinner() tea.Cmd {
	if m.spinning || !m.busy() {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

// tick recomputes everything that depends on the clock and triggers auto-refresh.
func (m Model) tick(seq int) (tea.Model, tea.Cmd) {
	now := m.clock()
	var cmds []tea.Cmd
	if seq == m.tickSeq {
		m.tickSeq++
		cmds = append(cmds, tickCmd(m.tickSeq))
	}
	m.status = m.status.expire(now)
	m.tokens = m.tokens.update(m.flow.token(), m.flow.revoked(), now)
	// A failed automatic refresh is not retried on every tick: the user sees the diagnosis
	// and refreshes by hand (R) or authorizes again. Nor is one tried before the Refresh step
	// can run (a stored token before Discovery): the step says what it needs when asked.
	last := m.flow.steps[stepRefresh]
	ready, _ := m.flow.ready(stepRefresh)
	if m.tokens.wantsRefresh() && ready && !m.flow.busy() && !(last.auto && last.state == stateFailed) {
		var cmd tea.Cmd
		m.flow, cmd = m.flow.runStep(stepRefresh, true)
		spin := m.startSpinner()
		cmds = append(cmds, cmd, statusCmd("auto-refresh: the access token is about to expire, refreshing it now", false), spin)
	}
	return m, tea.Batch(cmds...)
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.flow.forms.ForceQuit) {
		return m.quit()
	}
	if m.bundle != nil {
		if key.Matches(msg, m.keys.Quit) {
			return m.quit()
		}
		if key.Matches(msg, m.flow.forms.Close) {
			m.bundle = nil
			m.updateKeys()
		}
		return m, nil
	}
	if m.picker.open {
		var cmd tea.Cmd
		m.picker, cmd = m.picker.Update(msg)
		m.updateKeys()
		return m, cmd
	}
	if !m.typing() {
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m.quit()
		case key.Matches(msg, m.keys.Help):
			m.showHelp = !m.showHelp
			return m.layout(), nil
		case m.showHelp && key.Matches(msg, m.flow.forms.Cancel):
			m.showHelp = false
			return m.layout(), nil
		case key.Matches(msg, m.keys.Flow):
			return m.switchTo(screenFlow), nil
		case key.Matches(msg, m.keys.Inspect):
			return m.switchTo(screenInspect), nil
		case key.Matches(msg, m.keys.Calls):
			return m.switchTo(screenCalls), nil
		case key.Matches(msg, m.keys.NextTab):
			return m.switchTo((m.screen + 1) % numScreens), nil
		case key.Matches(msg, m.keys.PrevTab):
			return m.switchTo((m.screen + numScreens - 1) % numScreens), nil
		case key.Matches(msg, m.keys.AutoRefresh):
			m.tokens.auto = !m.tokens.auto
			state := map[bool]string{true: "on: the access token is refreshed shortly before it expires", false: "off: watch it expire; R refreshes by hand"}[m.tokens.auto]
			return m, statusCmd("auto-refresh "+state, false)
		case key.Matches(msg, m.keys.RefreshNow):
			var cmd tea.Cmd
			m.flow, cmd = m.flow.runStep(stepRefresh, false)
			m = m.afterFlow()
			spin := m.startSpinner()
			return m, tea.Batch(cmd, spin)
		case key.Matches(msg, m.keys.Reveal):
			return m.toggleReveal()
		case key.Matches(msg, m.keys.Export):
			return m, tea.Batch(statusCmd("writing the support bundle…", false),
				bundleCmd(m.cfg.Session, m.cfg.BundleDir, m.cfg.ToolVersion, m.clock()))
		case key.Matches(msg, m.keys.Scenarios):
			m.picker = m.picker.show()
			m.updateKeys()
			return m, nil
		}
	}
	var cmd tea.Cmd
	switch m.screen {
	case screenFlow:
		m.flow, cmd = m.flow.Update(msg)
		m = m.afterFlow()
	case screenInspect:
		m.inspect, cmd = m.inspect.Update(msg)
	case screenCalls:
		m.calls, cmd = m.calls.Update(msg)
	}
	m.updateKeys()
	spin := m.startSpinner()
	return m, tea.Batch(cmd, spin)
}

// quit ends the program; Run closes what is still open once it has.
func (m Model) quit() (tea.Model, tea.Cmd) {
	m.cancel()
	return m, tea.Quit
}

func (m Model) switchTo(s screen) Model {
	if s == screenCalls && m.screen != screenCalls && m.calls.mode == callsList {
		m.calls = m.calls.selectID(m.flow.failedCall())
	}
	m.screen = s
	m.updateKeys()
	return m
}

func (m Model) toggleReveal() (tea.Model, tea.Cmd) {
	m.reveal = !m.reveal
	mk := masker{red: m.red, reveal: m.reveal}
	m.flow = m.flow.setMask(mk)
	m.calls = m.calls.setMask(mk)
	m.inspect = m.inspect.setMask(mk)
	m.tokens.mask = mk
	if m.reveal {
		return m, statusCmd("SECRETS ARE VISIBLE: tokens, codes and the client secret are on screen; press s to hide them", true)
	}
	return m, statusCmd("secrets hidden again", false)
}

// updateKeys enables the global keys that apply now.
func (m *Model) updateKeys() {
	m.keys.Scenarios.SetEnabled(m.cfg.Scenarios != nil)
	tok := m.flow.token()
	m.keys.RefreshNow.SetEnabled(tok != nil && tok.RefreshToken != "" && !m.flow.revoked())
}

// ---- layout and view ----

const (
	headerHeight = 1
	footerHeight = 2 // help line and status bar
	minWidth     = 40
	minHeight    = 14
)

func (m Model) bodyHeight() int {
	h := m.height - headerHeight - footerHeight - m.tokens.height()
	if m.showHelp {
		h = m.height - headerHeight - footerHeight
	}
	return max(1, h)
}

func (m Model) layout() Model {
	w, h := m.width, m.bodyHeight()
	m.help.SetWidth(w)
	m.flow = m.flow.setSize(w, h)
	m.inspect = m.inspect.setSize(w, h)
	m.calls = m.calls.setSize(w, h)
	m.tokens = m.tokens.setWidth(w)
	m.status.width = w
	return m
}

func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "oauthdiag"
	return v
}

func (m Model) render() string {
	st := m.styles
	if m.width == 0 {
		return "starting…"
	}
	if m.width < minWidth || m.height < minHeight {
		return wrapLines(fmt.Sprintf("oauthdiag needs at least %dx%d; this terminal is %dx%d. Enlarge it, or press q to quit.",
			minWidth, minHeight, m.width, m.height), m.width)
	}
	spin := m.spin.View()
	var body string
	bh := m.bodyHeight()
	switch {
	case m.showHelp:
		body = m.fullHelpView(bh)
	case m.bundle != nil:
		body = blockLines(bundleView(st, *m.bundle, m.width), m.width, bh)
	case m.picker.open:
		body = m.picker.View(m.width, bh)
	default:
		switch m.screen {
		case screenFlow:
			body = m.flow.View(spin)
		case screenInspect:
			body = m.inspect.View()
		case screenCalls:
			body = m.calls.View(spin)
		}
		body = blockLines(body, m.width, bh)
	}
	parts := []string{m.header(), body}
	if !m.showHelp {
		parts = append(parts, m.tokens.View(spin, m.flow.steps[stepRefresh].state == stateRunning))
	}
	parts = append(parts, m.shortHelpView(), m.status.View(m.reveal))
	return lipgloss.JoinVertical(lipgloss.Left, parts...)
}

func (m Model) header() string {
	st := m.styles
	out := st.Header.Brand.Render("oauthdiag")
	if m.cfg.Mode != "" {
		out += st.Header.Info.Render(" " + m.cfg.Mode)
	}
	out += " "
	for s := screenFlow; s < numScreens; s++ {
		label := fmt.Sprintf("%d %s", s+1, s)
		if s == screenCalls && m.calls.failed > 0 {
			label += fmt.Sprintf(" (%d✗)", m.calls.failed)
		}
		if s == m.screen {
			out += st.Header.ActiveTab.Render(label)
		} else {
			out += st.Header.Tab.Render(label)
		}
	}
	hint := "x bundle · ? help"
	if m.cfg.Scenarios != nil {
		hint = "m scenario · " + hint
	}
	right := st.Header.Info.Render(hint)
	gap := m.width - lipgloss.Width(out) - lipgloss.Width(right)
	if gap < 1 {
		return truncate(out, m.width)
	}
	return out + strings.Repeat(" ", gap) + right
}

// helpSection is one titled group of the full key map.
type helpSection struct {
	title string
	keys  []key.Binding
}

func (m Model) helpSections() []helpSection {
	g := m.keys
	var screenKeys [][]key.Binding
	switch m.screen {
	case screenFlow:
		screenKeys = m.flow.fullHelp()
	case screenInspect:
		screenKeys = m.inspect.fullHelp()
	case screenCalls:
		screenKeys = m.calls.fullHelp()
	}
	var own []key.Binding
	for _, col := range screenKeys {
		own = append(own, col...)
	}
	return []helpSection{
		{title: m.screen.String() + " screen", keys: own},
		{title: "Screens", keys: []key.Binding{g.Flow, g.Inspect, g.Calls, g.NextTab, g.PrevTab}},
		{title: "Tokens and session", keys: []key.Binding{g.AutoRefresh, g.RefreshNow, g.Reveal, g.Export, g.Scenarios, g.Help, g.Quit}},
	}
}

// shortKeys are the bindings of the one-line help: the active screen's, then help and quit.
func (m Model) shortKeys() []key.Binding {
	g := m.keys
	switch {
	case m.bundle != nil:
		return []key.Binding{m.flow.forms.Close, m.keys.Quit}
	case m.picker.open:
		return m.picker.shortHelp()
	}
	var short []key.Binding
	switch m.screen {
	case screenFlow:
		short = m.flow.shortHelp()
	case screenInspect:
		short = m.inspect.shortHelp()
	case screenCalls:
		short = m.calls.shortHelp()
	}
	if m.typing() {
		return short
	}
	return append(short, g.Help, g.Quit)
}

func (m Model) shortHelpView() string {
	return truncate(m.help.ShortHelpView(m.shortKeys()), m.width)
}

// fullHelpView lists every key that applies now, section by section, in columns of four.
func (m Model) fullHelpView(h int) string {
	st := m.styles
	var b strings.Builder
	b.WriteString(st.PaneTitle.Render("Keys") + st.Muted.Render("  ? or esc closes · keys that do nothing right now are not listed") + "\n")
	for _, sec := range m.helpSections() {
		var enabled []key.Binding
		for _, k := range sec.keys {
			if k.Enabled() {
				enabled = append(enabled, k)
			}
		}
		if len(enabled) == 0 {
			continue
		}
		var cols [][]key.Binding
		for i := 0; i < len(enabled); i += 4 {
			cols = append(cols, enabled[i:min(i+4, len(enabled))])
		}
		b.WriteString("\n" + st.ExplainTitle.Render(sec.title) + "\n" + m.help.FullHelpView(cols) + "\n")
	}
	return blockLines(b.String(), m.width, h)
}
