package browser_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"
)

// Every way of handing over the URL is a Browser.
var (
	_ browser.Browser = browser.System{}
	_ browser.Browser = browser.Command{}
	_ browser.Browser = browser.Paste{}
)

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"oauthdiag browse":                      {"oauthdiag", "browse"},
		`  node  "my driver.mjs" --user 'a b' `: {"node", "my driver.mjs", "--user", "a b"},
		`sh -c 'echo "$0"'`:                     {"sh", "-c", `echo "$0"`},
		`empty "" arg`:                          {"empty", "", "arg"},
		"":                                      nil,
	}
	for in, want := range cases {
		if got, err := browser.SplitCommand(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := browser.SplitCommand(`open "half`); err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("an unterminated quote must be refused: %v", err)
	}
}

// errorKind names the typed error a Command.Authorize case expects.
type errorKind int

const (
	noError errorKind = iota
	commandFailed
	badCommandLine
	cannotLaunch
)

// kindOf tells which of the package's error types err is, and checks that it unwraps to its cause.
func kindOf(t *testing.T, err error) errorKind {
	t.Helper()
	var (
		ce *browser.CommandError
		le *browser.LaunchError
		be *browser.CommandLineError
	)
	switch {
	case err == nil:
		return noError
	case errors.As(err, &ce):
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Errorf("a CommandError must unwrap to how the command ended: %v", err)
		}
		return commandFailed
	case errors.As(err, &le):
		if le.Err == nil || !errors.Is(err, le.Err) {
			t.Errorf("a LaunchError must unwrap to why the program did not start: %v", err)
		}
		return cannotLaunch
	case errors.As(err, &be):
		return badCommandLine
	}
	t.Errorf("%T %v is none of the package's error types", err, err)
	return noError
}

func TestCommand(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:8765/callback"
	const authURL = "https://as.test/authorize?client_id=c&state=s"
	cases := []struct {
		name    string
		command string
		want    string
		kind    errorKind
		mention []string // in the error message: the cause and the fix
		stderr  string
	}{
		{name: "prints the redirect among other lines",
			command: `sh -c 'echo "opening $0"; echo "  ` + redirect + `?code=abc&state=s  "; echo done'`,
			want:    redirect + "?code=abc&state=s"},
		{name: "gets the authorization URL as its last argument",
			command: `sh -c 'echo "` + redirect + `?got=$0"'`,
			want:    redirect + "?got=" + authURL},
		{name: "prints nothing: the redirect is awaited at the listener", command: "true"},
		{name: "prints the redirect and then fails: the redirect wins",
			command: `sh -c 'echo "` + redirect + `?code=x"; exit 1'`, want: redirect + "?code=x"},
		{name: "fails without a redirect", command: `sh -c 'echo "HTTP 400 redirect_uri mismatch" >&2; exit 3'`,
			kind: commandFailed, mention: []string{`"sh" failed (exit status 3)`, "redirect_uri mismatch", "check the client_id"},
			stderr: "HTTP 400 redirect_uri mismatch\n"},
		{name: "not a command", command: `"unterminated`, kind: badCommandLine,
			mention: []string{"is not a command", `unterminated " quote`, "pair every"}},
		{name: "empty command", command: "  ", kind: badCommandLine, mention: []string{"is not a command", "empty", "give the program"}},
		{name: "no such program", command: "oauthdiag-no-such-browser-xyz", kind: cannotLaunch,
			mention: []string{"oauthdiag-no-such-browser-xyz", "open the authorization URL yourself"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			got, err := browser.Command{Command: tc.command, Stderr: &stderr}.Authorize(t.Context(), authURL, redirect)
			if tc.kind == noError {
				if err != nil || got != tc.want {
					t.Errorf("Authorize = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if kind := kindOf(t, err); kind != tc.kind || got != "" {
				t.Errorf("Authorize = %q, %v (kind %d); want error kind %d", got, err, kind, tc.kind)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if stderr.String() != tc.stderr {
				t.Errorf("the command's stderr was passed on as %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}

// TestCommandStderrIsCut: a chatty failing command does not flood the error, and the cut keeps
// whole characters.
func TestCommandStderrIsCut(t *testing.T) {
	t.Parallel()
	cmd := `sh -c 'i=0; while [ $i -lt 400 ]; do printf "é"; i=$((i+1)); done >&2; exit 1'`
	_, err := browser.Command{Command: cmd}.Authorize(t.Context(), "https://as.test/a", "http://127.0.0.1:1/cb")
	var ce *browser.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("Authorize error = %v, want a *CommandError", err)
	}
	if !strings.HasPrefix(ce.Stderr, "éé") || len(ce.Stderr) > 500+len("…") || !strings.HasSuffix(ce.Stderr, "…") {
		t.Errorf("Stderr is %d bytes: %q; want about 500 bytes of whole characters and a mark of the cut", len(ce.Stderr), ce.Stderr)
	}
}

func TestCommandHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err := browser.Command{Command: "sleep 30"}.Authorize(ctx, "https://as.test/a", "http://127.0.0.1:1/cb")
	if err == nil || got != "" {
		t.Errorf("Authorize with a cancelled context = %q, %v; want an error", got, err)
	}
}

func TestPaste(t *testing.T) {
	t.Parallel()
	var prompt bytes.Buffer
	got, err := browser.Paste{In: strings.NewReader("  http://127.0.0.1:8765/callback?code=c&state=s \nmore\n"), Prompt: &prompt}.
		Authorize(t.Context(), "https://as.test/authorize?x=1", "http://127.0.0.1:8765/callback")
	if err != nil || got != "http://127.0.0.1:8765/callback?code=c&state=s" {
		t.Errorf("Authorize = %q, %v", got, err)
	}
	if !strings.Contains(prompt.String(), "https://as.test/authorize?x=1") || !strings.Contains(prompt.String(), "starts with http://127.0.0.1:8765/callback") {
		t.Errorf("the prompt must show the URL and what to paste: %q", prompt.String())
	}

	for _, in := range []string{"\n", "  \n", ""} {
		_, err = browser.Paste{In: strings.NewReader(in)}.Authorize(t.Context(), "https://as.test/a", "http://127.0.0.1:8765/callback")
		if !errors.Is(err, browser.ErrNothingPasted) {
			t.Errorf("pasting %q = %v, want ErrNothingPasted", in, err)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blocked, w := io.Pipe()
	defer w.Close()
	if _, err := (browser.Paste{In: blocked}).Authorize(ctx, "https://as.test/a", "http://x"); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled paste must return the context's error, got %v", err)
	}
}

// TestErrorMessagesSayWhatToDo: each error names its cause and a way forward, so a user who sees
// only the message can act on it.
func TestErrorMessagesSayWhatToDo(t *testing.T) {
	t.Parallel()
	cause := errors.New("exec: \"xdg-open\": executable file not found in $PATH")
	for _, tc := range []struct {
		err     error
		mention []string
	}{
		{&browser.LaunchError{Command: "xdg-open", Err: cause}, []string{`"xdg-open"`, "executable file not found", "paste the redirect URL", "--browser-cmd"}},
		{&browser.CommandError{Command: "node", Err: errors.New("exit status 1")}, []string{`"node" failed (exit status 1)`, "redirect URI is registered"}},
		{&browser.CommandLineError{Command: `"x`, Err: errors.New(`unterminated " quote`)}, []string{`"\"x"`, "unterminated", "pair every"}},
		{browser.ErrNothingPasted, []string{"no redirect URL was pasted", "paste it at the prompt"}},
	} {
		for _, m := range tc.mention {
			if !strings.Contains(tc.err.Error(), m) {
				t.Errorf("%T message %q does not mention %q", tc.err, tc.err, m)
			}
		}
	}
	if err := (&browser.CommandError{Command: "node", Err: errors.New("exit status 1")}).Error(); strings.Contains(err, "redirect: ;") || strings.Contains(err, ": ;") {
		t.Errorf("a CommandError without stderr must not show an empty stderr: %q", err)
	}
	if !errors.Is(&browser.LaunchError{Command: "x", Err: cause}, cause) {
		t.Error("LaunchError must unwrap to its cause")
	}
}
