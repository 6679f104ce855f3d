package oauthflow

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
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

// SystemBrowser opens the URL in the desktop browser. Its output is discarded so that nothing it
// prints reaches a terminal UI.
type SystemBrowser struct{}

// Authorize opens authURL and returns "" (the redirect comes to the listener).
func (SystemBrowser) Authorize(ctx context.Context, authURL, _ string) (string, error) {
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		name = "xdg-open"
	}
	cmd := exec.Command(name, append(args, authURL)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", &Error{Step: StepAuthorize, Kind: KindConfig, Code: CodeBrowserStopped, Err: err,
			Description: "cannot open a browser: " + err.Error(),
			Hint:        "open the authorization URL yourself and paste the redirect URL, or pass --browser-cmd"}
	}
	// Reap the opener in the background: it exits as soon as it has handed the URL over.
	go cmd.Wait()
	return "", nil
}

// CommandBrowser runs a user-given command with the authorization URL as its last argument. If the
// command prints a URL that starts with the redirect URI, that is the redirect (headless drivers
// such as `oauthdiag browse` work this way); otherwise the redirect is awaited at the listener.
type CommandBrowser struct {
	Command string    // split on spaces, honouring simple single and double quotes
	Stderr  io.Writer // where the command's stderr goes; nil discards it
}

// Authorize runs the command.
func (c CommandBrowser) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
	words, err := SplitCommand(c.Command)
	if err != nil || len(words) == 0 {
		return "", &Error{Step: StepAuthorize, Kind: KindConfig, Code: CodeBadURL, Err: err,
			Description: fmt.Sprintf("--browser-cmd %q is not a command", c.Command)}
	}
	cmd := exec.CommandContext(ctx, words[0], append(words[1:], authURL)...)
	var out bytes.Buffer
	var errBuf bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errBuf
	runErr := cmd.Run()
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
		text := strings.TrimSpace(errBuf.String())
		if len(text) > 500 {
			text = text[:500] + "…"
		}
		return "", &Error{Step: StepAuthorize, Kind: KindBrowser, Code: CodeBrowserStopped, Err: runErr,
			Description: fmt.Sprintf("browser command %q failed (%v) without printing a redirect: %s", words[0], runErr, text),
			Hint:        "the authorization page did not redirect back: check the client_id and that the redirect URI is registered exactly"}
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

// PasteBrowser prints nothing and opens nothing: the user opens the URL and pastes the redirect,
// which is read as one line from In.
type PasteBrowser struct {
	In     io.Reader
	Prompt io.Writer // where to show the URL and the prompt
}

// Authorize shows the URL and reads the pasted redirect.
func (p PasteBrowser) Authorize(ctx context.Context, authURL, redirectURI string) (string, error) {
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
			return "", &Error{Step: StepCallback, Kind: KindValidation, Code: CodeBadURL, Description: "no redirect URL was pasted"}
		}
		return strings.TrimSpace(l), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
