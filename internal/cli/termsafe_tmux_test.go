package cli

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/hostile"
)

// TestTUIKeepsAHostileServerOffTheTerminal runs the built binary's TUI in tmux against a provider
// whose error redirect carries escapes in its error_description, among them an OSC 0 and an APC
// string that would retitle the window and an OSC 52 that would write the clipboard. Once the
// Callback step shows the error, the pane's title is still the one the TUI set, no clipboard
// buffer was written, and the screen shows the escapes as text.
func TestTUIKeepsAHostileServerOffTheTerminal(t *testing.T) {
	requireTmux(t)
	bin := buildBinary(t)
	c := hostile.NewCanaries(t.Name())
	srv := hostile.StartTerm(t, c, hostile.TermOptions{Authorize: hostile.AuthorizeError})
	home := t.TempDir()
	tm := startTmux(t, t.TempDir(), home)
	// tmux keeps what OSC 52 sends as a paste buffer when it may set the clipboard.
	if err := tm.run("set-option", "-g", "set-clipboard", "on"); err != nil {
		t.Fatal(err)
	}
	// The binary's own browse follows the authorization URL and prints the redirect.
	tm.sendLiteral("OAUTHDIAG_CLIENT_SECRET=" + c.ClientSecret + " " + bin + " tui --no-auto-refresh --issuer " + srv.Issuer() +
		" --client-id " + c.ClientID + " --auth-method post --redirect-uri http://" + tokFreeAddr(t) + "/callback --no-listen" +
		" --browser-cmd '" + bin + " browse'")
	tm.sendKey("Enter")
	tm.waitUntil("the TUI", 15*time.Second, func(scr string) bool { return strings.Contains(scr, "Discovery") })
	tm.waitUntil("the TUI's own window title", 5*time.Second, func(string) bool { return tm.paneTitle() == "oauthdiag" })

	tm.sendLiteral("A")
	tm.waitUntil("the callback's error_description", 20*time.Second, func(scr string) bool {
		return strings.Contains(scr, "[callback_error_description]") && strings.Contains(scr, "ESREVER")
	})
	if title := tm.paneTitle(); title != "oauthdiag" {
		t.Errorf("the pane title is %q after the TUI showed the server's error_description: the server's escapes reached the terminal", title)
	}
	if buffers := tm.output("list-buffers"); strings.TrimSpace(buffers) != "" {
		t.Errorf("the server's OSC 52 wrote the clipboard: tmux holds %q", buffers)
	}
	flat := strings.NewReplacer("\n", "", " ", "", "│", "").Replace(tm.capture())
	if !strings.Contains(flat, `\x1b]0;`+hostile.TermTitle) || !strings.Contains(flat, `\x1b]52;`) {
		t.Errorf("the screen does not show the server's escapes as text:\n%s", tm.capture())
	}
	tm.sendLiteral("q")
	tm.waitUntil("the shell prompt after quitting", 10*time.Second, func(scr string) bool { return strings.HasSuffix(strings.TrimRight(scr, "\n "), ">") })
}

// paneTitle is the title the programs in the pane have set.
func (tm *tmuxTerm) paneTitle() string {
	return strings.TrimSpace(tm.output("display-message", "-p", "-t", tm.target, "#{pane_title}"))
}

// output runs a tmux command and returns what it printed.
func (tm *tmuxTerm) output(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-u", "-S", tm.socket}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
