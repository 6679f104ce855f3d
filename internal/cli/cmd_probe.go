package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/probe"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

const probeHelp = `Runs a fixed battery of conformance checks against a provider and reports each as pass, deviation or
not applicable, with the RFC section it relates to, to answer "is it me or the provider?":
discovery completeness, wrong client secret, unregistered redirect_uri, token-endpoint redirect_uri
mismatch, wrong PKCE verifier, reused code, revoked access and refresh tokens, refresh-token rotation
(reported as a fact) and the RFC 9207 iss parameter.

Several checks need a fresh authorization code each, so the probe authorizes six times through a
headless browser: --browser-cmd runs a command that prints the redirect URL, such as
  oauthdiag probe --issuer URL --client-id ID --browser-cmd 'oauthdiag browse --user U'
--sandbox MODE probes the embedded sandbox instead (linkedin, strict or lenient).

The probe revokes the tokens it obtains. Secrets, codes and tokens never appear in its output.

Exit status: 0 the probe ran (deviations are findings, not failures, unless --fail-on-deviation);
1 the probe could not run (configuration, unreachable provider), some checks could not run, or a
check found a deviation with --fail-on-deviation; 2 bad flags.`

func probeCommand() command {
	return command{
		name:    "probe",
		summary: "check a provider's conformance (pass / deviation / not applicable, with the RFC section)",
		long:    probeHelp,
		example: "  oauthdiag probe --sandbox linkedin\n  oauthdiag probe --issuer https://login.example.com --client-id ID --browser-cmd 'oauthdiag browse --user U' --json",
		setup:   setupProbe,
	}
}

func setupProbe(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var pf providerFlags
	var browserCmd, sandboxMode string
	var params multiFlag
	var jsonOut bool
	pf.register(fs)
	fs.StringVar(&browserCmd, "browser-cmd", "", "headless browser command that prints the redirect URL (the authorization URL is its last argument), e.g. 'oauthdiag browse --user U'")
	fs.StringVar(&sandboxMode, "sandbox", "", "probe the embedded sandbox in this compliance mode: linkedin, strict or lenient")
	fs.Var(&params, "param", "extra authorization request parameter K=V (repeatable)")
	fs.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	failOnDeviation := fs.Bool("fail-on-deviation", false, "exit 1 when any check finds a deviation (for CI gates)")
	return func(ctx context.Context, args []string) error {
		extra, err := parseParams(params)
		if err != nil {
			return err
		}

		var res *resolved
		var br browser.Browser
		if sandboxMode != "" {
			mode, err := sandbox.ParseCompliance(sandboxMode)
			if err != nil {
				return usagef("--sandbox: %v", err)
			}
			sb := sandbox.New(sandbox.WithCompliance(mode), sandbox.WithAutoConsent(true))
			base, err := sb.Start("127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("starting the sandbox: %w", err)
			}
			defer sb.Close()
			if res, err = sandboxConfig(&pf, base, sb.Issuer()); err != nil {
				return err
			}
			res.cfg.Provider.Name = "sandbox-" + string(mode)
			br = &browser.Headless{Username: "member@example.com", Password: "sandbox"}
		} else {
			if browserCmd == "" {
				return usagef("the probe needs a headless browser: pass --browser-cmd 'oauthdiag browse --user U' (or --sandbox MODE to probe the embedded sandbox)")
			}
			var err error
			if res, err = pf.resolve(env, true); err != nil {
				return err
			}
		}
		if browserCmd != "" {
			br = browser.Command{Command: browserCmd}
		}

		rec, err := openRecording(env, res.cfg, map[string]string{"command": "probe"})
		if err != nil {
			return err
		}
		defer rec.Close()
		report, err := probe.Run(ctx, probe.Options{
			Config:       res.cfg,
			Discover:     res.discover,
			Issuer:       res.issuer,
			DiscoveryURL: res.discoveryURL,
			Browser:      br,
			AuthParams:   extra,
			HTTPClient:   rec.client(pf.timeout),
			Observe:      rec.observe,
		})
		if err != nil {
			if errors.Is(err, probe.ErrUnreachable) {
				return fmt.Errorf("%w (is the provider running, and are --issuer and the endpoint flags right?)", err)
			}
			return err
		}
		if jsonOut {
			if err := writeJSON(env.stdout, struct {
				*probe.Report
				Session string `json:"session,omitempty"`
			}{report, rec.sessionID()}); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
		} else {
			fmt.Fprint(env.stdout, probe.Render(report))
			fmt.Fprintf(env.stdout, "Recorded as session %s (oauthdiag calls --session %s)\n", rec.sessionID(), rec.sessionID())
		}
		if report.Errors > 0 {
			return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d checks could not run (their evidence says why)", report.Errors, len(report.Checks))}
		}
		if *failOnDeviation && report.Deviations > 0 {
			return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d checks found a deviation", report.Deviations, len(report.Checks))}
		}
		return nil
	}
}
