package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Bad flags of the TUI commands get one message naming the cause and the fix, exit status 2,
// and nothing is started: no sandbox, no session log, no full-screen program.
func TestTUICommandsRejectBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"demo", "--scenario", "meltdown"}, []string{"--scenario", `"meltdown"`, "happy", "server-error"}},
		{[]string{"demo", "--theme", "purple"}, []string{"--theme", "auto, dark or light"}},
		{[]string{"demo", "--access-ttl", "0s"}, []string{"--access-ttl", "at least 1s"}},
		{[]string{"demo", "--browser", "firefox"}, []string{"--browser", "headless, system or none"}},
		{[]string{"demo", "--compliance", "sloppy"}, []string{`"sloppy"`, "linkedin", "strict", "lenient"}},
		{[]string{"demo", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"demo", "--callback-timeout", "-1s"}, []string{"--callback-timeout must be positive"}},
		{[]string{"tui"}, []string{"no provider given", "--provider linkedin", "--profile NAME"}},
		{[]string{"tui", "--provider", "linkedin", "--client-id", "x", "--client-secret", "y", "--param", "novalue"}, []string{"--param", "name=value"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			home := t.TempDir()
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string {
					if k == "OAUTHDIAG_HOME" {
						return home
					}
					return ""
				}}
			code := runCLI(context.Background(), env, c.args)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (usage); stderr:\n%s", code, stderr.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("the message lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stdout.String(), "\x1b[?1049h") {
				t.Errorf("the full-screen program started despite the bad flags")
			}
		})
	}
}

func TestTUICommandsAreListed(t *testing.T) {
	var stdout bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stdout, getenv: func(string) string { return "" }}
	runCLI(context.Background(), env, []string{"help"})
	for _, want := range []string{"demo ", "embedded sandbox", "tui ", "real provider"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the usage lacks %q:\n%s", want, stdout.String())
		}
	}
}
