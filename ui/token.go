package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// autoRefreshLead is how long before expiry auto-refresh fires (or the last third of a
// shorter lifetime); oauthdiag call refreshes later, within oauthflow.DefaultMargin.
const autoRefreshLead = 15 * time.Second

// tokenChangedMsg tells the screens that the flow's token changed (nil: none any more).
// The root sends it to them directly after the flow updates.
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

// stateOptions sets when a token counts as expiring soon, and when auto-refresh refreshes it:
// autoRefreshLead before expiry, or the last third of a lifetime shorter than three leads, so
// that a demo's 10-second token is not refreshed again the moment it arrives.
func stateOptions(tok *oauthflow.Token, revoked bool) inspector.StateOptions {
	lead := autoRefreshLead
	if tok != nil && !tok.Expiry.IsZero() && !tok.ReceivedAt.IsZero() {
		if third := tok.Expiry.Sub(tok.ReceivedAt) / 3; third < lead {
			lead = max(third, time.Second)
		}
	}
	return inspector.StateOptions{SoonMinimum: lead, RefreshLead: lead, AccessRevoked: revoked, RefreshRevoked: revoked}
}

// update recomputes the state at now.
func (p tokenPanel) update(tok *oauthflow.Token, revoked bool, now time.Time) tokenPanel {
	p.token, p.revoked = tok, revoked
	p.state = inspector.TokenState(tok, now, stateOptions(tok, revoked))
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
	inner := max(10, p.width-paneFrame)
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
	return titledPane(st, "Tokens", blockLines(strings.Join(lines, "\n"), inner, 3), p.width)
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

// Token line columns: label, state, countdown, bar and percentage, then type and fingerprint.
const (
	tokColLabel = 8
	tokColState = 15
	tokColWhen  = 18
	tokColTail  = 22
)

func (p tokenPanel) tokenLine(label string, ti inspector.TokenInfo, value, tokenType string, width int) string {
	st := p.styles
	sym, render := p.statusStyle(ti.Status)
	out := st.Token.Label.Render(fit(label, tokColLabel)) + render(fit(sym+" "+string(ti.Status), tokColState))
	if !ti.Present {
		return truncate(out+st.Token.Muted.Render(safe(ti.Reason)), width)
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
	out += render(fit(when, tokColWhen))
	tail := "fp " + shortFingerprint(ti.Fingerprint)
	if tokenType != "" {
		tail = safe(tokenType) + " · " + tail // token_type is the server's
	}
	if p.mask.reveal {
		tail = safe(value)
	}
	barWidth := width - tokColLabel - tokColState - tokColWhen - 6 - tokColTail
	if barWidth >= 6 && ti.Lifetime > 0 && ti.Status != inspector.StatusRevoked {
		bar := p.bar
		bar.SetWidth(min(barWidth, 40))
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
		out += bar.ViewAs(used) + st.Token.Muted.Render(fmt.Sprintf(" %3.0f%% ", used*100))
	}
	return truncate(out+st.Token.Value.Render(tail), width)
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
		return truncate(st.Token.Action.Render("Re-authorization needed: ")+st.Token.Value.Render(safe(p.action.Reason))+st.Token.Muted.Render(" · N starts a new flow"), width)
	}
	parts := []string{p.autoLine(refreshing, spin)}
	if scopes := p.state.GrantedScopes; len(scopes) > 0 {
		parts = append(parts, st.Token.Muted.Render("scopes ")+st.Token.Value.Render(safe(strings.Join(scopes, " "))))
	}
	if !refreshing {
		parts = append(parts, st.Token.Muted.Render("next: ")+st.Token.Value.Render(string(p.action.Kind)))
	}
	return truncate(strings.Join(parts, st.Token.Muted.Render(" · ")), width)
}
