package ui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// statusMsg is a transient message for the status bar.
type statusMsg struct {
	text  string
	isErr bool
}

func statusCmd(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return statusMsg{text: text, isErr: isErr} }
}

// messageLifetime is how long a transient message stays (errors twice as long).
const messageLifetime = 6 * time.Second

// statusBar is the bottom line: who we talk to, the session, and the latest message.
type statusBar struct {
	styles    *Styles
	provider  string
	clientID  string
	sessionID string
	scenario  string
	profile   string
	text      string
	isErr     bool
	until     time.Time
	width     int
}

func (s statusBar) show(msg statusMsg, now time.Time) statusBar {
	// Messages quote errors, and errors quote servers.
	s.text, s.isErr = safe(msg.text), msg.isErr
	life := messageLifetime
	if msg.isErr {
		life *= 2
	}
	s.until = now.Add(life)
	return s
}

// expire drops the message once its time is up.
func (s statusBar) expire(now time.Time) statusBar {
	if s.text != "" && !now.Before(s.until) {
		s.text = ""
	}
	return s
}

func (s statusBar) View(reveal bool) string {
	st := s.styles
	var parts []string
	if reveal {
		parts = append(parts, st.RevealWarning.Render("SECRETS VISIBLE"))
	}
	field := func(k, v string) {
		if v != "" {
			parts = append(parts, st.Status.Key.Render(k+" ")+st.Status.Value.Render(safe(v)))
		}
	}
	field("profile", s.profile)
	field("provider", s.provider)
	field("client_id", s.clientID)
	field("session", s.sessionID)
	field("scenario", s.scenario)
	left := strings.Join(parts, st.Status.Bar.Render(" · "))
	if s.text != "" {
		style := st.Status.Message
		if s.isErr {
			style = st.Status.Error
		}
		msg := style.Render(s.text)
		// The message matters more than the identifiers: it keeps its room, they are cut.
		room := s.width - lipgloss.Width(msg) - 3
		if room < 10 {
			return truncate(msg, s.width)
		}
		return truncate(left, room) + st.Status.Bar.Render(" │ ") + msg
	}
	return truncate(left, s.width)
}
