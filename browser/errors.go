package browser

import (
	"errors"
	"fmt"
	"strings"
)

// The fix suggested when no program could take the user through the authorization URL.
const fixOpenYourself = "open the authorization URL yourself and paste the redirect URL, or pass --browser-cmd with a program that is installed"

// LaunchError reports that the browser program could not be started at all (not installed, not
// executable), so the authorization URL never reached a browser.
type LaunchError struct {
	Command string // the program that was to be started
	// Env is the environment variable the command came from ("BROWSER"); "" for the platform's
	// opener and for --browser-cmd.
	Env string
	// Tried are the programs of the same variable tried before Command; none of them started.
	Tried []string
	Err   error
}

func (e *LaunchError) Error() string {
	if e.Env == "" {
		return fmt.Sprintf("cannot start the browser %q: %v; %s", e.Command, e.Err, fixOpenYourself)
	}
	from := "$" + e.Env
	if len(e.Tried) > 0 {
		q := make([]string, len(e.Tried))
		for i, t := range e.Tried {
			q[i] = fmt.Sprintf("%q", t)
		}
		from += ", after " + strings.Join(q, ", ")
	}
	return fmt.Sprintf("cannot start the browser %q (from %s): %v; unset %s or make it name an installed browser, or pass --browser-cmd with a program that is installed, or --paste to open the URL yourself",
		e.Command, from, e.Err, e.Env)
}

func (e *LaunchError) Unwrap() error { return e.Err }

// CommandError reports that a browser command ran and failed without printing a redirect, which
// usually means the authorization page did not send the browser back to the redirect URI.
type CommandError struct {
	Command string // the program that was run (the first word of the command line)
	Err     error  // how it ended, e.g. *exec.ExitError
	Stderr  string // what it printed on stderr, trimmed and cut to about 500 bytes
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "browser command %q failed (%v) without printing a redirect", e.Command, e.Err)
	if e.Stderr != "" {
		b.WriteString(": " + e.Stderr)
	}
	b.WriteString("; the authorization page did not redirect back: check the client_id and that the redirect URI is registered exactly")
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Err }

// CommandLineError reports a browser command line that names no program: it is empty, or its
// quotes do not pair up.
type CommandLineError struct {
	Command string // the command line as given
	Err     error  // why it could not be split; nil when it is empty
}

func (e *CommandLineError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("browser command %q is not a command: it is empty; give the program to run and its arguments, e.g. \"oauthdiag browse\"", e.Command)
	}
	return fmt.Sprintf("browser command %q is not a command: %v; pair every ' and \" quote, and quote words that contain spaces", e.Command, e.Err)
}

func (e *CommandLineError) Unwrap() error { return e.Err }

// ErrNothingPasted: the user ended the input or pasted an empty line instead of the redirect URL.
var ErrNothingPasted = errors.New("no redirect URL was pasted: after logging in, copy the whole URL the browser was sent to and paste it at the prompt")
