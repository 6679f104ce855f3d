package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func stepSymbol(st *Styles, s stepState, spin string) string {
	switch s {
	case stateRunning:
		return st.Step.Running.Render(spin)
	case stateOK:
		return st.Step.OK.Render("✓")
	case stateFailed:
		return st.Step.Failed.Render("✗")
	case stateSkipped:
		return st.Step.Skipped.Render("–")
	}
	return st.Step.Pending.Render("○")
}

func (m flowModel) stepperView(spin string) string {
	st := m.styles
	var b strings.Builder
	inner := stepperWidth - paneFrame
	for s := stepDiscovery; s < numSteps; s++ {
		rec := m.steps[s]
		name := s.String()
		line := stepSymbol(st, rec.state, spin) + " "
		label := fit(name, 13)
		if s == m.selected {
			label = st.Step.Selected.Render(label)
		} else {
			label = st.Step.Name.Render(label)
		}
		line += label
		info := ""
		switch rec.state {
		case stateOK, stateFailed:
			info = shortDuration(rec.duration())
		case stateSkipped:
			info = "skip"
		}
		line += " " + st.Step.Note.Render(fit(info, max(0, inner-16)))
		b.WriteString(fit(line, inner))
		if s < numSteps-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// stripView is the stepper squeezed into one line for narrow terminals.
func (m flowModel) stripView(spin string) string {
	st := m.styles
	var parts []string
	for s := stepDiscovery; s < numSteps; s++ {
		parts = append(parts, stepSymbol(st, m.steps[s].state, spin))
	}
	return strings.Join(parts, "") + " " + st.Step.Selected.Render(m.selected.String())
}

// statusLine is the live line under the detail title: a countdown while waiting.
func (m flowModel) statusLine(spin string) string {
	st := m.styles
	rec := m.steps[m.selected]
	switch {
	case m.selected == stepCallback && m.waiting():
		left := m.waitDeadline.Sub(m.now())
		// The countdown comes first so that a narrow pane never cuts it off.
		return st.Step.Running.Render(spin+" ") + st.Token.Warning.Render(countdown(max(0, left))) +
			st.Step.Running.Render(" waiting for the browser to come back") + st.Muted.Render(" · p paste redirect · y copy URL")
	case rec.state == stateRunning:
		return st.Step.Running.Render(spin + " running…")
	case rec.state == statePending:
		if ok, why := m.ready(m.selected); !ok {
			return st.Muted.Render("waiting: " + why)
		}
		return st.Muted.Render("press enter to run this step, A to run all")
	case rec.state == stateOK:
		extra := ""
		if rec.auto {
			extra = " (auto-refresh)"
		}
		return st.Step.OK.Render("✓ ok") + st.Muted.Render(" in "+shortDuration(rec.duration())+extra+" · enter runs it again")
	case rec.state == stateFailed:
		return st.Step.Failed.Render("✗ failed") + st.Muted.Render(" after "+shortDuration(rec.duration())+" · diagnosis below · 3 shows the call, r there replays it")
	case rec.state == stateSkipped:
		return st.Step.Skipped.Render("– skipped")
	}
	return ""
}

// refreshDetail re-renders the selected step's content; called when data, selection,
// reveal, explain or size change — never from View.
func (m *flowModel) refreshDetail() {
	w := m.detailWidth()
	m.detail.SetWidth(w)
	m.detail.SetHeight(m.detailHeight())
	m.detail.SetContent(m.detailContent(w))
	m.detail.GotoTop()
}

func (m flowModel) detailContent(w int) string {
	st := m.styles
	s := m.selected
	rec := m.steps[s]
	var b strings.Builder
	section := func(title string) {
		b.WriteString("\n" + st.PaneTitle.Render(title) + "\n")
	}
	ar, cb := m.state.AuthRequest, m.state.Callback
	// A failure is what the user came for: its diagnosis goes first, the lesson after it.
	if err := rec.report.Err; err != nil {
		b.WriteString(st.PaneTitle.Render("What went wrong") + "\n")
		b.WriteString(wrapLines(st.Error.Render(m.mask.text(errorLine(err))), w) + "\n")
		for _, d := range rec.diagnoses {
			b.WriteString("\n" + renderDiagnosis(st, d, m.mask, w) + "\n")
		}
		b.WriteString("\n")
	}
	// While the callback waits, the URL is what the user needs: it comes before the lesson.
	waitingHere := s == stepCallback && m.waiting() && ar != nil
	if waitingHere {
		b.WriteString(st.PaneTitle.Render("Authorization URL (y copies it, o opens a browser)") + "\n")
		b.WriteString(wrapLines(highlightPlaceholders(m.mask.url(ar.URL), st.Redacted), w) + "\n\n")
	}
	if m.explain {
		b.WriteString(st.ExplainTitle.Render("Why this step") + st.Muted.Render(" (i hides this)") + "\n")
		b.WriteString(wrapLines(st.Explain.Render(s.explanation()), w) + "\n")
	}
	if notes := append(slices.Clone(rec.report.Notes), rec.notes...); len(notes) > 0 {
		section("Notes")
		for _, n := range notes {
			b.WriteString(wrapLines(st.Muted.Render("• ")+highlightPlaceholders(m.mask.text(n), st.Redacted), w) + "\n")
		}
	}
	switch s {
	case stepDiscovery:
		if rec.state == statePending {
			section("What will happen")
			p := m.state.Provider
			if o := m.backend.opts; o.Discover {
				b.WriteString(wrapLines("GET the discovery document of "+safe(firstNonEmpty(o.DiscoveryURL, o.Issuer)), w) + "\n")
			}
			b.WriteString(wrapLines(st.Muted.Render("provider ")+safe(p.Name)+st.Muted.Render("  client_id ")+safe(m.backend.runner.Config().Client.ID), w) + "\n")
		}
		if rec.state == stateOK || rec.state == stateSkipped {
			section("Endpoints")
			b.WriteString(endpointTable(st, m.state.Provider, w))
		}
	case stepAuthorize:
		if ar != nil {
			section("Authorization request, parameter by parameter")
			b.WriteString(renderURLParams(st, ar.URL, m.mask, w))
			section("Full URL (y copies it)")
			b.WriteString(wrapLines(highlightPlaceholders(m.mask.url(ar.URL), st.Redacted), w) + "\n")
		}
	case stepCallback:
		if cb != nil {
			section("Redirect received")
			b.WriteString(renderURLParams(st, cb.URL, m.mask, w))
		}
		if cb != nil && ar != nil && rec.state == stateOK {
			section("Checks")
			b.WriteString(st.Verdict.Pass.Render("✓ ") + "state matches the value sent with the request\n")
			if cb.Iss != "" {
				b.WriteString(st.Verdict.Pass.Render("✓ ") + "iss matches the issuer\n")
			} else {
				b.WriteString(st.Verdict.Info.Render("· ") + "no iss parameter (RFC 9207 not used by this provider)\n")
			}
			b.WriteString(st.Verdict.Pass.Render("✓ ") + "an authorization code is present\n")
		}
	}
	var calls []httplog.Exchange
	for _, ex := range rec.report.Exchanges {
		if ex.Leg == "" { // browser legs are shown above, parameter by parameter
			calls = append(calls, ex)
		}
	}
	for i, ex := range calls {
		title := "HTTP"
		if len(calls) > 1 {
			title = fmt.Sprintf("HTTP %d of %d", i+1, len(calls))
		}
		if ex.ID != "" {
			title += " " + ex.ID
		}
		section(title + st.Muted.Render(" · "+ex.Step+" · "+shortDuration(ex.Duration)))
		b.WriteString(renderExchange(st, m.mask.exchange(ex), w))
	}
	if rec.state == statePending && s != stepDiscovery {
		if what := m.preview(s); what != "" {
			section("What will happen")
			// It names the endpoints discovery found.
			b.WriteString(wrapLines(safe(what), w) + "\n")
		}
		if ok, why := m.ready(s); !ok {
			b.WriteString("\n" + st.Muted.Render("Not ready: "+why) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// preview says in one sentence what a pending step will send where.
func (m flowModel) preview(s stepID) string {
	p := m.state.Provider.Endpoints
	or := func(v string) string { return firstNonEmpty(v, "(unknown until Discovery)") }
	c := m.backend.runner.Config().Client
	switch s {
	case stepAuthorize:
		return "Builds the authorization URL (fresh state, PKCE S256 challenge, nonce), listens on " + c.RedirectURI +
			" and sends the browser to " + or(p.Authorization) + "."
	case stepCallback:
		return "Waits for the browser to come back, then checks the redirect: state must match, iss must be the issuer, a code must be there."
	case stepExchange:
		return "POSTs the code and the PKCE verifier to " + or(p.Token) + ", authenticating as client " + c.ID + "."
	case stepUserinfo:
		return "GETs " + or(p.Userinfo) + " with the access token as Authorization: Bearer."
	case stepAPICall:
		return "GETs " + or(p.API) + " with the access token as Authorization: Bearer."
	case stepIntrospect:
		return "Introspects the access token at " + or(p.Introspection) + "; the Inspect screen (2) sets it beside the verified ID token."
	case stepRefresh:
		return "POSTs the refresh token to " + or(p.Token) + " for a new access token."
	case stepRevoke:
		return "Revokes the access and refresh tokens at " + or(p.Revocation) + "."
	case stepIntrospectAfter:
		return "Introspects the revoked access token at " + or(p.Introspection) + " to confirm it is dead."
	}
	return ""
}

func endpointTable(st *Styles, p oauthflow.Provider, w int) string {
	rows := [][2]string{
		{"issuer", p.Issuer}, {"authorization", p.Endpoints.Authorization}, {"token", p.Endpoints.Token},
		{"userinfo", p.Endpoints.Userinfo}, {"introspection", p.Endpoints.Introspection},
		{"revocation", p.Endpoints.Revocation}, {"jwks", p.Endpoints.JWKS}, {"api", p.Endpoints.API},
	}
	var b strings.Builder
	for _, r := range rows {
		v := safe(r[1]) // the discovery document's values
		if v == "" {
			v = st.Muted.Render("(none)")
		}
		b.WriteString(truncate(st.Table.Key.Render(fmt.Sprintf("%-14s", r[0]))+" "+st.Table.Value.Render(v), w) + "\n")
	}
	return b.String()
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// errorLine is an error's one-line text; for *oauthflow.Error it leaves out the hint,
// which the diagnosis shows as the fix.
func errorLine(err error) string {
	if e, ok := oauthflow.AsError(err); ok {
		c := *e
		c.Hint = ""
		return c.Error()
	}
	return err.Error()
}

func firstDiagnosisTitle(r stepRecord) string {
	if len(r.diagnoses) > 0 {
		return r.diagnoses[0].Title
	}
	if r.report.Err != nil {
		return truncate(errorLine(r.report.Err), 60)
	}
	return ""
}

func (m flowModel) View(spin string) string {
	st := m.styles
	dw := m.detailWidth()
	title := st.PaneTitle.Render(m.selected.String()) + st.Muted.Render(fmt.Sprintf("  step %d of %d", m.selected+1, numSteps))
	if m.mask.reveal {
		title += "  " + st.RevealWarning.Render("SECRETS VISIBLE · s hides them")
	}
	var parts []string
	parts = append(parts, truncate(title, dw), truncate(m.statusLine(spin), dw))
	if m.pasting {
		parts = append(parts, m.paste.View())
	}
	parts = append(parts, m.detail.View())
	right := lipgloss.JoinVertical(lipgloss.Left, parts...)
	detailH := m.height - 2
	if m.narrow() {
		detailH--
	}
	pane := st.PaneFocused
	right = pane.Render(blockLines(right, dw, max(1, detailH)))
	if m.narrow() {
		return lipgloss.JoinVertical(lipgloss.Left, truncate(m.stripView(spin), m.width), right)
	}
	left := st.Pane.Render(blockLines(m.stepperView(spin), stepperWidth-paneFrame, max(1, m.height-2)))
	return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
}

func (m flowModel) shortHelp() []key.Binding {
	if m.pasting {
		return []key.Binding{m.forms.Submit, m.forms.Cancel}
	}
	return []key.Binding{m.keys.Run, m.keys.RunAll, m.keys.Up, m.keys.Paste, m.keys.CopyURL, m.keys.Cancel, m.keys.Explain}
}

func (m flowModel) fullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Run, m.keys.RunAll, m.keys.Up, m.keys.Down, m.keys.Restart},
		{m.keys.Explain, m.keys.ScrollUp, m.keys.ScrollDown, m.keys.OpenBrowser, m.keys.CopyURL, m.keys.Paste, m.keys.Cancel},
	}
}
