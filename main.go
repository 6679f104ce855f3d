// Command oauthdiag is a terminal diagnostics console for OAuth 2.0 and OpenID Connect.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/charmbracelet/x/term"
)

// command is one subcommand: its name, a one-line summary, and its entry point.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries the process's standard streams and environment so commands can be tested in-process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func commands() []command {
	return []command{
		demoCommand(),
		tuiCommand(),
		flowCommand(),
		callCommand(),
		refreshCommand(),
		logoutCommand(),
		profilesCommand(),
		inspectCommand(),
		probeCommand(),
		sessionsCommand(),
		callsCommand(),
		replayCommandWith(newStoreReplaySecrets),
		exportCommand(),
		bundleCommand(),
		sandboxCommand(),
		browseCommand(),
	}
}

// exitError carries a specific exit status; other errors exit 1, usage errors 2.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := runCLI(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		args = defaultArgs(env)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.stderr, "oauthdiag %s: %v\n", c.name, err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(env.stderr, "oauthdiag: unknown command %q (run `oauthdiag help` for the list)\n", args[0])
	return 2
}

// usageError marks bad flags or arguments (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "oauthdiag: a diagnostics console for OAuth 2.0 and OpenID Connect")
	fmt.Fprintln(w, "\nUsage: oauthdiag <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `oauthdiag <command> -h` for a command's flags. New here? `oauthdiag demo` walks the")
	fmt.Fprintln(w, "whole flow offline against the embedded sandbox. With exactly one profile in the config file,")
	fmt.Fprintln(w, "a bare `oauthdiag` opens the TUI on it.")
}

// defaultArgs is what a bare `oauthdiag` runs: the TUI on the only profile of the config file
// when there is exactly one and a terminal to draw on; otherwise nothing (the usage is shown).
func defaultArgs(env *cliEnv) []string {
	in, okIn := env.stdin.(*os.File)
	out, okOut := env.stdout.(*os.File)
	if !okIn || !okOut || !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) {
		return nil
	}
	f, err := loadProfileFile(env)
	if err != nil || f == nil || len(f.Names()) != 1 {
		return nil
	}
	return []string{"tui", "--profile", f.Names()[0]}
}
