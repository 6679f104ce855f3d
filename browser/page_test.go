package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// pageURL is where the pages of these tests are served from.
const pageURL = "https://as.test/login?client_id=c"

// formSummary renders a form as `METHOD /path?query | type name=value "text" | ...`, for comparing
// page models at a glance.
func formSummary(f *htmlForm) string {
	parts := []string{f.method + " " + f.action.RequestURI()}
	for _, c := range f.controls {
		typ := c.typ
		if typ == "" {
			typ = c.tag // an <input> without a type
		}
		s := typ + " " + c.name + "=" + c.value
		if c.text != "" {
			s += fmt.Sprintf(" %q", c.text)
		}
		if c.disabled {
			s += " disabled"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestParsePage: markup the hand-written tokenizer handled specially is read as a browser reads it.
func TestParsePage(t *testing.T) {
	cases := []struct {
		name      string
		html      string
		forms     []string // formSummary of each form, in order
		links     []string // "href text"
		text      string   // the visible text, when it matters
		notInText []string
	}{
		{
			name:  "unquoted attributes",
			html:  `<form method=post action=/login?step=1><input type=hidden name=csrf value=a/b+c=><input name=user value=><button name=go value=1>Go</button></form>`,
			forms: []string{`POST /login?step=1 | hidden csrf=a/b+c= | input user= | submit go=1 "Go"`},
		},
		{
			name:  "upper-case tags and attributes",
			html:  `<HTML><BODY><FORM METHOD="POST" ACTION="/Login"><INPUT TYPE="PASSWORD" NAME="PW" AUTOCOMPLETE="Current-Password"><BUTTON TYPE="SUBMIT">Sign In</BUTTON></FORM></BODY></HTML>`,
			forms: []string{`POST /Login | password PW= | submit = "Sign In"`},
			text:  "Sign In",
		},
		{
			name: "comments containing tags",
			html: `<!-- <form action=/evil><input name=x> --><form action=/real><!-- <input name=hidden> --><input name=y></form>` +
				`<!----><p>shown</p><!-- never closed <form action=/evil2>`,
			forms:     []string{`GET /real | input y=`},
			text:      "shown",
			notInText: []string{"evil"},
		},
		{
			name: "script containing a form",
			html: `<script>var f = '<form action="/evil"><input name=x></form>'; if (a < b && c > d) { document.write("</p>") }</script>` +
				`<SCRIPT type="text/javascript">document.write('<form action="/evil2">')</SCRIPT><style>form{color:red}</style>` +
				`<form method=post action=/real><input type=hidden name=k value=v></form><p>after</p>`,
			forms:     []string{`POST /real | hidden k=v`},
			text:      "after",
			notInText: []string{"evil", "document", "color"},
		},
		{
			name:  "an unterminated tag at the end is dropped, as a browser drops it",
			html:  `<form method=post action=/login><input type=hidden name=a value=1><input name=b value="2`,
			forms: []string{`POST /login | hidden a=1`},
		},
		{
			name:  "an unterminated form tag opens no form",
			html:  `<p>Sign in</p><form action=/x`,
			text:  "Sign in",
			forms: nil,
		},
		{
			name:  "a button left open at the end of the page still counts",
			html:  `<form method=post action=/consent><input type=hidden name=t value=1><button name=action value=allow>Allow`,
			forms: []string{`POST /consent | hidden t=1 | submit action=allow "Allow"`},
		},
		{
			name: "character references in hidden values follow the attribute rules",
			html: `<form method=post action=/cb><input type=hidden name=amp value="a&amp;b">` +
				`<input type=hidden name=mix value="&lt;&gt;&quot;&#39;&#x2F;&#43;caf&eacute;">` +
				`<input type=hidden name=url value="/cb?x=1&para=2&amp;copy=3">` +
				`<input type=hidden name=bare value=&amp;unquoted></form>`,
			forms: []string{`POST /cb | hidden amp=a&b | hidden mix=<>"'/+café | hidden url=/cb?x=1&para=2&copy=3 | hidden bare=&unquoted`},
		},
		{
			name: "a form with its buttons inside a table",
			html: `<table><form method=post action=/consent><tr><td>Scopes: openid</td></tr><tr><td><input type=hidden name=t value=1></td>` +
				`<td><button name=action value=deny>Deny</button><button name=action value=allow>Allow access</button></td></tr></form></table>`,
			forms: []string{`POST /consent | hidden t=1 | submit action=deny "Deny" | submit action=allow "Allow access"`},
			text:  "Scopes: openid Deny Allow access",
		},
		{
			name:  "noscript content is markup, as for a browser without JavaScript",
			html:  `<form method=post action=/cb><input type=hidden name=code value=c><noscript><button>Continue</button></noscript></form>`,
			forms: []string{`POST /cb | hidden code=c | submit = "Continue"`},
			text:  "Continue",
		},
		{
			name:  "a form inside a form is ignored; the inner end tag ends the outer form",
			html:  `<form action=/outer><input name=a><form action=/inner><input name=b></form><input name=c></form>`,
			forms: []string{`GET /outer | input a= | input b=`},
		},
		{
			name:  "a control belongs to the form open at its start tag",
			html:  `<form method=post action=/f><button name=b value=1>Go</form></button><form action=/g></form>`,
			forms: []string{`POST /f | submit b=1 "Go"`, `GET /g`},
		},
		{
			name:  "a button start tag ends the open button",
			html:  `<form method=post action=/f><button name=a value=allow>Allow<button name=a value=deny>Deny</button></form>`,
			forms: []string{`POST /f | submit a=allow "Allow" | submit a=deny "Deny"`},
		},
		{
			name: "textarea, select and disabled controls",
			html: "<form method=post action=/f><textarea name=t>\n<b>bold</b> &amp; more</textarea>" +
				`<select name=s><option>One<option selected>Two</select><select name=first><option value=x>X<option value=y>Y</select>` +
				`<input name=off value=z disabled></form>`,
			forms:     []string{`POST /f | textarea t=<b>bold</b> & more | select s=Two | select first=x | input off=z disabled`},
			notInText: []string{"bold"},
		},
		{
			name:  "template content is inert, even nested",
			html:  `<template><form action=/t1></form><template><a href=/t2>x</a></template><form action=/t3></form></template><form action=/r></form>`,
			forms: []string{`GET /r`},
		},
		{
			name:  "form attribute ties a control outside the form to it",
			html:  `<input type=hidden form=f name=early value=1><form id=f method=post action=/f></form><button form=f name=go value=y>Go</button>`,
			forms: []string{`POST /f | hidden early=1 | submit go=y "Go"`},
		},
		{
			name:  "links: javascript links skipped, an unclosed link still counts, base href applies",
			html:  `<a href="javascript:void(0)">js</a><a href=/abort>[ Cancel ]</a><base href="https://other.test/dir/"><a href=next>Next`,
			links: []string{"https://as.test/abort [ Cancel ]", "https://other.test/dir/next Next"},
		},
		{
			name: "visible text leaves out title, script and style, and keeps inline words together",
			html: "<html><head><title>Title</title><style>p{}</style></head><body><h1>Almost</h1><p>th<b>ere</b> &amp;\n   done&nbsp;!</p></body></html>",
			text: "Almost there & done !",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := parsePage([]byte(tc.html), "text/html; charset=utf-8", mustURL(t, pageURL))
			var forms []string
			for _, f := range p.forms {
				forms = append(forms, formSummary(f))
			}
			if strings.Join(forms, "\n") != strings.Join(tc.forms, "\n") {
				t.Errorf("forms:\n%s\nwant:\n%s", strings.Join(forms, "\n"), strings.Join(tc.forms, "\n"))
			}
			if tc.links != nil {
				var links []string
				for _, l := range p.links {
					links = append(links, l.href.String()+" "+l.text)
				}
				if strings.Join(links, "\n") != strings.Join(tc.links, "\n") {
					t.Errorf("links:\n%s\nwant:\n%s", strings.Join(links, "\n"), strings.Join(tc.links, "\n"))
				}
			}
			if tc.text != "" && p.text != tc.text {
				t.Errorf("text = %q, want %q", p.text, tc.text)
			}
			for _, s := range tc.notInText {
				if strings.Contains(p.text, s) {
					t.Errorf("text %q shows %q, which is not visible on the page", p.text, s)
				}
			}
		})
	}
}

// TestTableFormIsSubmitted: the consent form written inside a table is submitted with its hidden
// field and its allow button, not its deny button.
func TestTableFormIsSubmitted(t *testing.T) {
	page := parsePage([]byte(`<table><form method=post action=/consent><tr><td><input type=hidden name=t value=1></td>`+
		`<td><button name=action value=deny>Deny</button><button name=action value=allow>Allow</button></td></tr></form></table>`),
		"text/html", mustURL(t, pageURL))
	const redirectURI = "http://127.0.0.1:8765/callback"
	for _, tc := range []struct {
		cancel bool
		body   string
	}{{false, "t=1&action=allow"}, {true, "t=1&action=deny"}} {
		req, note, ok := (&Headless{Cancel: tc.cancel}).nextRequest(page, mustURL(t, redirectURI), redirectURI)
		if !ok || req.method != http.MethodPost || req.url.String() != "https://as.test/consent" || req.body != tc.body {
			t.Errorf("Cancel %v: %s %v body %q (%s); want POST https://as.test/consent body %q", tc.cancel, req.method, req.url, req.body, note, tc.body)
		}
	}
}

// TestParsePageNotHTML: a body that is not HTML only gives its text, even when it looks like markup.
func TestParsePageNotHTML(t *testing.T) {
	for _, tc := range []struct{ contentType, body, text string }{
		{"application/json", `{"error":"<form>"}`, `{"error":"<form>"}`},
		{"text/plain", "invalid_request:\n  <b>bad</b>", "invalid_request: <b>bad</b>"},
		{"", "  <p>guessed</p>", "guessed"},
		{"", "plain words", "plain words"},
	} {
		p := parsePage([]byte(tc.body), tc.contentType, mustURL(t, pageURL))
		if p.text != tc.text || (tc.contentType != "" && len(p.forms) != 0) {
			t.Errorf("parsePage(%q, %q): text %q, %d forms; want text %q", tc.body, tc.contentType, p.text, len(p.forms), tc.text)
		}
	}
}

// FuzzParsePage: whatever bytes a provider serves, reading the page and deciding what to do on it
// never panics, and the page model holds only usable URLs.
func FuzzParsePage(f *testing.F) {
	for _, seed := range []string{
		`<form method=post action="/x"><input type=hidden name=a value="1"><input type=password name=p><button name=action value=allow>Allow</button></form>`,
		`<meta http-equiv=refresh content="0;url=/cb?code=1">`,
		`<select name=s><option>a<option selected value=b>B</select><textarea name=t>x</textarea>`,
		`<a href="/abort">[ Cancel ]</a><form action=`, `<!-- <form>`, `<input form=f name=x><form id=f></form>`,
		`<button><`, `</`, `<x a='b`, `<base href="//127.0.0.1:1/"><form></form>`,
		`<table><form method=post><tr><td><button name=a value=allow>Allow</button></td></tr></form></table>`,
		`<script><form action=/evil></script><template><form></template><noscript><form action=/n>`,
		"<textarea>\x00</textarea><plaintext><form>", `<form action="http://[::1">`, `<base href="%zz"><a href=x>`,
	} {
		f.Add([]byte(seed))
	}
	const redirectURI = "http://127.0.0.1:8765/callback"
	f.Fuzz(func(t *testing.T, body []byte) {
		doc := mustURL(t, pageURL)
		target := mustURL(t, redirectURI)
		for _, contentType := range []string{"text/html", ""} {
			p := parsePage(body, contentType, doc)
			if p.text != collapseSpace(p.text) {
				t.Fatalf("text %q is not whitespace-collapsed", p.text)
			}
			for _, fm := range p.forms {
				if fm.action == nil || (fm.method != http.MethodGet && fm.method != http.MethodPost) {
					t.Fatalf("form with action %v and method %q", fm.action, fm.method)
				}
			}
			for _, l := range p.links {
				if l.href == nil {
					t.Fatal("link without a URL")
				}
			}
			for _, cancel := range []bool{false, true} {
				b := &Headless{Username: "u", Password: "p", Cancel: cancel}
				if req, _, ok := b.nextRequest(p, target, redirectURI); ok && req.url == nil {
					t.Fatalf("the next request has no URL (method %q)", req.method)
				}
				for _, fm := range p.forms {
					b.submit(fm, fm.allowButton())
				}
			}
		}
	})
}

// An error page is summarised by its title and visible text; scripts, styles and markup are not
// text a person sees.
func TestPageSummary(t *testing.T) {
	page := []byte(`<!doctype html><html><head><title> Bad
 Request </title><style>p{color:red}</style><script>var x = "<b>no</b>";</script></head>
<body><h1>The redirect_uri does not match</h1><p>Check&nbsp;the app&#39;s settings.</p></body></html>`)
	title, text := PageSummary(page, "text/html; charset=utf-8")
	if title != "Bad Request" {
		t.Errorf("title %q", title)
	}
	if text != "The redirect_uri does not match Check the app's settings." {
		t.Errorf("text %q", text)
	}
}
