package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const browseHelp = `Completes a provider's login and consent pages without a screen (plain HTML forms, no JavaScript) and
prints the final redirect URL, with code and state or error, on stdout. It never requests the redirect
URI itself. Use it as the browser of a flow:

  oauthdiag flow ... --browser-cmd 'oauthdiag browse --user alice'

Exit status: 0 the redirect carries a code (or tokens), 3 it carries error=..., 4 it stopped on a page
it cannot complete (the page's status and text go to stderr), 1 any other failure, 2 bad usage.

Credentials: --user and --password, else OAUTHDIAG_BROWSE_USER and OAUTHDIAG_BROWSE_PASSWORD, else
alice / any, which the sandbox and the oidc-provider peer accept. The zitadel/oidc peer wants
test-user@127.0.0.1 / verysecure. Prefer the environment variable for a password: flags show up in
process lists. The password is never printed, not even with -v.`

func browseCommand() command {
	return command{
		name:    "browse",
		summary: "complete a provider's login and consent pages headlessly; print the redirect URL",
		use:     "AUTHORIZATION_URL",
		long:    browseHelp,
		args:    cobra.ArbitraryArgs,
		example: "  oauthdiag browse --user alice 'https://login.example.com/authorize?client_id=…'\n  oauthdiag flow --issuer URL --client-id ID --browser-cmd 'oauthdiag browse --user alice'",
		setup:   setupBrowse,
	}
}

func setupBrowse(env *cliEnv, fs *pflag.FlagSet) runFunc {
	user := fs.String("user", "", "username to fill into login forms (default $OAUTHDIAG_BROWSE_USER, else alice)")
	password := fs.String("password", "", "password to fill into login forms (default $OAUTHDIAG_BROWSE_PASSWORD, else any)")
	redirectURI := fs.String("redirect-uri", "", "stop at this redirect URI (default: the URL's redirect_uri parameter)")
	cancel := fs.Bool("cancel", false, "press deny/cancel instead of allow, to see the provider's access_denied answer")
	maxHops := fs.Int("max-hops", 20, "give up after this many HTTP requests")
	verbose := fs.BoolP("verbose", "v", false, "trace every request on stderr (secrets redacted)")
	jsonOut := fs.Bool("json", false, "print the redirect URL as one JSON document")
	return func(ctx context.Context, args []string) error {
		positional := args
		if len(positional) != 1 {
			return usagef("want exactly one AUTHORIZATION_URL, got %d arguments (see oauthdiag browse --help)", len(positional))
		}
		if *maxHops < 1 {
			return usagef("--max-hops must be at least 1")
		}

		b := &browser.Headless{
			Username: browseDefault(*user, env.getenv("OAUTHDIAG_BROWSE_USER"), "alice"),
			Password: browseDefault(*password, env.getenv("OAUTHDIAG_BROWSE_PASSWORD"), "any"),
			Cancel:   *cancel,
			MaxHops:  *maxHops,
		}
		if *verbose {
			b.Trace = env.stderr
		}
		redirect, err := b.Authorize(ctx, positional[0], *redirectURI)
		if err != nil {
			var pe *browser.PageError
			if errors.As(err, &pe) {
				return &exitError{code: browser.ExitStoppedOnPage, err: err}
			}
			return err
		}
		if *jsonOut {
			if err := writeJSON(env.stdout, struct {
				RedirectURL string `json:"redirect_url"`
			}{redirect}); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(env.stdout, redirect)
		}
		return browseOutcome(redirect)
	}
}

// browseOutcome maps the authorization response to the exit status: nil (0) for a code or tokens,
// 3 for an error response, 2 for a redirect that carries neither.
func browseOutcome(redirect string) error {
	u, err := url.Parse(redirect)
	if err != nil {
		return &exitError{code: browser.ExitStoppedOnPage, err: fmt.Errorf("the redirect URL is not parsable: %w", err)}
	}
	params := u.Query()
	if frag, err := url.ParseQuery(u.Fragment); err == nil {
		for k, v := range frag {
			params[k] = append(params[k], v...)
		}
	}
	switch {
	case params.Get("error") != "":
		msg := "the authorization server answered error=" + params.Get("error")
		if d := params.Get("error_description"); d != "" {
			msg += ": " + d
		}
		return &exitError{code: browser.ExitErrorRedirect, err: errors.New(msg)}
	case params.Get("code") != "" || params.Get("access_token") != "" || params.Get("id_token") != "":
		return nil
	}
	return &exitError{code: browser.ExitStoppedOnPage, err: errors.New("the redirect carries neither a code nor an error")}
}

// browseDefault returns the first value that is not blank.
func browseDefault(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
