package oauthflow_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/oauthflow"
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
		if got, err := oauthflow.SplitCommand(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := oauthflow.SplitCommand(`open "half`); err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("an unterminated quote must be refused: %v", err)
	}
}

func TestCommandBrowser(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1:8765/callback"
	const authURL = "https://as.test/authorize?client_id=c&state=s"
	cases := []struct {
		name    string
		command string
		want    string
		kind    oauthflow.ErrorKind // 0: no error
		mention string
		stderr  string
	}{
		{name: "prints the redirect among other lines",
			command: `sh -c 'echo "opening $0"; echo "  ` + redirect + `?code=abc&state=s  "; echo done'`,
			want:    redirect + "?code=abc&state=s"},
		{name: "gets the authorization URL as its last argument",
			command: `sh -c 'echo "` + redirect + `?got=$0"'`,
			want:    redirect + "?got=" + authURL},
		{name: "prints nothing: the redirect is awaited at the listener", command: "true"},
		{name: "fails without a redirect", command: `sh -c 'echo "HTTP 400 redirect_uri mismatch" >&2; exit 3'`,
			kind: oauthflow.KindBrowser, mention: "redirect_uri mismatch", stderr: "HTTP 400 redirect_uri mismatch\n"},
		{name: "not a command", command: `"unterminated`, kind: oauthflow.KindConfig, mention: "is not a command"},
		{name: "no such program", command: "oauthdiag-no-such-browser-xyz", kind: oauthflow.KindBrowser, mention: "oauthdiag-no-such-browser-xyz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			got, err := oauthflow.CommandBrowser{Command: tc.command, Stderr: &stderr}.Authorize(t.Context(), authURL, redirect)
			if tc.kind == 0 {
				if err != nil || got != tc.want {
					t.Errorf("Authorize = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			e, ok := oauthflow.AsError(err)
			if !ok || e.Kind != tc.kind || e.Step != oauthflow.StepAuthorize || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Authorize = %q, %v; want a %v error mentioning %q", got, err, tc.kind, tc.mention)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("the command's stderr was passed on as %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}

func TestPasteBrowser(t *testing.T) {
	t.Parallel()
	var prompt bytes.Buffer
	got, err := oauthflow.PasteBrowser{In: strings.NewReader("  http://127.0.0.1:8765/callback?code=c&state=s \nmore\n"), Prompt: &prompt}.
		Authorize(t.Context(), "https://as.test/authorize?x=1", "http://127.0.0.1:8765/callback")
	if err != nil || got != "http://127.0.0.1:8765/callback?code=c&state=s" {
		t.Errorf("Authorize = %q, %v", got, err)
	}
	if !strings.Contains(prompt.String(), "https://as.test/authorize?x=1") || !strings.Contains(prompt.String(), "starts with http://127.0.0.1:8765/callback") {
		t.Errorf("the prompt must show the URL and what to paste: %q", prompt.String())
	}

	_, err = oauthflow.PasteBrowser{In: strings.NewReader("\n")}.Authorize(t.Context(), "https://as.test/a", "http://127.0.0.1:8765/callback")
	if e, ok := oauthflow.AsError(err); !ok || e.Code != oauthflow.CodeBadURL {
		t.Errorf("an empty paste = %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blocked, w := io.Pipe()
	defer w.Close()
	if _, err := (oauthflow.PasteBrowser{In: blocked}).Authorize(ctx, "https://as.test/a", "http://x"); err == nil {
		t.Error("a cancelled paste must return")
	}
}
