package cli

import (
	"io"

	"github.com/oauthdiag/oauthdiag/internal/termsafe"
)

// terminalSafe is env with standard output and standard error made safe for a terminal: text a
// server controls (an error_description, a plain-text body, a page title, a browser command's
// stderr) reaches them through every command's messages, and an escape sequence in it would act
// on the user's terminal (write the clipboard, retitle the window) instead of being shown. Every
// write therefore goes through termsafe, which shows control characters as visible escapes.
// JSON documents pass unchanged, since writeJSON leaves no control character raw; the outputs
// that must stay byte-exact write to rawStdout.
func (env *cliEnv) terminalSafe() *cliEnv {
	if _, done := env.stdout.(*termsafe.Writer); done {
		return env
	}
	safe := *env
	if safe.raw == nil {
		safe.raw = env.stdout
	}
	safe.stdout = termsafe.NewWriter(env.stdout)
	safe.stderr = termsafe.NewWriter(env.stderr)
	return &safe
}

// rawStdout is standard output as it is, for a zip or a HAR document written with -o -.
func (env *cliEnv) rawStdout() io.Writer {
	if env.raw != nil {
		return env.raw
	}
	return env.stdout
}
