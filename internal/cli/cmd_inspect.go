package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

type inspectFlags struct {
	pf           providerFlags
	stored       bool
	tokenStore   string
	kind         string
	noIntrospect bool
	audience     string
	nonce        string
	jsonOut      bool
	reveal       bool
}

func inspectCommand() command {
	return command{
		name:    "inspect",
		summary: "decode, verify and introspect a token: its state, the next action and what is wrong",
		use:     "TOKEN | - | --stored",
		long:    inspectUsage,
		args:    cobra.ArbitraryArgs,
		example: "  pbpaste | oauthdiag inspect -\n  oauthdiag inspect --stored --profile li\n  oauthdiag inspect - --issuer https://login.example.com --client-id ID --type refresh --json",
		setup:   setupInspect,
	}
}

const inspectUsage = `Shows a token's state (expiry, time left, lifetime used, valid / expiring-soon / expired /
revoked), the next action (use, refresh or re-authorize), its decoded header and claims when it
is a JWT with a verdict per check (signature, iss, aud, exp, iat, nbf, nonce), the server's
introspection when an introspection endpoint is known, and a diagnosis.

TOKEN is the token itself; "-" reads it from stdin (preferred: arguments show up in process
lists); --stored inspects the token the token store keeps for the profile.
Without provider flags nothing is sent anywhere: the token is only decoded.
The token is never printed, only its fingerprint (sha256 prefix and length), unless --reveal.

Exit status: 0 when the token is usable, 1 when it is expired, revoked, inactive or fails a
verification check, 2 for bad usage.`

func setupInspect(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var f inspectFlags
	f.pf.register(fs)
	fs.BoolVar(&f.stored, "stored", false, "inspect the stored token of the profile (--profile, or the one derived from provider and client_id)")
	fs.StringVar(&f.tokenStore, "token-store", "", "where --stored looks: auto (the OS keychain when it answers, else a file), keychain or file (default $OAUTHDIAG_TOKEN_STORE, the profile's token_store, or auto)")
	fs.StringVar(&f.kind, "type", "", "what the token is: access, refresh or id (default: guessed from the token)")
	fs.BoolVar(&f.noIntrospect, "no-introspect", false, "do not ask the provider about the token, even when an introspection endpoint is known")
	fs.StringVar(&f.audience, "audience", "", "audience the token must carry (default for ID tokens: the client_id)")
	fs.StringVar(&f.nonce, "nonce", "", "nonce an ID token must carry")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON document instead of text")
	fs.BoolVar(&f.reveal, "reveal", false, "also print the token itself (DANGER: it is a credential)")
	return func(ctx context.Context, args []string) error {
		positional := args
		switch f.kind {
		case "", inspector.KindAccess, inspector.KindRefresh, inspector.KindID:
		default:
			return usagef("--type %q: use access, refresh or id", f.kind)
		}
		if len(positional) > 1 {
			return usagef("one token at a time: got %d arguments (quote nothing, pass the token alone or - for stdin)", len(positional))
		}
		if f.stored && len(positional) == 1 {
			return usagef("give a token or --stored, not both")
		}
		if !f.stored && len(positional) == 0 {
			return usagef("no token: pass it as an argument, - to read it from stdin, or --stored (see oauthdiag inspect -h)")
		}

		opts := inspector.InspectOptions{Kind: f.kind, Introspect: !f.noIntrospect, Now: time.Now(),
			Verify: inspector.VerifyOptions{Audience: f.audience, Nonce: f.nonce}}
		// The session log's redactor learns every token, so the recorded introspection call and any
		// free text mentioning a token are redacted; the output itself never holds one (scrub checks).
		red := recorder.NewRedactor()
		var session string
		var early []inspector.Diagnosis

		if needsProvider(&f.pf) || f.stored {
			// resolve insists on a client_id, which inspecting needs only for introspection and as
			// an ID token's audience: without one, verify against the provider alone.
			noClient := f.pf.clientID == "" && f.pf.profileName == "" && !f.stored
			if noClient {
				f.pf.clientID = "-"
			}
			res, err := f.pf.resolve(env, false)
			if err != nil {
				return err
			}
			if noClient {
				res.cfg.Client.ID, res.cfg.Client.Secret = "", ""
			}
			var st *profile.StoredToken
			if f.stored {
				// The store and profile name call and tui use; read before anything is sent.
				var profileName string
				if st, profileName, err = loadStoredToken(env, res, f.tokenStore); err != nil {
					return err
				}
				positional = []string{st.Token.AccessToken}
				switch f.kind {
				case inspector.KindRefresh:
					positional[0] = st.Token.RefreshToken
				case inspector.KindID:
					positional[0] = st.Token.IDToken
				}
				if positional[0] == "" {
					return fmt.Errorf("the stored token of profile %q has no %s token", profileName, orDefault(f.kind, inspector.KindAccess))
				}
				opts.Token, opts.Skew = &st.Token, st.ServerSkew
			}
			rec, err := openRecording(env, res.cfg, map[string]string{"command": "inspect"})
			if err != nil {
				return err
			}
			defer rec.Close()
			red, session = rec.red, rec.sessionID()
			if st != nil {
				learnToken(red, &st.Token)
			}
			client := rec.client(f.pf.timeout)
			runner := oauthflow.NewRunner(res.cfg, oauthflow.WithHTTPClient(client))
			if res.discover {
				var disc *oauthflow.DiscoveryResult
				step := runner.Report(ctx, oauthflow.StepDiscovery, func(ctx context.Context) (err error) {
					disc, err = runner.Discover(ctx, res.issuer, res.discoveryURL)
					return err
				})
				if err := step.Err; err != nil {
					// Without discovery the token can still be decoded; say why the rest is missing.
					early = inspector.Diagnose([]inspector.Observation{inspector.FromStep(step)}, inspector.Context{Provider: res.cfg.Provider, Now: opts.Now})
				} else {
					runner.SetProvider(oauthflow.MergeDiscovered(res.cfg.Provider, disc.Provider))
					opts.ClaimedIssuer = disc.ClaimedIssuer
				}
			}
			opts.Runner, opts.HTTPClient = runner, client
		} else if f.pf.endpoints.JWKS != "" {
			// Only a JWKS: enough to check a signature, nothing else is sent.
			opts.Verify.JWKSURL = f.pf.endpoints.JWKS
			opts.HTTPClient = newHTTPClient(f.pf.timeout, nil)
		}

		raw := positional[0]
		if raw == "-" {
			var err error
			if raw, err = readToken(env.stdin); err != nil {
				return err
			}
		}
		red.AddSecret("token", raw)
		ins, err := inspector.Inspect(ctx, raw, opts)
		if err != nil {
			return usagef("%v", err)
		}
		if len(early) > 0 {
			ins.Diagnoses = append(early, ins.Diagnoses...)
		}

		if f.jsonOut {
			doc := struct {
				*inspector.Inspection
				Token   string `json:"token,omitempty"`
				Session string `json:"session,omitempty"`
			}{Inspection: ins, Session: session}
			if f.reveal {
				doc.Token = raw
			}
			var buf strings.Builder
			if err := writeJSON(&buf, doc); err != nil {
				return err
			}
			out := buf.String()
			if !f.reveal {
				out = red.RedactString(out)
			}
			fmt.Fprint(env.stdout, out)
		} else {
			// The rendering holds no token, but a server can echo one, or the client secret, in
			// an error it sent: everything the redactor knows is replaced.
			out := red.RedactString(inspector.RenderInspection(ins, opts.Now))
			if f.reveal {
				out = "value:  " + raw + "\n" + out
			}
			if session != "" {
				out += "\nsession: " + session + " (oauthdiag calls --session " + session + ")\n"
			}
			fmt.Fprint(env.stdout, out)
		}
		if why := unusable(ins); why != "" {
			return &exitError{code: 1, err: errors.New(why)}
		}
		return nil
	}
}

// needsProvider says whether any flag names a provider to talk to.
func needsProvider(pf *providerFlags) bool {
	e := pf.endpoints
	return pf.profileName != "" || pf.provider != "" || pf.issuer != "" || pf.discoveryURL != "" || pf.clientID != "" ||
		e.Authorization != "" || e.Token != "" || e.Introspection != "" || e.Userinfo != "" || e.Revocation != ""
}

// readToken reads one token from r: the first non-empty line, with a "Bearer " prefix dropped.
func readToken(r io.Reader) (string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(line) > 7 && strings.EqualFold(line[:7], "bearer ") {
			line = strings.TrimSpace(line[7:])
		}
		return line, nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	return "", usagef("stdin held no token: pipe the token in (echo \"$TOKEN\" | oauthdiag inspect -)")
}

// loadStoredToken reads the token of res's profile from the store openProfileStore picks.
func loadStoredToken(env *cliEnv, res *resolved, storeFlag string) (*profile.StoredToken, string, error) {
	profileName, store, _, err := openProfileStore(env, res, storeFlag)
	if err != nil {
		return nil, "", err
	}
	st, err := store.Load(profileName)
	switch {
	case errors.Is(err, profile.ErrNotStored):
		return nil, "", fmt.Errorf("no token stored for profile %q (%s): run oauthdiag flow (or another command that signs in) first, or name the profile with --profile", profileName, store.Where(profileName))
	case err != nil:
		return nil, "", err
	}
	return st, profileName, nil
}

// unusable says why the inspected token cannot be used as it is ("" when it can).
func unusable(ins *inspector.Inspection) string {
	if v := ins.Verification; v != nil {
		if failed := v.Failed(); len(failed) > 0 {
			var names []string
			for _, c := range failed {
				names = append(names, c.Name)
			}
			return "the token fails verification: " + strings.Join(names, ", ")
		}
	}
	if ins.Introspection != nil && !ins.Introspection.Active {
		return "the provider reports the token " + ins.Introspection.Status
	}
	if st := ins.State; st != nil {
		ti := st.Access
		if ins.Kind == inspector.KindRefresh {
			ti = st.Refresh
		}
		if ti.Status == inspector.StatusExpired || ti.Status == inspector.StatusRevoked {
			return "the " + ins.Kind + " token is " + string(ti.Status) + ": " + ins.Next.Reason
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
