package cli

import (
	"strings"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"

	"github.com/spf13/cobra"
)

// Completion reads the real state (the config file, the session log) so that what is offered
// is what exists; a state that cannot be read offers nothing rather than fail the shell.

// commonFlagValues are the completions of the flags many commands share, with a command's own
// (extra) taking precedence.
func commonFlagValues(extra map[string]func(env *cliEnv) []string) map[string]func(env *cliEnv) []string {
	values := map[string]func(env *cliEnv) []string{
		"profile":            profileNames,
		"session":            sessionIDs,
		"sandbox":            func(*cliEnv) []string { return scenarioCompletions() },
		"scenario":           func(*cliEnv) []string { return scenarioCompletions() },
		"provider":           func(*cliEnv) []string { return oauthflow.PresetNames() },
		"sandbox-compliance": fixed("linkedin", "strict", "lenient"),
		"auth-method":        fixed("basic", "post", "none"),
		"token-store":        fixed("auto", "keychain", "file"),
		"type":               fixed("access", "refresh", "id"),
	}
	for k, v := range extra {
		values[k] = v
	}
	return values
}

func fixed(values ...string) func(*cliEnv) []string {
	return func(*cliEnv) []string { return values }
}

// scenarioCompletions are the sandbox scenarios, each with its description.
func scenarioCompletions() []string {
	var out []string
	for _, s := range sandbox.Scenarios() {
		out = append(out, cobra.CompletionWithDesc(string(s), s.Description()))
	}
	return out
}

func profileNames(env *cliEnv) []string {
	f, err := loadProfileFile(env)
	if err != nil || f == nil {
		return nil
	}
	return f.Names()
}

// sessionIDs are the recorded sessions, newest first, described by provider and call count.
func sessionIDs(env *cliEnv) []string {
	st, err := sessionStore(env)
	if err != nil {
		return nil
	}
	infos, err := st.Sessions()
	if err != nil {
		return nil
	}
	out := []string{"latest"}
	for _, in := range infos {
		desc := in.Started.UTC().Format(listTime) + " " + orDash(in.Meta.Provider)
		out = append(out, cobra.CompletionWithDesc(in.ID, desc))
	}
	return out
}

func completeProfiles(env *cliEnv, cmd *cobra.Command, args []string, toComplete string) []string {
	if len(args) > 0 {
		return nil
	}
	return profileNames(env)
}

// completeCalls offers the call ids of the session named by --session (latest by default).
func completeCalls(env *cliEnv, cmd *cobra.Command, args []string, toComplete string) []string {
	if len(args) > 0 {
		return nil
	}
	id := "latest"
	if f := cmd.Flags().Lookup("session"); f != nil && f.Value.String() != "" {
		id = f.Value.String()
	}
	s, err := loadSession(env, id)
	if err != nil {
		return nil
	}
	defer s.Close()
	var out []string
	for _, c := range s.Entries() {
		desc := strings.TrimSpace(c.Method + " " + c.URL)
		if c.Step != "" {
			desc = c.Step + ": " + desc
		}
		out = append(out, cobra.CompletionWithDesc(c.ID, desc))
	}
	return out
}
