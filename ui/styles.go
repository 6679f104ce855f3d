package ui

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is every style the UI draws with, named for what it shows rather than how it looks.
// It is rebuilt when the terminal reports its background, so colours suit dark and light
// themes; under NO_COLOR the program downsamples them away and the symbols (✓ ✗ ● ▲) still
// carry every state.
type Styles struct {
	Header struct {
		Brand     lipgloss.Style
		Tab       lipgloss.Style
		ActiveTab lipgloss.Style
		Info      lipgloss.Style
	}

	Pane        lipgloss.Style // a bordered box
	PaneFocused lipgloss.Style
	PaneTitle   lipgloss.Style

	Step struct {
		Pending  lipgloss.Style
		Running  lipgloss.Style
		OK       lipgloss.Style
		Failed   lipgloss.Style
		Skipped  lipgloss.Style
		Selected lipgloss.Style // the selected row's name
		Name     lipgloss.Style
		Note     lipgloss.Style
	}

	HTTP struct {
		Method      lipgloss.Style
		URL         lipgloss.Style
		Status2xx   lipgloss.Style
		Status3xx   lipgloss.Style
		Status4xx   lipgloss.Style
		Status5xx   lipgloss.Style
		HeaderName  lipgloss.Style
		HeaderValue lipgloss.Style
		Body        lipgloss.Style
		Section     lipgloss.Style
	}

	Redacted      lipgloss.Style
	RevealWarning lipgloss.Style
	Explain       lipgloss.Style
	ExplainTitle  lipgloss.Style

	Token struct {
		Label   lipgloss.Style
		Fresh   lipgloss.Style
		Warning lipgloss.Style
		Expired lipgloss.Style
		Value   lipgloss.Style
		Muted   lipgloss.Style
		Action  lipgloss.Style
		BarFull color.Color
		BarWarn color.Color
		BarDead color.Color
		BarRest color.Color
	}

	Diagnosis struct {
		Box      lipgloss.Style
		Code     lipgloss.Style
		Title    lipgloss.Style
		Label    lipgloss.Style
		Evidence lipgloss.Style
		Fix      lipgloss.Style
	}

	Calls struct {
		Header   lipgloss.Style
		Row      lipgloss.Style
		Selected lipgloss.Style
		Failed   lipgloss.Style
		Pending  lipgloss.Style
		Filter   lipgloss.Style
	}

	Verdict struct {
		Pass lipgloss.Style
		Fail lipgloss.Style
		Info lipgloss.Style
	}

	Table struct {
		Key   lipgloss.Style
		Value lipgloss.Style
	}

	Status struct {
		Bar     lipgloss.Style
		Key     lipgloss.Style
		Value   lipgloss.Style
		Message lipgloss.Style
		Error   lipgloss.Style
	}

	Input struct {
		Label   lipgloss.Style
		Focused lipgloss.Style
	}

	Muted   lipgloss.Style
	Error   lipgloss.Style
	Success lipgloss.Style
	Help    help.Styles
}

// NewStyles builds the styles for a dark or light terminal background.
func NewStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	var (
		fg      = ld(lipgloss.Color("#1F1F1F"), lipgloss.Color("#E4E4E4"))
		muted   = ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#8A8A8A"))
		subtle  = ld(lipgloss.Color("#C8C8C8"), lipgloss.Color("#3A3A3A"))
		accent  = ld(lipgloss.Color("#0A66C2"), lipgloss.Color("#70B5F9"))
		green   = ld(lipgloss.Color("#127A3E"), lipgloss.Color("#5FD68A"))
		yellow  = ld(lipgloss.Color("#8A5A00"), lipgloss.Color("#F5C451"))
		red     = ld(lipgloss.Color("#B3261E"), lipgloss.Color("#FF6B6B"))
		magenta = ld(lipgloss.Color("#8E3A9D"), lipgloss.Color("#D68FE8"))
		cyan    = ld(lipgloss.Color("#0F6E7A"), lipgloss.Color("#6FD3E0"))
		barBg   = ld(lipgloss.Color("#E6E6E6"), lipgloss.Color("#303030"))
	)
	var s Styles

	s.Header.Brand = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Header.Tab = lipgloss.NewStyle().Foreground(muted).Padding(0, 1)
	s.Header.ActiveTab = lipgloss.NewStyle().Bold(true).Underline(true).Foreground(fg).Padding(0, 1)
	s.Header.Info = lipgloss.NewStyle().Foreground(muted)

	s.Pane = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(subtle).Padding(0, 1)
	s.PaneFocused = s.Pane.BorderForeground(accent)
	s.PaneTitle = lipgloss.NewStyle().Bold(true).Foreground(accent)

	s.Step.Pending = lipgloss.NewStyle().Foreground(muted)
	s.Step.Running = lipgloss.NewStyle().Foreground(accent)
	s.Step.OK = lipgloss.NewStyle().Foreground(green)
	s.Step.Failed = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Step.Skipped = lipgloss.NewStyle().Foreground(muted).Faint(true)
	s.Step.Selected = lipgloss.NewStyle().Bold(true).Reverse(true)
	s.Step.Name = lipgloss.NewStyle().Foreground(fg)
	s.Step.Note = lipgloss.NewStyle().Foreground(muted)

	s.HTTP.Method = lipgloss.NewStyle().Bold(true).Foreground(magenta)
	s.HTTP.URL = lipgloss.NewStyle().Foreground(fg)
	s.HTTP.Status2xx = lipgloss.NewStyle().Bold(true).Foreground(green)
	s.HTTP.Status3xx = lipgloss.NewStyle().Bold(true).Foreground(cyan)
	s.HTTP.Status4xx = lipgloss.NewStyle().Bold(true).Foreground(yellow)
	s.HTTP.Status5xx = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.HTTP.HeaderName = lipgloss.NewStyle().Foreground(cyan)
	s.HTTP.HeaderValue = lipgloss.NewStyle().Foreground(fg)
	s.HTTP.Body = lipgloss.NewStyle().Foreground(fg)
	s.HTTP.Section = lipgloss.NewStyle().Bold(true).Foreground(muted)

	s.Redacted = lipgloss.NewStyle().Foreground(yellow).Italic(true)
	s.RevealWarning = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(red).Padding(0, 1)
	s.Explain = lipgloss.NewStyle().Foreground(fg).Italic(true)
	s.ExplainTitle = lipgloss.NewStyle().Bold(true).Foreground(cyan)

	s.Token.Label = lipgloss.NewStyle().Bold(true).Foreground(fg)
	s.Token.Fresh = lipgloss.NewStyle().Bold(true).Foreground(green)
	s.Token.Warning = lipgloss.NewStyle().Bold(true).Foreground(yellow)
	s.Token.Expired = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Token.Value = lipgloss.NewStyle().Foreground(fg)
	s.Token.Muted = lipgloss.NewStyle().Foreground(muted)
	s.Token.Action = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Token.BarFull, s.Token.BarWarn, s.Token.BarDead, s.Token.BarRest = green, yellow, red, barBg

	s.Diagnosis.Box = lipgloss.NewStyle().Border(lipgloss.NormalBorder(), false, false, false, true).BorderForeground(red).PaddingLeft(1)
	s.Diagnosis.Code = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Diagnosis.Title = lipgloss.NewStyle().Bold(true).Foreground(fg)
	s.Diagnosis.Label = lipgloss.NewStyle().Foreground(muted)
	s.Diagnosis.Evidence = lipgloss.NewStyle().Foreground(fg)
	s.Diagnosis.Fix = lipgloss.NewStyle().Foreground(green)

	s.Calls.Header = lipgloss.NewStyle().Bold(true).Foreground(muted)
	s.Calls.Row = lipgloss.NewStyle().Foreground(fg)
	s.Calls.Selected = lipgloss.NewStyle().Reverse(true)
	s.Calls.Failed = lipgloss.NewStyle().Foreground(red)
	s.Calls.Pending = lipgloss.NewStyle().Foreground(accent)
	s.Calls.Filter = lipgloss.NewStyle().Foreground(accent)

	s.Verdict.Pass = lipgloss.NewStyle().Foreground(green)
	s.Verdict.Fail = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Verdict.Info = lipgloss.NewStyle().Foreground(muted)

	s.Table.Key = lipgloss.NewStyle().Foreground(cyan)
	s.Table.Value = lipgloss.NewStyle().Foreground(fg)

	s.Status.Bar = lipgloss.NewStyle().Foreground(muted)
	s.Status.Key = lipgloss.NewStyle().Foreground(muted)
	s.Status.Value = lipgloss.NewStyle().Foreground(fg)
	s.Status.Message = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Status.Error = lipgloss.NewStyle().Bold(true).Foreground(red)

	s.Input.Label = lipgloss.NewStyle().Foreground(muted)
	s.Input.Focused = lipgloss.NewStyle().Bold(true).Foreground(accent)

	s.Muted = lipgloss.NewStyle().Foreground(muted)
	s.Error = lipgloss.NewStyle().Foreground(red)
	s.Success = lipgloss.NewStyle().Foreground(green)
	s.Help = help.DefaultStyles(isDark)
	return s
}

// statusStyle picks the style for an HTTP status code.
func (s *Styles) statusStyle(code int) lipgloss.Style {
	switch {
	case code >= 500:
		return s.HTTP.Status5xx
	case code >= 400:
		return s.HTTP.Status4xx
	case code >= 300:
		return s.HTTP.Status3xx
	case code >= 200:
		return s.HTTP.Status2xx
	}
	return s.Error
}

// titledPane draws a bordered pane of total width w with its title set into the top border.
func titledPane(st *Styles, title, body string, w int) string {
	b := lipgloss.RoundedBorder()
	bc := st.Pane.GetBorderTopForeground()
	edge := lipgloss.NewStyle().Foreground(bc)
	head := edge.Render(b.TopLeft+b.Top+" ") + st.PaneTitle.Render(title) + " "
	rest := w - lipgloss.Width(head) - 1
	if rest < 0 {
		rest = 0
	}
	top := head + edge.Render(strings.Repeat(b.Top, rest)+b.TopRight)
	return top + "\n" + st.Pane.BorderTop(false).Render(body)
}
