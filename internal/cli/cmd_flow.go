package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/bundle"
	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

type flowFlags struct {
	pf               providerFlags
	sandbox          string
	compliance       string
	browserCmd       string
	paste            bool
	noListen         bool
	callbackTimeout  time.Duration
	params           multiFlag
	keepTokens       bool
	jsonOut          bool
	verbose          bool
	reveal           bool
	sandboxSlowDelay time.Duration
}

func flowCommand() command {
	return command{
		name:    "flow",
		summary: "walk the whole Authorization Code flow headless and show every request and response",
		example: "  oauthdiag flow --sandbox happy\n  oauthdiag flow --sandbox server-error --json\n  oauthdiag flow --provider linkedin --client-id 86abc --scope 'openid profile email'\n  oauthdiag flow --issuer https://login.example.com --client-id ID --browser-cmd 'oauthdiag browse --user alice'",
		setup:   setupFlow,
	}
}

func setupFlow(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var ff flowFlags
	ff.pf.register(fs)
	fs.StringVar(&ff.sandbox, "sandbox", "", "run against the embedded sandbox with this scenario ("+scenarioNames()+")")
	fs.StringVar(&ff.compliance, "sandbox-compliance", "linkedin", "sandbox behaviour: linkedin, strict or lenient")
	fs.StringVar(&ff.browserCmd, "browser-cmd", "", "command that opens the authorization URL (given as its last argument); a redirect URL it prints is used")
	fs.BoolVar(&ff.paste, "paste", false, "do not open a browser: print the URL and read the pasted redirect URL from stdin")
	fs.BoolVar(&ff.noListen, "no-listen", false, "do not run the loopback listener for the redirect")
	fs.DurationVar(&ff.callbackTimeout, "callback-timeout", 5*time.Minute, "how long to wait for the browser to come back")
	fs.Var(&ff.params, "param", "extra authorization request parameter K=V (repeatable), e.g. prompt=consent")
	fs.BoolVar(&ff.keepTokens, "keep-tokens", false, "skip revocation at the end (the tokens stay valid)")
	fs.BoolVar(&ff.jsonOut, "json", false, "print one JSON document instead of text")
	fs.BoolVarP(&ff.verbose, "verbose", "v", false, "show whole bodies (text output cuts long ones)")
	fs.BoolVar(&ff.reveal, "reveal", false, "show secrets unredacted (DANGER: tokens and the client secret appear in the output)")
	fs.DurationVar(&ff.sandboxSlowDelay, "sandbox-delay", 0, "with --sandbox slow: how long the API stalls (default: longer than --timeout)")
	return func(ctx context.Context, args []string) error {
		extra, err := parseParams(ff.params)
		if err != nil {
			return err
		}

		var br browser.Browser
		listen := !ff.noListen
		var sb *sandbox.Server
		var res *resolved
		if ff.sandbox != "" {
			scenario, err := sandbox.ParseScenario(ff.sandbox)
			if err != nil {
				return usagef("--sandbox: %v", err)
			}
			compliance, err := parseCompliance(ff.compliance)
			if err != nil {
				return err
			}
			timeoutSet := false
			timeoutSet = fs.Changed("timeout")
			if !timeoutSet {
				ff.pf.timeout = 10 * time.Second
			}
			delay := ff.sandboxSlowDelay
			if delay == 0 {
				delay = ff.pf.timeout + 2*time.Second
			}
			sbOpts := append([]sandbox.Option{sandbox.WithScenario(scenario), sandbox.WithCompliance(compliance),
				sandbox.WithAutoConsent(true), sandbox.WithSlowDelay(delay)}, sandboxClient(&ff.pf)...)
			sb = sandbox.New(sbOpts...)
			base, err := sb.Start("127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("starting the sandbox: %w", err)
			}
			defer sb.Close()
			res, err = sandboxConfig(&ff.pf, base, sb.Issuer())
			if err != nil {
				return err
			}
			sandboxAPICall(&res.cfg, &ff.pf, base, time.Now())
			if ff.browserCmd == "" && !ff.paste {
				br = &browser.Headless{Username: "member@example.com", Password: "sandbox"}
				listen = false
			}
		} else {
			var err error
			if res, err = ff.pf.resolve(env, !ff.paste); err != nil {
				return err
			}
		}
		switch {
		case br != nil:
		case ff.browserCmd != "":
			br = browser.Command{Command: ff.browserCmd, Stderr: env.stderr}
		case ff.paste:
			br = browser.Paste{In: env.stdin, Prompt: env.stderr}
			listen = false
		default:
			br = browser.System{}
		}

		labels := map[string]string{"command": "flow"}
		if sb != nil {
			labels["sandbox_scenario"] = string(sb.Scenario())
		}
		rec, err := openRecording(env, res.cfg, labels)
		if err != nil {
			return err
		}
		defer rec.Close()
		redactor := rec.red
		runner := oauthflow.NewRunner(res.cfg, oauthflow.WithHTTPClient(rec.client(ff.pf.timeout)))

		out := newFlowPrinter(env.stdout, redactor, ff.verbose, ff.reveal)
		opts := oauthflow.FlowOptions{
			Discover:        res.discover,
			Issuer:          res.issuer,
			DiscoveryURL:    res.discoveryURL,
			Browser:         br,
			Listen:          listen,
			CallbackTimeout: ff.callbackTimeout,
			ExtraAuthParams: extra,
			SkipRevoke:      ff.keepTokens,
			Observe:         rec.observe,
		}
		if !ff.jsonOut {
			out.header(res, sb, rec.sessionID())
			opts.OnStep = out.step
		}
		fr := runner.RunFlow(ctx, opts)
		learnSecrets(redactor, fr)
		idv := inspector.VerifyIDToken(ctx, fr, runner.Config(), rec.client(ff.pf.timeout), runner.Now())
		diags := inspector.DiagnoseFlow(fr, runner.Config(), idv, runner.Now())
		if err := bundle.SaveFlow(rec.sess, fr, runner.Config(), diags); err != nil {
			fmt.Fprintf(env.stderr, "note: the session could not store the flow's diagnoses: %v\n", err)
		}
		if ff.jsonOut {
			if err := writeFlowJSON(env.stdout, fr, runner.Config(), diags, rec.sessionID(), redactor, ff.reveal); err != nil {
				return err
			}
		} else {
			out.idToken(idv)
			out.summary(fr, diags, rec.sessionID())
		}
		if !fr.OK {
			return &exitError{code: 1, err: flowFailure(fr, redactor)}
		}
		return nil
	}
}

// flowFailure is the one-line reason the command exits non-zero: the failing step and its error
// (cause and fix), redacted, so that stderr alone tells what went wrong.
func flowFailure(fr *oauthflow.FlowResult, r *recorder.Redactor) error {
	s := fr.FailedStep()
	if s == nil || s.Err == nil {
		return fmt.Errorf("the flow failed at step %s", failedStepName(fr))
	}
	return fmt.Errorf("the flow failed at step %s: %s", s.Name, r.RedactString(strings.TrimPrefix(s.Err.Error(), s.Name+": ")))
}

func failedStepName(fr *oauthflow.FlowResult) string {
	if s := fr.FailedStep(); s != nil {
		return s.Name
	}
	return "?"
}

// sandboxConfig is the LinkedIn preset pointed at the embedded sandbox with its built-in client,
// under the provider flags. A client given on the command line is the one sandboxClient
// registers, secret included: --client-secret alone does not replace the built-in client's.
func sandboxConfig(pf *providerFlags, base, issuer string) (*resolved, error) {
	p := oauthflow.LinkedInAt(base, base)
	p.Name = "linkedin-sandbox"
	cfg := oauthflow.Config{Provider: p, Client: oauthflow.Client{PKCE: true}}
	if err := pf.overlay(&cfg); err != nil {
		return nil, err
	}
	cfg.Client.ID, cfg.Client.Secret, cfg.Client.RedirectURI = sandboxClientOf(pf)
	return &resolved{cfg: cfg, discover: true, issuer: issuer, discoveryURL: p.DiscoveryURL}, nil
}

// sandboxAPICall makes the api-call step GET the sandbox's versioned /rest/me with this month's
// LinkedIn-Version, so that a sandbox flow runs every step. --api-url and --api-header win.
func sandboxAPICall(cfg *oauthflow.Config, pf *providerFlags, base string, now time.Time) {
	if pf.endpoints.API == "" {
		cfg.Provider.Endpoints.API = base + "/rest/me"
	}
	if _, set := cfg.Provider.APIHeaders["LinkedIn-Version"]; !set {
		headers := map[string]string{"LinkedIn-Version": now.UTC().Format("200601")}
		for k, v := range cfg.Provider.APIHeaders {
			headers[k] = v
		}
		cfg.Provider.APIHeaders = headers
	}
}

func parseCompliance(s string) (sandbox.Compliance, error) {
	c, err := sandbox.ParseCompliance(strings.ToLower(s))
	if err != nil {
		return "", usagef("%v", err)
	}
	return c, nil
}

// sandboxClient registers the client given with --client-id (and --client-secret, --redirect-uri)
// in the sandbox, so a flow can run with the user's own values; none given keeps the built-in one.
func sandboxClient(pf *providerFlags) []sandbox.Option {
	if pf.clientID == "" && pf.redirectURI == "" {
		return nil
	}
	return []sandbox.Option{sandbox.WithClient(sandboxClientOf(pf))}
}

// sandboxClientOf is the client a sandbox run uses: the built-in one, or the one given with
// --client-id (and its --client-secret, possibly none), with --redirect-uri when given.
func sandboxClientOf(pf *providerFlags) (id, secret, redirectURI string) {
	id, secret, redirectURI = sandbox.DefaultClientID, sandbox.DefaultClientSecret, oauthflow.DefaultRedirectURI
	if pf.clientID != "" {
		id, secret = pf.clientID, pf.clientSecret
	}
	if pf.redirectURI != "" {
		redirectURI = pf.redirectURI
	}
	return id, secret, redirectURI
}

func scenarioNames() string {
	var names []string
	for _, s := range sandbox.Scenarios() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// learnSecrets teaches the redactor every secret the flow produced, so free-text mentions are caught too.
func learnSecrets(r *recorder.Redactor, fr *oauthflow.FlowResult) {
	if fr.AuthRequest != nil {
		r.AddSecret("code_verifier", fr.AuthRequest.Verifier)
	}
	if fr.Callback != nil {
		r.AddSecret("code", fr.Callback.Code)
	}
	for _, t := range []*oauthflow.Token{fr.Token, fr.Refreshed} {
		if t != nil {
			learnToken(r, t)
		}
	}
}

// flowPrinter writes the text form of a flow as it runs.
type flowPrinter struct {
	w        io.Writer
	redactor *recorder.Redactor
	verbose  bool
	reveal   bool
}

func newFlowPrinter(w io.Writer, r *recorder.Redactor, verbose, reveal bool) *flowPrinter {
	return &flowPrinter{w: w, redactor: r, verbose: verbose, reveal: reveal}
}

func (p *flowPrinter) header(res *resolved, sb *sandbox.Server, session string) {
	cfg := res.cfg
	fmt.Fprintf(p.w, "oauthdiag flow — provider %s, client_id %s\n", cfg.Provider.Name, cfg.Client.ID)
	if sb != nil {
		fmt.Fprintf(p.w, "sandbox %s, scenario %s\n", sb.BaseURL(), sb.Scenario())
	}
	if session != "" {
		fmt.Fprintf(p.w, "session %s\n", session)
	}
	if p.reveal {
		fmt.Fprintln(p.w, "WARNING: --reveal is on: secrets are shown unredacted below")
	}
	fmt.Fprintln(p.w)
}

var stepMarks = map[oauthflow.StepStatus]string{oauthflow.StatusOK: "✔", oauthflow.StatusFailed: "✘", oauthflow.StatusSkipped: "–"}

// step prints a step as it finishes. The flow's codes and tokens reach the redactor only when the
// flow ends (learnSecrets), so a step's exchanges are redacted by the redactor's rules (parameters,
// JSON keys, headers, bearer credentials, JWTs) and by the values it already knows: the client
// secret, and what the session log has learned from the calls it recorded.
func (p *flowPrinter) step(s oauthflow.StepReport) {
	status := ""
	if st := s.HTTPStatus(); st != 0 {
		status = fmt.Sprintf("HTTP %d", st)
	}
	fmt.Fprintf(p.w, "%s %-24s %-9s %s\n", stepMarks[s.Status], s.Name, status, durationText(s))
	for _, n := range s.Notes {
		fmt.Fprintf(p.w, "    · %s\n", p.redact(n))
	}
	for _, ex := range s.Exchanges {
		p.exchange(ex)
	}
	if s.Err != nil {
		fmt.Fprintf(p.w, "    error: %s\n", p.redact(s.Err.Error()))
	}
	if s.Status != oauthflow.StatusSkipped {
		fmt.Fprintln(p.w)
	}
}

func durationText(s oauthflow.StepReport) string {
	if s.Status == oauthflow.StatusSkipped {
		return ""
	}
	return s.Duration.Round(time.Millisecond).String()
}

func (p *flowPrinter) redact(s string) string {
	if p.reveal {
		return s
	}
	return p.redactor.RedactString(s)
}

func (p *flowPrinter) exchange(ex httplog.Exchange) {
	if !p.reveal {
		ex = p.redactor.RedactExchange(ex)
	}
	o := httplog.TextOptions{CutNote: "… (%d more bytes; -v shows all)"}
	if !p.verbose {
		o.MaxBody = 1500
	}
	fmt.Fprint(p.w, indent(httplog.Text(&ex, o), "    │ "))
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// idToken prints the ID token's verification, one verdict per check.
func (p *flowPrinter) idToken(v *inspector.Verification) {
	if v == nil || len(v.Checks) == 0 {
		return
	}
	fmt.Fprintln(p.w, "ID token:")
	for _, c := range v.Checks {
		mark := "✔"
		switch {
		case c.Skipped:
			mark = "–"
		case !c.OK:
			mark = "✘"
		}
		fmt.Fprintf(p.w, "  %s %-9s %s\n", mark, c.Name, p.redact(c.Detail))
	}
	fmt.Fprintln(p.w)
}

func (p *flowPrinter) summary(fr *oauthflow.FlowResult, diags []diagnosisView, session string) {
	if fr.OK {
		fmt.Fprintln(p.w, "Result: every step succeeded.")
	} else {
		fmt.Fprintf(p.w, "Result: the flow failed at step %s.\n", failedStepName(fr))
	}
	for _, d := range diags {
		d = d.Redacted(p.redact)
		fmt.Fprintf(p.w, "\nDiagnosis [%s] %s\n", d.Code, d.Title)
		for _, e := range d.Evidence {
			fmt.Fprintf(p.w, "  evidence: %s\n", e)
		}
		fmt.Fprintf(p.w, "  fix: %s\n", d.Fix)
	}
	if session != "" {
		fmt.Fprintf(p.w, "\nRecorded as session %s (oauthdiag calls --session %s; oauthdiag bundle --session %s -o bundle.zip)\n", session, session, session)
	}
}

// JSON output.

type jsonFlow struct {
	OK        bool            `json:"ok"`
	Session   string          `json:"session,omitempty"`
	Provider  jsonProvider    `json:"provider"`
	Steps     []jsonStep      `json:"steps"`
	Diagnoses []diagnosisView `json:"diagnoses"`
}

type jsonProvider struct {
	Name          string              `json:"name"`
	Issuer        string              `json:"issuer,omitempty"`
	ClaimedIssuer string              `json:"claimed_issuer,omitempty"`
	Endpoints     oauthflow.Endpoints `json:"endpoints"`
	ClientID      string              `json:"client_id"`
	RedirectURI   string              `json:"redirect_uri"`
	Scopes        []string            `json:"scopes"`
}

type jsonStep struct {
	Name       string         `json:"name"`
	OK         bool           `json:"ok"`
	Outcome    string         `json:"outcome"`
	Status     int            `json:"status"`
	DurationMS int64          `json:"duration_ms"`
	Notes      []string       `json:"notes,omitempty"`
	Error      *jsonError     `json:"error,omitempty"`
	Exchanges  []httplog.View `json:"exchanges,omitempty"`
}

type jsonError struct {
	Kind             string `json:"kind"`
	Code             string `json:"code,omitempty"`
	Description      string `json:"description,omitempty"`
	ServiceErrorCode int    `json:"service_error_code,omitempty"`
	Status           int    `json:"status,omitempty"`
	RetryAfterS      int    `json:"retry_after_s,omitempty"`
	Hint             string `json:"hint,omitempty"`
	Message          string `json:"message"`
}

func writeFlowJSON(w io.Writer, fr *oauthflow.FlowResult, cfg oauthflow.Config, diags []diagnosisView, session string, r *recorder.Redactor, reveal bool) error {
	red := func(s string) string {
		if reveal {
			return s
		}
		return r.RedactString(s)
	}
	doc := jsonFlow{OK: fr.OK, Session: session, Diagnoses: make([]diagnosisView, len(diags)), Steps: []jsonStep{}}
	for i, d := range diags {
		doc.Diagnoses[i] = d.Redacted(red)
	}
	// The scopes actually requested: the client's, or the provider's defaults when it named none.
	scopes := cfg.Client.Scopes
	if fr.AuthRequest != nil {
		scopes = fr.AuthRequest.Scopes
	}
	eps := cfg.Provider.Endpoints
	if !reveal {
		// An --api-url may carry a token in its query.
		for _, u := range []*string{&eps.Authorization, &eps.Token, &eps.Userinfo, &eps.Introspection, &eps.Revocation, &eps.JWKS, &eps.API} {
			*u = r.RedactURL(*u)
		}
	}
	doc.Provider = jsonProvider{Name: cfg.Provider.Name, Issuer: cfg.Provider.Issuer, ClaimedIssuer: fr.ClaimedIssuer,
		Endpoints: eps, ClientID: cfg.Client.ID, RedirectURI: cfg.Client.RedirectURI, Scopes: scopes}
	for _, s := range fr.Steps {
		js := jsonStep{Name: s.Name, OK: s.Status == oauthflow.StatusOK, Outcome: string(s.Status), Status: s.HTTPStatus(),
			DurationMS: s.Duration.Milliseconds()}
		for _, n := range s.Notes {
			js.Notes = append(js.Notes, red(n))
		}
		if s.Err != nil {
			je := &jsonError{Kind: "error", Message: red(s.Err.Error())}
			if e, ok := oauthflow.AsError(s.Err); ok {
				je.Kind, je.Code, je.Description, je.ServiceErrorCode, je.Status, je.Hint =
					e.Kind.String(), e.Code, red(e.Description), e.ServiceErrorCode, e.Status, e.Hint
				je.RetryAfterS = int(e.RetryAfter / time.Second)
			}
			js.Error = je
		}
		for _, ex := range s.Exchanges {
			if !reveal {
				ex = r.RedactExchange(ex)
			}
			js.Exchanges = append(js.Exchanges, httplog.ViewOf(&ex))
		}
		doc.Steps = append(doc.Steps, js)
	}
	return writeJSON(w, doc)
}

// diagnosisView is a diagnosis as the CLI shows it.
type diagnosisView = inspector.Diagnosis
