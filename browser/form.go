package browser

import (
	"net/http"
	"net/url"
	"strings"
)

// htmlPage is what the browser can act on in a response: its forms, links, meta refresh and text.
type htmlPage struct {
	forms        []*htmlForm
	links        []htmlLink
	refresh      *url.URL // <meta http-equiv=refresh content="0;url=...">
	refreshDelay float64  // its delay in seconds
	text         string   // visible text, whitespace collapsed
	title        string   // the <title>, whitespace collapsed
}

// htmlLink is an <a href>, with its text to tell a cancel link from others.
type htmlLink struct {
	href *url.URL
	text string
}

// htmlForm is a <form> and the controls that belong to it, in document order.
type htmlForm struct {
	id       string
	action   *url.URL
	method   string // GET or POST
	controls []formControl
}

// formControl is an <input>, <button>, <select> or <textarea>.
type formControl struct {
	tag          string // input, button, select, textarea
	typ          string // lower-case type; "submit" for a <button> without one
	name, value  string
	id, text     string // text: a button's content
	autocomplete string
	owner        string // the form attribute: id of the form this control belongs to, when outside it
	checked      bool   // a checked checkbox or radio; for a select, that an option was marked selected
	disabled     bool
}

func (p *htmlPage) hasPasswordForm() bool {
	for _, f := range p.forms {
		if f.hasPassword() {
			return true
		}
	}
	return false
}

func (f *htmlForm) hasPassword() bool {
	for i := range f.controls {
		if f.controls[i].isPassword() {
			return true
		}
	}
	return false
}

func (c *formControl) isSubmitter() bool {
	return (c.tag == "button" || c.tag == "input") && (c.typ == "submit" || c.typ == "image")
}

// caption is what a user sees on a button.
func (c *formControl) caption() string {
	for _, v := range []string{c.text, c.value, c.name} {
		if v != "" {
			return v
		}
	}
	return "(unlabelled)"
}

func (c *formControl) label() string {
	return strings.Join([]string{c.name, c.value, c.text, c.id}, " ")
}

// isUsernameName reports whether a text field's name is one login forms use for the user name.
func isUsernameName(name string) bool {
	switch strings.ToLower(name) {
	case "username", "user", "login", "email", "session_key", "user_name", "uname", "identifier", "loginname",
		"login_name", "j_username", "email_address", "loginfmt":
		return true
	}
	return false
}

// isPasswordName reports whether a text field's name is one login forms use for the password.
func isPasswordName(name string) bool {
	switch strings.ToLower(name) {
	case "password", "passwd", "pwd", "pass", "session_password", "j_password", "user_password":
		return true
	}
	return false
}

func (c *formControl) isPassword() bool {
	if c.tag != "input" {
		return false
	}
	return c.typ == "password" || c.autocomplete == "current-password" ||
		(isTextInput(c.typ) && isPasswordName(c.name))
}

func (c *formControl) isUsername() bool {
	if c.tag != "input" || !isTextInput(c.typ) {
		return false
	}
	return c.autocomplete == "username" || c.autocomplete == "email" || isUsernameName(c.name)
}

func isTextInput(typ string) bool {
	switch typ {
	case "", "text", "email", "tel", "search":
		return true
	}
	return false
}

// fill returns the name/value pairs a browser submits for the form with button btn, in document order,
// the button last.
func (f *htmlForm) fill(b *Headless, btn *formControl) [][2]string {
	var out [][2]string
	for i := range f.controls {
		c := &f.controls[i]
		if c.name == "" || c.disabled || c.isSubmitter() {
			continue
		}
		switch {
		case c.typ == "reset" || c.typ == "button" || c.typ == "file":
			continue
		case c.typ == "checkbox" || c.typ == "radio":
			if c.checked {
				v := c.value
				if v == "" {
					v = "on"
				}
				out = append(out, [2]string{c.name, v})
			}
		case c.isPassword():
			out = append(out, [2]string{c.name, b.Password})
		case c.isUsername() && b.Username != "":
			out = append(out, [2]string{c.name, b.Username})
		default:
			out = append(out, [2]string{c.name, c.value})
		}
	}
	if btn != nil && btn.name != "" {
		if btn.typ == "image" {
			out = append(out, [2]string{btn.name + ".x", "0"}, [2]string{btn.name + ".y", "0"})
		} else {
			out = append(out, [2]string{btn.name, btn.value})
		}
	}
	return out
}

// allowButton picks the submit button a consenting user would press: the first one that reads like
// allow/continue/sign in, else the first one that does not read like deny/cancel, else none (implicit
// submission).
func (f *htmlForm) allowButton() *formControl {
	var fallback *formControl
	for i := range f.controls {
		c := &f.controls[i]
		if !c.isSubmitter() || c.disabled || looksLikeDeny(c.label()) {
			continue
		}
		if looksLikeAllow(c.label()) {
			return c
		}
		if fallback == nil {
			fallback = c
		}
	}
	return fallback
}

// chooseForm picks the form a user would fill in: login forms first, then forms with an allow button,
// POST before GET; forms aimed at cancel/logout URLs and forms offering only deny buttons are skipped.
func chooseForm(forms []*htmlForm) *htmlForm {
	var best *htmlForm
	bestScore := -1
	for _, f := range forms {
		if looksLikeDeny(f.action.Path) || strings.Contains(strings.ToLower(f.action.Path), "logout") {
			continue
		}
		score := 0
		submitters, allowed := 0, false
		for i := range f.controls {
			c := &f.controls[i]
			switch {
			case c.isPassword():
				score += 4
			case c.isUsername():
				score += 2
			}
			if c.isSubmitter() {
				submitters++
				if !looksLikeDeny(c.label()) {
					allowed = true
					if looksLikeAllow(c.label()) {
						score += 2
					}
				}
			}
		}
		if submitters > 0 && !allowed {
			continue
		}
		if f.method == http.MethodPost {
			score++
		}
		if score > bestScore {
			best, bestScore = f, score
		}
	}
	return best
}

// looksLikeDeny reports whether a control, form action or link reads like refusing consent.
func looksLikeDeny(s string) bool {
	return containsAnyFold(s, "deny", "cancel", "abort", "reject", "decline", "refuse", "disallow", "not now", "don't allow")
}

// looksLikeAllow reports whether a control reads like going ahead (consenting, signing in).
func looksLikeAllow(s string) bool {
	return !looksLikeDeny(s) && containsAnyFold(s,
		"allow", "continue", "sign in", "sign-in", "signin", "log in", "log-in", "login", "accept", "consent",
		"authori", "approve", "confirm", "grant", "submit", "proceed", "next", "yes")
}

func containsAnyFold(s string, words ...string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
