package cli

import (
	"context"
)

// execute runs c as `oauthdiag NAME args...` would, under a root holding only c, and returns
// its error (runCLI turns that into the message and exit status).
func execute(ctx context.Context, env *cliEnv, c command, args []string) error {
	root := newRootOf(env, []command{c})
	full := append([]string{c.name}, args...)
	target, _, _ := root.Find(full)
	root.SetArgs(normalizeArgs(target, full))
	_, err := root.ExecuteContextC(ctx)
	return err
}
