package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/profile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
)

// tokenFlags are the flags of the commands that work with the user's stored token.
type tokenFlags struct {
	pf              providerFlags
	tokenStore      string
	browserCmd      string
	paste           bool
	callbackTimeout time.Duration
	lockTimeout     time.Duration
}

func (f *tokenFlags) register(fs *pflag.FlagSet) {
	f.pf.register(fs)
	fs.StringVar(&f.tokenStore, "token-store", "", "where tokens are kept: auto (the OS keychain when it answers, else a file), keychain or file (default $OAUTHDIAG_TOKEN_STORE, the profile's token_store, or auto)")
	fs.StringVar(&f.browserCmd, "browser-cmd", "", "command that opens the authorization URL (given as its last argument); a redirect URL it prints is used")
	fs.BoolVar(&f.paste, "paste", false, "do not open a browser: print the authorization URL and read the pasted redirect URL from stdin")
	fs.DurationVar(&f.callbackTimeout, "callback-timeout", 5*time.Minute, "how long to wait for the browser to come back")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", profile.DefaultLockTimeout, "how long to wait for another oauthdiag command working on the same profile")
}

// tokenSession is a command's view of one profile's token: the lifecycle that keeps it usable,
// the recorded session its calls go to, and the redactor for everything shown.
type tokenSession struct {
	res         *resolved
	profileName string
	store       profile.TokenStore
	rec         *recording
	lc          *profile.Lifecycle
	env         *cliEnv
}

// openTokenSession resolves the configuration, opens the token store and a recorded session, and
// builds the lifecycle. Discovery and a prompt for the client secret wait until the provider must
// be asked (a refresh, an authorization, a revocation): a cached token costs no request at all.
// authorize=false makes the lifecycle report that the user must authorize instead of doing it.
func openTokenSession(env *cliEnv, f *tokenFlags, command string, authorize bool) (*tokenSession, error) {
	res, err := f.pf.resolve(env, false)
	if err != nil {
		return nil, err
	}
	profileName, store, state, err := openProfileStore(env, res, f.tokenStore)
	if err != nil {
		return nil, err
	}

	labels := map[string]string{"command": command}
	if res.profileName != "" {
		labels["profile"] = res.profileName
	}
	rec, err := openRecording(env, res.cfg, labels)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.stderr, "session %s\n", rec.sessionID())
	ts := &tokenSession{res: res, profileName: profileName, store: store, rec: rec, env: env}
	lc := lifecycleFor(env, res, profileName, store, state, func() *http.Client { return rec.client(f.pf.timeout) }, f.lockTimeout,
		func(secret string) { rec.red.AddSecret(recorder.KindClientSecret, secret) })
	if authorize {
		lc.Authorize = func(ctx context.Context, why profile.Decision) (*oauthflow.Authorization, error) {
			fmt.Fprintf(env.stderr, "profile %s: %s\n", profileName, why.Reason)
			opts := oauthflow.FlowOptions{Listen: true, CallbackTimeout: f.callbackTimeout, Observe: rec.observe}
			switch {
			case f.browserCmd != "":
				opts.Browser = browser.Command{Command: f.browserCmd, Stderr: env.stderr}
			case f.paste:
				opts.Browser = browser.Paste{In: env.stdin, Prompt: env.stderr}
				opts.Listen = false
			default:
				opts.Browser = browser.System{}
				fmt.Fprintf(env.stderr, "Opening the browser to sign in; waiting for the redirect to %s (if no browser opens, rerun with --paste)\n", lc.Runner.Config().Client.RedirectURI)
			}
			a, err := lc.Runner.Authorize(ctx, opts)
			if a != nil && a.Token != nil {
				learnToken(rec.red, a.Token)
			}
			return a, err
		}
	}
	ts.lc = lc
	return ts, nil
}

// openProfileStore names the profile of res (its --profile, else DefaultProfileName) and opens
// its token store, telling the user once why it is a file rather than the keychain.
func openProfileStore(env *cliEnv, res *resolved, storeFlag string) (profileName string, store profile.TokenStore, state string, err error) {
	var prof *profile.Profile
	if res.profileName != "" {
		if prof, err = loadProfile(env, res.profileName); err != nil {
			return "", nil, "", err
		}
	}
	pref, err := storePreference(env, storeFlag, prof)
	if err != nil {
		return "", nil, "", err
	}
	profileName = res.profileName
	if profileName == "" {
		profileName = profile.DefaultProfileName(res.cfg)
	}
	if err := profile.ValidateProfileName(profileName); err != nil {
		return "", nil, "", usagef("%v", err)
	}
	if state, err = stateDir(env); err != nil {
		return "", nil, "", err
	}
	// A token set too large for the platform's keychain goes to the 0600 file, said once.
	store, reason, err := profile.OpenStore(pref, filepath.Join(state, "tokens"), nil, time.Now,
		profile.WithNotice(func(n string) { noteFallbackOnce(env, state, n) }))
	if err != nil {
		return "", nil, "", err
	}
	noteFallbackOnce(env, state, reason)
	return profileName, store, state, nil
}

// lifecycleFor builds the lifecycle of a profile's token. Its requests go through newClient's
// client. Prepare runs discovery (when the configuration asks for it) and prompts for a missing
// client secret, telling learnSecret, so that both happen only when the provider must be asked.
func lifecycleFor(env *cliEnv, res *resolved, profileName string, store profile.TokenStore, state string,
	newClient func() *http.Client, lockTimeout time.Duration, learnSecret func(string)) *profile.Lifecycle {
	newRunner := func(cfg oauthflow.Config) *oauthflow.Runner {
		return oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(newClient()))
	}
	lc := &profile.Lifecycle{
		Runner:  newRunner(res.cfg),
		Store:   store,
		Profile: profileName,
		Lock:    profile.ProfileLocker(filepath.Join(state, "locks"), lockTimeout),
	}
	lc.Prepare = func(ctx context.Context) error {
		cfg := lc.Runner.Config()
		if res.discover {
			found, err := lc.Runner.Discover(ctx, res.issuer, res.discoveryURL)
			if err != nil {
				return fmt.Errorf("reading the provider's configuration: %w", err)
			}
			cfg.Provider = oauthflow.MergeDiscovered(cfg.Provider, found.Provider)
		}
		if cfg.Client.Secret == "" && cfg.Client.AuthMethod != oauthflow.AuthNone {
			secret, err := promptSecret(env, "Client secret for "+cfg.Client.ID+": ")
			if err != nil {
				return err
			}
			cfg.Client.Secret = secret
			if learnSecret != nil {
				learnSecret(secret)
			}
		}
		lc.Runner = newRunner(cfg)
		return nil
	}
	return lc
}

// token gets a usable access token and says on stderr what was done and why.
func (ts *tokenSession) token(ctx context.Context) (*oauthflow.Token, *profile.Decision, error) {
	tok, d, err := ts.lc.Token(ctx)
	ts.report(d)
	if tok != nil {
		learnToken(ts.rec.red, tok)
	}
	return tok, d, err
}

// report prints a decision: the action and its reason, the steps it took and the notes.
func (ts *tokenSession) report(d *profile.Decision) {
	if d == nil || d.Action == 0 {
		return
	}
	w := ts.env.stderr
	if d.Action != profile.ActionAuthorize {
		// An authorization announced itself before the browser opened.
		fmt.Fprintf(w, "profile %s: %s\n", ts.profileName, d.Reason)
	}
	for _, s := range d.Steps {
		line := "  " + s.Name + " " + string(s.Status)
		if st := s.HTTPStatus(); st != 0 {
			line += fmt.Sprintf(" (HTTP %d)", st)
		}
		if s.Err != nil {
			line += ": " + ts.redact(s.Err.Error())
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range d.Notes {
		fmt.Fprintln(w, "  note: "+ts.redact(n))
	}
}

func (ts *tokenSession) redact(s string) string { return ts.rec.red.RedactString(s) }

// close ends the recorded session, reporting calls that could not be written.
func (ts *tokenSession) close() error { return ts.rec.Close() }

func learnToken(r *recorder.Redactor, t *oauthflow.Token) {
	r.AddSecret(recorder.KindAccessToken, t.AccessToken)
	r.AddSecret(recorder.KindRefreshToken, t.RefreshToken)
	r.AddSecret(recorder.KindIDToken, t.IDToken)
}

// known secret values only: an API body is shown as it came, except for a token or secret in it.
func redactKnown(t *oauthflow.Token, secret string, s string) string {
	for _, v := range []struct{ kind, value string }{
		{recorder.KindAccessToken, t.AccessToken}, {recorder.KindRefreshToken, t.RefreshToken},
		{recorder.KindIDToken, t.IDToken}, {recorder.KindClientSecret, secret},
	} {
		if len(v.value) >= 6 {
			s = strings.ReplaceAll(s, v.value, recorder.Placeholder(v.kind, v.value))
		}
	}
	return s
}

func callCommand() command {
	return command{
		name:    "call",
		summary: "make an authenticated API call with the profile's cached token (refreshed or re-authorized as needed)",
		use:     "URL",
		long:    callUsage,
		args:    cobra.ArbitraryArgs,
		example: "  oauthdiag call --profile li /v2/userinfo\n  oauthdiag call --profile li /rest/posts --data @post.json --header 'LinkedIn-Version: 202411'\n  oauthdiag call /v2/userinfo --profile li --json",
		setup:   setupCall,
	}
}

const callUsage = `Calls URL with the profile's access token: the cached one while it is valid, refreshed with the
refresh token when it has expired, and a new authorization only when neither can be used. A
path (/v2/userinfo) is taken relative to the provider's API host. The call is recorded.`

func setupCall(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var f tokenFlags
	var headers multiFlag
	f.register(fs)
	method := fs.String("method", "", "HTTP method (default GET, or POST with --data)")
	fs.Var(&headers, "header", "request header 'Name: value' (repeatable)")
	data := fs.String("data", "", "request body: text, @FILE, or @- for stdin")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return usagef("give one URL, such as /v2/userinfo, got %d arguments (see oauthdiag call --help)", len(args))
		}
		req := oauthflow.APIRequest{Method: strings.ToUpper(*method), URL: args[0], Header: http.Header{}}
		for _, h := range headers {
			k, v, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return usagef("--header %q: write it as 'Name: value'", h)
			}
			req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		if *data == "@-" && f.paste {
			return usagef("--data @- and --paste both read stdin: use one")
		}
		if *data != "" {
			body, err := readData(env, *data)
			if err != nil {
				return err
			}
			req.Body = body
			if req.Method == "" {
				req.Method = http.MethodPost
			}
			if req.Header.Get("Content-Type") == "" {
				req.Header.Set("Content-Type", guessContentType(body))
			}
		}
		if req.Method == "" {
			req.Method = http.MethodGet
		}

		ts, err := openTokenSession(env, &f, "call", true)
		if err != nil {
			return err
		}
		defer ts.close()

		tok, d, err := ts.token(ctx)
		if err != nil {
			return tokenError(ts, err)
		}
		if strings.HasPrefix(req.URL, "/") {
			base, err := ts.apiBase(ctx)
			if err != nil {
				return err
			}
			req.URL = base + req.URL
		}
		resp, err := ts.call(ctx, tok, req)
		if resp != nil && resp.Status == http.StatusUnauthorized {
			// The token looked valid but was refused (revoked, or the clocks disagree): renew it once.
			why := "the API answered 401"
			if e, ok := oauthflow.AsError(err); ok && e.Description != "" {
				why += " (" + e.Description + ")"
			}
			if tok2, d2, rerr := ts.lc.Rejected(ctx, tok.AccessToken, why); rerr == nil && tok2.AccessToken != tok.AccessToken {
				ts.report(d2)
				learnToken(ts.rec.red, tok2)
				tok, d = tok2, d2
				resp, err = ts.call(ctx, tok, req)
			} else if rerr != nil {
				ts.report(d2)
				fmt.Fprintf(env.stderr, "  could not renew the token: %s\n", ts.redact(rerr.Error()))
			}
		}
		if resp == nil {
			return fmt.Errorf("%s", ts.redact(err.Error()))
		}
		secret := ts.lc.Runner.Config().Client.Secret
		// Headers get the recorder's rules (cookies, credentials, URLs) before being shown.
		resp.Header = ts.rec.red.RedactHeader(resp.Header)
		if *jsonOut {
			if werr := writeCallJSON(env.stdout, ts, d, resp, tok, secret); werr != nil {
				return werr
			}
		} else {
			writeCallText(env.stdout, resp, func(s string) string { return redactKnown(tok, secret, s) })
		}
		if resp.Status < 200 || resp.Status > 299 {
			msg := fmt.Sprintf("the API answered HTTP %d", resp.Status)
			if e, ok := oauthflow.AsError(err); ok {
				msg = ts.redact(e.Error())
			}
			return &exitError{code: 1, err: errors.New(msg)}
		}
		return nil
	}
}

func (ts *tokenSession) call(ctx context.Context, tok *oauthflow.Token, req oauthflow.APIRequest) (*oauthflow.APIResponse, error) {
	resp, err := ts.lc.Runner.CallAPI(ctx, tok.AccessToken, req)
	return resp, err
}

// apiBase is the scheme and host relative URLs are resolved against: the API URL, else the
// userinfo endpoint's host (api.linkedin.com for LinkedIn). Discovery runs when neither is known.
func (ts *tokenSession) apiBase(ctx context.Context) (string, error) {
	base := func() string {
		ep := ts.lc.Runner.Config().Provider.Endpoints
		for _, raw := range []string{ep.API, ep.Userinfo} {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				return u.Scheme + "://" + u.Host
			}
		}
		return ""
	}
	if b := base(); b != "" {
		return b, nil
	}
	if ts.res.discover {
		if err := ts.lc.PrepareOnce(ctx); err != nil {
			return "", err
		}
		if b := base(); b != "" {
			return b, nil
		}
	}
	return "", usagef("a path needs an API host: give a full URL, or set --api-url (api_url in the profile)")
}

func readData(env *cliEnv, data string) ([]byte, error) {
	switch {
	case data == "@-":
		b, err := io.ReadAll(env.stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the body from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, usagef("--data %s: %v", data, err)
		}
		return b, nil
	}
	return []byte(data), nil
}

func guessContentType(body []byte) string {
	if json.Valid(body) {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}

// keyHeaders are the response headers worth showing: LinkedIn's request ids (support asks for
// them), and what explains a failure or a retry.
var keyHeaders = []string{"Content-Type", "X-Li-Uuid", "X-Li-Request-Id", "X-Li-Fabric", "X-Li-Pop", "X-Restli-Id",
	"X-Request-Id", "Retry-After", "Www-Authenticate", "Location"}

func writeCallText(w io.Writer, resp *oauthflow.APIResponse, redact func(string) string) {
	fmt.Fprintf(w, "HTTP %d %s\n", resp.Status, http.StatusText(resp.Status))
	for _, h := range keyHeaders {
		for _, v := range resp.Header.Values(h) {
			fmt.Fprintf(w, "%s: %s\n", h, redact(v))
		}
	}
	if len(resp.Body) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.TrimRight(redact(httplog.PrettyBody(resp.Header.Get("Content-Type"), resp.Body)), "\n"))
}

type callJSON struct {
	Profile  string              `json:"profile"`
	Session  string              `json:"session"`
	Decision decisionJSON        `json:"token"`
	Status   int                 `json:"status"`
	Headers  map[string][]string `json:"headers"`
	Body     json.RawMessage     `json:"body,omitempty"`
	BodyText string              `json:"body_text,omitempty"`
}

type decisionJSON struct {
	Action string    `json:"action"`
	Cause  string    `json:"cause"`
	Reason string    `json:"reason"`
	Notes  []string  `json:"notes,omitempty"`
	Expiry time.Time `json:"expiry,omitzero"`
}

func decisionView(d *profile.Decision, redact func(string) string) decisionJSON {
	out := decisionJSON{Action: d.Action.String(), Cause: string(d.Cause), Reason: d.Reason}
	for _, n := range d.Notes {
		out.Notes = append(out.Notes, redact(n))
	}
	if d.Token != nil {
		out.Expiry = d.Token.Token.Expiry
	}
	return out
}

func writeCallJSON(w io.Writer, ts *tokenSession, d *profile.Decision, resp *oauthflow.APIResponse, tok *oauthflow.Token, secret string) error {
	redact := func(s string) string { return redactKnown(tok, secret, s) }
	out := callJSON{Profile: ts.profileName, Session: ts.rec.sessionID(), Decision: decisionView(d, ts.redact), Status: resp.Status, Headers: map[string][]string{}}
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range resp.Header.Values(k) {
			out.Headers[k] = append(out.Headers[k], redact(v))
		}
	}
	body := redact(string(resp.Body))
	if json.Valid([]byte(body)) && len(resp.Body) > 0 {
		out.Body = json.RawMessage(body)
	} else {
		out.BodyText = body
	}
	return writeJSON(w, out)
}

// tokenError explains why no token could be had.
func tokenError(ts *tokenSession, err error) error {
	var ar *profile.AuthorizationRequiredError
	if errors.As(err, &ar) {
		return &exitError{code: 1, err: fmt.Errorf("profile %s: %s: run `oauthdiag call URL` (which signs in) first", ts.profileName, ar.Error())}
	}
	return fmt.Errorf("profile %s: %s", ts.profileName, ts.redact(err.Error()))
}

func refreshCommand() command {
	return command{
		name:    "refresh",
		summary: "refresh the profile's access token now with its refresh token",
		example: "  oauthdiag refresh --profile li\n  oauthdiag refresh --profile li --json",
		setup:   setupRefresh,
	}
}

func setupRefresh(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var f tokenFlags
	f.register(fs)
	authorize := fs.Bool("authorize", false, "sign in again when the refresh token cannot be used (default: report it and stop)")
	jsonOut := fs.Bool("json", false, "print the outcome as JSON")
	return func(ctx context.Context, args []string) error {
		ts, err := openTokenSession(env, &f, "refresh", *authorize)
		if err != nil {
			return err
		}
		defer ts.close()
		tok, d, err := ts.lc.Refresh(ctx)
		ts.report(d)
		if err != nil {
			return tokenError(ts, err)
		}
		learnToken(ts.rec.red, tok)
		if *jsonOut {
			return writeJSON(env.stdout, struct {
				Profile  string       `json:"profile"`
				Session  string       `json:"session"`
				Decision decisionJSON `json:"token"`
			}{ts.profileName, ts.rec.sessionID(), decisionView(d, ts.redact)})
		}
		fmt.Fprintf(env.stdout, "profile %s: %s\n", ts.profileName, expirySummary(d.Token, time.Now()))
		return nil
	}
}

func expirySummary(st *profile.StoredToken, now time.Time) string {
	if st == nil {
		return "no token"
	}
	return oauthflow.ExpirySentence(&st.Token, now)
}

func logoutCommand() command {
	return command{
		name:    "logout",
		summary: "revoke the profile's access and refresh tokens at the provider and delete them here",
		example: "  oauthdiag logout --profile li\n  oauthdiag logout --profile li --json",
		setup:   setupLogout,
	}
}

func setupLogout(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var f tokenFlags
	f.register(fs)
	noRevoke := fs.Bool("no-revoke", false, "only delete the local copy (the tokens stay valid until they expire)")
	noVerify := fs.Bool("no-verify", false, "do not ask the introspection endpoint whether the access token is now inactive")
	jsonOut := fs.Bool("json", false, "print the outcome as one JSON document")
	return func(ctx context.Context, args []string) error {
		ts, err := openTokenSession(env, &f, "logout", false)
		if err != nil {
			return err
		}
		defer ts.close()
		res, err := ts.lc.Logout(ctx, profile.LogoutOptions{SkipRevoke: *noRevoke, Verify: !*noVerify})
		if err != nil {
			return fmt.Errorf("profile %s: %s", ts.profileName, ts.redact(err.Error()))
		}
		out := logoutOutcome{Profile: ts.profileName, Session: ts.rec.sessionID(), Stored: res.Stored, Where: res.Where,
			Deleted: res.Deleted && res.Stored, Revocations: []logoutRevocation{}}
		if res.Corrupt != nil {
			out.Corrupt = res.Corrupt.Error()
		}
		for _, r := range res.Revocations {
			rv := logoutRevocation{Token: r.Token, Attempted: r.Attempted, Skipped: r.Skipped}
			switch {
			case r.Attempted && r.Err != nil:
				rv.Error = ts.redact(r.Err.Error())
				out.Failed = append(out.Failed, r.Token)
			case r.Attempted:
				rv.Revoked = true
			}
			switch in := r.Introspection; {
			case r.IntrospectErr != nil:
				rv.CheckError = ts.redact(r.IntrospectErr.Error())
			case in != nil:
				rv.Checked, rv.StillActive, rv.Status = true, in.Active, in.Status
				if in.Active {
					out.Failed = append(out.Failed, r.Token+" (still active)")
				}
			}
			out.Revocations = append(out.Revocations, rv)
		}
		// Unreadable entries set aside earlier may hold tokens too: logout means none stay.
		if fstore := profile.FileFallback(ts.store); fstore != nil {
			for _, p := range fstore.Aside(ts.profileName) {
				if err := os.Remove(p); err != nil {
					out.AsideKept = append(out.AsideKept, p+": "+err.Error())
					continue
				}
				out.AsideDeleted = append(out.AsideDeleted, p)
			}
		}
		if *jsonOut {
			if err := writeJSON(env.stdout, out); err != nil {
				return err
			}
		} else {
			out.print(env.stdout)
		}
		if len(out.Failed) > 0 {
			return &exitError{code: exitFailed, err: fmt.Errorf("the tokens were deleted here, but the provider did not confirm the revocation of: %s", strings.Join(out.Failed, ", "))}
		}
		return nil
	}
}

// logoutOutcome is what logout did, for the text and the JSON output.
type logoutOutcome struct {
	Profile      string             `json:"profile"`
	Session      string             `json:"session,omitempty"`
	Stored       bool               `json:"stored"`
	Where        string             `json:"where"`
	Corrupt      string             `json:"corrupt,omitempty"`
	Revocations  []logoutRevocation `json:"revocations"`
	Deleted      bool               `json:"deleted"`
	AsideDeleted []string           `json:"aside_deleted,omitempty"`
	AsideKept    []string           `json:"aside_kept,omitempty"`
	Failed       []string           `json:"failed,omitempty"`
}

// logoutRevocation is the revocation of one token and the check that followed it.
type logoutRevocation struct {
	Token       string `json:"token"` // which token: access_token or refresh_token
	Attempted   bool   `json:"attempted"`
	Skipped     string `json:"skipped,omitempty"`
	Revoked     bool   `json:"revoked"`
	Error       string `json:"error,omitempty"`
	Checked     bool   `json:"checked"`
	StillActive bool   `json:"still_active"`
	Status      string `json:"status,omitempty"`
	CheckError  string `json:"check_error,omitempty"`
}

func (o logoutOutcome) print(w io.Writer) {
	if o.Corrupt != "" {
		fmt.Fprintf(w, "profile %s: %s\n", o.Profile, o.Corrupt)
	}
	if !o.Stored && o.Corrupt == "" {
		fmt.Fprintf(w, "profile %s: no token is stored (%s): nothing to do\n", o.Profile, o.Where)
	}
	for _, r := range o.Revocations {
		switch {
		case !r.Attempted:
			fmt.Fprintf(w, "%s: not revoked at the provider: %s\n", r.Token, r.Skipped)
		case r.Error != "":
			fmt.Fprintf(w, "%s: revocation FAILED: %s\n", r.Token, r.Error)
		default:
			fmt.Fprintf(w, "%s: revoked at the provider\n", r.Token)
		}
		switch {
		case r.CheckError != "":
			fmt.Fprintf(w, "%s: could not check it afterwards: %s\n", r.Token, r.CheckError)
		case r.Checked && r.StillActive:
			fmt.Fprintf(w, "%s: the provider still reports it ACTIVE\n", r.Token)
		case r.Checked:
			status := "inactive"
			if r.Status != "" {
				status += ", status " + r.Status
			}
			fmt.Fprintf(w, "%s: the provider now reports it %s\n", r.Token, status)
		}
	}
	if o.Deleted {
		fmt.Fprintf(w, "deleted the local copy (%s)\n", o.Where)
	}
	for _, p := range o.AsideDeleted {
		fmt.Fprintf(w, "deleted %s, an unreadable entry set aside earlier\n", p)
	}
	for _, p := range o.AsideKept {
		fmt.Fprintf(w, "could not delete %s, an unreadable entry set aside earlier\n", p)
	}
}

// storeReplaySecrets serves `replay --fresh-token` from the token store: the recorded session's
// profile (its "profile" label, else the one derived from its provider and client_id) gets a
// valid access token as `call` gets one (the cached token, else a refresh), without opening a
// browser. OAUTHDIAG_ACCESS_TOKEN, when set, still wins. Other secrets come from the environment.
type storeReplaySecrets struct {
	envSecrets
	env *cliEnv
}

func newStoreReplaySecrets(env *cliEnv) replaySecrets {
	return storeReplaySecrets{envSecrets: envSecrets{getenv: env.getenv}, env: env}
}

func (s storeReplaySecrets) FreshAccessToken(ctx context.Context, meta recorder.SessionMeta) (string, error) {
	if v := s.env.getenv("OAUTHDIAG_ACCESS_TOKEN"); v != "" {
		return v, nil
	}
	res := &resolved{}
	if name := meta.Labels["profile"]; name != "" {
		pf := providerFlags{profileName: name, timeout: 30 * time.Second}
		r, err := pf.resolve(s.env, false)
		if err != nil {
			return "", fmt.Errorf("the session was recorded with profile %s: %w", name, err)
		}
		res = r
	} else {
		ep := meta.Endpoints
		res.cfg = oauthflow.Config{
			Provider: oauthflow.Provider{Name: meta.Provider, Issuer: ep["issuer"], Endpoints: oauthflow.Endpoints{
				Authorization: ep["authorization"], Token: ep["token"], Userinfo: ep["userinfo"], Introspection: ep["introspection"],
				Revocation: ep["revocation"], JWKS: ep["jwks"], API: ep["api"]}},
			Client: oauthflow.Client{ID: meta.ClientID, Secret: s.env.getenv("OAUTHDIAG_CLIENT_SECRET"), RedirectURI: meta.RedirectURI, Scopes: meta.Scopes, PKCE: true},
		}
		if meta.Provider == "linkedin" {
			res.cfg.Provider.AuthMethod = oauthflow.AuthPost
		}
	}
	profileName, store, state, err := openProfileStore(s.env, res, "")
	if err != nil {
		return "", err
	}
	lc := lifecycleFor(s.env, res, profileName, store, state, func() *http.Client { return newHTTPClient(30*time.Second, nil) },
		profile.DefaultLockTimeout, nil)
	tok, d, err := lc.Token(ctx)
	if d != nil && d.Action != 0 {
		fmt.Fprintf(s.env.stderr, "profile %s: %s\n", profileName, d.Reason)
	}
	var ar *profile.AuthorizationRequiredError
	if errors.As(err, &ar) {
		return "", fmt.Errorf("profile %s: %s: sign in with `oauthdiag call --profile %s URL` (or the same provider flags) first", profileName, ar.Error(), profileName)
	}
	if err != nil {
		return "", fmt.Errorf("profile %s: %w", profileName, err)
	}
	return tok.AccessToken, nil
}
