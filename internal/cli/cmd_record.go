package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/recorder"
)

// sessionStore opens the recorded sessions under the state directory.
func sessionStore(env *cliEnv) (*recorder.Store, error) {
	dir, err := stateDir(env)
	if err != nil {
		return nil, err
	}
	st, err := recorder.Open(filepath.Join(dir, "sessions"))
	if err != nil {
		return nil, fmt.Errorf("opening the session log directory: %w (set OAUTHDIAG_HOME to a writable directory)", err)
	}
	return st, nil
}

// loadSession opens a session by id, unique prefix or "latest", with errors that say what to do.
func loadSession(env *cliEnv, id string) (*recorder.Session, error) {
	st, err := sessionStore(env)
	if err != nil {
		return nil, err
	}
	s, err := st.Load(id)
	switch {
	case errors.Is(err, recorder.ErrNoSessions):
		return nil, fmt.Errorf("%w yet: run `oauthdiag flow` (or `oauthdiag demo`) to record one", err)
	case errors.Is(err, recorder.ErrNotFound), errors.Is(err, recorder.ErrAmbiguous):
		return nil, usagef("%v (`oauthdiag sessions` lists them)", err)
	case err != nil:
		return nil, err
	}
	return s, nil
}

const listTime = "2006-01-02 15:04:05"

func sessionsCommand() command {
	return command{
		name:    "sessions",
		summary: "list recorded sessions, newest first",
		example: "  oauthdiag sessions\n  oauthdiag sessions --json | jq -r '.sessions[0].id'",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, args []string) error {
				st, err := sessionStore(env)
				if err != nil {
					return err
				}
				infos, err := st.Sessions()
				if err != nil {
					return err
				}
				if *asJSON {
					if infos == nil {
						infos = []recorder.SessionInfo{}
					}
					return writeJSON(env.stdout, struct {
						Sessions []recorder.SessionInfo `json:"sessions"`
					}{infos})
				}
				if len(infos) == 0 {
					fmt.Fprintf(env.stdout, "No recorded sessions in %s yet: run `oauthdiag flow` to record one.\n", st.Dir())
					return nil
				}
				tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SESSION\tSTARTED (UTC)\tPROVIDER\tCLIENT ID\tCALLS\tFAILED")
				for _, in := range infos {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", in.ID, in.Started.UTC().Format(listTime),
						orDash(in.Meta.Provider), orDash(in.Meta.ClientID), in.Calls, in.Failed)
				}
				return tw.Flush()
			}
		},
	}
}

func callsCommand() command {
	return command{
		name:    "calls",
		summary: "list the calls of a recorded session",
		example: "  oauthdiag calls\n  oauthdiag calls --session 20261207 --failed\n  oauthdiag calls --json",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			session := fs.String("session", "latest", "session id, unique prefix, or latest")
			failed := fs.Bool("failed", false, "only calls that failed")
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, args []string) error {
				s, err := loadSession(env, *session)
				if err != nil {
					return err
				}
				defer s.Close()
				calls := []recorder.Summary{}
				nfailed := 0
				for _, c := range s.Entries() {
					if c.Failed {
						nfailed++
					}
					if !*failed || c.Failed {
						calls = append(calls, c)
					}
				}
				if *asJSON {
					return writeJSON(env.stdout, struct {
						Session string               `json:"session"`
						Meta    recorder.SessionMeta `json:"meta"`
						Calls   []recorder.Summary   `json:"calls"`
					}{s.ID(), s.Meta(), calls})
				}
				m := s.Meta()
				fmt.Fprintf(env.stdout, "Session %s (%s, client %s): %d calls, %d failed\n\n", s.ID(), orDash(m.Provider), orDash(m.ClientID), len(s.Entries()), nfailed)
				tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CALL\tTIME (UTC)\tSTEP\tMETHOD\tSTATUS\tMS\tURL")
				for _, c := range calls {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n", c.ID, c.Started.UTC().Format("15:04:05.000"),
						stepLabel(c), c.Method, statusLabel(c), float64(c.Duration.Microseconds())/1000, c.URL)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(calls) > 0 {
					fmt.Fprintln(env.stdout, "\nReplay one with `oauthdiag replay CALL`; export with `oauthdiag export curl CALL` or `oauthdiag bundle`.")
				}
				return nil
			}
		},
	}
}

func stepLabel(c recorder.Summary) string {
	step := orDash(c.Step)
	if c.ReplayOf != "" {
		step += fmt.Sprintf(" (replay of %s #%d)", c.ReplayOf, c.Attempt)
	}
	return step
}

func statusLabel(c recorder.Summary) string {
	var s string
	switch {
	case c.Pending:
		s = "pending"
	case c.Kind == recorder.KindObserved:
		s = "browser"
	case c.Error != "" && c.Status == 0:
		s = "error:" + string(c.ErrorKind)
	default:
		s = fmt.Sprint(c.Status)
	}
	if c.Failed {
		s += " FAILED"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// replaySecrets supplies what a replay needs beyond the recording, which keeps only
// fingerprints of the secrets a call carried.
type replaySecrets interface {
	recorder.SecretResolver
	// FreshAccessToken returns a currently valid access token for the session's provider
	// and client, refreshing it first when needed.
	FreshAccessToken(ctx context.Context, meta recorder.SessionMeta) (string, error)
}

// envSecrets resolves secrets from OAUTHDIAG_<KIND> variables (OAUTHDIAG_ACCESS_TOKEN,
// OAUTHDIAG_CLIENT_SECRET, OAUTHDIAG_REFRESH_TOKEN, ...), a value counting only when its
// fingerprint matches the recorded one.
type envSecrets struct{ getenv func(string) string }

func envVarFor(kind string) string { return "OAUTHDIAG_" + strings.ToUpper(kind) }

func (e envSecrets) Resolve(kind, fingerprint string) (string, bool) {
	v := e.getenv(envVarFor(kind))
	if v == "" || recorder.Fingerprint(v) != fingerprint {
		return "", false
	}
	return v, true
}

func (e envSecrets) FreshAccessToken(context.Context, recorder.SessionMeta) (string, error) {
	if v := e.getenv("OAUTHDIAG_ACCESS_TOKEN"); v != "" {
		return v, nil
	}
	return "", errors.New("--fresh-token needs a valid access token: set OAUTHDIAG_ACCESS_TOKEN")
}

func replayCommand() command {
	return replayCommandWith(func(env *cliEnv) replaySecrets { return envSecrets{getenv: env.getenv} })
}

// replayCommandWith builds the replay command over a source of secrets, so the token
// store can stand in for the environment.
func replayCommandWith(secretsFor func(env *cliEnv) replaySecrets) command {
	return command{
		name:     "replay",
		summary:  "resend a recorded call, optionally edited, and compare the answers",
		use:      "CALL",
		args:     cobra.ArbitraryArgs,
		example:  "  oauthdiag replay c7\n  oauthdiag replay 7 --fresh-token --set-header LinkedIn-Version=202503\n  oauthdiag replay c7 --session 20261207 --json",
		complete: completeCalls,
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			session := fs.String("session", "latest", "session id, unique prefix, or latest")
			fresh := fs.Bool("fresh-token", false, "send the current valid access token instead of the recorded one")
			var setHeaders multiFlag
			fs.Var(&setHeaders, "set-header", "set a request header, K=V (repeatable; K= removes it)")
			method := fs.String("method", "", "use this HTTP method")
			rawURL := fs.String("url", "", "send to this URL")
			body := fs.String("body", "", "send this request body")
			timeout := fs.Duration("timeout", 30*time.Second, "timeout of each attempt")
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, args []string) error {
				rest := args
				if len(rest) != 1 {
					return usagef("replay needs one call id, such as 7 or c7 (`oauthdiag calls` lists them)")
				}
				if _, err := recorder.ParseCallID(rest[0]); err != nil {
					return usagef("%v", err)
				}
				edit := recorder.Edit{Method: *method, URL: *rawURL, SetHeaders: http.Header{}}
				for _, kv := range setHeaders {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || strings.TrimSpace(k) == "" {
						return usagef("--set-header %q: use K=V, e.g. --set-header LinkedIn-Version=202503", kv)
					}
					edit.SetHeaders[http.CanonicalHeaderKey(strings.TrimSpace(k))] = []string{v}
				}
				if *rawURL != "" {
					if u, err := url.Parse(*rawURL); err != nil || u.Scheme == "" || u.Host == "" {
						return usagef("--url %q is not an absolute URL", *rawURL)
					}
				}
				if fs.Changed("body") {
					edit.Body = body
				}
				if *timeout <= 0 {
					return usagef("--timeout must be positive, e.g. 30s")
				}

				s, err := loadSession(env, *session)
				if err != nil {
					return err
				}
				defer s.Close()
				secrets := secretsFor(env)
				if *fresh {
					tok, err := secrets.FreshAccessToken(ctx, s.Meta())
					if err != nil {
						return err
					}
					s.Redactor().AddSecret(recorder.KindAccessToken, tok)
					edit.FreshToken = tok
				}
				rp := &recorder.Replayer{Client: newHTTPClient(*timeout, nil), Resolve: secrets}
				res, err := rp.Replay(ctx, s, rest[0], edit)
				var missing *recorder.MissingSecretsError
				switch {
				case errors.As(err, &missing):
					return missingSecretsHelp(missing)
				case errors.Is(err, recorder.ErrNotFound):
					return usagef("%v (`oauthdiag calls --session %s` lists them)", err, s.ID())
				case err != nil:
					return err
				}
				if err := s.Close(); err != nil {
					return fmt.Errorf("recording the replay: %w", err)
				}
				if *asJSON {
					if err := writeJSON(env.stdout, res); err != nil {
						return err
					}
				} else {
					printReplay(env.stdout, res)
				}
				// The replay's answer is what a script asks about: a last attempt that failed
				// (an error status or no answer at all) fails the command.
				if last := res.Last(); last.Failed() {
					return &exitError{code: exitFailed, err: fmt.Errorf("the last of %d attempts failed: %s", len(res.Attempts), replayOutcome(last))}
				}
				return nil
			}
		},
	}
}

// missingSecretsHelp turns missing secrets into the fixes for this command line: the error lists
// every missing reference, and each fix is given once however many references it covers.
func missingSecretsHelp(m *recorder.MissingSecretsError) error {
	var fixes []string
	seen := map[string]bool{}
	for _, ref := range m.Missing {
		var fix string
		switch ref.Kind {
		case recorder.KindAccessToken:
			fix = "run with --fresh-token to send the current access token"
		case recorder.KindCode:
			fix = "an authorization code works only once, so run the flow again for a new one (or set OAUTHDIAG_CODE to it)"
		default:
			fix = fmt.Sprintf("set %s to the %s with fingerprint %s", envVarFor(ref.Kind), ref.Kind, ref.Fingerprint)
		}
		if !seen[fix] {
			seen[fix] = true
			fixes = append(fixes, fix)
		}
	}
	return fmt.Errorf("%w; to fix: %s", m, strings.Join(fixes, "; "))
}

func printReplay(w io.Writer, res *recorder.ReplayResult) {
	o := res.Original
	fmt.Fprintf(w, "Replay of %s (%s %s): %d attempt(s)\n", o.ID, o.Request.Method, o.Request.URL, len(res.Attempts))
	waits := map[string]recorder.Wait{}
	for _, wt := range res.Waits {
		waits[wt.After] = wt
	}
	aw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range res.Attempts {
		outcome := fmt.Sprintf("%d %s", a.Status(), http.StatusText(a.Status()))
		if a.Response == nil {
			outcome = "no response (" + string(a.ErrorKind) + "): " + a.Error
		}
		wait := ""
		if wt, ok := waits[a.ID]; ok {
			wait = fmt.Sprintf("then waited %s (%s)", wt.Delay.Round(time.Millisecond), wt.Reason)
		}
		fmt.Fprintf(aw, "  %s\tattempt %d\t%s\t%.1f ms\t%s\n", a.ID, a.Attempt, outcome, float64(a.Duration.Microseconds())/1000, wait)
	}
	aw.Flush()
	for _, n := range res.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	c := res.Comparison
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\toriginal %s\treplay %s\n", c.OriginalID, c.ReplayID)
	fmt.Fprintf(tw, "status\t%s\t%s\n", statusText(c.OriginalStatus, c.OriginalError), statusText(c.ReplayStatus, c.ReplayError))
	for _, h := range c.Headers {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Name, orDash(h.Original), orDash(h.Replay))
	}
	tw.Flush()
	if c.BodiesEqual {
		fmt.Fprintln(w, "\nbody: identical")
		return
	}
	fmt.Fprintf(w, "\nbody diff:\n%s", c.BodyDiff)
}

func statusText(status int, errText string) string {
	if status == 0 {
		if errText != "" {
			return "no response"
		}
		return "-"
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func exportCommand() command {
	return command{
		name:    "export",
		summary: "export a session as HAR (export har) or a call as curl (export curl CALL)",
		example: "  oauthdiag export har -o session.har\n  oauthdiag export har --session latest -o - | jq .log.entries[0].request.url\n  oauthdiag export curl c7",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			return func(ctx context.Context, args []string) error {
				return usagef("export needs a format: `oauthdiag export har -o FILE.har` or `oauthdiag export curl CALL`")
			}
		},
		sub: []command{
			{name: "har", summary: "write a session as a HAR 1.2 file (secrets redacted)", setup: setupExportHAR,
				example: "  oauthdiag export har -o session.har\n  oauthdiag export har --session 20261207 -o -"},
			{name: "curl", use: "CALL", summary: "print a recorded call as a curl command (secrets redacted)", args: exactArgs(1, "call id, such as 7 or c7"),
				setup: setupExportCurl, complete: completeCalls, example: "  oauthdiag export curl c7\n  oauthdiag export curl 7 --session latest --json"},
		},
	}
}

func setupExportHAR(env *cliEnv, fs *pflag.FlagSet) runFunc {
	session := fs.String("session", "latest", "session id, unique prefix, or latest")
	out := fs.StringP("output", "o", "", "write the HAR to this file (- for standard output)")
	return func(ctx context.Context, args []string) error {
		if *out == "" {
			return usagef("export har needs -o FILE.har (or -o - for standard output)")
		}
		s, err := loadSession(env, *session)
		if err != nil {
			return err
		}
		defer s.Close()
		var entries []recorder.Entry
		if err := s.Each(func(e recorder.Entry) error { entries = append(entries, e); return nil }); err != nil {
			return err
		}
		creator := recorder.Creator{Name: "oauthdiag", Version: toolVersion()}
		if *out == "-" {
			// A JSON document of the recorder's own: byte for byte, not reformatted for a terminal.
			return recorder.WriteHAR(env.rawStdout(), entries, creator)
		}
		if err := recorder.WriteFileAtomic(*out, 0o600, func(w io.Writer) error {
			return recorder.WriteHAR(w, entries, creator)
		}); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Wrote %s: %d calls of session %s (secrets redacted).\n", *out, countHTTP(entries), s.ID())
		return nil
	}
}

func countHTTP(es []recorder.Entry) int {
	n := 0
	for _, e := range es {
		if e.Kind == recorder.KindHTTP {
			n++
		}
	}
	return n
}

func setupExportCurl(env *cliEnv, fs *pflag.FlagSet) runFunc {
	session := fs.String("session", "latest", "session id, unique prefix, or latest")
	jsonOut := fs.Bool("json", false, "print one JSON document: the session, the call and the command")
	return func(ctx context.Context, rest []string) error {
		if _, err := recorder.ParseCallID(rest[0]); err != nil {
			return usagef("%v", err)
		}
		s, err := loadSession(env, *session)
		if err != nil {
			return err
		}
		defer s.Close()
		e, err := s.Entry(rest[0])
		if errors.Is(err, recorder.ErrNotFound) {
			return usagef("%v (`oauthdiag calls --session %s` lists them)", err, s.ID())
		}
		if err != nil {
			return err
		}
		if *jsonOut {
			return writeJSON(env.stdout, struct {
				Session string `json:"session"`
				Call    string `json:"call"`
				Curl    string `json:"curl"`
			}{s.ID(), e.ID, recorder.Curl(e)})
		}
		_, err = io.WriteString(env.stdout, recorder.Curl(e))
		return err
	}
}

func bundleCommand() command {
	return command{
		name:    "bundle",
		summary: "write a support-ticket bundle (zip) of a session",
		example: "  oauthdiag bundle\n  oauthdiag bundle --session latest -o ticket.zip\n  oauthdiag bundle -o - > ticket.zip",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			session := fs.String("session", "latest", "session id, unique prefix, or latest")
			out := fs.StringP("output", "o", "", "write the bundle to this file, - for standard output (default oauthdiag-bundle-SESSION.zip here)")
			asJSON := fs.Bool("json", false, "print the summary as JSON (on standard error with -o -)")
			return func(ctx context.Context, args []string) error {
				s, err := loadSession(env, *session)
				if err != nil {
					return err
				}
				defer s.Close()
				opts := bundle.Options{ToolVersion: toolVersion()}
				var sum bundle.Summary
				// With -o - the zip is standard output, so the summary goes to standard error.
				report := env.stdout
				if *out == "-" {
					report = env.stderr
					sum, err = bundle.WriteTo(env.rawStdout(), s, opts)
					sum.Path = "-"
				} else {
					path := *out
					if path == "" {
						path = "oauthdiag-bundle-" + s.ID() + ".zip"
					}
					sum, err = bundle.Write(path, s, opts)
				}
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(report, sum)
				}
				printBundle(report, sum)
				return nil
			}
		},
	}
}

func printBundle(w io.Writer, sum bundle.Summary) {
	where := sum.Path
	if where == "-" {
		where = "the bundle to standard output"
	}
	fmt.Fprintf(w, "Wrote %s: %d calls, %d failed.\n", where, sum.Calls, len(sum.Failed))
	for _, f := range sum.Files {
		fmt.Fprintf(w, "  %-17s %8d bytes  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	if len(sum.Failed) > 0 {
		var ids []string
		for _, f := range sum.Failed {
			ids = append(ids, f.ID)
		}
		fmt.Fprintf(w, "Failed calls: %s (detailed in report.md)\n", strings.Join(ids, ", "))
	}
	if len(sum.Redactions) > 0 {
		fmt.Fprintf(w, "Redacted: %s. Review report.md before attaching it to a ticket.\n", strings.Join(bundle.RedactionList(sum.Redactions), ", "))
	}
}

// replayOutcome says in a few words how an attempt ended.
func replayOutcome(e recorder.Entry) string {
	if e.Error != "" {
		return "no answer (" + e.Error + ")"
	}
	return statusLabel(e.Summary()) + " from " + e.Request.URL
}
