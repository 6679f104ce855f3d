package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oauthdiag/oauthdiag/internal/hostile"
	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

// These tests point the commands at a provider that hides terminal escapes (OSC 52 clipboard
// writes, OSC 0 window titles, CSI, BEL, CR, DEL, C1 controls, bidirectional overrides) in every
// text it controls, and check what a user's terminal would receive: no control character from
// the server raw, in text output and on stderr alike, but its visible form (\x1b) so the user
// still sees what the server sent; and --json output that is valid JSON carrying the server's
// text exactly.

// termRun is one in-process run of the command line against the hostile provider.
type termRun struct {
	args           []string
	code           int
	stdout, stderr string
}

// termMachine is one user's machine: an OAUTHDIAG_HOME and the environment the commands see.
type termMachine struct {
	t    *testing.T
	vars map[string]string
}

func newTermMachine(t *testing.T, c hostile.Canaries) *termMachine {
	home := t.TempDir()
	return &termMachine{t: t, vars: map[string]string{"OAUTHDIAG_HOME": home, "HOME": home,
		"OAUTHDIAG_TOKEN_STORE": "file", "OAUTHDIAG_CLIENT_SECRET": c.ClientSecret}}
}

func (m *termMachine) run(args ...string) termRun {
	m.t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return m.vars[k] }}
	code := runCLI(context.Background(), env, args)
	return termRun{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r termRun) String() string {
	return fmt.Sprintf("oauthdiag %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// rawControl finds the first character in s that a terminal would act on rather than show: a C0
// control other than newline and tab, DEL, a C1 control, a bidirectional override or isolate,
// or a byte that is not UTF-8. It returns -1 when there is none.
func rawControl(s string) (at int, what string) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd"):
			return i, fmt.Sprintf("the byte %#x, which is not UTF-8", s[i])
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return i, fmt.Sprintf("%U", r)
		}
	}
	return -1, ""
}

// assertTerminalSafe fails when out (what went to a terminal) holds a raw control character.
func assertTerminalSafe(t *testing.T, what string, r termRun, out string) {
	t.Helper()
	if at, c := rawControl(out); at >= 0 {
		from, to := max(0, at-40), min(len(out), at+40)
		t.Errorf("%s holds %s raw at byte %d: …%q…\n%s", what, c, at, out[from:to], r)
	}
}

// assertShown fails unless the server's field reached the text output in its visible form.
func assertShown(t *testing.T, r termRun, fields ...string) {
	t.Helper()
	all := r.stdout + r.stderr
	for _, f := range fields {
		if !strings.Contains(all, "["+f+"]") {
			t.Errorf("the server's %s is not shown at all\n%s", f, r)
		}
	}
	if !strings.Contains(all, `\x1b]0;`+hostile.TermTitle) && !strings.Contains(all, `\u009d0;`+hostile.TermTitle) {
		t.Errorf("the escapes are not shown in their visible form (\\x1b]0;…)\n%s", r)
	}
}

// assertText checks a text-mode run: both streams terminal-safe, the fields shown visibly.
func assertText(t *testing.T, r termRun, fields ...string) {
	t.Helper()
	assertTerminalSafe(t, "stdout", r, r.stdout)
	assertTerminalSafe(t, "stderr", r, r.stderr)
	assertShown(t, r, fields...)
}

// assertJSON checks a --json run: stdout is one JSON document, neither stream holds a raw
// control character, and the document holds every one of want, exactly as the server sent it,
// as a whole string value or within one.
func assertJSON(t *testing.T, r termRun, want ...string) {
	t.Helper()
	assertTerminalSafe(t, "--json stdout", r, r.stdout)
	assertTerminalSafe(t, "--json stderr", r, r.stderr)
	var doc any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r)
	}
	var strs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			strs = append(strs, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	for _, w := range want {
		found := false
		for _, s := range strs {
			found = found || strings.Contains(s, w)
		}
		if !found {
			t.Errorf("no string of the JSON document holds %q as the server sent it\n%s", w, r)
		}
	}
}

// termFlowArgs are the provider flags of a flow against srv, with the test binary as the
// headless browser (it prints the redirect, or the page it stopped on to its stderr).
func termFlowArgs(t *testing.T, srv *hostile.TermServer, browse string, extra ...string) []string {
	return append([]string{"--issuer", srv.Issuer(), "--client-id", srv.Canaries.ClientID, "--auth-method", "post",
		"--scope", "openid profile", "--redirect-uri", "http://" + tokFreeAddr(t) + "/callback", "--browser-cmd", browse}, extra...)
}

// TestFlowShowsHostileTextVisiblyAndJSONExactly runs `flow`, in text and --json, against the
// provider failing at each step it can fail at, and once with every step passing.
func TestFlowShowsHostileTextVisiblyAndJSONExactly(t *testing.T) {
	browse := testkit.ChildCommandLine(t, "browse") // sets the environment: not parallel
	cases := []struct {
		name string
		opts hostile.TermOptions
		// shown are the fields the text output must show; exact the texts the JSON must carry.
		shown []string
		exact []string
	}{
		{name: "token endpoint error_description and error_uri", opts: hostile.TermOptions{FailToken: true},
			shown: []string{"error_description", "issuer"},
			exact: []string{hostile.TermText("error_description"), hostile.TermText("issuer")}},
		{name: "callback error=", opts: hostile.TermOptions{Authorize: hostile.AuthorizeError},
			shown: []string{"callback_error_description"}, exact: []string{hostile.TermText("callback_error_description")}},
		{name: "login page stops the browser command", opts: hostile.TermOptions{Authorize: hostile.AuthorizePage},
			// The browser command's stderr, relayed, and its error carry the page's text.
			shown: []string{"page_heading"}, exact: []string{"[page_heading]\x1b]52;c;aG9zdGlsZQ==\a\x1b]0;" + hostile.TermTitle}},
		{name: "plain-text userinfo error", opts: hostile.TermOptions{FailUserinfo: true},
			shown: []string{"userinfo_body", "userinfo_www_authenticate"},
			exact: []string{hostile.TermText("userinfo_body"), hostile.TermHeader("userinfo_www_authenticate")}},
		{name: "every step passes", opts: hostile.TermOptions{},
			shown: []string{"issuer"}, exact: []string{hostile.TermText("issuer")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := hostile.NewCanaries(t.Name())
			srv := hostile.StartTerm(t, c, tc.opts)
			m := newTermMachine(t, c)
			text := m.run(append([]string{"flow", "-v"}, termFlowArgs(t, srv, browse)...)...)
			if text.code == exitUsage {
				t.Fatalf("the flow did not run:\n%s", text)
			}
			assertText(t, text, tc.shown...)
			js := m.run(append([]string{"flow", "--json"}, termFlowArgs(t, srv, browse)...)...)
			assertJSON(t, js, tc.exact...)
			if js.code != text.code {
				t.Errorf("flow exits %d in text and %d in JSON", text.code, js.code)
			}
		})
	}
}

// TestCallShowsAHostileAPIAnswerVisibly: the API's plain-text body and its WWW-Authenticate and
// X-Request-Id headers, in `call` text and --json.
func TestCallShowsAHostileAPIAnswerVisibly(t *testing.T) {
	browse := testkit.ChildCommandLine(t, "browse")
	c := hostile.NewCanaries(t.Name())
	srv := hostile.StartTerm(t, c, hostile.TermOptions{})
	m := newTermMachine(t, c)
	text := m.run(append([]string{"call", srv.APIURL()}, termFlowArgs(t, srv, browse)...)...)
	if text.code != exitFailed {
		t.Fatalf("a 500 from the API must exit 1:\n%s", text)
	}
	assertText(t, text, "api_body", "api_body_line3", "api_www_authenticate", "api_request_id")
	js := m.run(append([]string{"call", srv.APIURL(), "--json"}, termFlowArgs(t, srv, browse)...)...)
	assertJSON(t, js, hostile.TermText("api_body"), hostile.TermText("api_body_line3"), hostile.TermHeader("api_www_authenticate"))
}

// TestInspectShowsHostileClaimsAndIntrospectionVisibly: the ID token's claims, the introspection
// fields and the discovery document's issuer, in `inspect` text and --json.
func TestInspectShowsHostileClaimsAndIntrospectionVisibly(t *testing.T) {
	t.Parallel()
	c := hostile.NewCanaries(t.Name())
	srv := hostile.StartTerm(t, c, hostile.TermOptions{})
	m := newTermMachine(t, c)
	token := srv.IDToken(c.ClientID)
	args := []string{"inspect", token, "--issuer", srv.Issuer(), "--client-id", c.ClientID, "--auth-method", "post"}
	text := m.run(args...)
	if text.code == exitUsage {
		t.Fatalf("inspect did not run:\n%s", text)
	}
	assertText(t, text, "name", "introspection_username", "introspection_extra")
	js := m.run(append(args, "--json")...)
	assertJSON(t, js, hostile.TermText("name"), hostile.TermText("introspection_username"), hostile.TermText("introspection_scope"))
}

// TestProbeShowsHostileErrorsVisibly: the evidence of the probe's checks quotes the token
// endpoint's error_description and the issuer the discovery document claims.
func TestProbeShowsHostileErrorsVisibly(t *testing.T) {
	browse := testkit.ChildCommandLine(t, "browse")
	c := hostile.NewCanaries(t.Name())
	srv := hostile.StartTerm(t, c, hostile.TermOptions{FailToken: true})
	m := newTermMachine(t, c)
	text := m.run(append([]string{"probe"}, termFlowArgs(t, srv, browse)...)...)
	if text.code == exitUsage {
		t.Fatalf("the probe did not run:\n%s", text)
	}
	assertText(t, text, "error_description", "issuer")
	js := m.run(append([]string{"probe", "--json"}, termFlowArgs(t, srv, browse)...)...)
	// The evidence quotes error descriptions cut short; the issuer comes whole.
	assertJSON(t, js, hostile.TermText("issuer"))
}

// TestReplayShowsAHostileReplayedBodyVisibly: a recorded plain-text error, resent, and the new
// answer set beside the old one.
func TestReplayShowsAHostileReplayedBodyVisibly(t *testing.T) {
	browse := testkit.ChildCommandLine(t, "browse")
	c := hostile.NewCanaries(t.Name())
	srv := hostile.StartTerm(t, c, hostile.TermOptions{FailUserinfo: true})
	m := newTermMachine(t, c)
	if r := m.run(append([]string{"flow", "--keep-tokens"}, termFlowArgs(t, srv, browse)...)...); r.code != exitFailed {
		t.Fatalf("the flow must fail at userinfo:\n%s", r)
	}
	calls := m.run("calls", "--json")
	var doc struct {
		Calls []struct {
			ID   string `json:"id"`
			Step string `json:"step"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(calls.stdout), &doc); err != nil {
		t.Fatalf("calls --json: %v\n%s", err, calls)
	}
	id := ""
	for _, cl := range doc.Calls {
		if cl.Step == "userinfo" {
			id = cl.ID
		}
	}
	if id == "" {
		t.Fatalf("no userinfo call was recorded:\n%s", calls)
	}
	// The recorded call carries the access token as a fingerprint; the environment supplies it.
	m.vars["OAUTHDIAG_ACCESS_TOKEN"] = c.AccessToken
	text := m.run("replay", id)
	if text.code != exitFailed {
		t.Fatalf("a replay answered 400 must exit 1:\n%s", text)
	}
	assertText(t, text, "userinfo_body", "userinfo_www_authenticate")
	js := m.run("replay", id, "--json")
	assertJSON(t, js, hostile.TermText("userinfo_body"), hostile.TermHeader("userinfo_request_id"))
}

// TestBrowseShowsHostilePagesAndRedirectsVisibly: `browse` stopping on a hostile login page
// (stderr, and its -v trace), and reporting a hostile error redirect (exit 3), in text and --json.
func TestBrowseShowsHostilePagesAndRedirectsVisibly(t *testing.T) {
	t.Parallel()
	c := hostile.NewCanaries(t.Name())
	authURL := func(srv *hostile.TermServer) string {
		return srv.URL + "/authorize?" + url.Values{"client_id": {c.ClientID}, "response_type": {"code"},
			"state": {"st4te-value"}, "redirect_uri": {"http://127.0.0.1:9/callback"}}.Encode()
	}
	m := newTermMachine(t, c)

	page := hostile.StartTerm(t, c, hostile.TermOptions{Authorize: hostile.AuthorizePage})
	stopped := m.run("browse", "-v", authURL(page))
	if stopped.code != 4 {
		t.Errorf("a page the browser cannot complete exits 4:\n%s", stopped)
	}
	assertText(t, stopped, "page_heading", "page_text")
	stoppedJSON := m.run("browse", "--json", authURL(page))
	assertTerminalSafe(t, "--json stderr", stoppedJSON, stoppedJSON.stderr)
	assertShown(t, stoppedJSON, "page_heading")

	refused := hostile.StartTerm(t, c, hostile.TermOptions{Authorize: hostile.AuthorizeError})
	text := m.run("browse", authURL(refused))
	if text.code != 3 {
		t.Errorf("an error redirect exits 3:\n%s", text)
	}
	assertText(t, text, "callback_error_description")
	js := m.run("browse", "--json", authURL(refused))
	var doc struct {
		RedirectURL string `json:"redirect_url"`
	}
	assertJSON(t, js)
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(doc.RedirectURL); err != nil || u.Query().Get("error_description") != hostile.TermText("callback_error_description") {
		t.Errorf("redirect_url %q must carry the error_description exactly as sent", doc.RedirectURL)
	}
}

// TestJSONOutputLeavesATerminalNothingToActOn: encoding/json escapes C0 controls but leaves DEL,
// C1 controls and bidirectional overrides raw, and a raw body (json.RawMessage) can hold bytes
// that are not UTF-8. writeJSON escapes them too: the document is still valid JSON, decodes to
// the same values, and printed on a terminal cannot drive it.
func TestJSONOutputLeavesATerminalNothingToActOn(t *testing.T) {
	text := "del\x7f c1\u009b2J osc\u009d0;t\u009c rlo\u202eabc lri\u2066x\u2069 esc\x1b]0;t\a quote\" backslash\\ ok✔"
	raw := json.RawMessage("{\"body\":\"c1\u009b bidi\u202e bad\xff\"}")
	var out bytes.Buffer
	if err := writeJSON(&out, struct {
		Text string          `json:"text"`
		Body json.RawMessage `json:"body"`
	}{text, raw}); err != nil {
		t.Fatal(err)
	}
	r := termRun{args: []string{"writeJSON"}, stdout: out.String()}
	assertTerminalSafe(t, "the JSON document", r, out.String())
	var back struct {
		Text string `json:"text"`
		Body struct {
			Body string `json:"body"`
		} `json:"body"`
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if back.Text != text {
		t.Errorf("text decodes to %q, want %q", back.Text, text)
	}
	// A JSON decoder reads a byte that is not UTF-8 as U+FFFD: the escape says the same.
	var fromRaw struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(raw, &fromRaw); err != nil {
		t.Fatal(err)
	}
	if back.Body.Body != fromRaw.Body {
		t.Errorf("the raw body decodes to %q, the original to %q", back.Body.Body, fromRaw.Body)
	}
}

// TestBinaryOutputsStayByteExact: a zip or a HAR document written to standard output (-o -) is
// not made terminal-safe: it is the very bytes the file would hold.
func TestBinaryOutputsStayByteExact(t *testing.T) {
	t.Parallel()
	m := newTermMachine(t, hostile.NewCanaries(t.Name()))
	if r := m.run("flow", "--sandbox", "happy"); r.code != 0 {
		t.Fatalf("the sandbox flow failed:\n%s", r)
	}
	dir := t.TempDir()
	harFile := dir + "/session.har"
	if r := m.run("export", "har", "-o", harFile); r.code != 0 {
		t.Fatalf("export har -o FILE:\n%s", r)
	}
	want, err := os.ReadFile(harFile)
	if err != nil {
		t.Fatal(err)
	}
	har := m.run("export", "har", "-o", "-")
	if har.code != 0 || har.stdout != string(want) {
		t.Errorf("export har -o - differs from the file it writes with -o FILE (exit %d, %d bytes vs %d)", har.code, len(har.stdout), len(want))
	}
	bundle := m.run("bundle", "-o", "-")
	if bundle.code != 0 {
		t.Fatalf("bundle -o -:\n%s", bundle.stderr)
	}
	zr, err := zip.NewReader(strings.NewReader(bundle.stdout), int64(len(bundle.stdout)))
	if err != nil {
		t.Fatalf("bundle -o - is not a zip: %v", err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Errorf("%s in the bundle is damaged: %v", f.Name, err)
		}
		rc.Close()
	}
}
