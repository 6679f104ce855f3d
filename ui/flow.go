package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// stepRecord is one step as it happened (or has not yet).
type stepRecord struct {
	state     stepState
	started   time.Time
	finished  time.Time
	exchanges []oauthflow.Exchange
	err       error
	notes     []string
	diagnoses []inspector.Diagnosis
	auto      bool
}

func (r stepRecord) duration() time.Duration {
	if r.finished.IsZero() || r.started.IsZero() {
		return 0
	}
	return r.finished.Sub(r.started)
}

// flowModel is the Flow screen: the stepper on the left, the selected step on the right.
// It owns the flow's state (authorization request, callback, tokens) because every step
// reads what the previous ones produced.
type flowModel struct {
	styles  *Styles
	keys    flowKeys
	forms   formKeys
	backend flowBackend
	ctx     context.Context
	mask    masker
	now     func() time.Time

	run      int
	steps    [numSteps]stepRecord
	selected stepID
	runAll   bool
	explain  bool

	// The authorization leg.
	request      *oauthflow.AuthRequest
	listener     *oauthflow.Listener
	cancelWait   context.CancelFunc
	waitDeadline time.Time
	waiting      bool
	redirect     string
	pasting      bool
	paste        textinput.Model

	provider oauthflow.Provider
	callback *oauthflow.Callback
	token    *oauthflow.Token
	revoked  bool

	detail        viewport.Model
	width, height int
}

func newFlowModel(ctx context.Context, st *Styles, b flowBackend, mk masker, now func() time.Time) flowModel {
	ti := textinput.New()
	ti.Placeholder = "paste the URL the browser was redirected to"
	ti.Prompt = "redirect ▸ "
	ti.CharLimit = 8192
	m := flowModel{
		styles:   st,
		keys:     newFlowKeys(),
		forms:    newFormKeys(),
		backend:  b,
		ctx:      ctx,
		mask:     mk,
		now:      now,
		explain:  true,
		paste:    ti,
		provider: b.runner.Config().Provider,
		detail:   viewport.New(),
	}
	m.detail.KeyMap = viewport.KeyMap{} // scrolling keys are ours, so they can be shown in help
	m.updateKeys()
	m.refreshDetail()
	return m
}

// busy reports whether a step is running (the authorization leg included).
func (m flowModel) busy() bool {
	for _, s := range m.steps {
		if s.state == stateRunning {
			return true
		}
	}
	return false
}

// typing reports whether a text field has focus, so global keys must not fire.
func (m flowModel) typing() bool { return m.pasting }

func (m flowModel) setSize(w, h int) flowModel {
	m.width, m.height = w, h
	m.paste.SetWidth(max(10, m.detailWidth()-14))
	m.refreshDetail()
	return m
}

func (m flowModel) setMask(mk masker) flowModel {
	m.mask = mk
	m.refreshDetail()
	return m
}

// layout: the stepper is a fixed column when there is room, a one-line strip otherwise.
func (m flowModel) narrow() bool { return m.width < 64 }

const stepperWidth = 22

// Panes have a border and one column of padding on each side.
const paneFrame = 4

func (m flowModel) detailWidth() int {
	if m.narrow() {
		return max(10, m.width-paneFrame)
	}
	return max(10, m.width-stepperWidth-paneFrame)
}

func (m flowModel) detailHeight() int {
	h := m.height - 2 // pane border
	if m.narrow() {
		h--
	}
	h -= 2 // title and status lines
	if m.pasting {
		h--
	}
	return max(1, h)
}

// Update handles keys (when the Flow screen is active) and every flow message.
func (m flowModel) Update(msg tea.Msg) (flowModel, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		if m.pasting {
			var cmd tea.Cmd
			m.paste, cmd = m.paste.Update(msg)
			return m, cmd
		}
		if v := strings.TrimSpace(msg.Content); m.waiting && v != "" {
			return m.deliver(v)
		}
		return m, nil
	case stepDoneMsg:
		if msg.run != m.run {
			return m, nil
		}
		return m.stepDone(msg)
	case authStartedMsg:
		if msg.run != m.run {
			return m, closeListenerCmd(msg.listener)
		}
		return m.authStarted(msg)
	case browserDoneMsg:
		if msg.run != m.run {
			return m, nil
		}
		return m.browserDone(msg)
	case redirectMsg:
		if msg.run != m.run || !m.waiting {
			return m, nil
		}
		return m.redirectArrived(msg)
	}
	return m, nil
}

func (m flowModel) handleKey(msg tea.KeyPressMsg) (flowModel, tea.Cmd) {
	if m.pasting {
		switch {
		case key.Matches(msg, m.forms.Cancel):
			m.pasting = false
			m.paste.Blur()
			m.updateKeys()
			return m, nil
		case key.Matches(msg, m.forms.Submit):
			v := strings.TrimSpace(m.paste.Value())
			m.pasting = false
			m.paste.Blur()
			m.paste.Reset()
			m.updateKeys()
			if v == "" {
				return m, statusCmd("nothing pasted", true)
			}
			return m.deliver(v)
		}
		var cmd tea.Cmd
		m.paste, cmd = m.paste.Update(msg)
		return m, cmd
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		if m.selected > 0 {
			m.selected--
			m.refreshDetail()
		}
	case key.Matches(msg, m.keys.Down):
		if m.selected < numSteps-1 {
			m.selected++
			m.refreshDetail()
		}
	case key.Matches(msg, m.keys.Run):
		m.runAll = false
		return m.runStep(m.selected, false)
	case key.Matches(msg, m.keys.RunAll):
		m.runAll = true
		first := m.firstUnfinished()
		m.selected = first
		return m.runStep(first, false)
	case key.Matches(msg, m.keys.Explain):
		m.explain = !m.explain
		m.refreshDetail()
	case key.Matches(msg, m.keys.OpenBrowser):
		return m, m.openBrowser()
	case key.Matches(msg, m.keys.CopyURL):
		if m.request != nil {
			return m, tea.Batch(tea.SetClipboard(m.request.URL), statusCmd("authorization URL copied to the clipboard (OSC 52)", false))
		}
	case key.Matches(msg, m.keys.Paste):
		m.pasting = true
		m.updateKeys()
		cmd := m.paste.Focus()
		return m, cmd
	case key.Matches(msg, m.keys.Cancel):
		if m.waiting && m.cancelWait != nil {
			m.cancelWait()
		}
	case key.Matches(msg, m.keys.Restart):
		return m.restart()
	case key.Matches(msg, m.keys.ScrollDown):
		m.detail.PageDown()
	case key.Matches(msg, m.keys.ScrollUp):
		m.detail.PageUp()
	}
	return m, nil
}

// firstUnfinished is where "run all" starts: the first step not yet ok.
func (m flowModel) firstUnfinished() stepID {
	for s := stepConfigure; s < numSteps; s++ {
		if st := m.steps[s].state; st != stateOK && st != stateSkipped {
			return s
		}
	}
	return stepConfigure
}

// ready says whether a step can run now, and if not, what must happen first.
func (m flowModel) ready(s stepID) (bool, string) {
	switch s {
	case stepConfigure:
		return true, ""
	case stepAuthorize:
		if m.steps[stepConfigure].state != stateOK {
			return false, "run Configure first"
		}
	case stepCallback:
		if m.redirect == "" {
			return false, "Authorize must bring the redirect back first"
		}
	case stepExchange:
		if m.callback == nil || m.callback.Code == "" || m.steps[stepCallback].state != stateOK {
			return false, "a validated Callback with a code is needed first"
		}
	case stepCallAPI, stepInspect, stepRefresh, stepRevoke:
		if m.token == nil {
			return false, "no token yet: run Exchange first"
		}
		if m.backend.discover && m.steps[stepConfigure].state != stateOK {
			return false, "run Configure first: the endpoints come from discovery"
		}
		if m.revoked && s != stepInspect {
			return false, "the tokens were revoked: press N for a new flow"
		}
	}
	return true, ""
}

// runStep starts a step. Running an earlier step again resets the ones that depend on it.
func (m flowModel) runStep(s stepID, auto bool) (flowModel, tea.Cmd) {
	if m.busy() {
		return m, statusCmd("a step is still running", true)
	}
	if ok, why := m.ready(s); !ok {
		m.runAll = false
		return m, statusCmd(s.String()+": "+why, true)
	}
	var cmds []tea.Cmd
	var closing tea.Cmd
	switch s {
	case stepConfigure:
		m, closing = m.reset(stepConfigure)
	case stepAuthorize:
		m, closing = m.reset(stepAuthorize)
	case stepCallback:
		m, closing = m.reset(stepExchange)
	}
	cmds = append(cmds, closing)
	rec := stepRecord{state: stateRunning, started: m.now(), auto: auto}
	m.steps[s] = rec
	m.refreshDetail()
	m.updateKeys()
	b := m.backend
	switch s {
	case stepConfigure:
		cmds = append(cmds, configureCmd(m.ctx, b, m.run))
	case stepAuthorize:
		cmds = append(cmds, startAuthorizeCmd(b, m.run))
	case stepCallback:
		cmds = append(cmds, callbackCmd(b, m.run, m.request, m.redirect))
	case stepExchange:
		cmds = append(cmds, exchangeCmd(m.ctx, b, m.run, m.request, m.callback))
	case stepCallAPI:
		cmds = append(cmds, callAPICmd(m.ctx, b, m.run, m.token.AccessToken, m.requested("openid")))
	case stepInspect:
		cmds = append(cmds, inspectCmd(m.ctx, b, m.run, *m.token, m.nonce(), m.provider))
	case stepRefresh:
		cmds = append(cmds, refreshCmd(m.ctx, b, m.run, m.token, auto))
	case stepRevoke:
		cmds = append(cmds, revokeCmd(m.ctx, b, m.run, m.token))
	}
	return m, tea.Batch(cmds...)
}

func (m flowModel) requested(scope string) bool {
	scopes := m.backend.runner.Config().Client.Scopes
	if len(scopes) == 0 {
		scopes = m.provider.DefaultScopes
	}
	if m.request != nil {
		scopes = m.request.Scopes
	}
	for _, s := range scopes {
		if s == scope {
			return true
		}
	}
	return false
}

func (m flowModel) nonce() string {
	if m.request == nil {
		return ""
	}
	return m.request.Nonce
}

// reset returns every step from s on to pending and forgets what they produced. The
// command it returns closes a listener that was still waiting.
func (m flowModel) reset(from stepID) (flowModel, tea.Cmd) {
	var cmd tea.Cmd
	if from <= stepAuthorize {
		m, cmd = m.stopWaiting()
		m.request, m.redirect = nil, ""
	}
	if from <= stepCallback {
		m.callback = nil
	}
	// Reading the configuration again leaves the tokens alone; a new authorization replaces them.
	if from >= stepAuthorize && from <= stepExchange {
		m.token, m.revoked = nil, false
	}
	for s := from; s < numSteps; s++ {
		m.steps[s] = stepRecord{}
	}
	return m, cmd
}

// restart abandons the flow: late results of its commands carry the old run and are dropped.
func (m flowModel) restart() (flowModel, tea.Cmd) {
	m, closing := m.stopWaiting()
	m.run++
	m.runAll = false
	m.request, m.redirect, m.callback, m.token, m.revoked = nil, "", nil, nil, false
	m.steps = [numSteps]stepRecord{}
	m.selected = stepConfigure
	m.refreshDetail()
	m.updateKeys()
	return m, tea.Batch(closing, statusCmd("new flow: press enter to start with Configure", false))
}

// stopWaiting ends the authorization leg's wait; the listener is closed by the returned
// command, since closing a server is not something Update may wait on.
func (m flowModel) stopWaiting() (flowModel, tea.Cmd) {
	if m.cancelWait != nil {
		m.cancelWait()
		m.cancelWait = nil
	}
	cmd := closeListenerCmd(m.listener)
	m.listener = nil
	m.waiting = false
	m.pasting = false
	m.paste.Blur()
	return m, cmd
}

func (m flowModel) stepDone(msg stepDoneMsg) (flowModel, tea.Cmd) {
	rec := stepRecord{
		state: stateOK, started: msg.started, finished: msg.finished,
		exchanges: msg.exchanges, err: msg.err, notes: msg.notes, auto: msg.auto,
	}
	var cmds []tea.Cmd
	if msg.err != nil {
		rec.state = stateFailed
		if skippable(msg.err) {
			rec.state = stateSkipped
			rec.notes = append(rec.notes, "skipped: "+errorLine(msg.err))
			rec.err = nil
		} else {
			rec.diagnoses = diagnoseStep(msg.step, rec, m.diagContext())
		}
	}
	switch msg.step {
	case stepConfigure:
		if msg.provider != nil {
			m.provider = *msg.provider
			if msg.err == nil {
				m.backend.runner.SetProvider(*msg.provider)
			}
		}
	case stepCallback:
		m.callback = msg.callback
		if msg.callback != nil {
			m.mask.red.AddSecret("code", msg.callback.Code)
		}
	case stepExchange, stepRefresh:
		if msg.token != nil {
			m.token = msg.token
			m.revoked = false
			learnToken(m.mask, msg.token)
		}
	case stepRevoke:
		if msg.err == nil {
			m.revoked = true
		}
	}
	m.steps[msg.step] = rec
	if rec.state == stateFailed {
		m.runAll = false
		m.selected = msg.step
		cmds = append(cmds, statusCmd(msg.step.String()+" failed: "+firstDiagnosisTitle(rec), true))
	} else if !msg.auto && m.selected == msg.step && msg.step < numSteps-1 {
		m.selected = msg.step + 1
	}
	switch {
	case msg.auto && rec.state == stateOK:
		cmds = append(cmds, statusCmd("access token refreshed automatically before it expired", false))
	case m.runAll || rec.state == stateFailed:
	case msg.step == numSteps-1:
		cmds = append(cmds, statusCmd(msg.step.String()+" "+rec.state.String()+": the flow is complete; N starts a new one", false))
	default:
		cmds = append(cmds, statusCmd(msg.step.String()+" "+rec.state.String()+" · next: "+(msg.step+1).String()+" (enter)", false))
	}
	m.refreshDetail()
	m.updateKeys()
	// Run all stops before Revoke: logging out ends the tokens, which is the user's call.
	if m.runAll && rec.state != stateFailed {
		if next := msg.step + 1; next < stepRevoke {
			m.selected = next
			var cmd tea.Cmd
			m, cmd = m.runStep(next, false)
			cmds = append(cmds, cmd)
		} else {
			m.runAll = false
			m.selected = stepRevoke
			m.refreshDetail()
			cmds = append(cmds, statusCmd("flow complete: watch the tokens below; enter on Revoke logs out", false))
		}
	}
	return m, tea.Batch(cmds...)
}

// skippable errors say the step cannot apply to this provider, not that it failed.
func skippable(err error) bool {
	e, ok := oauthflow.AsError(err)
	return ok && e.Code == oauthflow.CodeNoEndpoint && e.Kind != oauthflow.KindConfig
}

func (m flowModel) diagContext() diagContext {
	dc := diagContext{provider: m.provider, client: m.backend.runner.Config().Client, token: m.token, request: m.request, now: m.now()}
	if r := m.steps[stepAuthorize]; r.state == stateOK {
		dc.codeAt = r.finished
	}
	return dc
}

func learnToken(mk masker, t *oauthflow.Token) {
	mk.red.AddSecret("access_token", t.AccessToken)
	mk.red.AddSecret("refresh_token", t.RefreshToken)
	mk.red.AddSecret("id_token", t.IDToken)
}

func (m flowModel) authStarted(msg authStartedMsg) (flowModel, tea.Cmd) {
	if msg.err != nil {
		return m.stepDone(stepDoneMsg{run: m.run, step: stepAuthorize, started: msg.started, finished: m.now(), err: msg.err})
	}
	m.request, m.listener = msg.request, msg.listener
	m.mask.red.AddSecret("code_verifier", msg.request.Verifier)
	m.mask.red.AddSecret("state", msg.request.State)
	timeout := m.backend.callbackTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancelWait = cancel
	m.waiting = true
	m.waitDeadline = m.now().Add(timeout)
	var cmds []tea.Cmd
	if m.backend.browser != nil {
		cmds = append(cmds, browserCmd(ctx, m.backend.browser, m.listener, m.run, m.request.URL, m.request.RedirectURI))
	}
	if m.listener != nil {
		cmds = append(cmds, waitRedirectCmd(ctx, m.listener, m.run, timeout))
	} else {
		cmds = append(cmds, statusCmd("paste the redirect URL with p once the browser lands on "+m.request.RedirectURI, false))
	}
	m.refreshDetail()
	m.updateKeys()
	return m, tea.Batch(cmds...)
}

func (m flowModel) browserDone(msg browserDoneMsg) (flowModel, tea.Cmd) {
	if !m.waiting {
		return m, nil
	}
	switch {
	case msg.err != nil:
		if errors.Is(msg.err, context.Canceled) {
			return m, nil
		}
		rec := m.steps[stepAuthorize]
		m, closing := m.stopWaiting()
		m, cmd := m.stepDone(stepDoneMsg{run: m.run, step: stepAuthorize, started: rec.started, finished: m.now(), err: msg.err})
		return m, tea.Batch(closing, cmd)
	case msg.redirect != "":
		return m.redirectArrived(redirectMsg{run: m.run, redirect: msg.redirect})
	case msg.delivered:
		return m, nil
	}
	return m, statusCmd("the browser shows the provider's login: sign in and consent there (or paste the redirect with p)", false)
}

func (m flowModel) deliver(redirect string) (flowModel, tea.Cmd) {
	if !m.waiting {
		return m, statusCmd("nothing is waiting for a redirect: run Authorize first", true)
	}
	if m.listener != nil {
		return m, deliverCmd(m.listener, redirect)
	}
	return m.redirectArrived(redirectMsg{run: m.run, redirect: redirect})
}

func (m flowModel) redirectArrived(msg redirectMsg) (flowModel, tea.Cmd) {
	rec := m.steps[stepAuthorize]
	m, closing := m.stopWaiting()
	done := stepDoneMsg{run: m.run, step: stepAuthorize, started: rec.started, finished: m.now()}
	if msg.err != nil {
		done.err = msg.err
		if e, ok := oauthflow.AsError(msg.err); ok && e.Code == oauthflow.CodeCanceled {
			done.err = fmt.Errorf("stopped waiting for the redirect: %w", errCancelled)
		}
	} else {
		m.redirect = msg.redirect
		done.notes = []string{"the browser came back to " + m.request.RedirectURI}
	}
	m, cmd := m.stepDone(done)
	return m, tea.Batch(closing, cmd)
}

func (m flowModel) openBrowser() tea.Cmd {
	if m.request == nil {
		return statusCmd("no authorization URL yet: run Authorize first", true)
	}
	url := m.request.URL
	return func() tea.Msg {
		if _, err := (oauthflow.SystemBrowser{}).Authorize(context.Background(), url, ""); err != nil {
			return statusMsg{text: "cannot open a browser: " + err.Error() + " (copy the URL with y)", isErr: true}
		}
		return statusMsg{text: "opened the authorization URL in the desktop browser"}
	}
}

// updateKeys enables exactly the keys that do something now.
func (m *flowModel) updateKeys() {
	hasURL := m.request != nil
	m.keys.OpenBrowser.SetEnabled(hasURL && m.waiting)
	m.keys.CopyURL.SetEnabled(hasURL)
	m.keys.Paste.SetEnabled(m.waiting && !m.pasting)
	m.keys.Cancel.SetEnabled(m.waiting)
	m.keys.Restart.SetEnabled(m.steps[stepConfigure].state != statePending)
}

// diagnoses are the flow's step diagnoses, for the bundle.
func (m flowModel) diagnoses() []inspector.Diagnosis {
	var out []inspector.Diagnosis
	for _, s := range m.steps {
		out = append(out, s.diagnoses...)
	}
	return out
}
