package ui

import "charm.land/bubbles/v2/key"

// The key map is data: every binding has its help text, and bindings that do not apply
// in the current state are disabled so that the help bar never offers them.

type globalKeys struct {
	Flow        key.Binding
	Inspect     key.Binding
	Calls       key.Binding
	NextTab     key.Binding
	PrevTab     key.Binding
	Help        key.Binding
	Quit        key.Binding
	AutoRefresh key.Binding
	RefreshNow  key.Binding
	Reveal      key.Binding
	Export      key.Binding
	Scenarios   key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Flow:        key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "flow")),
		Inspect:     key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "inspect")),
		Calls:       key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "calls")),
		NextTab:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		PrevTab:     key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous screen")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		AutoRefresh: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "auto-refresh on/off")),
		RefreshNow:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refresh token now")),
		Reveal:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "show/hide secrets")),
		Export:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export support bundle")),
		Scenarios:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "scenario menu")),
	}
}

type flowKeys struct {
	Up          key.Binding
	Down        key.Binding
	Run         key.Binding
	RunAll      key.Binding
	Explain     key.Binding
	OpenBrowser key.Binding
	CopyURL     key.Binding
	Paste       key.Binding
	Cancel      key.Binding
	Restart     key.Binding
	ScrollUp    key.Binding
	ScrollDown  key.Binding
}

func newFlowKeys() flowKeys {
	return flowKeys{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "choose step")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next step")),
		Run:         key.NewBinding(key.WithKeys("enter", "n"), key.WithHelp("enter", "run step")),
		RunAll:      key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "run all (up to Revoke)")),
		Explain:     key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "explain")),
		OpenBrowser: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open browser")),
		CopyURL:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy URL")),
		Paste:       key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "paste redirect")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop waiting")),
		Restart:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "new flow")),
		ScrollUp:    key.NewBinding(key.WithKeys("pgup", "K"), key.WithHelp("pgup", "scroll up")),
		ScrollDown:  key.NewBinding(key.WithKeys("pgdown", "J"), key.WithHelp("pgdn", "scroll down")),
	}
}

type callsKeys struct {
	Up         key.Binding
	Down       key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	Top        key.Binding
	Bottom     key.Binding
	Filter     key.Binding
	FailedOnly key.Binding
	Open       key.Binding
	Back       key.Binding
	Replay     key.Binding
	Edit       key.Binding
	Curl       key.Binding
}

func newCallsKeys() callsKeys {
	return callsKeys{
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn", "page down")),
		Top:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		Bottom:     key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		FailedOnly: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "failed only")),
		Open:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Replay:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replay")),
		Edit:       key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit & resend")),
		Curl:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy as curl")),
	}
}

type inspectKeys struct {
	Up    key.Binding
	Down  key.Binding
	Rerun key.Binding
}

func newInspectKeys() inspectKeys {
	return inspectKeys{
		Up:    key.NewBinding(key.WithKeys("up", "k", "pgup"), key.WithHelp("↑/k", "scroll up")),
		Down:  key.NewBinding(key.WithKeys("down", "j", "pgdown"), key.WithHelp("↑/↓", "scroll")),
		Rerun: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "inspect again")),
	}
}

// formKeys serve every text entry: the redirect paste, the calls filter, the request
// editor and the scenario menu. While one has focus, global keys other than ctrl+c are
// typed into it instead.
type formKeys struct {
	Submit    key.Binding
	Cancel    key.Binding
	NextField key.Binding
	PrevField key.Binding
	Send      key.Binding
	Up        key.Binding
	Down      key.Binding
	Choose    key.Binding
	ForceQuit key.Binding
	Close     key.Binding
}

func newFormKeys() formKeys {
	return formKeys{
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "accept")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		NextField: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Send:      key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "send")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Choose:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Close:     key.NewBinding(key.WithKeys("esc", "enter"), key.WithHelp("esc", "close")),
	}
}
