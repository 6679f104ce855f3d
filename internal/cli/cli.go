// Package cli is oauthdiag's command line: one cobra command per file, the shared provider flags,
// paths, output and recording helpers. Everything the TUI can do is reachable here headless.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFunc runs a command once its flags are parsed; args are its positional arguments.
type runFunc func(ctx context.Context, args []string) error

// command is one subcommand: its name, a one-line summary, and how it is set up. setup declares
// the command's flags on fs and returns what runs it, so that the flags' variables live in the
// closure and help, completion and suggestions see every flag before anything runs.
type command struct {
	name    string
	summary string
	long    string // the help's description; the summary when empty
	use     string // what follows the name in the synopsis, e.g. "URL"; "" for flags only
	example string
	// args checks the positional arguments; nil means none are taken.
	args  cobra.PositionalArgs
	setup func(env *cliEnv, fs *pflag.FlagSet) runFunc
	sub   []command
	// complete offers values for the positional arguments.
	complete func(env *cliEnv, cmd *cobra.Command, args []string, toComplete string) []string
	// flagValues offers values for flags, by flag name.
	flagValues map[string]func(env *cliEnv) []string
}

// cliEnv carries the process's standard streams and environment so commands can be tested in-process.
type cliEnv struct {
	stdin io.Reader
	// stdout and stderr are text for a terminal: once runCLI has wrapped them, they show every
	// control character a server (or any other outside source) sent as a visible escape.
	stdout io.Writer
	stderr io.Writer
	// raw is standard output as it is, for the outputs that must stay byte-exact (a zip, a HAR
	// document); nil means stdout. Use it through rawStdout, and for nothing else.
	raw    io.Writer
	getenv func(string) string
	goos   string // the platform whose directory conventions apply; runtime.GOOS when empty
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
		versionCommand(),
		manCommand(),
	}
}

// Exit statuses, documented in the root help and the README.
const (
	exitOK     = 0
	exitFailed = 1 // the thing tried failed: a flow step, a replay's last attempt, a probe deviation
	exitUsage  = 2 // the command line was wrong: unknown command or flag, bad value, missing argument
	// exitInterrupted is the shells' 128+SIGINT.
	exitInterrupted = 130
	exitStatusHelp  = "Exit status: 0 success; 1 the thing tried failed (a flow step, a call, a replay's last\n" +
		"attempt, a probe deviation with --fail-on-deviation, an inactive token); 2 usage (an unknown\n" +
		"command or flag, a bad value, a profile or session that does not exist); 130 interrupted."
)

// exitError carries a specific exit status; other errors exit 1, usage errors 2.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// Main runs the command line of this process and returns its exit status.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	return runCLI(ctx, env, os.Args[1:])
}

func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		args = defaultArgs(env)
	}
	// After defaultArgs, which asks whether the streams are terminals.
	env = env.terminalSafe()
	root := newRoot(env)
	// Shell completion scripts call cobra's hidden __complete command, which cobra adds itself.
	completing := len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
	if len(args) > 0 && !completing && !strings.HasPrefix(args[0], "-") && !isCommand(root, args[0]) {
		fmt.Fprintln(env.stderr, "oauthdiag: "+unknownCommand(root, args[0]))
		return exitUsage
	}
	target, _, _ := root.Find(args)
	root.SetArgs(normalizeArgs(target, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	name := strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), "oauthdiag"))
	if name == "" {
		fmt.Fprintf(env.stderr, "oauthdiag: %v\n", err)
	} else {
		fmt.Fprintf(env.stderr, "oauthdiag %s: %v\n", name, err)
	}
	var ee *exitError
	var ue *usageError
	switch {
	case ctx.Err() != nil: // Ctrl+C or SIGTERM ended what was running
		return exitInterrupted
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

// newRoot builds the command tree afresh: flags bind to variables of one run.
func newRoot(env *cliEnv) *cobra.Command { return newRootOf(env, commands()) }

// newRootOf is the root command over cmds.
func newRootOf(env *cliEnv, cmds []command) *cobra.Command {
	root := &cobra.Command{
		Use:   "oauthdiag",
		Short: "a diagnostics console for OAuth 2.0 and OpenID Connect",
		Long: "oauthdiag walks OAuth 2.0 and OpenID Connect flows step by step, records every call, and says\n" +
			"why one failed. New here? `oauthdiag demo` walks the whole flow offline against the embedded\n" +
			"sandbox. With exactly one profile in the config file, a bare `oauthdiag` opens the TUI on it.\n\n" +
			exitStatusHelp,
		Version:       buildVersion().String(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetVersionTemplate(`{{printf "oauthdiag %s" .Version}}` + "\n")
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetIn(env.stdin)
	root.SetFlagErrorFunc(flagError)
	// Flag descriptions wrap at 100 columns rather than run on for a screen width.
	usage := strings.ReplaceAll(root.UsageTemplate(), ".LocalFlags.FlagUsages", "(.LocalFlags.FlagUsagesWrapped 100)")
	root.SetUsageTemplate(strings.ReplaceAll(usage, ".InheritedFlags.FlagUsages", "(.InheritedFlags.FlagUsagesWrapped 100)"))
	root.CompletionOptions.HiddenDefaultCmd = false
	for _, c := range cmds {
		root.AddCommand(c.cobra(env))
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print a shell completion script (bash, zsh, fish, powershell)"
		}
	}
	return root
}

// cobra turns a command into its cobra form.
func (c command) cobra(env *cliEnv) *cobra.Command {
	use := c.name
	if c.use != "" {
		use += " " + c.use
	}
	long := c.long
	if long == "" {
		long = strings.ToUpper(c.summary[:1]) + c.summary[1:] + "."
	}
	cc := &cobra.Command{
		Use:     use,
		Short:   c.summary,
		Long:    long,
		Example: c.example,
		Args:    c.args,
	}
	if cc.Args == nil {
		cc.Args = noArgs
	}
	cc.Flags().SortFlags = false
	if c.setup != nil {
		run := c.setup(env, cc.Flags())
		cc.RunE = func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), args) }
	}
	for _, s := range c.sub {
		cc.AddCommand(s.cobra(env))
	}
	if c.complete != nil {
		cc.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return c.complete(env, cmd, args, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	for name, values := range commonFlagValues(c.flagValues) {
		if cc.Flags().Lookup(name) == nil {
			continue
		}
		cc.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return values(env), cobra.ShellCompDirectiveNoFileComp
		})
	}
	return cc
}

// noArgs refuses positional arguments with a message that names the command's help.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usagef("%s", unknownCommand(cmd, args[0]))
	}
	return usagef("unexpected argument %q: %s takes no arguments (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
}

// exactArgs wants n positional arguments, named in what for the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usagef("missing %s (see %s --help)", what, cmd.CommandPath())
		case len(args) > n:
			return usagef("unexpected argument %q: give one %s (see %s --help)", args[n], what, cmd.CommandPath())
		}
		return nil
	}
}

// isCommand says whether name is a subcommand of root (or an alias of one).
func isCommand(root *cobra.Command, name string) bool {
	for _, c := range root.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return true
		}
	}
	return false
}

// unknownCommand is the one line for a command name that does not exist, with the nearest ones.
func unknownCommand(parent *cobra.Command, name string) string {
	msg := fmt.Sprintf("unknown command %q for %q", name, parent.CommandPath())
	var names []string
	for _, c := range parent.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			names = append(names, c.Name())
		}
	}
	if near := nearest(name, names); len(near) > 0 {
		return msg + ": did you mean " + strings.Join(near, " or ") + "?"
	}
	return msg + " (" + parent.CommandPath() + " --help lists them)"
}

// flagError turns pflag's errors into one line naming the cause and the fix.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var unknown string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		unknown = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'x' in -xyz"
		if i := strings.Index(msg, " in -"); i >= 0 {
			unknown = msg[i+len(" in -"):]
		}
	}
	if unknown == "" {
		return usagef("%s (see %s --help)", msg, cmd.CommandPath())
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if near := nearest(unknown, names); len(near) > 0 {
		for i := range near {
			near[i] = "--" + near[i]
		}
		return usagef("unknown flag --%s: did you mean %s?", unknown, strings.Join(near, " or "))
	}
	return usagef("unknown flag --%s (see %s --help)", unknown, cmd.CommandPath())
}

// nearest are the names closest to s by edit distance, or having s as prefix, when close enough
// to be a typo.
func nearest(s string, names []string) []string {
	best, bestD := []string(nil), 1<<30
	for _, n := range names {
		d := editDistance(s, n)
		if strings.HasPrefix(n, s) || strings.HasPrefix(s, n) {
			d = min(d, 1)
		}
		switch {
		case d < bestD:
			best, bestD = []string{n}, d
		case d == bestD:
			best = append(best, n)
		}
	}
	if bestD > max(2, len(s)/3) {
		return nil
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// normalizeArgs keeps the single-dash long flags of earlier versions working (`-json` for
// `--json`): pflag reads `-json` as the shorthands j, s, o, n.
func normalizeArgs(cmd *cobra.Command, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if len(name) > 1 && (cmd.Flags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil) {
			out[i] = "-" + a
		}
	}
	return out
}

// defaultArgs is what a bare `oauthdiag` runs: the TUI on the only profile of the config file
// when there is exactly one and a terminal to draw on; otherwise nothing (the help is shown).
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
