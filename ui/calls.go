package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/oauthdiag/oauthdiag/recorder"
)

// callEventMsg carries one live event from the recorder.
type callEventMsg struct {
	ev recorder.Event
	ok bool // false: the subscription ended
}

// waitForCallEvent is the bridge from the recorder to the UI: it is re-armed after every
// event, so the channel is read by exactly one command at a time.
func waitForCallEvent(ch <-chan recorder.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		return callEventMsg{ev: ev, ok: ok}
	}
}

// callsReloadedMsg replaces the list after the subscription fell behind.
type callsReloadedMsg struct{ calls []recorder.Summary }

func reloadCallsCmd(s *recorder.Session) tea.Cmd {
	return func() tea.Msg { return callsReloadedMsg{calls: s.Entries()} }
}

type callsMode int

const (
	callsList callsMode = iota
	callsDetail
	callsEdit
)

// callsModel is the Calls screen: every recorded call, filterable, virtualised so that only
// the rows on screen are ever rendered.
type callsModel struct {
	styles  *Styles
	keys    callsKeys
	forms   formKeys
	session *recorder.Session
	replay  replayBackend
	ctx     context.Context
	mask    masker

	all     []recorder.Summary
	hay     []string // lower-case search text of each call, built once on arrival
	index   map[string]int
	visible []int // positions in all that pass the filter, in order
	failed  int

	cursor int // index into visible
	offset int // first row on screen
	follow bool

	filter     textinput.Model
	filtering  bool
	query      string
	failedOnly bool

	// accessToken is the flow's current token, for replays whose own token is unknown.
	accessToken string

	mode   callsMode
	detail callDetail
	editor requestEditor

	width, height int
}

func newCallsModel(ctx context.Context, st *Styles, s *recorder.Session, rb replayBackend, mk masker) callsModel {
	fi := textinput.New()
	fi.Prompt = "/ "
	fi.Placeholder = "filter: method, URL, step, status or call id"
	fi.CharLimit = 200
	m := callsModel{
		styles:  st,
		keys:    newCallsKeys(),
		forms:   newFormKeys(),
		session: s,
		replay:  rb,
		ctx:     ctx,
		mask:    mk,
		index:   map[string]int{},
		follow:  true,
		filter:  fi,
		detail:  newCallDetail(st, mk),
	}
	m.updateKeys()
	return m
}

func (m callsModel) typing() bool { return m.filtering || m.mode == callsEdit }

func (m callsModel) setSize(w, h int) callsModel {
	m.width, m.height = w, h
	m.filter.SetWidth(max(10, w-4))
	m.detail = m.detail.setSize(w, h)
	if m.mode == callsEdit {
		m.editor = m.editor.setSize(w, h)
	}
	m = m.clamp()
	return m
}

func (m callsModel) setMask(mk masker) callsModel {
	m.mask = mk
	m.detail = m.detail.setMask(mk)
	return m
}

// listHeight is the number of rows on screen.
func (m callsModel) listHeight() int {
	h := m.height - 2 // title and column header
	if m.filtering {
		h--
	}
	return max(1, h)
}

func (m callsModel) Update(msg tea.Msg) (callsModel, tea.Cmd) {
	switch msg := msg.(type) {
	case callEventMsg:
		if !msg.ok {
			return m, nil
		}
		switch msg.ev.Type {
		case recorder.EventBegin, recorder.EventFinish:
			m = m.upsert(msg.ev.Call)
		case recorder.EventLost:
			return m, reloadCallsCmd(m.session)
		}
		return m, nil
	case callsReloadedMsg:
		return m.reload(msg.calls), nil
	case entryLoadedMsg:
		then := actionNone
		if msg.id == m.detail.id {
			then = m.detail.then
		}
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		m.updateKeys()
		if then == actionNone || m.detail.entry == nil {
			return m, cmd
		}
		m, next := m.act(then)
		return m, tea.Batch(cmd, next)
	case replayDoneMsg, curlMsg:
		var cmd tea.Cmd
		m.detail, cmd = m.detail.Update(msg)
		m.updateKeys()
		return m, cmd
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.PasteMsg:
		var cmd tea.Cmd
		switch {
		case m.filtering:
			m.filter, cmd = m.filter.Update(msg)
			if q := strings.ToLower(strings.TrimSpace(m.filter.Value())); q != m.query {
				m.query = q
				m = m.refilter()
			}
		case m.mode == callsEdit:
			m.editor, cmd, _, _ = m.editor.Update(msg)
		}
		return m, cmd
	}
	return m, nil
}

// upsert adds a call or replaces its pending summary with the finished one.
func (m callsModel) upsert(c recorder.Summary) callsModel {
	if i, ok := m.index[c.ID]; ok {
		was := m.all[i]
		if was.Failed {
			m.failed--
		}
		if c.Failed {
			m.failed++
		}
		wasHay := m.hay[i]
		m.all[i] = c
		m.hay[i] = haystack(c)
		if m.matches(was, wasHay) != m.matches(c, m.hay[i]) {
			m = m.refilter() // rare: a call finished into or out of the filter
		}
		return m
	}
	atEnd := len(m.visible) == 0 || m.cursor >= len(m.visible)-1
	m.index[c.ID] = len(m.all)
	m.all = append(m.all, c)
	m.hay = append(m.hay, haystack(c))
	if c.Failed {
		m.failed++
	}
	if m.matches(c, m.hay[len(m.hay)-1]) {
		m.visible = append(m.visible, len(m.all)-1)
		if m.follow && atEnd {
			m.cursor = len(m.visible) - 1
		}
	}
	return m.clamp()
}

// reload rebuilds the list from scratch. The selected call stays selected if it is still
// there, unless the list was following the newest call.
func (m callsModel) reload(calls []recorder.Summary) callsModel {
	sel, hadSel := m.selected()
	following := m.follow && (len(m.visible) == 0 || m.cursor >= len(m.visible)-1)
	m.all, m.hay, m.index, m.visible, m.failed = nil, nil, map[string]int{}, nil, 0
	m.cursor, m.offset = 0, 0
	for _, c := range calls {
		m = m.upsert(c)
	}
	if hadSel && !following {
		m = m.selectID(sel.ID)
	}
	return m.clamp()
}

func haystack(c recorder.Summary) string {
	status := strconv.Itoa(c.Status) + " " + statusClass(c.Status)
	if c.Error != "" {
		status = "error " + string(c.ErrorKind)
	}
	if c.Failed {
		status += " failed"
	}
	return strings.ToLower(c.ID + " " + c.Step + " " + c.Method + " " + status + " " + c.URL)
}

func (m callsModel) matches(c recorder.Summary, hay string) bool {
	if m.failedOnly && !c.Failed {
		return false
	}
	return m.query == "" || strings.Contains(hay, m.query)
}

// refilter rebuilds the visible rows, keeping the selected call selected if it still shows.
func (m callsModel) refilter() callsModel {
	keep := -1
	if m.cursor >= 0 && m.cursor < len(m.visible) {
		keep = m.visible[m.cursor]
	}
	m.visible = m.visible[:0]
	m.cursor = 0
	for i, c := range m.all {
		if m.matches(c, m.hay[i]) {
			if i == keep {
				m.cursor = len(m.visible)
			}
			m.visible = append(m.visible, i)
		}
	}
	if keep < 0 && len(m.visible) > 0 {
		m.cursor = len(m.visible) - 1
	}
	return m.clamp()
}

// clamp keeps the cursor on a row and the row on screen.
func (m callsModel) clamp() callsModel {
	n := len(m.visible)
	if m.cursor >= n {
		m.cursor = n - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
	h := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	if m.offset > max(0, n-h) {
		m.offset = max(0, n-h)
	}
	if m.offset < 0 {
		m.offset = 0
	}
	return m
}

func (m callsModel) selected() (recorder.Summary, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return recorder.Summary{}, false
	}
	return m.all[m.visible[m.cursor]], true
}

func (m callsModel) handleKey(msg tea.KeyPressMsg) (callsModel, tea.Cmd) {
	if m.filtering {
		switch {
		case key.Matches(msg, m.forms.Cancel):
			m.filtering = false
			m.filter.Blur()
			m.filter.Reset()
			m.query = ""
			m = m.refilter()
			m.updateKeys()
			return m, nil
		case key.Matches(msg, m.forms.Submit):
			m.filtering = false
			m.filter.Blur()
			m.updateKeys()
			return m, nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		if q := strings.ToLower(strings.TrimSpace(m.filter.Value())); q != m.query {
			m.query = q
			m = m.refilter()
		}
		return m, cmd
	}
	switch m.mode {
	case callsEdit:
		var cmd tea.Cmd
		var sent bool
		var edit replayEdit
		m.editor, cmd, sent, edit = m.editor.Update(msg)
		if m.editor.closed {
			m.mode = callsDetail
			m.updateKeys()
		}
		if sent {
			m.mode = callsDetail
			m.detail = m.detail.startReplay(true)
			m.updateKeys()
			return m, tea.Batch(cmd, replayCmd(m.ctx, m.replay, m.session, edit.id, edit.edit, true, m.accessToken))
		}
		return m, cmd
	case callsDetail:
		switch {
		case key.Matches(msg, m.keys.Back):
			m.detail.then = actionNone
			if m.detail.replay != nil || m.detail.replayErr != nil {
				m.detail = m.detail.clearReplay()
			} else {
				m.mode = callsList
			}
			m.updateKeys()
			return m, nil
		case key.Matches(msg, m.keys.Replay):
			return m.act(actionReplay)
		case key.Matches(msg, m.keys.Edit):
			return m.act(actionEdit)
		case key.Matches(msg, m.keys.Curl):
			return m.act(actionCurl)
		case key.Matches(msg, m.keys.Up):
			m.detail.view.ScrollUp(1)
		case key.Matches(msg, m.keys.Down):
			m.detail.view.ScrollDown(1)
		case key.Matches(msg, m.keys.PageUp):
			m.detail.view.PageUp()
		case key.Matches(msg, m.keys.PageDown):
			m.detail.view.PageDown()
		case key.Matches(msg, m.keys.Top):
			m.detail.view.GotoTop()
		case key.Matches(msg, m.keys.Bottom):
			m.detail.view.GotoBottom()
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor--
		m.follow = false
	case key.Matches(msg, m.keys.Down):
		m.cursor++
	case key.Matches(msg, m.keys.PageUp):
		m.cursor -= m.listHeight()
		m.follow = false
	case key.Matches(msg, m.keys.PageDown):
		m.cursor += m.listHeight()
	case key.Matches(msg, m.keys.Top):
		m.cursor = 0
		m.follow = false
	case key.Matches(msg, m.keys.Bottom):
		m.cursor = len(m.visible) - 1
	case key.Matches(msg, m.keys.Filter):
		m.filtering = true
		m.filter.SetValue(m.query)
		m.filter.CursorEnd()
		m.updateKeys()
		cmd := m.filter.Focus()
		return m.clamp(), cmd
	case key.Matches(msg, m.keys.FailedOnly):
		m.failedOnly = !m.failedOnly
		m = m.refilter()
		if m.failedOnly {
			return m, statusCmd("showing failed calls only (f shows all)", false)
		}
		return m, statusCmd("showing all calls", false)
	case key.Matches(msg, m.keys.Open):
		return m.open()
	case key.Matches(msg, m.keys.Replay):
		return m.openThen(actionReplay)
	case key.Matches(msg, m.keys.Edit):
		return m.openThen(actionEdit)
	case key.Matches(msg, m.keys.Curl):
		return m.openThen(actionCurl)
	}
	if m.cursor >= len(m.visible)-1 {
		m.follow = true
	}
	return m.clamp(), nil
}

// open shows the selected call's details; its bodies are read from disk in a command.
func (m callsModel) open() (callsModel, tea.Cmd) {
	c, ok := m.selected()
	if !ok {
		return m, statusCmd("no call selected", true)
	}
	m.mode = callsDetail
	m.detail = m.detail.load(c.ID)
	m.updateKeys()
	return m, loadEntryCmd(m.session, c.ID)
}

// openThen opens the selected call and does a once it has loaded.
func (m callsModel) openThen(a callAction) (callsModel, tea.Cmd) {
	m, cmd := m.open()
	if m.mode != callsDetail {
		return m, cmd
	}
	m, next := m.act(a)
	return m, tea.Batch(cmd, next)
}

// act does a with the open call, or, while the call is still loading, once it has loaded.
func (m callsModel) act(a callAction) (callsModel, tea.Cmd) {
	if m.detail.loading {
		m.detail.then = a
		return m, nil
	}
	if m.detail.entry == nil {
		return m, statusCmd("call "+m.detail.id+" could not be read from the session log", true)
	}
	switch a {
	case actionReplay:
		return m.startReplay()
	case actionEdit:
		return m.startEdit()
	case actionCurl:
		return m, m.detail.curlCmd()
	}
	return m, nil
}

// selectID moves the cursor to a call (the flow uses it to point at a failed call).
func (m callsModel) selectID(id string) callsModel {
	i, ok := m.index[id]
	if !ok {
		return m
	}
	for vi, p := range m.visible {
		if p == i {
			m.cursor = vi
			m.follow = false
			return m.clamp()
		}
	}
	return m
}

// startReplay resends the open call, which has loaded.
func (m callsModel) startReplay() (callsModel, tea.Cmd) {
	if m.detail.entry.Kind != recorder.KindHTTP {
		return m, statusCmd("a browser leg cannot be resent: it was only observed", true)
	}
	if m.detail.replaying {
		return m, statusCmd("a replay is already running", true)
	}
	m.detail = m.detail.startReplay(false)
	m.updateKeys()
	return m, replayCmd(m.ctx, m.replay, m.session, m.detail.id, recorder.Edit{}, false, m.accessToken)
}

// startEdit opens the editor on the open call, which has loaded.
func (m callsModel) startEdit() (callsModel, tea.Cmd) {
	if m.detail.entry.Kind != recorder.KindHTTP {
		return m, statusCmd("a browser leg cannot be resent: it was only observed", true)
	}
	m.editor = newRequestEditor(m.styles, *m.detail.entry, m.width, m.height)
	m.mode = callsEdit
	m.updateKeys()
	cmd := m.editor.focus()
	return m, cmd
}

func (m *callsModel) updateKeys() {
	list := m.mode == callsList && !m.filtering
	inDetail := m.mode == callsDetail
	m.keys.Filter.SetEnabled(list)
	m.keys.FailedOnly.SetEnabled(list)
	m.keys.Open.SetEnabled(list)
	m.keys.Top.SetEnabled(list || inDetail)
	m.keys.Bottom.SetEnabled(list || inDetail)
	m.keys.Back.SetEnabled(inDetail)
	sent := m.detail.entry == nil || m.detail.entry.Kind == recorder.KindHTTP // observed browser legs cannot be resent
	m.keys.Replay.SetEnabled(list || (inDetail && !m.detail.replaying && sent))
	m.keys.Edit.SetEnabled(list || (inDetail && sent))
	m.keys.Curl.SetEnabled(list || inDetail)
}

// ---- view ----

func (m callsModel) View(spin string) string {
	switch m.mode {
	case callsDetail:
		return m.detail.View(spin)
	case callsEdit:
		return m.editor.View()
	}
	return m.listView(spin)
}

const (
	colID     = 7
	colStep   = 13
	colMethod = 8
	colStatus = 7
	colDur    = 8
)

func (m callsModel) listView(spin string) string {
	st := m.styles
	w := m.width
	var b strings.Builder
	title := st.PaneTitle.Render("Calls") + st.Muted.Render(fmt.Sprintf("  %d recorded", len(m.all)))
	if m.failed > 0 {
		title += st.Calls.Failed.Render(fmt.Sprintf(" · %d failed", m.failed))
	}
	if m.query != "" || m.failedOnly {
		f := []string{}
		if m.query != "" {
			f = append(f, "“"+safe(m.query)+"”")
		}
		if m.failedOnly {
			f = append(f, "failed only")
		}
		title += st.Calls.Filter.Render(fmt.Sprintf(" · filter %s: %d shown", strings.Join(f, ", "), len(m.visible)))
	}
	b.WriteString(truncate(title, w))
	b.WriteByte('\n')
	if m.filtering {
		b.WriteString(truncate(m.filter.View(), w))
		b.WriteByte('\n')
	}
	header := "  " + fit("CALL", colID) + fit("STEP", colStep) + fit("METHOD", colMethod) + fit("STATUS", colStatus) + fit("TIME", colDur) + "URL"
	b.WriteString(st.Calls.Header.Render(fit(header, w)))
	h := m.listHeight()
	if len(m.visible) == 0 {
		b.WriteString("\n")
		if len(m.all) == 0 {
			b.WriteString(st.Muted.Render("  No calls yet: every request the flow makes shows up here as it happens."))
		} else {
			b.WriteString(st.Muted.Render("  No call matches the filter (esc clears it, f toggles failed only)."))
		}
		return b.String()
	}
	end := min(len(m.visible), m.offset+h)
	for vi := m.offset; vi < end; vi++ {
		b.WriteByte('\n')
		b.WriteString(m.row(m.all[m.visible[vi]], vi == m.cursor, w, spin))
	}
	return b.String()
}

// row renders one call in a fixed-width line; it is the only per-call rendering the list does.
func (m callsModel) row(c recorder.Summary, selected bool, w int, spin string) string {
	st := m.styles
	marker := "  "
	switch {
	case c.Pending:
		marker = spin + " "
	case c.Failed:
		marker = "✗ "
	case c.ReplayOf != "":
		marker = "↻ "
	}
	status := strconv.Itoa(c.Status)
	switch {
	case c.Pending:
		status = "…"
	case c.Kind == recorder.KindObserved:
		status = "seen"
	case c.Status == 0:
		status = "ERR"
	}
	method := c.Method
	if c.Kind == recorder.KindObserved {
		method = "BROWSER"
	}
	step := c.Step
	if c.ReplayOf != "" {
		step = "replay " + c.ReplayOf
	}
	url := safe(m.mask.unmask(c.URL))
	line := marker + fit(c.ID, colID) + fit(step, colStep) + fit(method, colMethod) + fit(status, colStatus) + fit(shortDuration(c.Duration), colDur) + url
	line = fit(line, w)
	switch {
	case selected:
		return st.Calls.Selected.Render(line)
	case c.Pending:
		return st.Calls.Pending.Render(line)
	case c.Failed:
		return st.Calls.Failed.Render(line)
	}
	return st.Calls.Row.Render(line)
}

func (m callsModel) shortHelp() []key.Binding {
	switch {
	case m.filtering:
		return []key.Binding{m.forms.Submit, m.forms.Cancel}
	case m.mode == callsEdit:
		return m.editor.shortHelp()
	case m.mode == callsDetail:
		return []key.Binding{m.keys.Replay, m.keys.Edit, m.keys.Curl, m.keys.Back}
	}
	return []key.Binding{m.keys.Open, m.keys.Filter, m.keys.FailedOnly, m.keys.Replay, m.keys.Edit, m.keys.Curl}
}

func (m callsModel) fullHelp() [][]key.Binding {
	if m.mode == callsEdit {
		return [][]key.Binding{m.editor.shortHelp()}
	}
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown, m.keys.Top, m.keys.Bottom},
		{m.keys.Open, m.keys.Back, m.keys.Filter, m.keys.FailedOnly, m.keys.Replay, m.keys.Edit, m.keys.Curl},
	}
}

// statusClass groups HTTP statuses for the filter ("5xx").
func statusClass(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code/100) + "xx"
}
