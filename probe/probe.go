package probe

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Verdict is how a provider did on one conformance check.
type Verdict string

const (
	// VerdictPass: the provider behaves as the referenced specification requires.
	VerdictPass Verdict = "pass"
	// VerdictDeviation: the provider does not, and the evidence says how.
	VerdictDeviation Verdict = "deviation"
	// VerdictNotApplicable: the check does not apply (no discovery, no refresh token, feature not offered).
	VerdictNotApplicable Verdict = "not-applicable"
	// VerdictError: the check could not run or could not decide (network failure, login failed, a
	// precondition the provider did not meet); the evidence says why. It is no finding about conformance.
	VerdictError Verdict = "error"
)

// The probe's checks, in report order. The names are stable identifiers for scripts.
const (
	DiscoveryEndpoints          = "discovery-endpoints"
	DiscoveryPKCEMethods        = "discovery-pkce-methods"
	DiscoveryIntrospectRevoke   = "discovery-introspection-revocation"
	WrongClientSecret           = "wrong-client-secret"
	UnregisteredRedirectURI     = "unregistered-redirect-uri"
	TokenRedirectURIMismatch    = "token-redirect-uri-mismatch"
	WrongPKCEVerifier           = "wrong-pkce-verifier"
	CodeReuse                   = "code-reuse"
	RevokedAccessTokenInactive  = "revoked-access-token-inactive"
	RevokedRefreshTokenRefused  = "revoked-refresh-token-refused"
	RefreshTokenRotation        = "refresh-token-rotation"
	AuthorizationResponseIssuer = "authorization-response-iss"
)

// probeChecks lists every check with the specification section it tests.
var probeChecks = []struct{ name, reference string }{
	{DiscoveryEndpoints, "RFC 8414 §2, OIDC Discovery §3"},
	{DiscoveryPKCEMethods, "RFC 8414 §2, RFC 9700 §2.1.1"},
	{DiscoveryIntrospectRevoke, "RFC 8414 §2"},
	{WrongClientSecret, "RFC 6749 §5.2"},
	{UnregisteredRedirectURI, "RFC 6749 §4.1.2.1"},
	{TokenRedirectURIMismatch, "RFC 6749 §4.1.3"},
	{WrongPKCEVerifier, "RFC 7636 §4.6"},
	{CodeReuse, "RFC 6749 §4.1.2"},
	{RevokedAccessTokenInactive, "RFC 7009 §2.2"},
	{RevokedRefreshTokenRefused, "RFC 7009 §2.2"},
	{RefreshTokenRotation, "RFC 9700 §4.14.2"},
	{AuthorizationResponseIssuer, "RFC 9207 §2.4"},
}

// CheckNames returns the names of all checks in report order.
func CheckNames() []string {
	names := make([]string, len(probeChecks))
	for i, c := range probeChecks {
		names[i] = c.name
	}
	return names
}

// Check is the outcome of one conformance check. Evidence says what was sent and what came back;
// codes, tokens, verifiers and secrets never appear in it.
type Check struct {
	Name      string  `json:"name"`
	Verdict   Verdict `json:"verdict"`
	Reference string  `json:"reference"`
	Evidence  string  `json:"evidence"`
	// Fact marks an observation that is reported, not judged (refresh-token rotation for a
	// confidential client, which RFC 9700 leaves to the server).
	Fact bool `json:"fact,omitempty"`
}

// Options configure Probe.
type Options struct {
	// Config is the provider and the client to probe with. PKCE is always used by the probe,
	// whatever Config.Client.PKCE says, since three checks depend on it.
	Config oauthflow.Config
	// Discover reads the provider configuration from Issuer (or DiscoveryURL) first; the
	// discovery checks are not applicable without it.
	Discover     bool
	Issuer       string
	DiscoveryURL string
	// Browser completes each authorization and must return the redirect URL (a headless driver:
	// browser.Headless, or browser.Command running `oauthdiag browse`). Several
	// checks each need a fresh authorization code, so a person clicking through is not practical.
	Browser browser.Browser
	// AuthParams are added to every authorization request. Without a prompt here, the probe adds
	// prompt=consent when it asks for offline_access (OIDC Core §11).
	AuthParams url.Values
	// HTTPClient sends every request to the provider's endpoints (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Observe, if set, is told about the browser legs the probe does not send itself
	// (httplog.LegAuthorizationURL, httplog.LegBrowserRedirect), so they can be recorded.
	Observe func(step, leg, rawURL string) httplog.Exchange
	Now     func() time.Time // nil: time.Now
	Random  io.Reader        // state, nonce, PKCE verifiers and the wrong values sent; nil: crypto/rand
}

// Report is the outcome of a probe: every check in the fixed order, and the tallies.
type Report struct {
	Provider      string  `json:"provider"`
	Issuer        string  `json:"issuer,omitempty"`
	Checks        []Check `json:"checks"`
	Passed        int     `json:"passed"`
	Deviations    int     `json:"deviations"`
	NotApplicable int     `json:"not_applicable"`
	Errors        int     `json:"errors"`
}

// Check returns the named check, or false.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// ErrUnreachable is wrapped by Probe's error when the provider cannot be reached at all.
var ErrUnreachable = errors.New("provider unreachable")

// Run runs the conformance checks against a provider. Deviations are findings, not errors: the
// error is non-nil only when the probe cannot run at all (incomplete configuration, no browser,
// provider unreachable). Checks that could not run get VerdictError with the reason.
//
// The probe authorizes six times (once for the tokens the revocation and refresh checks use, once
// per check that needs a fresh code), revokes the tokens it obtained, and asks for offline_access
// when discovery lists it and the configured scopes lack it, so that a refresh token is issued.
func Run(ctx context.Context, opts Options) (*Report, error) {
	p := newProber(opts)
	if opts.Discover {
		if err := p.discover(ctx); err != nil {
			return nil, err
		}
	} else {
		p.set(DiscoveryEndpoints, VerdictNotApplicable, p.noDocument())
	}
	if err := p.cfg.Validate(); err != nil {
		if c, ok := p.results[DiscoveryEndpoints]; ok && opts.Discover && c.Verdict != VerdictPass {
			// What discovery found is usually why the configuration is incomplete.
			return nil, fmt.Errorf("probe: %w (discovery: %s)", err, p.scrub(c.Evidence))
		}
		return nil, fmt.Errorf("probe: %w", err)
	}
	if opts.Browser == nil {
		return nil, &oauthflow.Error{Kind: oauthflow.KindConfig, Code: oauthflow.CodeBrowserStopped,
			Description: "the probe needs a browser that returns the redirect URL",
			Hint:        "pass --browser-cmd 'oauthdiag browse --user U' (or --sandbox MODE)"}
	}
	p.chooseScopes()
	p.runner = p.newRunner(p.cfg)

	if err := p.runMain(ctx); err != nil {
		return nil, err
	}
	if p.authorized > 0 {
		p.checkUnregisteredRedirect(ctx)
		p.checkWrongSecret(ctx)
		p.checkTokenRedirectMismatch(ctx)
		p.checkWrongVerifier(ctx)
		p.checkCodeReuse(ctx)
	} else {
		// When the first login fails the others would too, each taking a browser run to say so.
		for _, name := range []string{UnregisteredRedirectURI, WrongClientSecret, TokenRedirectURIMismatch, WrongPKCEVerifier, CodeReuse} {
			p.set(name, VerdictError, "not run: the first authorization already failed (see "+AuthorizationResponseIssuer+")")
		}
	}
	p.checkDiscoveryPKCE()
	p.checkDiscoveryIntrospectRevoke()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return p.report(), nil
}

// prober holds one probe run's state.
type prober struct {
	opts    Options
	cfg     oauthflow.Config
	runner  *oauthflow.Runner
	now     func() time.Time
	random  io.Reader
	extra   url.Values
	doc     *probeDocument // nil when discovery was not used or found nothing
	results map[string]Check
	// secrets are scrubbed from every evidence string before the report leaves Probe.
	secrets []string
	// authorized counts authorizations that came back to the registered redirect URI with a code:
	// proof that the browser can log in, so a stop on the unregistered redirect URI means what it says.
	authorized int
	// endpointAnswers records the last HTTP status each introspection/revocation endpoint answered.
	endpointAnswers map[string]int
}

func newProber(opts Options) *prober {
	p := &prober{opts: opts, cfg: opts.Config, now: opts.Now, random: opts.Random,
		results: map[string]Check{}, endpointAnswers: map[string]int{}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.random == nil {
		p.random = rand.Reader
	}
	p.cfg.Client.PKCE = true
	p.remember(opts.Config.Client.Secret)
	p.extra = url.Values{}
	for k, v := range opts.AuthParams {
		p.extra[k] = slices.Clone(v)
	}
	return p
}

func (p *prober) newRunner(cfg oauthflow.Config) *oauthflow.Runner {
	opts := []oauthflow.Option{oauthflow.WithClock(p.now), oauthflow.WithRandom(p.random)}
	if p.opts.HTTPClient != nil {
		opts = append(opts, oauthflow.WithHTTPClient(p.opts.HTTPClient))
	}
	return oauthflow.NewRunner(cfg, opts...)
}

// set records a check's outcome, scrubbing the secrets known so far (report scrubs again for
// those learned later). Evidence that is cut short must be cut by cut or oneLine, which scrub before cutting.
func (p *prober) set(name string, v Verdict, evidence string) {
	p.results[name] = Check{Name: name, Verdict: v, Evidence: p.scrub(evidence)}
}

// remember adds values that must never appear in evidence.
func (p *prober) remember(values ...string) {
	for _, v := range values {
		if len(v) >= 6 && !slices.Contains(p.secrets, v) {
			p.secrets = append(p.secrets, v)
		}
	}
}

func (p *prober) rememberToken(t *oauthflow.Token) {
	if t != nil {
		p.remember(t.AccessToken, t.RefreshToken, t.IDToken)
	}
}

// scrub replaces every remembered secret in s.
func (p *prober) scrub(s string) string {
	// Longest first, so a secret that contains another is replaced whole.
	sorted := slices.Clone(p.secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, v := range sorted {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

func (p *prober) report() *Report {
	r := &Report{Provider: p.cfg.Provider.Name, Issuer: p.cfg.Provider.Issuer}
	for _, c := range probeChecks {
		res, ok := p.results[c.name]
		if !ok {
			res = Check{Name: c.name, Verdict: VerdictError, Evidence: "not run"}
		}
		res.Reference = c.reference
		res.Evidence = p.scrub(res.Evidence)
		switch res.Verdict {
		case VerdictPass:
			r.Passed++
		case VerdictDeviation:
			r.Deviations++
		case VerdictNotApplicable:
			r.NotApplicable++
		default:
			r.Errors++
		}
		r.Checks = append(r.Checks, res)
	}
	return r
}

// chooseScopes completes the scopes: openid when nothing is configured and the provider is an
// OpenID Provider, and offline_access when the provider lists it, so that a refresh token is issued.
func (p *prober) chooseScopes() {
	scopes := slices.Clone(p.cfg.Client.Scopes)
	if len(scopes) == 0 {
		scopes = slices.Clone(p.cfg.Provider.DefaultScopes)
	}
	supported := p.doc.strings("scopes_supported")
	if len(scopes) == 0 && slices.Contains(supported, "openid") {
		scopes = []string{"openid"}
	}
	if slices.Contains(supported, "offline_access") && !slices.Contains(scopes, "offline_access") {
		scopes = append(scopes, "offline_access")
		// OIDC Core §11: offline_access is ignored unless the prompt includes consent.
		if _, set := p.extra["prompt"]; !set {
			p.extra.Set("prompt", "consent")
		}
	}
	p.cfg.Client.Scopes = scopes
}

// probeAuthorization is one authorization that came back with a code.
type probeAuthorization struct {
	req *oauthflow.AuthRequest
	cb  *oauthflow.Callback
}

// authorize runs one authorization through the browser and returns the code, or an explanation of
// why there is none (for a VerdictError's evidence) and the underlying error.
func (p *prober) authorize(ctx context.Context) (*probeAuthorization, string, error) {
	ar, err := p.runner.AuthorizationRequest(p.extra)
	if err != nil {
		return nil, "could not build the authorization request: " + err.Error(), err
	}
	p.remember(ar.Verifier)
	redirect, err := p.browse(ctx, ar.URL, ar.RedirectURI)
	if err != nil {
		return nil, "the authorization did not come back: " + p.oneLine(err.Error()), err
	}
	if redirect == "" {
		err := &oauthflow.Error{Step: oauthflow.StepAuthorize, Kind: oauthflow.KindConfig, Code: oauthflow.CodeBrowserStopped,
			Description: "the browser returned no redirect URL"}
		return nil, "the browser returned no redirect URL: the probe needs a headless driver such as `oauthdiag browse`", err
	}
	// The issuer is compared by the iss check itself, exactly as RFC 9207 wants; ParseRedirect's
	// comparison forgives a trailing slash.
	cb, err := oauthflow.ParseRedirect(ar, "", redirect)
	if cb != nil {
		p.remember(cb.Code)
	}
	if err != nil {
		return nil, "the authorization response carried no code: " + p.oneLine(err.Error()), err
	}
	p.authorized++
	return &probeAuthorization{req: ar, cb: cb}, "", nil
}

// browse hands an authorization URL to the browser, telling Observe about both legs.
func (p *prober) browse(ctx context.Context, authURL, stopAt string) (string, error) {
	if p.opts.Observe != nil {
		p.opts.Observe(oauthflow.StepAuthorize, httplog.LegAuthorizationURL, authURL)
	}
	redirect, err := p.opts.Browser.Authorize(ctx, authURL, stopAt)
	if u, perr := url.Parse(redirect); perr == nil {
		// Before anything parses or judges the redirect: its error may quote the URL, code included.
		p.remember(u.Query().Get("code"))
	}
	if redirect != "" && p.opts.Observe != nil {
		p.opts.Observe(oauthflow.StepCallback, httplog.LegBrowserRedirect, redirect)
	}
	return redirect, err
}

// runMain authorizes once, checks the authorization response's iss, exchanges the code and runs
// the checks that use the tokens: rotation, then revocation of the access and the refresh token.
// It fails only when the provider cannot be reached.
func (p *prober) runMain(ctx context.Context) error {
	auth, why, err := p.authorize(ctx)
	if err != nil {
		if probeUnreachable(err) {
			return fmt.Errorf("probe: %w: %w", ErrUnreachable, err)
		}
		p.set(AuthorizationResponseIssuer, VerdictError, why)
		for _, name := range []string{RefreshTokenRotation, RevokedAccessTokenInactive, RevokedRefreshTokenRefused} {
			p.set(name, VerdictError, "not run: the first authorization already failed (see "+AuthorizationResponseIssuer+")")
		}
		return nil
	}
	p.checkIssuer(auth.cb)

	tok, err := p.runner.ExchangeCode(ctx, auth.req, auth.cb)
	p.rememberToken(tok)
	if err != nil {
		if probeUnreachable(err) {
			return fmt.Errorf("probe: %w: %w", ErrUnreachable, err)
		}
		why := "the code exchange failed: " + p.answer(err)
		for _, name := range []string{RefreshTokenRotation, RevokedAccessTokenInactive, RevokedRefreshTokenRefused} {
			p.set(name, VerdictError, why)
		}
		return nil
	}
	current := p.checkRotation(ctx, tok)
	p.checkRevokedAccessToken(ctx, current)
	p.checkRevokedRefreshToken(ctx, current)
	return nil
}

// probeUnreachable reports whether err means no HTTP answer came at all.
func probeUnreachable(err error) bool {
	if e, ok := oauthflow.AsError(err); ok && e.Kind == oauthflow.KindTransport && e.Code != oauthflow.CodeCanceled {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// cleanup revokes tokens a check obtained, so the probe leaves no live session behind. Failures
// are ignored: the check's verdict does not depend on them.
func (p *prober) cleanup(ctx context.Context, t *oauthflow.Token) {
	if t == nil || p.cfg.Provider.Endpoints.Revocation == "" {
		return
	}
	if t.RefreshToken != "" {
		_ = p.runner.Revoke(ctx, t.RefreshToken, "refresh_token")
	}
	if t.AccessToken != "" {
		_ = p.runner.Revoke(ctx, t.AccessToken, "access_token")
	}
}

// oneLine collapses whitespace so evidence stays on one line, and cuts it.
func (p *prober) oneLine(s string) string { return p.cut(s, 240) }
