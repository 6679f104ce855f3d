package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Scenario is one fault the demo provider can inject.
type Scenario struct {
	Name        string
	Description string
	// FailingStep is the flow step (oauthflow vocabulary) where the fault shows; "" for none.
	FailingStep string
}

// ScenarioSwitcher switches the demo provider's scenario at run time. main adapts the
// embedded sandbox to it; outside the demo there is none.
type ScenarioSwitcher interface {
	Scenarios() []Scenario
	Current() string
	SetScenario(name string) error
}

// scenarioSetMsg reports a scenario switch.
type scenarioSetMsg struct {
	scenario Scenario
	err      error
}

func setScenarioCmd(sw ScenarioSwitcher, sc Scenario) tea.Cmd {
	return func() tea.Msg { return scenarioSetMsg{scenario: sc, err: sw.SetScenario(sc.Name)} }
}

// scenarioPicker is the demo's scenario menu.
type scenarioPicker struct {
	styles  *Styles
	keys    formKeys
	sw      ScenarioSwitcher
	list    []Scenario
	cursor  int
	current string
	open    bool
}

func newScenarioPicker(st *Styles, sw ScenarioSwitcher) scenarioPicker {
	p := scenarioPicker{styles: st, keys: newFormKeys(), sw: sw}
	if sw != nil {
		p.list = sw.Scenarios()
		p.current = sw.Current()
	}
	return p
}

func (p scenarioPicker) show() scenarioPicker {
	p.open = true
	for i, s := range p.list {
		if s.Name == p.current {
			p.cursor = i
		}
	}
	return p
}

func (p scenarioPicker) Update(msg tea.Msg) (scenarioPicker, tea.Cmd) {
	switch msg := msg.(type) {
	case scenarioSetMsg:
		if msg.err != nil {
			return p, statusCmd("cannot switch the scenario: "+msg.err.Error(), true)
		}
		p.current = msg.scenario.Name
		text := "scenario " + msg.scenario.Name + ": " + msg.scenario.Description
		if msg.scenario.FailingStep != "" {
			text += " (shows at " + msg.scenario.FailingStep + "; N starts a new flow)"
		}
		return p, statusCmd(text, false)
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, p.keys.Cancel):
			p.open = false
		case key.Matches(msg, p.keys.Up):
			if p.cursor > 0 {
				p.cursor--
			}
		case key.Matches(msg, p.keys.Down):
			if p.cursor < len(p.list)-1 {
				p.cursor++
			}
		case key.Matches(msg, p.keys.Choose):
			p.open = false
			if p.cursor < len(p.list) {
				return p, setScenarioCmd(p.sw, p.list[p.cursor])
			}
		}
	}
	return p, nil
}

func (p scenarioPicker) View(w, h int) string {
	st := p.styles
	var b strings.Builder
	b.WriteString(st.PaneTitle.Render("Scenario") + st.Muted.Render("  the fault the demo provider injects from now on") + "\n\n")
	for i, s := range p.list {
		mark := "  "
		if s.Name == p.current {
			mark = st.Success.Render("● ")
		}
		line := fmt.Sprintf("%-18s %s", s.Name, s.Description)
		if s.FailingStep != "" {
			line += st.Muted.Render("  → fails at " + s.FailingStep)
		}
		line = truncate(line, max(10, w-4))
		if i == p.cursor {
			line = st.Step.Selected.Render(line)
		}
		b.WriteString(mark + line + "\n")
	}
	b.WriteString("\n" + st.Muted.Render("enter chooses · esc closes · then N starts a new flow under it"))
	return blockLines(b.String(), w, h)
}

func (p scenarioPicker) shortHelp() []key.Binding {
	return []key.Binding{p.keys.Choose, p.keys.Up, p.keys.Down, p.keys.Cancel}
}
