package browser

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parsePage extracts forms, links, a meta refresh and the visible text from a response body. Non-HTML
// bodies (a text/plain or JSON error) only give text.
//
// It reads the token stream rather than the parse tree because controls belong to the form that was
// open when their tag was read, as in a browser: the tree puts a <form> written inside a <table>
// beside its controls, not around them.
// PageSummary reads an HTML page the way a person glancing at it would: its title and its visible
// text, whitespace collapsed (scripts, styles and markup left out). Error pages say what went
// wrong this way.
func PageSummary(body []byte, contentType string) (title, text string) {
	p := parsePage(body, contentType, &url.URL{})
	return p.title, p.text
}

func parsePage(body []byte, contentType string, docURL *url.URL) *htmlPage {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if !strings.Contains(mediaType, "html") && (mediaType != "" || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))) {
		return &htmlPage{text: collapseSpace(string(body))}
	}
	b := &pageBuilder{page: &htmlPage{}, docURL: docURL, base: docURL}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken { // io.EOF: the body is in memory, so nothing else can fail
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			b.text(tok.Data)
		case html.StartTagToken, html.SelfClosingTagToken:
			b.startTag(tok)
			if tok.DataAtom == atom.Noscript {
				// Without JavaScript a browser renders <noscript> content as markup (a form_post page's
				// submit button is often in one), while the tokenizer alone would take it as text.
				z.NextIsNotRawText()
			}
		case html.EndTagToken:
			b.endTag(tok)
		}
	}
	return b.finish()
}

// pageBuilder turns the token stream into an htmlPage, keeping what is open between tokens.
type pageBuilder struct {
	page         *htmlPage
	docURL, base *url.URL
	visible      strings.Builder
	form         *htmlForm     // the open form, which owns the controls that start inside it
	orphans      []formControl // controls outside their form, tied to it by form="id"
	raw          atom.Atom     // the raw-text element (script, title, textarea...) whose content the next text token is
	inert        int           // depth inside <template>, whose content is not rendered
	button       *openControl  // open <button>, collecting its text
	sel          *openControl  // open <select>
	textarea     *openControl  // open <textarea>, collecting its value
	link         *htmlLink     // open <a>, collecting its text
	option       *string       // open <option> without a value attribute: its text is the value
	optSelected  bool          // the open option is marked selected
	selFirst     string        // first option's value, used when none is selected
	selHasOption bool
}

// openControl is a control whose end tag has not come yet, with the form it belongs to.
type openControl struct {
	formControl
	form *htmlForm
}

func (b *pageBuilder) resolve(ref string) *url.URL {
	u, err := b.base.Parse(strings.TrimSpace(ref))
	if err != nil {
		return nil
	}
	return u
}

func (b *pageBuilder) text(s string) {
	if b.inert > 0 {
		return
	}
	switch b.raw {
	case atom.Textarea:
		if b.textarea != nil {
			b.textarea.value += s
		}
		return
	case atom.Title:
		b.page.title += s
		return // the window's title, not the page's text
	case atom.Script, atom.Style, atom.Iframe, atom.Noembed, atom.Noframes:
		return // not shown on the page
	}
	b.visible.WriteString(s)
	for _, open := range []*string{b.buttonText(), b.linkText(), b.option} {
		if open != nil {
			*open += s
		}
	}
}

func (b *pageBuilder) buttonText() *string {
	if b.button == nil {
		return nil
	}
	return &b.button.text
}

func (b *pageBuilder) linkText() *string {
	if b.link == nil {
		return nil
	}
	return &b.link.text
}

func (b *pageBuilder) startTag(t html.Token) {
	b.raw = 0
	if !isInline(t.Data) {
		b.visible.WriteByte(' ')
	}
	if t.DataAtom == atom.Template {
		if t.Type == html.StartTagToken {
			b.inert++
		}
		return
	}
	if b.inert > 0 {
		return
	}
	a := attrMap(t.Attr)
	_, disabled := a["disabled"]
	switch t.DataAtom {
	case atom.Iframe, atom.Noembed, atom.Noframes, atom.Plaintext, atom.Script, atom.Style, atom.Title, atom.Xmp:
		b.raw = t.DataAtom
	case atom.Base:
		if href, ok := a["href"]; ok {
			if u := b.resolve(href); u != nil {
				b.base = u
			}
		}
	case atom.Meta:
		if strings.EqualFold(a["http-equiv"], "refresh") && b.page.refresh == nil {
			b.page.refresh, b.page.refreshDelay = refreshTarget(a["content"], b.resolve)
		}
	case atom.Form:
		if b.form != nil {
			return // a browser ignores a form inside a form: its controls stay with the outer one
		}
		method := http.MethodGet
		if strings.EqualFold(strings.TrimSpace(a["method"]), "post") {
			method = http.MethodPost
		}
		action := b.docURL
		if v := strings.TrimSpace(a["action"]); v != "" {
			if u := b.resolve(v); u != nil {
				action = u
			}
		}
		b.form = &htmlForm{id: a["id"], action: action, method: method}
		b.page.forms = append(b.page.forms, b.form)
	case atom.Input:
		_, checked := a["checked"]
		b.addControl(formControl{
			tag: "input", typ: strings.ToLower(strings.TrimSpace(a["type"])), name: a["name"], value: a["value"],
			id: a["id"], autocomplete: strings.ToLower(a["autocomplete"]), checked: checked, disabled: disabled,
			owner: a["form"],
		}, b.form)
	case atom.Button:
		b.closeButton() // a button start tag ends the open button, as in a browser
		typ := strings.ToLower(strings.TrimSpace(a["type"]))
		if typ == "" {
			typ = "submit"
		}
		b.button = &openControl{form: b.form, formControl: formControl{
			tag: "button", typ: typ, name: a["name"], value: a["value"], id: a["id"], disabled: disabled, owner: a["form"],
		}}
	case atom.Textarea:
		b.raw = t.DataAtom
		b.closeTextarea()
		b.textarea = &openControl{form: b.form, formControl: formControl{
			tag: "textarea", typ: "textarea", name: a["name"], disabled: disabled, owner: a["form"],
		}}
	case atom.Select:
		if b.sel != nil {
			b.closeSelect() // a browser takes a select inside a select as the end of the first
			return
		}
		b.sel = &openControl{form: b.form, formControl: formControl{
			tag: "select", typ: "select", name: a["name"], disabled: disabled, owner: a["form"],
		}}
		b.selFirst, b.selHasOption = "", false
	case atom.Option:
		b.closeOption()
		_, b.optSelected = a["selected"]
		if v, ok := a["value"]; ok {
			b.chooseOption(v, b.optSelected)
		} else {
			b.option = new(string)
		}
	case atom.A:
		b.closeLink() // links do not nest: a new one ends the open one
		if href, ok := a["href"]; ok && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(href)), "javascript:") {
			if u := b.resolve(href); u != nil {
				b.link = &htmlLink{href: u}
			}
		}
	}
}

func (b *pageBuilder) endTag(t html.Token) {
	b.raw = 0
	if !isInline(t.Data) {
		b.visible.WriteByte(' ')
	}
	if t.DataAtom == atom.Template {
		if b.inert > 0 {
			b.inert--
		}
		return
	}
	if b.inert > 0 {
		return
	}
	switch t.DataAtom {
	case atom.Form:
		b.form = nil
	case atom.Button:
		b.closeButton()
	case atom.Textarea:
		b.closeTextarea()
	case atom.A:
		b.closeLink()
	case atom.Option:
		b.closeOption()
	case atom.Select:
		b.closeSelect()
	}
}

// finish closes what the page left open, as a browser does at the end of the document, and ties
// the controls with a form attribute to their forms.
func (b *pageBuilder) finish() *htmlPage {
	b.closeTextarea()
	b.closeButton()
	b.closeSelect()
	b.closeLink()
	for _, c := range b.orphans {
		for _, f := range b.page.forms {
			if f.id == c.owner {
				f.controls = append(f.controls, c)
				break
			}
		}
	}
	b.page.text = collapseSpace(b.visible.String())
	b.page.title = collapseSpace(b.page.title)
	return b.page
}

// addControl gives c to form, or keeps it for the form its form attribute names.
func (b *pageBuilder) addControl(c formControl, form *htmlForm) {
	switch {
	case c.owner != "":
		b.orphans = append(b.orphans, c)
	case form != nil:
		form.controls = append(form.controls, c)
	}
}

func (b *pageBuilder) closeButton() {
	if b.button != nil {
		b.button.text = collapseSpace(b.button.text)
		b.addControl(b.button.formControl, b.button.form)
		b.button = nil
	}
}

func (b *pageBuilder) closeTextarea() {
	if b.textarea != nil {
		// As in a browser, a newline right after <textarea> is not part of the value.
		b.textarea.value = strings.TrimPrefix(b.textarea.value, "\n")
		b.addControl(b.textarea.formControl, b.textarea.form)
		b.textarea = nil
	}
}

func (b *pageBuilder) closeLink() {
	if b.link != nil {
		b.link.text = collapseSpace(b.link.text)
		b.page.links = append(b.page.links, *b.link)
		b.link = nil
	}
}

func (b *pageBuilder) chooseOption(v string, selected bool) {
	if b.sel == nil {
		return
	}
	if !b.selHasOption {
		b.selFirst, b.selHasOption = v, true
	}
	if selected {
		b.sel.value, b.sel.checked = v, true
	}
}

func (b *pageBuilder) closeOption() {
	if b.option != nil {
		b.chooseOption(collapseSpace(*b.option), b.optSelected)
	}
	b.option = nil
}

func (b *pageBuilder) closeSelect() {
	b.closeOption()
	if b.sel != nil {
		if !b.sel.checked && b.selHasOption {
			b.sel.value = b.selFirst
		}
		b.addControl(b.sel.formControl, b.sel.form)
		b.sel = nil
	}
}

// attrMap indexes a tag's attributes by their lower-case name; the first of duplicates wins.
func attrMap(attrs []html.Attribute) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		if _, dup := m[a.Key]; !dup {
			m[a.Key] = a.Val
		}
	}
	return m
}

// refreshTarget parses a meta refresh content value such as `0; url='/next'` into its URL and delay.
func refreshTarget(content string, resolve func(string) *url.URL) (*url.URL, float64) {
	delay, rest, ok := strings.Cut(content, ";")
	if !ok {
		delay, rest, ok = strings.Cut(content, ",")
		if !ok {
			return nil, 0
		}
	}
	seconds, err := strconv.ParseFloat(strings.TrimSpace(delay), 64)
	if err != nil || seconds < 0 {
		return nil, 0
	}
	rest = strings.TrimSpace(rest)
	if len(rest) >= 4 && strings.EqualFold(rest[:3], "url") {
		rest = strings.TrimSpace(rest[3:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "="))
	}
	rest = strings.Trim(rest, `'"`)
	if rest == "" {
		return nil, 0
	}
	return resolve(rest), seconds
}

// isInline reports whether an element keeps the text around it in the same word.
func isInline(tag string) bool {
	switch tag {
	case "a", "abbr", "b", "bdi", "cite", "code", "em", "i", "kbd", "label", "mark", "q", "s", "small",
		"span", "strong", "sub", "sup", "time", "u", "var":
		return true
	}
	return false
}
