package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"

	"oauthdiag/inspector"
	"oauthdiag/oauthflow"
)

// autoRefreshLead is the least time before expiry at which auto-refresh fires; longer
// lifetimes refresh at the inspector's "expiring soon" point (the last tenth).
const autoRefreshLead = 15 * time.Second

// tokenChangedMsg tells the screens that the current token changed (nil: none any more).
type tokenChangedMsg struct {
	token   *oauthflow.Token
	revoked bool
}

// tokenPanel is the always-visible strip with both tokens' countdowns. Its state is
// recomputed from the absolute expiry times and the injected clock on every tick, so a
// suspended laptop or a slow frame never makes the countdown drift.
type tokenPanel struct {
	styles  *Styles
	auto    bool
	token   *oauthflow.Token
	revoked bool
	state   inspector.State
	action  inspector.Action
	mask    masker
	bar     progress.Model
	width   int
}

func newTokenPanel(st *Styles, auto bool, mk masker) tokenPanel {
	bar := progress.New(progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
	return tokenPanel{styles: st, auto: auto, mask: mk, bar: bar}
}

func stateOptions(revoked bool) inspector.StateOptions {
	return inspector.StateOptions{SoonMinimum: autoRefreshLead, AccessRevoked: revoked, RefreshRevoked: revoked}
}

// update recomputes the state at now.
func (p tokenPanel) update(tok *oauthflow.Token, revoked bool, now time.Time) tokenPanel {
	p.token, p.revoked = tok, revoked
	p.state = inspector.TokenState(tok, now, stateOptions(revoked))
	p.action = inspector.NextAction(p.state)
	return p
}

// wantsRefresh says auto-refresh should refresh now.
func (p tokenPanel) wantsRefresh() bool {
	return p.auto && p.token != nil && !p.revoked && p.action.Kind == inspector.ActionRefresh
}

// needsReauthorization is the inspector's verdict that only a new login helps.
func (p tokenPanel) needsReauthorization() bool {
	return p.token != nil && p.action.Kind == inspector.ActionReauthorize
}

func (p tokenPanel) setWidth(w int) tokenPanel {
	p.width = w
	return p
}

// height is the panel's height in lines, border included.
func (p tokenPanel) height() int { return 5 }

func (p tokenPanel) View(spin string, refreshing bool) string {
	st := p.styles
	inner := max(10, p.width-2)
	var lines []string
	if p.token == nil {
		lines = append(lines,
			st.Token.Muted.Render("No tokens yet: walk the flow with enter (or A to run it all) to get some."),
			"",
			p.autoLine(refreshing, spin))
	} else {
		lines = append(lines,
			p.tokenLine("access", p.state.Access, p.token.AccessToken, p.token.TokenType, inner),
			p.tokenLine("refresh", p.state.Refresh, p.token.RefreshToken, "", inner),
			p.footLine(refreshing, spin, inner))
	}
	title := st.PaneTitle.Render("Tokens")
	body := title + "\n" + strings.Join(lines, "\n")
	return st.Pane.Render(blockLines(body, inner, 4))
}

func (p tokenPanel) statusStyle(s inspector.Status) (symbol string, render func(...string) string) {
	st := p.styles
	switch s {
	case inspector.StatusValid:
		return "●", st.Token.Fresh.Render
	case inspector.StatusExpiringSoon:
		return "▲", st.Token.Warning.Render
	case inspector.StatusExpired, inspector.StatusRevoked:
		return "✗", st.Token.Expired.Render
	}
	return "○", st.Token.Muted.Render
}

func (p tokenPanel) tokenLine(label string, ti inspector.TokenInfo, value, tokenType string, width int) string {
	st := p.styles
	sym, render := p.statusStyle(ti.Status)
	head := st.Token.Label.Render(fmt.Sprintf("%-8s", label)) + render(sym+" "+fmt.Sprintf("%-13s", string(ti.Status)))
	if !ti.Present {
		return head + st.Token.Muted.Render(" "+ti.Reason)
	}
	var when string
	switch {
	case ti.Status == inspector.StatusRevoked:
		when = "revoked"
	case ti.Expiry.IsZero():
		when = "no expiry given"
	case ti.TimeLeft >= 0:
		when = countdown(ti.TimeLeft) + " left"
	default:
		when = "expired " + countdown(-ti.TimeLeft) + " ago"
	}
	out := head + render(fmt.Sprintf("%-17s", when))
	tail := ""
	if tokenType != "" {
		tail += tokenType + " · "
	}
	if p.mask.reveal {
		tail += value
	} else {
		tail += "fp " + shortFingerprint(ti.Fingerprint)
	}
	tail = st.Token.Value.Render(tail)
	rest := width - lipgloss.Width(out) - lipgloss.Width(tail) - 2
	if rest >= 12 && ti.Lifetime > 0 && ti.Status != inspector.StatusRevoked {
		bw := min(rest-5, 40)
		bar := p.bar
		bar.SetWidth(bw)
		bar.EmptyColor = st.Token.BarRest
		switch ti.Status {
		case inspector.StatusExpiringSoon:
			bar.FullColor = st.Token.BarWarn
		case inspector.StatusExpired:
			bar.FullColor = st.Token.BarDead
		default:
			bar.FullColor = st.Token.BarFull
		}
		used := min(1, max(0, ti.FractionUsed))
		out += bar.ViewAs(used) + st.Token.Muted.Render(fmt.Sprintf(" %3.0f%%", used*100)) + " "
	}
	return truncate(out+" "+tail, width)
}

func (p tokenPanel) autoLine(refreshing bool, spin string) string {
	st := p.styles
	switch {
	case refreshing:
		return st.Token.Warning.Render(spin + " refreshing the access token…")
	case p.auto:
		return st.Token.Muted.Render("auto-refresh ") + st.Token.Fresh.Render("on") + st.Token.Muted.Render(" (a turns it off)")
	}
	return st.Token.Muted.Render("auto-refresh ") + st.Token.Warning.Render("off") + st.Token.Muted.Render(" (a turns it on, R refreshes now)")
}

func (p tokenPanel) footLine(refreshing bool, spin string, width int) string {
	st := p.styles
	if p.needsReauthorization() {
		return truncate(st.Token.Action.Render("Re-authorization needed: ")+st.Token.Value.Render(p.action.Reason)+st.Token.Muted.Render(" · N starts a new flow"), width)
	}
	parts := []string{p.autoLine(refreshing, spin)}
	if scopes := p.state.GrantedScopes; len(scopes) > 0 {
		parts = append(parts, st.Token.Muted.Render("scopes ")+st.Token.Value.Render(strings.Join(scopes, " ")))
	}
	if !refreshing {
		parts = append(parts, st.Token.Muted.Render("next: ")+st.Token.Value.Render(string(p.action.Kind)))
	}
	return truncate(strings.Join(parts, st.Token.Muted.Render(" · ")), width)
}
