package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// stepRecord is one step as it happened (or has not yet).
type stepRecord struct {
	state     stepState
	started   time.Time
	report    oauthflow.StepReport
	notes     []string // the command's own, after the report's
	diagnoses []inspector.Diagnosis
	auto      bool
}

func (r stepRecord) duration() time.Duration { return r.report.Duration }

// flowModel is the Flow screen: the stepper on the left, the selected step on the right. The
// flow's state is the engine's (oauthflow.Flow); the model keeps the snapshot the last step
// returned, and the records of the steps as the stepper shows them.
type flowModel struct {
	styles  *Styles
	keys    flowKeys
	forms   formKeys
	backend flowBackend
	ctx     context.Context
	mask    masker
	now     func() time.Time

	run      int
	flow     *oauthflow.Flow      // used by commands only
	state    oauthflow.FlowResult // the flow's state after the last step
	idToken  *inspector.Verification
	diags    []inspector.Diagnosis // the flow's diagnoses, as DiagnoseFlow gives them
	steps    [numSteps]stepRecord
	selected stepID
	runAll   bool
	explain  bool

	cancelWait   context.CancelFunc
	waitDeadline time.Time
	pasting      bool
	paste        textinput.Model

	detail        viewport.Model
	width, height int
}

func newFlowModel(ctx context.Context, st *Styles, b flowBackend, mk masker, now func() time.Time, initial *oauthflow.Token) flowModel {
	ti := textinput.New()
	ti.Placeholder = "paste the URL the browser was redirected to"
	ti.Prompt = "redirect ▸ "
	ti.CharLimit = 8192
	f := b.newFlow(initial)
	m := flowModel{
		styles:  st,
		keys:    newFlowKeys(),
		forms:   newFormKeys(),
		backend: b,
		ctx:     ctx,
		mask:    mk,
		now:     now,
		explain: true,
		paste:   ti,
		flow:    f,
		state:   f.Result(),
		detail:  viewport.New(),
	}
	m.detail.KeyMap = viewport.KeyMap{} // scrolling keys are ours, so they can be shown in help
	m.updateKeys()
	m.refreshDetail()
	return m
}

// token is the token in use, revoked whether it has been revoked.
func (m flowModel) token() *oauthflow.Token { return m.state.CurrentToken() }
func (m flowModel) revoked() bool           { return m.state.Revoked }

// waiting says the callback step waits for the browser to come back.
func (m flowModel) waiting() bool { return m.steps[stepCallback].state == stateRunning }

// busy reports whether a step is running.
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

const stepperWidth = 26

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
		if v := strings.TrimSpace(msg.Content); m.waiting() && v != "" {
			return m.deliver(v)
		}
		return m, nil
	case stepDoneMsg:
		if msg.run != m.run {
			return m, nil
		}
		return m.stepDone(msg)
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
		if ar := m.state.AuthRequest; ar != nil {
			return m, tea.Batch(tea.SetClipboard(ar.URL), statusCmd("authorization URL copied to the clipboard (OSC 52)", false))
		}
	case key.Matches(msg, m.keys.Paste):
		m.pasting = true
		m.updateKeys()
		cmd := m.paste.Focus()
		return m, cmd
	case key.Matches(msg, m.keys.Cancel):
		if m.waiting() && m.cancelWait != nil {
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

// firstUnfinished is where "run all" starts: the first step not yet done.
func (m flowModel) firstUnfinished() stepID {
	for s := stepDiscovery; s < numSteps; s++ {
		if st := m.steps[s].state; st != stateOK && st != stateSkipped {
			return s
		}
	}
	return stepDiscovery
}

// ready says whether a step can run now, and if not, what must happen first: the engine's rule.
func (m flowModel) ready(s stepID) (bool, string) {
	if err := m.state.Ready(s.name()); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// runStep starts a step.
func (m flowModel) runStep(s stepID, auto bool) (flowModel, tea.Cmd) {
	if m.busy() {
		return m, statusCmd("a step is still running", true)
	}
	if ok, why := m.ready(s); !ok {
		m.runAll = false
		return m, statusCmd(s.String()+": "+why, true)
	}
	ctx := m.ctx
	if s == stepCallback {
		timeout := m.backend.opts.CallbackTimeout
		if timeout <= 0 {
			timeout = 5 * time.Minute
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(m.ctx)
		m.cancelWait = cancel
		m.waitDeadline = m.now().Add(timeout)
	}
	m.steps[s] = stepRecord{state: stateRunning, started: m.now(), auto: auto}
	m.refreshDetail()
	m.updateKeys()
	cmd := stepCmd(ctx, m.backend, m.flow, m.run, s, auto, m.idToken)
	if s == stepCallback && m.backend.opts.Browser == nil && !m.backend.opts.Listen {
		return m, tea.Batch(cmd, statusCmd("paste the redirect URL with p once the browser lands on "+m.state.AuthRequest.RedirectURI, false))
	}
	return m, cmd
}

// restart abandons the flow: late results of its commands carry the old run and are dropped.
func (m flowModel) restart() (flowModel, tea.Cmd) {
	if m.cancelWait != nil {
		m.cancelWait()
		m.cancelWait = nil
	}
	closing := closeFlowCmd(m.flow)
	m.run++
	m.runAll, m.pasting = false, false
	m.paste.Blur()
	m.flow = m.backend.newFlow(nil)
	m.state, m.idToken, m.diags = m.flow.Result(), nil, nil
	m.steps = [numSteps]stepRecord{}
	m.selected = stepDiscovery
	m.refreshDetail()
	m.updateKeys()
	return m, tea.Batch(closing, statusCmd("new flow: press enter to start with Discovery", false))
}

// records rebuilds the stepper from the flow's state: a step the engine forgot (an earlier step
// ran again) is pending again.
func (m *flowModel) records() {
	for s := stepDiscovery; s < numSteps; s++ {
		rep := m.state.Step(s.name())
		rec := m.steps[s]
		switch {
		case rep == nil && rec.state == stateRunning:
		case rep == nil:
			m.steps[s] = stepRecord{}
		default:
			rec.state, rec.report, rec.started = stateOf(rep.Status), *rep, rep.Started
			rec.diagnoses = m.diagnosesOf(s, *rep)
			m.steps[s] = rec
		}
	}
}

// diagnosesOf are the flow's diagnoses that explain step s: those made from it, and, for the
// failed step, those the flow's context shows.
func (m flowModel) diagnosesOf(s stepID, rep oauthflow.StepReport) []inspector.Diagnosis {
	if rep.Status != oauthflow.StatusFailed {
		return nil
	}
	ids := rep.CallIDs()
	var out []inspector.Diagnosis
	for _, d := range m.diags {
		if d.Step == s.name() || (d.CallID != "" && slices.Contains(ids, d.CallID)) || (d.Step == "" && d.CallID == "") {
			out = append(out, d)
		}
	}
	return out
}

func (m flowModel) stepDone(msg stepDoneMsg) (flowModel, tea.Cmd) {
	if msg.step == stepCallback && m.cancelWait != nil {
		m.cancelWait()
		m.cancelWait = nil
		m.pasting = false
		m.paste.Blur()
	}
	m.state, m.idToken, m.diags = msg.state, msg.idToken, msg.diagnoses
	m.steps[msg.step] = stepRecord{state: stateRunning, auto: msg.auto}
	m.records()
	rec := m.steps[msg.step]
	if m.state.Step(msg.step.name()) == nil {
		// Not kept by the engine (a token adopted from another command): the report stands alone.
		rec = stepRecord{state: stateOf(msg.report.Status), report: msg.report, started: msg.report.Started}
	}
	rec.auto, rec.notes = msg.auto, msg.notes
	if rec.state == stateFailed {
		if e, ok := oauthflow.AsError(rec.report.Err); ok && e.Code == oauthflow.CodeCanceled && msg.step == stepCallback {
			rec.report.Err = fmt.Errorf("stopped waiting for the redirect: %w", errCancelled)
		}
	}
	m.steps[msg.step] = rec
	m.learnSecrets()

	var cmds []tea.Cmd
	if rec.state == stateFailed {
		m.runAll = false
		m.selected = msg.step
		cmds = append(cmds, statusCmd(msg.step.String()+" failed: "+firstDiagnosisTitle(rec), true))
	} else if !msg.auto && m.selected == msg.step && msg.step < numSteps-1 {
		m.selected = msg.step + 1
	}
	// The browser coming back is part of authorizing, and checking the revocation part of
	// revoking: those steps follow on their own.
	follow := (msg.step == stepAuthorize || msg.step == stepRevoke) && rec.state == stateOK
	switch {
	case msg.auto && rec.state == stateOK:
		cmds = append(cmds, statusCmd("access token refreshed automatically before it expired", false))
	case m.runAll || rec.state == stateFailed || follow:
	case msg.step == numSteps-1:
		cmds = append(cmds, statusCmd(msg.step.String()+" "+rec.state.String()+": the flow is complete; N starts a new one", false))
	default:
		cmds = append(cmds, statusCmd(msg.step.String()+" "+rec.state.String()+" · next: "+(msg.step+1).String()+" (enter)", false))
	}
	m.refreshDetail()
	m.updateKeys()
	if rec.state == stateFailed || msg.auto {
		return m, tea.Batch(cmds...)
	}
	next := msg.step + 1
	switch {
	case follow:
		m.selected = next
		var cmd tea.Cmd
		m, cmd = m.runStep(next, false)
		cmds = append(cmds, cmd)
	case m.runAll && next < stepRevoke:
		// Run all stops before Revoke: logging out ends the tokens, which is the user's call.
		m.selected = next
		var cmd tea.Cmd
		m, cmd = m.runStep(next, false)
		cmds = append(cmds, cmd)
	case m.runAll:
		m.runAll = false
		m.selected = stepRevoke
		m.refreshDetail()
		cmds = append(cmds, statusCmd("flow complete: watch the tokens below; enter on Revoke logs out", false))
	}
	return m, tea.Batch(cmds...)
}

// learnSecrets teaches the redactor the secrets the flow holds, so that every view catches them.
func (m flowModel) learnSecrets() {
	red := m.mask.red
	if ar := m.state.AuthRequest; ar != nil {
		red.AddSecret("code_verifier", ar.Verifier)
		red.AddSecret("state", ar.State)
	}
	if cb := m.state.Callback; cb != nil {
		red.AddSecret("code", cb.Code)
	}
	for _, t := range []*oauthflow.Token{m.state.Token, m.state.CurrentToken()} {
		if t != nil {
			learnToken(m.mask, t)
		}
	}
}

func learnToken(mk masker, t *oauthflow.Token) {
	mk.red.AddSecret("access_token", t.AccessToken)
	mk.red.AddSecret("refresh_token", t.RefreshToken)
	mk.red.AddSecret("id_token", t.IDToken)
}

func (m flowModel) deliver(redirect string) (flowModel, tea.Cmd) {
	if !m.waiting() {
		return m, statusCmd("nothing is waiting for a redirect: run Authorize first", true)
	}
	return m, deliverCmd(m.flow, redirect)
}

func (m flowModel) openBrowser() tea.Cmd {
	if m.state.AuthRequest == nil {
		return statusCmd("no authorization URL yet: run Authorize first", true)
	}
	url := m.state.AuthRequest.URL
	return func() tea.Msg {
		if _, err := (browser.System{}).Authorize(context.Background(), url, ""); err != nil {
			return statusMsg{text: "cannot open a browser: " + err.Error() + " (copy the URL with y)", isErr: true}
		}
		return statusMsg{text: "opened the authorization URL in the desktop browser"}
	}
}

// updateKeys enables exactly the keys that do something now.
func (m *flowModel) updateKeys() {
	hasURL := m.state.AuthRequest != nil
	m.keys.OpenBrowser.SetEnabled(hasURL && m.waiting())
	m.keys.CopyURL.SetEnabled(hasURL)
	m.keys.Paste.SetEnabled(m.waiting() && !m.pasting)
	m.keys.Cancel.SetEnabled(m.waiting())
	m.keys.Restart.SetEnabled(m.steps[stepDiscovery].state != statePending)
}

// diagnoses are the flow's diagnoses, for the bundle and the tests that compare with the CLI.
func (m flowModel) diagnoses() []inspector.Diagnosis { return m.diags }

// failedCall is the recorded call behind the selected step's failure: its last call.
func (m flowModel) failedCall() string {
	rec := m.steps[m.selected]
	if rec.state != stateFailed {
		return ""
	}
	if ids := rec.report.CallIDs(); len(ids) > 0 {
		return ids[len(ids)-1]
	}
	return ""
}
