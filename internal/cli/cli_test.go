package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/sandbox"

	"github.com/spf13/cobra"
)

// cliResult is one in-process run of the whole command line.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runIn runs `oauthdiag args...` with the environment vars and no terminal.
func runIn(ctx context.Context, vars map[string]string, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	code := runCLI(ctx, env, args)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r cliResult) String() string {
	return "exit " + string(rune('0'+r.code)) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// TestHelpIsOneTextOnStdout: `help CMD`, `CMD -h` and `CMD --help` print the same help, with a
// synopsis, to standard output, and exit 0, for every command.
func TestHelpIsOneTextOnStdout(t *testing.T) {
	vars := map[string]string{"OAUTHDIAG_HOME": t.TempDir()}
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, s := range c.Commands() {
			if s.Hidden || s.Name() == "help" {
				continue
			}
			p := append(slices.Clone(path), s.Name())
			paths = append(paths, p)
			walk(s, p)
		}
	}
	walk(newRoot(&cliEnv{getenv: func(string) string { return "" }}), nil)
	if len(paths) < 20 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		viaHelp := runIn(t.Context(), vars, append([]string{"help"}, p...)...)
		short := runIn(t.Context(), vars, append(slices.Clone(p), "-h")...)
		long := runIn(t.Context(), vars, append(slices.Clone(p), "--help")...)
		for _, r := range []cliResult{viaHelp, short, long} {
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%s help: %s", name, r)
			}
		}
		if viaHelp.stdout != short.stdout || short.stdout != long.stdout {
			t.Errorf("help %s, %s -h and %s --help differ", name, name, name)
		}
		if !strings.Contains(viaHelp.stdout, "Usage:\n  oauthdiag "+name) {
			t.Errorf("help of %s has no synopsis:\n%s", name, viaHelp.stdout)
		}
	}
	flow := runIn(t.Context(), vars, "help", "flow").stdout
	for _, want := range []string{"Examples:", "oauthdiag flow --sandbox happy", "--scope string"} {
		if !strings.Contains(flow, want) {
			t.Errorf("help flow lacks %q", want)
		}
	}
	root := runIn(t.Context(), vars, "--help").stdout
	for _, want := range []string{"Exit status: 0 success; 1 the thing tried failed", "2 usage", "completion", "version"} {
		if !strings.Contains(root, want) {
			t.Errorf("the top-level help lacks %q", want)
		}
	}
}

// TestMisuseGetsOneLineAndExit2: every way of getting the command line wrong is answered by one
// line that names the cause and the fix, never a usage dump, and exit status 2.
func TestMisuseGetsOneLineAndExit2(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"OAUTHDIAG_HOME": home}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"flow", "--scopes", "x"}, []string{"unknown flag --scopes", "did you mean --scope?"}},
		{[]string{"flow", "--sandbox-scenario", "happy"}, []string{"did you mean --sandbox"}},
		{[]string{"flw"}, []string{`unknown command "flw"`, "did you mean flow?"}},
		{[]string{"export", "pdf"}, []string{`unknown command "pdf" for "oauthdiag export"`}},
		{[]string{"export"}, []string{"export needs a format", "export har", "export curl"}},
		{[]string{"flow", "--sandbox"}, []string{"flag needs an argument: --sandbox"}},
		{[]string{"flow", "--timeout", "soon"}, []string{"--timeout", "invalid"}},
		{[]string{"flow", "--sandbox", "sunny"}, []string{"--sandbox", "happy"}},
		{[]string{"flow", "extra"}, []string{`unexpected argument "extra"`, "oauthdiag flow --help"}},
		{[]string{"call", "--profile", "nope", "/v2/userinfo"}, []string{"nope"}},
		{[]string{"call", "--profile", "https://login.example.com", "/v2/userinfo"}, []string{"https://login.example.com"}},
		{[]string{"call", "/v2/userinfo", "/v2/me"}, []string{"give one URL"}},
		{[]string{"replay", "seven"}, []string{"not a call id"}},
		{[]string{"inspect"}, []string{"--stored"}},
		{[]string{"profiles", "add"}, []string{"missing profile NAME"}},
	}
	for _, tc := range cases {
		r := runIn(t.Context(), vars, tc.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || len(lines) != 1 || r.stdout != "" {
			t.Errorf("oauthdiag %s: want exit 2 and one line on stderr, got %s", strings.Join(tc.args, " "), r)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("oauthdiag %s: %q does not mention %q", strings.Join(tc.args, " "), r.stderr, w)
			}
		}
	}
}

// TestFlagsGoBeforeOrAfterArguments: a flag after the positional argument means the same as
// before it, in every command that takes one.
func TestFlagsGoBeforeOrAfterArguments(t *testing.T) {
	vars := map[string]string{"OAUTHDIAG_HOME": t.TempDir()}
	for _, pair := range [][2][]string{
		{{"export", "curl", "7", "--session", "nosuch"}, {"export", "curl", "--session", "nosuch", "7"}},
		{{"replay", "c7", "--session", "nosuch"}, {"replay", "--session", "nosuch", "c7"}},
		{{"call", "/v2/userinfo", "--profile", "nosuch"}, {"call", "--profile", "nosuch", "/v2/userinfo"}},
	} {
		after, before := runIn(t.Context(), vars, pair[0]...), runIn(t.Context(), vars, pair[1]...)
		if after.stderr != before.stderr || after.code != before.code || !strings.Contains(after.stderr, "nosuch") {
			t.Errorf("%v and %v disagree:\n%s\n%s", pair[0], pair[1], after, before)
		}
	}
	// The single-dash long flags of earlier versions keep working.
	single := runIn(t.Context(), vars, "version", "-json")
	if single.code != 0 || !strings.Contains(single.stdout, `"schema_version": 1`) {
		t.Errorf("version -json: %s", single)
	}
}

// TestEveryJSONOutputHasASchemaVersion runs every command that has --json against a sandbox and
// checks that each prints one JSON object that starts with schema_version. A command that gains
// --json must join the list, and one without it must say why.
func TestEveryJSONOutputHasASchemaVersion(t *testing.T) {
	e := newTokEnv(t)
	browse := testkit.ChildCommandLine(t, "browse")
	authURL := e.base + "/oauth/v2/authorization?" + url.Values{"response_type": {"code"}, "client_id": {"sb-client"},
		"redirect_uri": {e.redirectURI}, "state": {"s1"}, "scope": {"openid"}}.Encode()
	cancelled, cancel := context.WithCancel(t.Context())
	cancel() // the sandbox prints where it is, then stops at once

	// The call's session, and its API call, are what export curl and replay work on.
	callSession := func() []string {
		r := runIn(t.Context(), e.vars, "calls", "--json")
		var doc struct {
			Session string `json:"session"`
			Calls   []struct {
				ID  string `json:"id"`
				URL string `json:"url"`
			} `json:"calls"`
		}
		json.Unmarshal([]byte(r.stdout), &doc)
		for _, c := range doc.Calls {
			if strings.HasSuffix(c.URL, "/v2/userinfo") {
				return []string{c.ID, "--session", doc.Session}
			}
		}
		t.Fatalf("the call session has no userinfo call: %s", r)
		return nil
	}
	runs := []struct {
		command string
		ctx     context.Context
		args    []string
		more    func() []string
	}{
		{"version", nil, []string{"version", "--json"}, nil},
		{"flow", nil, []string{"flow", "--sandbox", "happy", "--json"}, nil},
		{"call", nil, []string{"call", "/v2/userinfo", "--profile", "sb", "--browser-cmd", browse, "--json"}, nil},
		{"calls", nil, []string{"calls", "--json"}, nil},
		{"export curl", nil, []string{"export", "curl", "--json"}, callSession},
		{"replay", nil, []string{"replay", "--fresh-token", "--json"}, callSession},
		{"refresh", nil, []string{"refresh", "--profile", "sb", "--json"}, nil},
		{"inspect", nil, []string{"inspect", "--stored", "--profile", "sb", "--json"}, nil},
		{"profiles", nil, []string{"profiles", "--json"}, nil},
		{"sessions", nil, []string{"sessions", "--json"}, nil},
		{"bundle", nil, []string{"bundle", "-o", filepath.Join(e.home, "b.zip"), "--json"}, nil},
		{"logout", nil, []string{"logout", "--profile", "sb", "--json"}, nil},
		{"browse", nil, []string{"browse", authURL, "--json"}, nil},
		{"probe", nil, []string{"probe", "--sandbox", "linkedin", "--json"}, nil},
		{"sandbox", cancelled, []string{"sandbox", "--addr", "127.0.0.1:0", "--json"}, nil},
	}
	noJSON := map[string]string{
		"tui": "interactive", "demo": "interactive", "completion": "prints a shell script", "man": "prints a man page",
		"export": "a group", "export har": "writes a HAR 1.2 document, whose format is fixed",
		"profiles add": "prints one confirmation line", "profiles set-secret": "prints one confirmation line",
		"completion bash": "a script", "completion zsh": "a script", "completion fish": "a script", "completion powershell": "a script",
	}
	docsFile, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := string(docsFile)
	tested := map[string]bool{}
	for _, r := range runs {
		ctx := r.ctx
		if ctx == nil {
			ctx = t.Context()
		}
		args := r.args
		if r.more != nil {
			args = append(slices.Clone(args), r.more()...)
		}
		res := runIn(ctx, e.vars, args...)
		tested[r.command] = true
		if res.code != 0 {
			t.Errorf("%s: %s", r.command, res)
			continue
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Errorf("%s --json is not one JSON object: %v\n%s", r.command, err, res.stdout)
			continue
		}
		section := docSection(t, docs, r.command)
		for key := range doc {
			if !strings.Contains(section, "`"+key+"`") {
				t.Errorf("docs/json.md does not describe %s's field %q", r.command, key)
			}
		}
		if string(doc["schema_version"]) != "1" || !strings.HasPrefix(res.stdout, "{\n  \"schema_version\": 1,") {
			t.Errorf("%s --json does not start with schema_version 1:\n%.200s", r.command, res.stdout)
		}
	}
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		for _, s := range c.Commands() {
			name := strings.TrimSpace(path + " " + s.Name())
			if s.Hidden || s.Name() == "help" {
				continue
			}
			hasJSON := s.Flags().Lookup("json") != nil
			switch {
			case hasJSON && !tested[name]:
				t.Errorf("%s has --json but is not in this test", name)
			case !hasJSON && noJSON[name] == "":
				t.Errorf("%s prints results without --json, and no reason is given", name)
			}
			walk(s, name)
		}
	}
	walk(newRoot(&cliEnv{getenv: func(string) string { return "" }}), "")
}

// TestReplayThatStillFailsExits1: a replay whose last attempt fails, by an error status or by no
// answer at all, exits 1 and says so, so that scripts can tell.
func TestReplayThatStillFailsExits1(t *testing.T) {
	sb := sandbox.New(sandbox.WithAutoConsent(true), sandbox.WithScenario(sandbox.ServerError))
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	home := t.TempDir()
	vars := map[string]string{"OAUTHDIAG_HOME": home}
	// A flow against a sandbox that stays up, so the replay reaches it and gets its 500 again.
	flow := runIn(t.Context(), vars, "flow", "--issuer", sb.Issuer(), "--client-id", sandbox.DefaultClientID,
		"--client-secret", sandbox.DefaultClientSecret, "--browser-cmd", testkit.ChildCommandLine(t, "browse"),
		"--redirect-uri", sandbox.DefaultRedirectURI, "--no-listen", "--json")
	if flow.code != 1 {
		t.Fatalf("the flow against server-error should fail at userinfo: %s", flow)
	}
	failed := firstFailedCall(t, vars)
	// The flow revoked its token; any token will do to be answered 500 again.
	vars["OAUTHDIAG_ACCESS_TOKEN"] = "a-fresh-access-token"
	again := runIn(t.Context(), vars, "replay", failed, "--fresh-token")
	if again.code != 1 || !strings.Contains(again.stderr, "the last of") || !strings.Contains(again.stderr, "500") {
		t.Errorf("a replay answered 500 again: %s", again)
	}
	sb.Close()
	refused := runIn(t.Context(), vars, "replay", failed, "--fresh-token", "--json")
	if refused.code != 1 || !strings.Contains(refused.stderr, "no answer") || !json.Valid([]byte(refused.stdout)) {
		t.Errorf("a replay to a server that is gone: %s", refused)
	}
}

// firstFailedCall is the id of the first failed call of the latest session.
func firstFailedCall(t *testing.T, vars map[string]string) string {
	t.Helper()
	r := runIn(t.Context(), vars, "calls", "--failed", "--json")
	var doc struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Calls) == 0 {
		t.Fatalf("calls --failed --json: %v\n%s", err, r)
	}
	return doc.Calls[0].ID
}

// TestManPagesComeFromTheCommandTree: `man` prints oauthdiag(1), and `man --dir` writes a page
// per command with that command's flags.
func TestManPagesComeFromTheCommandTree(t *testing.T) {
	vars := map[string]string{"OAUTHDIAG_HOME": t.TempDir()}
	page := runIn(t.Context(), vars, "man")
	if page.code != 0 || !strings.Contains(page.stdout, `.TH "OAUTHDIAG" "1"`) {
		t.Fatalf("man: %s", page)
	}
	for _, want := range []string{"oauthdiag-flow(1)", "oauthdiag-replay(1)", "Exit status: 0 success"} {
		if !strings.Contains(page.stdout, want) {
			t.Errorf("oauthdiag(1) does not refer to %s", want)
		}
	}
	dir := t.TempDir()
	r := runIn(t.Context(), vars, "man", "--dir", dir)
	pages, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Wrote %d man pages into %s", len(pages), dir)) {
		t.Fatalf("man --dir wrote %d pages: %s", len(pages), r)
	}
	flow, err := os.ReadFile(filepath.Join(dir, "oauthdiag-flow.1"))
	if err != nil || !strings.Contains(string(flow), `--sandbox`) {
		t.Errorf("oauthdiag-flow.1 lacks the --sandbox flag (%v)", err)
	}
}

// docSection is the part of docs/json.md about a command: from its heading to the next, plus the
// contract at the top (schema_version).
func docSection(t *testing.T, docs, command string) string {
	t.Helper()
	contract, _, _ := strings.Cut(docs, "\n## `oauthdiag ")
	for _, part := range strings.Split(docs, "\n## ")[1:] {
		heading, _, _ := strings.Cut(part, "\n")
		for _, h := range strings.Split(heading, ", ") {
			fields := strings.Fields(strings.Trim(h, "`"))
			if len(fields) < 2 || fields[0] != "oauthdiag" {
				continue
			}
			name := fields[1]
			if len(fields) > 2 && fields[2] == strings.ToLower(fields[2]) && !strings.HasPrefix(fields[2], "-") {
				name += " " + fields[2]
			}
			if name == command {
				return contract + part
			}
		}
	}
	t.Errorf("docs/json.md has no section for %s", command)
	return ""
}
