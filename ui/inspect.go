package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// inspection is everything the flow learned about the current token: the server's view and the
// ID token's verification.
type inspection struct {
	at            time.Time
	token         oauthflow.Token
	introspection *inspector.IntrospectionView
	introspectErr error
	idToken       *inspector.Verification
	idTokenErr    error
	access        *inspector.JWT
	local         inspector.State
	mismatches    []inspector.Mismatch
}

// inspectionMsg hands a finished inspection to the Inspect screen.
type inspectionMsg struct{ result *inspection }

// runStepMsg asks the flow to run a step (the Inspect screen's "introspect again").
type runStepMsg struct{ step stepID }

// inspectionOf is what the flow's state says about the token in use: the server's view (the last
// introspection), the ID token's verification, and where the two views disagree.
func inspectionOf(st *oauthflow.FlowResult, idToken *inspector.Verification, now time.Time) *inspection {
	tok := st.CurrentToken()
	if tok == nil {
		return nil
	}
	in := &inspection{at: now, token: *tok, idToken: idToken}
	// The server's latest view: after a revocation, the introspection that checked it.
	latest := st.Introspection
	if st.Revoked && st.IntrospectionAfterRevoke != nil {
		latest = st.IntrospectionAfterRevoke
	}
	if latest != nil {
		v := inspector.NormalizeIntrospection(latest, st.Provider.Introspection)
		in.introspection = &v
	}
	// An answer calling the token inactive fails the step too, but it is what the server says:
	// it is shown as such. Only a step that got no answer shows its error instead.
	if rep := st.Step(oauthflow.StepIntrospect); rep != nil && rep.Err != nil && in.introspection == nil {
		in.introspectErr = rep.Err
	}
	if idToken == nil && tok.IDToken != "" {
		if _, err := inspector.DecodeJWT(tok.IDToken); err != nil {
			in.idTokenErr = err
		}
	}
	if j, err := inspector.DecodeJWT(tok.AccessToken); err == nil && j.Format == inspector.FormatJWT {
		in.access = j
	}
	in.local = inspector.TokenState(tok, now, inspector.StateOptions{AccessRevoked: st.Revoked, RefreshRevoked: st.Revoked})
	if in.introspection != nil {
		in.mismatches = inspector.Compare(in.local, *in.introspection)
	}
	return in
}

// inspectModel is the Inspect screen.
type inspectModel struct {
	styles *Styles
	keys   inspectKeys
	mask   masker
	result *inspection
	view   viewport.Model
	width  int
	height int
}

func newInspectModel(st *Styles, mk masker) inspectModel {
	v := viewport.New()
	v.KeyMap = viewport.KeyMap{}
	m := inspectModel{styles: st, keys: newInspectKeys(), mask: mk, view: v}
	m.render()
	return m
}

func (m inspectModel) setSize(w, h int) inspectModel {
	m.width, m.height = w, h
	m.view.SetWidth(w)
	m.view.SetHeight(max(1, h-1))
	m.render()
	return m
}

func (m inspectModel) setMask(mk masker) inspectModel {
	m.mask = mk
	m.render()
	return m
}

func (m inspectModel) Update(msg tea.Msg) (inspectModel, tea.Cmd) {
	switch msg := msg.(type) {
	case inspectionMsg:
		m.result = msg.result
		m.render()
		m.view.GotoTop()
	case tokenChangedMsg:
		if msg.token == nil {
			m.result = nil
			m.render()
		}
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			m.view.ScrollUp(max(1, m.view.Height()/2))
		case key.Matches(msg, m.keys.Down):
			m.view.ScrollDown(max(1, m.view.Height()/2))
		case key.Matches(msg, m.keys.Rerun):
			return m, func() tea.Msg { return runStepMsg{step: stepIntrospect} }
		}
	}
	return m, nil
}

func (m *inspectModel) render() {
	m.view.SetContent(m.content(max(20, m.width)))
}

// content lays the inspection out. What the server said (introspection fields, the claims of the
// tokens it issued, its errors) goes through safe before it is styled.
func (m inspectModel) content(w int) string {
	st := m.styles
	if m.result == nil {
		return wrapLines(st.Muted.Render("Nothing inspected yet. Once the flow has a token, its ID token is verified here; run the Introspect step (or press r here) to see "+
			"the server's introspection beside it, with a verdict per check and where the two views disagree."), w)
	}
	r := m.result
	var b strings.Builder
	section := func(title string) { b.WriteString("\n" + st.PaneTitle.Render(title) + "\n") }
	row := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteString(wrapLines(st.Table.Key.Render(fmt.Sprintf("%-15s", k))+" "+st.Table.Value.Render(v), w) + "\n")
	}

	section("Client vs server")
	if r.introspection == nil {
		b.WriteString(st.Muted.Render("no server view to compare with") + "\n")
	} else {
		local := r.local.Access
		b.WriteString(st.Muted.Render(fmt.Sprintf("%-8s %-32s %s", "", "client believes", "server says")) + "\n")
		cmp := func(field, l, s string) {
			b.WriteString(truncate(st.Table.Key.Render(fmt.Sprintf("%-8s ", field))+st.Table.Value.Render(fmt.Sprintf("%-32s ", l))+st.Table.Value.Render(s), w) + "\n")
		}
		cmp("status", string(local.Status), safe(r.introspection.Status))
		cmp("expiry", shortUTC(local.Expiry), shortUTC(r.introspection.Expiry))
		cmp("scopes", safe(strings.Join(r.local.GrantedScopes, " ")), safe(strings.Join(r.introspection.Scopes, " ")))
		if len(r.mismatches) == 0 {
			b.WriteString(st.Verdict.Pass.Render("✓ the client and the server agree on status, expiry and scopes") + "\n")
		}
		for _, mm := range r.mismatches {
			b.WriteString(wrapLines(st.Verdict.Fail.Render("✗ "+mm.Field+": ")+st.Table.Value.Render(safe(mm.Detail)), w) + "\n")
		}
	}
	section("Introspection (what the server says)")
	switch {
	case r.introspectErr != nil:
		b.WriteString(wrapLines(st.Error.Render("introspection failed: "+m.mask.text(errorLine(r.introspectErr))), w) + "\n")
	case r.introspection == nil:
		b.WriteString(st.Muted.Render("not introspected yet (r introspects), or no introspection endpoint is known for this provider") + "\n")
	default:
		v := r.introspection
		mark := st.Verdict.Pass.Render("● " + safe(v.Status))
		if !v.Active {
			mark = st.Verdict.Fail.Render("✗ " + safe(v.Status))
		}
		row("status", mark+st.Muted.Render(fmt.Sprintf("  (active=%t, %s shape)", v.Active, v.Shape)))
		for _, ir := range v.Rows(func(t time.Time) string { return when(t, r.at) }) {
			val := safe(ir.Value)
			if ir.Note != "" {
				val += st.Muted.Render("  " + safe(ir.Note))
			}
			row(safe(ir.Label), val)
		}
	}

	section("ID token")
	switch {
	case r.token.IDToken == "":
		b.WriteString(st.Muted.Render("no ID token was issued (request the openid scope for one)") + "\n")
	case r.idTokenErr != nil:
		b.WriteString(wrapLines(st.Error.Render("cannot decode the ID token: "+safe(r.idTokenErr.Error())), w) + "\n")
	case r.idToken == nil:
		b.WriteString(st.Muted.Render("the ID token could not be verified: no JWKS is known for this provider") + "\n")
	case r.idToken != nil:
		v := r.idToken
		verdict := st.Verdict.Pass.Render("✓ verified")
		if !v.OK() {
			verdict = st.Verdict.Fail.Render("✗ not trustworthy")
		}
		b.WriteString(verdict + st.Muted.Render(" · "+v.Format.Describe()) + "\n")
		for _, c := range v.Checks {
			sym, style := "✓", st.Verdict.Pass
			switch {
			case c.Skipped:
				sym, style = "·", st.Verdict.Info
			case !c.OK:
				sym, style = "✗", st.Verdict.Fail
			}
			b.WriteString(wrapLines(style.Render(fmt.Sprintf("%s %-10s", sym, c.Name))+" "+st.Table.Value.Render(safe(c.Detail)), w) + "\n")
		}
		if v.JWT != nil {
			b.WriteString(st.HTTP.Section.Render("header") + "\n")
			claimRows(&b, st, v.JWT.Header, r.at, w, false)
			b.WriteString(st.HTTP.Section.Render("claims") + "\n")
			claimRows(&b, st, v.JWT.Claims, r.at, w, true)
		}
	}

	section("Access token")
	fp := inspector.Fingerprint(r.token.AccessToken)
	format := inspector.DetectFormat(r.token.AccessToken)
	row("format", format.Describe())
	row("fingerprint", fp)
	if m.mask.reveal {
		row("value", safe(r.token.AccessToken))
	}
	if r.access != nil {
		claimRows(&b, st, r.access.Claims, r.at, w, true)
	}

	b.WriteString("\n" + st.Muted.Render("inspected at "+oauthflow.FormatUTC(r.at)+" · r inspects again"))
	return highlightPlaceholders(strings.TrimLeft(b.String(), "\n"), st.Redacted)
}

func when(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return oauthflow.FormatUTC(t) + " (" + oauthflow.Relative(t, now) + ")"
}

func shortUTC(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return oauthflow.FormatUTC(t)
}

// claimRows lays out JWT header fields or claims, registered claims first, times decoded. The
// issuer wrote every name and value.
func claimRows(b *strings.Builder, st *Styles, m map[string]any, now time.Time, w int, times bool) {
	order := []string{"alg", "kid", "typ", "iss", "sub", "aud", "azp", "exp", "iat", "nbf", "auth_time", "nonce"}
	rank := func(k string) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return len(order)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		text := safe(claimValue(m[k]))
		if times && (k == "exp" || k == "iat" || k == "nbf" || k == "auth_time" || k == "updated_at") {
			if f, err := strconv.ParseFloat(text, 64); err == nil {
				text += "  " + when(time.Unix(int64(f), 0), now)
			}
		}
		b.WriteString(wrapLines("  "+st.Table.Key.Render(fmt.Sprintf("%-12s", safe(k)))+" "+st.Table.Value.Render(text), w) + "\n")
	}
}

func claimValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(out)
}

func (m inspectModel) View() string {
	st := m.styles
	title := st.PaneTitle.Render("Inspect") + st.Muted.Render("  the token as the client decodes it and as the server sees it")
	return truncate(title, m.width) + "\n" + m.view.View()
}

func (m inspectModel) shortHelp() []key.Binding {
	return []key.Binding{m.keys.Rerun, m.keys.Down}
}

func (m inspectModel) fullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Rerun, m.keys.Up, m.keys.Down}}
}
