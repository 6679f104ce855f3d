package cli

import (
	"archive/zip"
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoTapeInTmux plays demo.tape, the trainer's VHS script, against the real binary in a
// 120x40 tmux session: every keystroke the tape sends, every screen it waits for, plus the
// checks named in its "# e2e:" lines. VHS itself cannot run here (its ttyd dependency is not
// packaged), so tmux stands in for its terminal; the tape's Sleeps only pace the recording
// and are skipped.
func TestDemoTapeInTmux(t *testing.T) {
	requireTmux(t)
	tape, err := parseTape(filepath.Join("..", "..", "demo.tape"))
	if err != nil {
		t.Fatal(err)
	}

	work := filepath.Dir(buildBinary(t))
	home := t.TempDir()
	tm := startTmux(t, work, home)

	hooks := map[string]func(){
		"steps-ok": func() {
			scr := tm.capture()
			for _, step := range []string{"Discovery", "Authorize", "Callback", "Exchange", "Userinfo", "API call", "Introspect", "Refresh"} {
				if !regexp.MustCompile(`✓ ` + regexp.QuoteMeta(step) + ` `).MatchString(scr) {
					t.Errorf("step %s is not ok after run all:\n%s", step, scr)
				}
			}
		},
		"countdown-moves": func() {
			left := regexp.MustCompile(`access +\S+ \S+ +(\d+:\d\d left)`)
			first := left.FindStringSubmatch(tm.capture())
			if first == nil {
				t.Fatalf("no access token countdown on screen:\n%s", tm.capture())
			}
			// The countdown ticks every second from the token's absolute expiry.
			tm.waitUntil("the countdown to move", 3*time.Second, func(scr string) bool {
				now := left.FindStringSubmatch(scr)
				return now != nil && now[1] != first[1]
			})
		},
		"failed-step": func() {
			scr := tm.capture()
			if !strings.Contains(scr, "✗ Userinfo") || !strings.Contains(scr, "What went wrong") {
				t.Errorf("Userinfo must show as failed with its diagnosis:\n%s", scr)
			}
		},
		"failed-call": func() {
			scr := tm.capture()
			for _, want := range []string{"provider-outage", "500 Internal Server Error", "fix"} {
				if !strings.Contains(scr, want) {
					t.Errorf("the failed call's detail lacks %q:\n%s", want, scr)
				}
			}
		},
		"bundle-exists": func() {
			// The path may wrap on screen; the part on the "path" line must name the file written.
			m := regexp.MustCompile(`path +(\S+)`).FindStringSubmatch(tm.capture())
			if m == nil {
				t.Fatalf("the bundle summary shows no path:\n%s", tm.capture())
			}
			zips, _ := filepath.Glob(filepath.Join(home, "*", "bundles", "*.zip"))
			zips2, _ := filepath.Glob(filepath.Join(home, "bundles", "*.zip"))
			zips = append(zips, zips2...)
			if len(zips) != 1 || !strings.HasPrefix(zips[0], m[1]) {
				t.Fatalf("want one bundle under OAUTHDIAG_HOME named as on screen (%s…), found %v", m[1], zips)
			}
			zr, err := zip.OpenReader(zips[0])
			if err != nil {
				t.Fatalf("the bundle %s cannot be opened: %v", zips[0], err)
			}
			defer zr.Close()
			found := false
			for _, f := range zr.File {
				found = found || f.Name == "report.md"
			}
			if !found {
				t.Errorf("the bundle %s has no report.md", zips[0])
			}
		},
	}
	for _, c := range tape {
		if t.Failed() {
			t.Fatalf("stopping the tape at line %d after a failure; the screen is:\n%s", c.line, tm.capture())
		}
		switch c.kind {
		case "type":
			tm.sendLiteral(c.arg)
		case "key":
			tm.sendKey(c.arg)
		case "wait":
			re := regexp.MustCompile(c.arg)
			scope := "the last line"
			if c.screen {
				scope = "the screen"
			}
			tm.waitUntil(fmt.Sprintf("line %d: %s to match /%s/", c.line, scope, c.arg), c.timeout, func(scr string) bool {
				if c.screen {
					return re.MatchString(scr)
				}
				return re.MatchString(lastLine(scr))
			})
		case "hook":
			h, ok := hooks[c.arg]
			if !ok {
				t.Fatalf("line %d: the tape names an unknown check %q", c.line, c.arg)
			}
			h()
		}
	}
}

// tapeCmd is one action of the tape that the test replays.
type tapeCmd struct {
	line    int
	kind    string // type, key, wait, hook
	arg     string
	screen  bool
	timeout time.Duration
}

// tmuxKeys maps VHS key names to tmux's.
var tmuxKeys = map[string]string{
	"Enter": "Enter", "Escape": "Escape", "Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right",
	"Tab": "Tab", "Space": "Space", "Backspace": "BSpace", "PageUp": "PPage", "PageDown": "NPage",
}

// requireTmux skips an end-to-end terminal test in -short mode or without tmux, and fails it
// instead when OAUTHDIAG_REQUIRE_TMUX is set (as in CI, where nothing may be skipped). files
// are other paths the test needs, such as bash-completion's script.
func requireTmux(t *testing.T, files ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end terminal test skipped in -short mode")
	}
	missing := ""
	if _, err := exec.LookPath("tmux"); err != nil {
		missing = "tmux"
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil && missing == "" {
			missing = f
		}
	}
	if missing == "" {
		return
	}
	msg := missing + " is missing: this end-to-end test drives a terminal through tmux (apt-get install tmux bash-completion; .ci/run installs them)"
	if os.Getenv("OAUTHDIAG_REQUIRE_TMUX") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// parseTape reads the subset of the VHS tape language demo.tape uses. Anything else is an
// error, so the tape cannot drift away from what this test checks. Commands between Hide and
// Show prepare the recording (building the binary) and are done by the test itself.
func parseTape(path string) ([]tapeCmd, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cmds []tapeCmd
	hidden := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(line, "# e2e:"); ok {
			cmds = append(cmds, tapeCmd{line: n, kind: "hook", arg: strings.TrimSpace(name)})
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := tapeWords(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		for i := 0; i < len(words); i++ {
			w := words[i]
			switch {
			case w == "Hide":
				hidden = true
			case w == "Show":
				hidden = false
			case hidden:
				// Setup the test does itself; skip the rest of the line.
				i = len(words)
			case w == "Output" || w == "Require" || w == "Set":
				i = len(words)
			case w == "Sleep":
				i++ // pacing for viewers only
			case w == "Type":
				if i+1 >= len(words) {
					return nil, fmt.Errorf("%s:%d: Type without a string", path, n)
				}
				i++
				cmds = append(cmds, tapeCmd{line: n, kind: "type", arg: words[i]})
			case strings.HasPrefix(w, "Wait"):
				c := tapeCmd{line: n, kind: "wait", arg: `>\s*$`, timeout: 15 * time.Second}
				rest := strings.TrimPrefix(w, "Wait")
				if r, ok := strings.CutPrefix(rest, "+Screen"); ok {
					c.screen, rest = true, r
				}
				if r, ok := strings.CutPrefix(rest, "@"); ok {
					d, err := time.ParseDuration(r)
					if err != nil {
						return nil, fmt.Errorf("%s:%d: bad Wait timeout %q", path, n, r)
					}
					c.timeout = d
				} else if rest != "" {
					return nil, fmt.Errorf("%s:%d: unknown command %q", path, n, w)
				}
				if i+1 < len(words) && strings.HasPrefix(words[i+1], "/") {
					i++
					c.arg = strings.TrimSuffix(strings.TrimPrefix(words[i], "/"), "/")
				}
				cmds = append(cmds, c)
			case tmuxKeys[w] != "":
				cmds = append(cmds, tapeCmd{line: n, kind: "key", arg: tmuxKeys[w]})
			default:
				return nil, fmt.Errorf("%s:%d: command %q is not one the tmux replay knows", path, n, w)
			}
		}
	}
	return cmds, sc.Err()
}

// tapeWords splits a tape line into words; "quoted strings" and /regexps/ are one word each.
func tapeWords(line string) ([]string, error) {
	var words []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		switch line[0] {
		case '"', '/':
			end := strings.IndexByte(line[1:], line[0])
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c in %q", line[0], line)
			}
			w := line[1 : end+1]
			if line[0] == '/' {
				w = "/" + w + "/"
			}
			words = append(words, w)
			line = line[end+2:]
		default:
			end := strings.IndexAny(line, " \t")
			if end < 0 {
				end = len(line)
			}
			words = append(words, line[:end])
			line = line[end:]
		}
	}
	return words, nil
}

func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}

// tmuxTerm is a private tmux server with one 120x40 window running a plain bash.
type tmuxTerm struct {
	t      *testing.T
	socket string
	target string
}

func startTmux(t *testing.T, dir, home string) *tmuxTerm {
	t.Helper()
	tm := &tmuxTerm{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), target: "demo"}
	// A bare bash with the "> " prompt VHS gives its shell, which the tape's Wait expects;
	// OAUTHDIAG_HOME keeps the session logs and bundles in the test's directory.
	rc := filepath.Join(t.TempDir(), "bashrc")
	if err := os.WriteFile(rc, []byte("PS1='> '\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := tm.run("new-session", "-d", "-s", tm.target, "-x", "120", "-y", "40", "-c", dir,
		"-e", "OAUTHDIAG_HOME="+home, "-e", "LANG=C.UTF-8", "-e", "TERM=xterm-256color",
		"bash --noprofile --rcfile "+rc)
	if err != nil {
		t.Fatalf("starting tmux: %v", err)
	}
	t.Cleanup(func() { _ = tm.run("kill-server") })
	tm.waitUntil("the shell prompt", 10*time.Second, func(scr string) bool { return strings.HasSuffix(strings.TrimRight(scr, "\n "), ">") })
	return tm
}

func (tm *tmuxTerm) run(args ...string) error {
	cmd := exec.Command("tmux", append([]string{"-u", "-S", tm.socket}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (tm *tmuxTerm) capture() string {
	cmd := exec.Command("tmux", "-u", "-S", tm.socket, "capture-pane", "-p", "-t", tm.target)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		tm.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

func (tm *tmuxTerm) sendLiteral(s string) {
	if err := tm.run("send-keys", "-t", tm.target, "-l", s); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *tmuxTerm) sendKey(k string) {
	if err := tm.run("send-keys", "-t", tm.target, k); err != nil {
		tm.t.Fatal(err)
	}
}

// waitUntil polls the screen until cond holds, failing after timeout with the last screen.
func (tm *tmuxTerm) waitUntil(what string, timeout time.Duration, cond func(string) bool) {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := tm.capture()
		if cond(scr) {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %s; the screen is:\n%s", timeout, what, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
