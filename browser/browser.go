package browser

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Browser takes the user through the authorization URL. It returns the redirect URL when it can
// see it (a headless driver, a command that prints it) or "" when the redirect will arrive at the
// loopback listener (a real browser).
type Browser interface {
	Authorize(ctx context.Context, authURL, redirectURI string) (string, error)
}

// BrowserEnv is the environment variable that names the user's browser: a list of commands
// separated by the system's list separator (':', ';' on Windows), each tried in turn until one
// starts. "%s" in a command stands for the URL; a command without it gets the URL as its last
// argument.
const BrowserEnv = "BROWSER"

// System opens the URL with the commands of $BROWSER when it names any, otherwise in the desktop
// browser. Output is discarded so that nothing the browser prints reaches a terminal UI.
type System struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(key string) string
}

// Authorize opens authURL and returns "" (the redirect comes to the listener).
func (s System) Authorize(ctx context.Context, authURL, _ string) (string, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if cmds := envCommands(getenv(BrowserEnv)); len(cmds) > 0 {
		return "", startFirst(cmds, authURL)
	}
	name, args := systemOpener(runtime.GOOS)
	if err := startOpener(name, append(args, authURL)); err != nil {
		return "", &LaunchError{Command: name, Err: err}
	}
	return "", nil
}

// envCommands splits a $BROWSER value into its commands, leaving out empty ones.
func envCommands(v string) []string {
	var cmds []string
	for c := range strings.SplitSeq(v, string(os.PathListSeparator)) {
		if strings.TrimSpace(c) != "" {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// startFirst starts the first of the $BROWSER commands that can be started.
func startFirst(cmds []string, authURL string) error {
	var tried []string
	for i, c := range cmds {
		words, err := SplitCommand(c)
		name := c
		if err == nil {
			name = words[0]
			err = startOpener(name, withURL(words[1:], authURL))
		}
		if err == nil {
			return nil
		}
		if i == len(cmds)-1 {
			return &LaunchError{Command: name, Env: BrowserEnv, Tried: tried, Err: err}
		}
		tried = append(tried, name)
	}
	return nil
}

// withURL puts the URL where "%s" is, or after the last argument. The command is split before
// the URL goes in, so nothing in the URL is read as quoting.
func withURL(args []string, url string) []string {
	out := make([]string, 0, len(args)+1)
	placed := false
	for _, a := range args {
		if strings.Contains(a, "%s") {
			a, placed = strings.ReplaceAll(a, "%s", url), true
		}
		out = append(out, a)
	}
	if !placed {
		out = append(out, url)
	}
	return out
}

// startOpener starts a program that hands the URL to a browser and reaps it in the background:
// it exits as soon as it has handed the URL over.
func startOpener(name string, args []string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// systemOpener is the program that opens a URL in the desktop browser on goos.
func systemOpener(goos string) (name string, args []string) {
	switch goos {
	case "darwin":
		return "open", nil
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler"}
	}
	return "xdg-open", nil
}

// Command runs a user-given command with the authorization URL as its last argument. If the
// command prints a URL that starts with the redirect URI, that is the redirect (headless drivers
// such as `oauthdiag browse` work this way); otherwise the redirect is awaited at the listener.
type Command struct {
	Command string    // split on spaces, honouring simple single and double quotes
	Stderr  io.Writer // where the command's stderr goes; nil discards it
}

// maxCommandStderr bounds the command's stderr kept in a CommandError, which ends up on one line.
const maxCommandStderr = 500

// Authorize runs the command.
func (c Command) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	words, err := SplitCommand(c.Command)
	if err != nil || len(words) == 0 {
		return "", &CommandLineError{Command: c.Command, Err: err}
	}
	cmd := exec.CommandContext(ctx, words[0], append(words[1:], authURL)...)
	var out, errBuf bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		return "", &LaunchError{Command: words[0], Err: err}
	}
	runErr := cmd.Wait()
	if c.Stderr != nil {
		c.Stderr.Write(errBuf.Bytes())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if redirectURI != "" && strings.HasPrefix(line, redirectURI) {
			return line, nil
		}
	}
	if runErr != nil {
		return "", &CommandError{Command: words[0], Err: runErr,
			Stderr: cutText(strings.TrimSpace(errBuf.String()), maxCommandStderr)}
	}
	return "", nil
}

// SplitCommand splits a command line into words with simple shell quoting.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Paste prints nothing and opens nothing: the user opens the URL and pastes the redirect, which is
// read as one line from In.
type Paste struct {
	In     io.Reader
	Prompt io.Writer // where to show the URL and the prompt
}

// Authorize shows the URL and reads the pasted redirect. A cancelled ctx returns at once; the read
// from In cannot be interrupted and ends when In does.
func (p Paste) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	if p.Prompt != nil {
		fmt.Fprintf(p.Prompt, "Open this URL in a browser and log in:\n\n  %s\n\nThen paste the URL you were redirected to (it starts with %s):\n> ", authURL, redirectURI)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(p.In)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok || strings.TrimSpace(l) == "" {
			return "", ErrNothingPasted
		}
		return strings.TrimSpace(l), nil
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the pasted redirect URL: %w", ctx.Err())
	}
}
