package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// entryLoadedMsg brings a call's full record, read from the session log, and its diagnosis.
type entryLoadedMsg struct {
	id        string
	entry     recorder.Entry
	diagnoses []inspector.Diagnosis
	err       error
}

// loadEntryCmd reads a call and diagnoses it in the context its session's flow stored.
func loadEntryCmd(s *recorder.Session, id string) tea.Cmd {
	return func() tea.Msg {
		e, err := s.Entry(id)
		msg := entryLoadedMsg{id: id, entry: e, err: err}
		if err == nil {
			msg.diagnoses = diagnoseEntry(e, bundle.Facts(s).Context(e.Started))
		}
		return msg
	}
}

// curlMsg is a call rendered as curl, to copy and show.
type curlMsg struct {
	id   string
	text string
	err  error
}

// replayBackend is what replays need: the client that sends them (its transport records
// into the session).
type replayBackend struct {
	client *http.Client
}

// replayDoneMsg is a finished replay (or edited resend).
type replayDoneMsg struct {
	id     string
	edited bool
	result *recorder.ReplayResult
	err    error
}

// replayCmd resends a call. When the call's own access token is no longer known (the
// session was loaded from disk), it is sent with freshToken, the one the flow holds now.
func replayCmd(ctx context.Context, rb replayBackend, s *recorder.Session, id string, edit recorder.Edit, edited bool, freshToken string) tea.Cmd {
	return func() tea.Msg {
		rp := &recorder.Replayer{Client: rb.client}
		res, err := rp.Replay(ctx, s, id, edit)
		var missing *recorder.MissingSecretsError
		if errors.As(err, &missing) && missing.NeedsAccessToken() && freshToken != "" {
			edit.FreshToken = freshToken
			res, err = rp.Replay(ctx, s, id, edit)
			if res != nil {
				res.Notes = append(res.Notes, "the recorded access token is no longer known: replayed with the current one")
			}
		}
		return replayDoneMsg{id: id, edited: edited, result: res, err: err}
	}
}

// replayEdit is the editor's request to resend a call with changes.
type replayEdit struct {
	id   string
	edit recorder.Edit
}

// callAction is what the user can do with a call; asked for from the list, it waits until
// the call has loaded.
type callAction int

const (
	actionNone callAction = iota
	actionReplay
	actionEdit
	actionCurl
)

// callDetail is one call in full: request, response, diagnosis, and replay results.
type callDetail struct {
	styles       *Styles
	mask         masker
	id           string
	loading      bool
	entry        *recorder.Entry
	err          error
	diagnoses    []inspector.Diagnosis
	curl         string
	then         callAction // run once the call has loaded
	replaying    bool
	replayEdited bool
	replay       *recorder.ReplayResult
	replayErr    error
	view         viewport.Model
	width        int
	height       int
}

func newCallDetail(st *Styles, mk masker) callDetail {
	v := viewport.New()
	v.KeyMap = viewport.KeyMap{}
	return callDetail{styles: st, mask: mk, view: v}
}

func (d callDetail) setSize(w, h int) callDetail {
	d.width, d.height = w, h
	d.view.SetWidth(w)
	d.view.SetHeight(max(1, h-2))
	d.render()
	return d
}

func (d callDetail) setMask(mk masker) callDetail {
	d.mask = mk
	d.render()
	return d
}

func (d callDetail) load(id string) callDetail {
	if d.id != id {
		d = callDetail{styles: d.styles, mask: d.mask, view: d.view, width: d.width, height: d.height}
	}
	d.id, d.loading, d.then = id, true, actionNone
	d.render()
	return d
}

func (d callDetail) startReplay(edited bool) callDetail {
	d.replaying, d.replayEdited = true, edited
	d.replay, d.replayErr = nil, nil
	d.render()
	return d
}

func (d callDetail) clearReplay() callDetail {
	d.replay, d.replayErr = nil, nil
	d.render()
	return d
}

func (d callDetail) curlCmd() tea.Cmd {
	if d.entry == nil {
		return statusCmd("the call is still loading", true)
	}
	e := *d.entry
	return func() tea.Msg { return curlMsg{id: e.ID, text: recorder.Curl(e)} }
}

func (d callDetail) Update(msg tea.Msg) (callDetail, tea.Cmd) {
	switch msg := msg.(type) {
	case entryLoadedMsg:
		if msg.id != d.id {
			return d, nil
		}
		d.loading, d.then = false, actionNone
		if msg.err != nil {
			d.err = msg.err
			d.render()
			return d, statusCmd("cannot read call "+msg.id+": "+msg.err.Error(), true)
		}
		e := msg.entry
		d.entry = &e
		d.diagnoses = msg.diagnoses
		d.render()
	case curlMsg:
		if msg.err != nil {
			return d, statusCmd("cannot render the call as curl: "+msg.err.Error(), true)
		}
		if msg.id == d.id {
			d.curl = msg.text
			d.render()
			d.view.GotoTop()
		}
		return d, tea.Batch(tea.SetClipboard(msg.text),
			statusCmd("call "+msg.id+" copied as curl (OSC 52 clipboard); secrets are shell variables", false))
	case replayDoneMsg:
		if msg.id != d.id {
			return d, nil
		}
		d.replaying = false
		d.replay, d.replayErr = msg.result, msg.err
		d.render()
		d.view.GotoTop()
		if msg.err != nil {
			return d, statusCmd("replay failed: "+msg.err.Error(), true)
		}
		last := msg.result.Last()
		return d, statusCmd(fmt.Sprintf("%s resent as %s: %d → %d", msg.id, last.ID, msg.result.Original.Status(), last.Status()), false)
	}
	return d, nil
}

func (d *callDetail) render() {
	d.view.SetContent(d.content(max(10, d.width)))
}

func (d callDetail) title() string {
	st := d.styles
	if d.entry == nil {
		return st.PaneTitle.Render("Call " + d.id)
	}
	e := d.entry
	t := st.PaneTitle.Render("Call "+e.ID) + st.Muted.Render(" · "+firstNonEmpty(e.Step, "no step")+" · ")
	if e.Kind == recorder.KindObserved {
		t += st.HTTP.Method.Render("BROWSER " + e.Leg)
	} else {
		t += st.HTTP.Method.Render(e.Request.Method) + " " + st.statusStyle(e.Status()).Render(statusText(e.Status())) + st.Muted.Render(" · "+shortDuration(e.Duration))
	}
	if e.ReplayOf != "" {
		t += st.Muted.Render(fmt.Sprintf(" · replay of %s, attempt %d", e.ReplayOf, e.Attempt))
	}
	return t
}

func statusText(code int) string {
	if code == 0 {
		return "no response"
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

func (d callDetail) content(w int) string {
	st := d.styles
	var b strings.Builder
	section := func(title string) { b.WriteString("\n" + st.PaneTitle.Render(title) + "\n") }
	switch {
	case d.loading:
		return st.Muted.Render("reading the call from the session log…")
	case d.err != nil:
		return st.Error.Render(safe(d.err.Error()))
	case d.entry == nil:
		return ""
	}
	e := *d.entry
	if d.replaying {
		b.WriteString(st.Step.Running.Render("resending… (429 and 5xx answers are retried with backoff)") + "\n")
	}
	if d.replayErr != nil {
		section("Replay failed")
		b.WriteString(wrapLines(st.Error.Render(safe(d.replayErr.Error())), w) + "\n")
	}
	if d.replay != nil {
		b.WriteString(renderComparison(st, d.replay, d.mask, d.replayEdited, w))
	}
	if d.curl != "" {
		section("As curl (copied to the clipboard)")
		b.WriteString(wrapLines(highlightPlaceholders(safe(d.curl), st.Redacted), w) + "\n")
	}
	if len(d.diagnoses) > 0 {
		section("Diagnosis")
		for i, dg := range d.diagnoses {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(renderDiagnosis(st, dg, d.mask, w) + "\n")
		}
	}
	t := d.mask.recorded(e.Exchange)
	if e.Kind == recorder.KindObserved {
		section("Browser leg (observed, not sent by oauthdiag)")
		b.WriteString(renderURLParams(st, d.mask.unmask(e.Request.URL), masker{red: d.mask.red, reveal: true}, w))
	} else {
		section("Request")
		b.WriteString(renderRequest(st, t, w))
		section("Response")
		b.WriteString(renderResponse(st, t, w))
	}
	if e.Note != "" {
		b.WriteString(st.Muted.Render("note: "+safe(e.Note)) + "\n")
	}
	return strings.TrimLeft(strings.TrimRight(b.String(), "\n"), "\n")
}

// renderComparison sets the original answer and the replay's side by side.
func renderComparison(st *Styles, r *recorder.ReplayResult, mk masker, edited bool, w int) string {
	var b strings.Builder
	what := "Replay"
	if edited {
		what = "Edited resend"
	}
	last := r.Last()
	b.WriteString(st.PaneTitle.Render(fmt.Sprintf("%s: %s → %s", what, r.Original.ID, last.ID)) + "\n")
	if len(r.Attempts) > 1 {
		var parts []string
		for _, a := range r.Attempts {
			parts = append(parts, fmt.Sprintf("%s %s", a.ID, statusText(a.Status())))
		}
		b.WriteString(wrapLines(st.Muted.Render(fmt.Sprintf("%d attempts: %s", len(r.Attempts), strings.Join(parts, ", "))), w) + "\n")
		for _, wt := range r.Waits {
			// The reason can quote the server's Retry-After.
			b.WriteString(st.Muted.Render(fmt.Sprintf("  waited %s after %s (%s)", shortDuration(wt.Delay), wt.After, safe(wt.Reason))) + "\n")
		}
	}
	for _, n := range r.Notes {
		b.WriteString(wrapLines(st.Muted.Render("• "+safe(n)), w) + "\n")
	}
	col := max(10, (w-3)/2)
	left := st.Muted.Render("original "+r.Original.ID) + "\n" + renderResponse(st, mk.recorded(r.Original.Exchange), col)
	right := st.Muted.Render("now "+last.ID) + "\n" + renderResponse(st, mk.recorded(last.Exchange), col)
	lh, rh := lipgloss.Height(left), lipgloss.Height(right)
	h := max(lh, rh)
	sep := strings.TrimRight(strings.Repeat(st.Muted.Render(" │ ")+"\n", h), "\n")
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, blockLines(left, col, h), sep, blockLines(right, col, h)) + "\n")
	c := r.Comparison
	if c.BodiesEqual {
		b.WriteString(st.Muted.Render("bodies are identical") + "\n")
	}
	return b.String()
}

func (d callDetail) View(spin string) string {
	st := d.styles
	title := truncate(d.title(), d.width)
	hint := "r replay · e edit & resend · c copy as curl · esc back"
	if d.entry != nil && d.entry.Kind == recorder.KindObserved {
		hint = "a browser leg oauthdiag only saw: it cannot be resent · c copies it · esc back"
	}
	if d.replay != nil || d.replayErr != nil {
		hint = "esc hides the comparison · r replays again · e edits"
	}
	if d.replaying {
		hint = spin + " resending…"
	}
	return title + "\n" + truncate(st.Muted.Render(hint), d.width) + "\n" + d.view.View()
}

// ---- the request editor ----

const (
	fieldMethod = iota
	fieldURL
	fieldHeaders
	fieldBody
	numFields
)

// requestEditor edits a recorded request before resending it. Redaction placeholders may
// stay in place: the replayer fills them with the secrets the session knows.
type requestEditor struct {
	styles   *Styles
	forms    formKeys
	orig     recorder.Entry
	method   textinput.Model
	url      textinput.Model
	headers  textarea.Model
	body     textarea.Model
	focused  int
	closed   bool
	errText  string
	width    int
	height   int
	origHdrs http.Header
}

func newRequestEditor(st *Styles, e recorder.Entry, w, h int) requestEditor {
	method := textinput.New()
	method.Prompt = ""
	method.SetValue(e.Request.Method)
	u := textinput.New()
	u.Prompt = ""
	u.CharLimit = 8192
	u.SetValue(e.Request.URL)
	hdr := textarea.New()
	hdr.ShowLineNumbers = false
	hdr.Prompt = ""
	var lines []string
	names := make([]string, 0, len(e.Request.Header))
	for k := range e.Request.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range e.Request.Header[k] {
			lines = append(lines, k+": "+v)
		}
	}
	hdr.SetValue(strings.Join(lines, "\n"))
	body := textarea.New()
	body.ShowLineNumbers = false
	body.Prompt = ""
	if utf8.Valid(e.Request.Body) {
		body.SetValue(string(e.Request.Body))
	}
	ed := requestEditor{styles: st, forms: newFormKeys(), orig: e, method: method, url: u, headers: hdr, body: body, origHdrs: e.Request.Header}
	return ed.setSize(w, h)
}

func (e requestEditor) setSize(w, h int) requestEditor {
	e.width, e.height = w, h
	e.method.SetWidth(max(8, w-12))
	e.url.SetWidth(max(8, w-12))
	rest := max(4, h-8)
	e.headers.SetWidth(max(8, w-2))
	e.headers.SetHeight(max(2, rest/2))
	e.body.SetWidth(max(8, w-2))
	e.body.SetHeight(max(2, rest-rest/2))
	return e
}

func (e *requestEditor) focus() tea.Cmd {
	e.method.Blur()
	e.url.Blur()
	e.headers.Blur()
	e.body.Blur()
	switch e.focused {
	case fieldMethod:
		return e.method.Focus()
	case fieldURL:
		return e.url.Focus()
	case fieldHeaders:
		return e.headers.Focus()
	}
	return e.body.Focus()
}

// binaryBody says the request's body is not text (it is stored as base64): the editor
// cannot show it, so it is resent unchanged.
func (e requestEditor) binaryBody() bool { return !utf8.Valid(e.orig.Request.Body) }

// moveFocus moves the focus by step fields, passing over a body that cannot be edited.
func (e requestEditor) moveFocus(step int) requestEditor {
	e.focused = (e.focused + step) % numFields
	if e.focused == fieldBody && e.binaryBody() {
		e.focused = (e.focused + step) % numFields
	}
	return e
}

// Update returns sent=true with the edit when the user sends the request.
func (e requestEditor) Update(msg tea.Msg) (requestEditor, tea.Cmd, bool, replayEdit) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, e.forms.Cancel):
			e.closed = true
			return e, nil, false, replayEdit{}
		case key.Matches(k, e.forms.Send):
			edit, err := e.edit()
			if err != nil {
				e.errText = err.Error()
				return e, nil, false, replayEdit{}
			}
			e.closed = true
			return e, nil, true, replayEdit{id: e.orig.ID, edit: edit}
		case key.Matches(k, e.forms.NextField):
			e = e.moveFocus(1)
			cmd := e.focus()
			return e, cmd, false, replayEdit{}
		case key.Matches(k, e.forms.PrevField):
			e = e.moveFocus(numFields - 1)
			cmd := e.focus()
			return e, cmd, false, replayEdit{}
		}
	}
	var cmd tea.Cmd
	switch e.focused {
	case fieldMethod:
		e.method, cmd = e.method.Update(msg)
	case fieldURL:
		e.url, cmd = e.url.Update(msg)
	case fieldHeaders:
		e.headers, cmd = e.headers.Update(msg)
	case fieldBody:
		e.body, cmd = e.body.Update(msg)
	}
	return e, cmd, false, replayEdit{}
}

// edit turns the form into a recorder.Edit; removed headers are sent as empty to delete them.
func (e requestEditor) edit() (recorder.Edit, error) {
	var ed recorder.Edit
	method := strings.ToUpper(strings.TrimSpace(e.method.Value()))
	if method == "" || strings.ContainsAny(method, " \t") {
		return ed, errors.New("the method must be one word, such as GET or POST")
	}
	if method != e.orig.Request.Method {
		ed.Method = method
	}
	u := strings.TrimSpace(e.url.Value())
	if pu, err := parseURL(u); err != nil || pu.Scheme == "" || pu.Host == "" {
		return ed, fmt.Errorf("the URL %q is not an absolute http(s) URL", u)
	}
	if u != e.orig.Request.URL {
		ed.URL = u
	}
	set := http.Header{}
	for i, line := range strings.Split(e.headers.Value(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return ed, fmt.Errorf("header line %d %q: write it as Name: value", i+1, line)
		}
		set.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	changed := http.Header{}
	for k, vs := range set {
		if strings.Join(vs, "\x00") != strings.Join(e.origHdrs.Values(k), "\x00") {
			changed[k] = vs
		}
	}
	for k := range e.origHdrs {
		if len(set.Values(k)) == 0 {
			changed[k] = []string{""}
		}
	}
	if len(changed) > 0 {
		ed.SetHeaders = changed
	}
	if b := e.body.Value(); !e.binaryBody() && b != string(e.orig.Request.Body) {
		ed.Body = &b
	}
	return ed, nil
}

func (e requestEditor) View() string {
	st := e.styles
	label := func(i int, name string) string {
		if e.focused == i {
			return st.Input.Focused.Render("▸ " + name)
		}
		return st.Input.Label.Render("  " + name)
	}
	var b strings.Builder
	b.WriteString(st.PaneTitle.Render("Edit and resend "+e.orig.ID) + st.Muted.Render("  · placeholders such as [redacted:…] are filled with the session's secrets") + "\n")
	b.WriteString(label(fieldMethod, fit("method", 8)) + " " + e.method.View() + "\n")
	b.WriteString(label(fieldURL, fit("URL", 8)) + " " + e.url.View() + "\n")
	b.WriteString(label(fieldHeaders, "headers (Name: value, one a line)") + "\n" + e.headers.View() + "\n")
	switch {
	case e.binaryBody() && e.orig.Request.Truncated:
		b.WriteString(label(fieldBody, fmt.Sprintf("body: %d bytes of binary data, only partly recorded: it cannot be resent", e.orig.Request.BodySize)) + "\n")
	case e.binaryBody():
		b.WriteString(label(fieldBody, fmt.Sprintf("body: %d bytes of binary data, resent unchanged", e.orig.Request.BodySize)) + "\n")
	default:
		b.WriteString(label(fieldBody, "body") + "\n" + e.body.View() + "\n")
	}
	if e.errText != "" {
		b.WriteString(st.Error.Render(e.errText) + "\n")
	}
	b.WriteString(st.Muted.Render("ctrl+s sends · tab next field · esc cancels"))
	return blockLines(b.String(), e.width, e.height)
}

func (e requestEditor) shortHelp() []key.Binding {
	return []key.Binding{e.forms.Send, e.forms.NextField, e.forms.PrevField, e.forms.Cancel}
}
