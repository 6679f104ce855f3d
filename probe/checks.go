package probe

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oauthdiag/oauthdiag/browser"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// probeDocument is the discovery document as served, read independently of oauthflow's
// interpretation so that absent and present-but-empty fields can be told apart.
type probeDocument struct {
	url  string
	raw  map[string]any
	oidc bool // served at an OpenID Connect location rather than RFC 8414's
}

func (d *probeDocument) str(key string) string {
	if d == nil {
		return ""
	}
	s, _ := d.raw[key].(string)
	return s
}

func (d *probeDocument) has(key string) bool {
	if d == nil {
		return false
	}
	_, ok := d.raw[key]
	return ok
}

func (d *probeDocument) strings(key string) []string {
	if d == nil {
		return nil
	}
	list, _ := d.raw[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *probeDocument) flag(key string) bool {
	if d == nil {
		return false
	}
	b, _ := d.raw[key].(bool)
	return b
}

// discover reads the discovery document, merges it into the configuration and judges it. Only an
// unreachable provider is an error; a missing or broken document is a finding.
func (p *prober) discover(ctx context.Context) error {
	dctx, trace := httplog.Collect(ctx)
	res, err := p.newRunner(p.cfg).Discover(dctx, p.opts.Issuer, p.opts.DiscoveryURL)
	for _, ex := range trace.Exchanges() {
		if ex.Response == nil || ex.Response.Status != http.StatusOK {
			continue
		}
		var raw map[string]any
		if json.Unmarshal(ex.Response.Body, &raw) == nil {
			p.doc = &probeDocument{url: ex.Request.URL, raw: raw, oidc: strings.HasSuffix(ex.Request.URL, "/.well-known/openid-configuration")}
		}
	}
	if err != nil {
		if probeUnreachable(err) {
			return fmt.Errorf("probe: discovery: %w: %w", ErrUnreachable, err)
		}
		if e, ok := oauthflow.AsError(err); ok && e.Kind == oauthflow.KindConfig {
			return fmt.Errorf("probe: %w", err)
		}
		if p.doc == nil {
			p.discoveryFailed(err)
			return nil
		}
	} else {
		p.cfg.Provider = oauthflow.MergeDiscovered(p.cfg.Provider, res.Provider)
	}
	p.checkDiscoveryEndpoints()
	return nil
}

// discoveryFailed judges a discovery that produced no JSON document.
func (p *prober) discoveryFailed(err error) {
	where := p.opts.DiscoveryURL
	if where == "" {
		if urls, uerr := oauthflow.DiscoveryURLs(p.opts.Issuer); uerr == nil {
			where = strings.Join(urls, " and ")
		}
	}
	e, _ := oauthflow.AsError(err)
	switch {
	case e != nil && e.Status == http.StatusNotFound:
		p.set(DiscoveryEndpoints, VerdictNotApplicable,
			fmt.Sprintf("no discovery document at %s (HTTP 404): the provider publishes no metadata there; check --issuer", where))
	case e != nil && e.Status >= 500:
		p.set(DiscoveryEndpoints, VerdictError, fmt.Sprintf("discovery at %s failed: %s", where, p.answer(err)))
	default:
		p.set(DiscoveryEndpoints, VerdictDeviation, fmt.Sprintf("GET %s did not return a metadata document: %s", where, p.answer(err)))
	}
}

// checkDiscoveryEndpoints judges the required members, the issuer, and the endpoints' schemes.
func (p *prober) checkDiscoveryEndpoints() {
	d := p.doc
	required := []string{"issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"}
	kind := "RFC 8414 metadata"
	if d.oidc {
		// OIDC Discovery §3 adds these to RFC 8414's list.
		required = append(required, "jwks_uri", "subject_types_supported", "id_token_signing_alg_values_supported")
		kind = "OpenID Provider metadata"
	}
	var problems, notes []string
	var missing []string
	for _, k := range required {
		if !d.has(k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "lacks required "+strings.Join(missing, ", "))
	}
	if claimed, asked := d.str("issuer"), p.opts.Issuer; claimed != "" && asked != "" && claimed != asked {
		if strings.TrimRight(claimed, "/") == strings.TrimRight(asked, "/") {
			notes = append(notes, fmt.Sprintf("the issuer is %q exactly (mind the trailing slash: iss comparisons are exact)", claimed))
		} else {
			problems = append(problems, fmt.Sprintf("claims issuer %q, not the %q it was fetched for (they must be identical)", claimed, asked))
		}
	}
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"} {
		if v := d.str(k); v != "" && !probeSecureURL(v) {
			problems = append(problems, fmt.Sprintf("%s %s is not https (TLS is required off loopback)", k, v))
		}
	}
	if len(problems) > 0 {
		p.set(DiscoveryEndpoints, VerdictDeviation, fmt.Sprintf("%s at %s %s", kind, d.url, strings.Join(append(problems, notes...), "; ")))
		return
	}
	ev := fmt.Sprintf("%s at %s has %s; the issuer matches", kind, d.url, strings.Join(required, ", "))
	if p.opts.Issuer == "" {
		ev = fmt.Sprintf("%s at %s has %s (no issuer given to compare with)", kind, d.url, strings.Join(required, ", "))
	}
	if len(notes) > 0 {
		ev += "; " + strings.Join(notes, "; ")
	}
	p.set(DiscoveryEndpoints, VerdictPass, ev)
}

// probeSecureURL accepts https, and http on loopback hosts (local test servers, RFC 8252 §8.3).
func probeSecureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return u.Scheme == "http" && ip.IsLoopback()
	}
	return u.Scheme == "http" && host == "localhost"
}

// checkDiscoveryPKCE judges code_challenge_methods_supported; it runs after wrong-pkce-verifier so
// that an absent member can be set against what the server actually does.
func (p *prober) checkDiscoveryPKCE() {
	if p.doc == nil {
		p.set(DiscoveryPKCEMethods, VerdictNotApplicable, p.noDocument())
		return
	}
	methods := p.doc.strings("code_challenge_methods_supported")
	enforced := ""
	if c, ok := p.results[WrongPKCEVerifier]; ok && c.Verdict == VerdictPass {
		enforced = "; yet the server does check the verifier (see wrong-pkce-verifier)"
	}
	switch {
	case !p.doc.has("code_challenge_methods_supported"):
		p.set(DiscoveryPKCEMethods, VerdictDeviation,
			"code_challenge_methods_supported is absent, which tells clients the server has no PKCE support"+enforced+
				"; servers should publish it so clients can detect PKCE")
	case !slices.Contains(methods, "S256"):
		p.set(DiscoveryPKCEMethods, VerdictDeviation,
			fmt.Sprintf("code_challenge_methods_supported is %q, without S256, the method every server must implement (RFC 7636 §4.2)", methods))
	default:
		ev := fmt.Sprintf("code_challenge_methods_supported lists %s", strings.Join(methods, ", "))
		if slices.Contains(methods, "plain") {
			ev += " (plain exists for clients that cannot hash; the probe uses S256)"
		}
		p.set(DiscoveryPKCEMethods, VerdictPass, ev)
	}
}

// checkDiscoveryIntrospectRevoke judges whether the document lists the introspection and
// revocation endpoints the server has. Both are optional, so an endpoint the server does not offer
// is no deviation; one that answers but is not listed is (clients relying on discovery miss it).
func (p *prober) checkDiscoveryIntrospectRevoke() {
	if p.doc == nil {
		p.set(DiscoveryIntrospectRevoke, VerdictNotApplicable, p.noDocument())
		return
	}
	type endpoint struct{ member, configured string }
	var listed, unlisted, absent []string
	for _, ep := range []endpoint{
		{"introspection_endpoint", p.cfg.Provider.Endpoints.Introspection},
		{"revocation_endpoint", p.cfg.Provider.Endpoints.Revocation},
	} {
		status, answered := p.endpointAnswers[ep.configured]
		switch {
		case p.doc.str(ep.member) != "":
			listed = append(listed, ep.member)
		case ep.configured != "" && answered && status != http.StatusNotFound:
			unlisted = append(unlisted, fmt.Sprintf("%s is not listed, yet %s answered (HTTP %d)", ep.member, ep.configured, status))
		default:
			absent = append(absent, ep.member)
		}
	}
	switch {
	case len(unlisted) > 0:
		p.set(DiscoveryIntrospectRevoke, VerdictDeviation, strings.Join(unlisted, "; ")+": clients that rely on discovery will not find it")
	case len(listed) == 0:
		p.set(DiscoveryIntrospectRevoke, VerdictNotApplicable,
			"the document lists neither introspection_endpoint nor revocation_endpoint and the probe found none answering: the server does not seem to offer them (both optional)")
	case len(absent) > 0:
		p.set(DiscoveryIntrospectRevoke, VerdictPass, fmt.Sprintf("lists %s; %s is absent and the server does not seem to offer it", strings.Join(listed, ", "), strings.Join(absent, ", ")))
	default:
		p.set(DiscoveryIntrospectRevoke, VerdictPass, "lists introspection_endpoint and revocation_endpoint")
	}
}

func (p *prober) noDocument() string {
	if !p.opts.Discover {
		return "no discovery document was read (endpoints given explicitly; pass --issuer to include discovery)"
	}
	return "no discovery document was found"
}

// checkIssuer judges the RFC 9207 iss parameter of a successful authorization response. iss is
// optional unless the server advertises authorization_response_iss_parameter_supported: a server
// that neither advertises nor sends it does not implement RFC 9207 (not applicable); one that
// advertises it and omits it, or sends a value other than its issuer, deviates.
func (p *prober) checkIssuer(cb *oauthflow.Callback) {
	advertised := p.doc.flag("authorization_response_iss_parameter_supported")
	expected := p.cfg.Provider.Issuer
	if p.doc != nil && p.doc.str("issuer") != "" {
		expected = p.doc.str("issuer")
	}
	switch {
	case cb.Iss == "" && advertised:
		p.set(AuthorizationResponseIssuer, VerdictDeviation,
			"discovery advertises authorization_response_iss_parameter_supported, but the authorization response carried no iss: clients must reject it")
	case cb.Iss == "" && p.doc == nil:
		p.set(AuthorizationResponseIssuer, VerdictNotApplicable,
			"no iss in the authorization response and no discovery document to say whether the server supports RFC 9207 (optional)")
	case cb.Iss == "":
		p.set(AuthorizationResponseIssuer, VerdictNotApplicable,
			"no iss in the authorization response, and discovery does not advertise authorization_response_iss_parameter_supported: the server does not implement RFC 9207 (optional), so clients cannot detect mix-up attacks this way")
	case expected == "":
		p.set(AuthorizationResponseIssuer, VerdictNotApplicable,
			fmt.Sprintf("the authorization response carried iss=%q, but no issuer is known to compare it with (pass --issuer)", cb.Iss))
	case cb.Iss != expected:
		p.set(AuthorizationResponseIssuer, VerdictDeviation,
			fmt.Sprintf("the authorization response carried iss=%q, not the issuer %q (compared as exact strings): clients must reject it", cb.Iss, expected))
	default:
		ev := fmt.Sprintf("the authorization response carried iss=%q, the issuer exactly", cb.Iss)
		switch {
		case p.doc == nil:
			ev += "; no discovery document was read to say whether the server advertises it"
		case !advertised:
			ev += "; discovery does not advertise authorization_response_iss_parameter_supported (RFC 9207 §3), so clients cannot insist on it"
		}
		p.set(AuthorizationResponseIssuer, VerdictPass, ev)
	}
}

// checkRotation refreshes once and reports whether the refresh token was replaced. It returns the
// tokens to use next (the refreshed ones, keeping the old refresh token when none came back).
func (p *prober) checkRotation(ctx context.Context, tok *oauthflow.Token) *oauthflow.Token {
	if tok.RefreshToken == "" {
		p.set(RefreshTokenRotation, VerdictNotApplicable, p.noRefreshToken())
		return tok
	}
	refreshed, err := p.runner.Refresh(ctx, tok.RefreshToken)
	p.rememberToken(refreshed)
	if err != nil {
		p.set(RefreshTokenRotation, VerdictError, "refreshing with the refresh token just issued failed: "+p.answer(err))
		return tok
	}
	var what string
	rotated := false
	switch {
	case refreshed.RefreshToken == "":
		what = "not rotated: the refresh response carried no refresh token, so the old one stays in use"
	case refreshed.RefreshToken == tok.RefreshToken:
		what = "not rotated: the refresh response carried the same refresh token"
	default:
		what, rotated = "rotated: the refresh response carried a new refresh token", true
	}
	if p.cfg.AuthMethod() == oauthflow.AuthNone {
		// RFC 9700 §4.14.2: a public client's refresh tokens must be sender-constrained or
		// rotated; the probe uses no sender constraint, so rotation is the only protection.
		if rotated {
			p.set(RefreshTokenRotation, VerdictPass, what+" (required for public clients without sender-constrained tokens)")
		} else {
			p.set(RefreshTokenRotation, VerdictDeviation, what+": a public client's refresh token must be rotated or sender-constrained")
		}
	} else {
		p.results[RefreshTokenRotation] = Check{Name: RefreshTokenRotation, Verdict: VerdictPass, Fact: true,
			Evidence: what + " (either is allowed for a confidential client)"}
	}
	current, _ := oauthflow.MergeRefreshed(tok, refreshed)
	return current
}

func (p *prober) noRefreshToken() string {
	return fmt.Sprintf("no refresh token was issued for scope %q", oauthflow.ScopeString(p.cfg.Client.Scopes))
}

// checkRevokedAccessToken revokes the access token and asks introspection about it, having first
// made sure introspection calls it active (otherwise "inactive" afterwards would prove nothing).
func (p *prober) checkRevokedAccessToken(ctx context.Context, cur *oauthflow.Token) {
	eps := p.cfg.Provider.Endpoints
	switch {
	case eps.Revocation == "":
		p.set(RevokedAccessTokenInactive, VerdictNotApplicable, "no revocation endpoint is known (not in discovery; --revoke-url sets one)")
		return
	case eps.Introspection == "":
		p.set(RevokedAccessTokenInactive, VerdictNotApplicable, "no introspection endpoint to observe the token with (not in discovery; --introspect-url sets one)")
		return
	}
	ictx, trace := httplog.Collect(ctx)
	before, err := p.runner.Introspect(ictx, cur.AccessToken, "access_token")
	p.noteAnswer(eps.Introspection, trace)
	if err != nil {
		if e, ok := oauthflow.AsError(err); ok && p.cfg.AuthMethod() == oauthflow.AuthNone &&
			(e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
			// RFC 7662 §2.1 lets the server demand client authentication, which a public client lacks.
			p.set(RevokedAccessTokenInactive, VerdictNotApplicable,
				"introspection refuses this public client ("+p.answer(err)+"); probe with a confidential client to observe revocation")
			return
		}
		p.set(RevokedAccessTokenInactive, VerdictError, "introspecting the fresh access token failed: "+p.answer(err))
		return
	}
	if !before.Active {
		p.set(RevokedAccessTokenInactive, VerdictError,
			"introspection called the fresh access token inactive before any revocation, so its state afterwards proves nothing")
		return
	}
	rctx, trace := httplog.Collect(ctx)
	err = p.runner.Revoke(rctx, cur.AccessToken, "access_token")
	p.noteAnswer(eps.Revocation, trace)
	if err != nil {
		if e, ok := oauthflow.AsError(err); ok && e.Kind == oauthflow.KindOAuth && e.Code == "unsupported_token_type" {
			p.set(RevokedAccessTokenInactive, VerdictNotApplicable,
				"the server does not revoke access tokens ("+p.answer(err)+"), which RFC 7009 §2.2.1 allows")
			return
		}
		if v, why := p.couldNotDecide(err); v {
			p.set(RevokedAccessTokenInactive, VerdictError, "revocation failed: "+why)
			return
		}
		p.set(RevokedAccessTokenInactive, VerdictDeviation, "revoking the access token was answered "+p.answer(err)+" instead of HTTP 200")
		return
	}
	after, err := p.runner.Introspect(ctx, cur.AccessToken, "access_token")
	if err != nil {
		p.set(RevokedAccessTokenInactive, VerdictError, "revocation answered HTTP 200, but introspecting afterwards failed: "+p.answer(err))
		return
	}
	state := "active=" + fmt.Sprint(after.Active)
	if after.Status != "" {
		state += ", status=" + after.Status
	}
	if after.Active {
		p.set(RevokedAccessTokenInactive, VerdictDeviation,
			"revocation answered HTTP 200, yet introspection still calls the access token active ("+state+"): the revocation did not take")
		return
	}
	p.set(RevokedAccessTokenInactive, VerdictPass,
		"introspection called the fresh access token active; after revocation (HTTP 200) it answers "+state)
}

// checkRevokedRefreshToken revokes the refresh token and tries to use it.
func (p *prober) checkRevokedRefreshToken(ctx context.Context, cur *oauthflow.Token) {
	eps := p.cfg.Provider.Endpoints
	switch {
	case cur.RefreshToken == "":
		p.set(RevokedRefreshTokenRefused, VerdictNotApplicable, p.noRefreshToken())
		return
	case eps.Revocation == "":
		p.set(RevokedRefreshTokenRefused, VerdictNotApplicable, "no revocation endpoint is known (not in discovery; --revoke-url sets one)")
		return
	}
	rctx, trace := httplog.Collect(ctx)
	err := p.runner.Revoke(rctx, cur.RefreshToken, "refresh_token")
	p.noteAnswer(eps.Revocation, trace)
	if err != nil {
		if v, why := p.couldNotDecide(err); v {
			p.set(RevokedRefreshTokenRefused, VerdictError, "revocation failed: "+why)
			return
		}
		p.set(RevokedRefreshTokenRefused, VerdictDeviation,
			"revoking the refresh token was answered "+p.answer(err)+" instead of HTTP 200 (servers must support revoking refresh tokens, RFC 7009 §2)")
		return
	}
	tok, err := p.runner.Refresh(ctx, cur.RefreshToken)
	p.rememberToken(tok)
	v, ev := p.rejection(err, "invalid_grant", http.StatusBadRequest)
	if err == nil {
		ev = "accepted: the revoked refresh token still buys new tokens (HTTP 200)"
		p.cleanup(ctx, tok)
	}
	p.set(RevokedRefreshTokenRefused, v, "revocation answered HTTP 200; refreshing with the revoked token: "+ev)
}

// noteAnswer records the status an endpoint answered, as proof that it exists.
func (p *prober) noteAnswer(endpoint string, trace *httplog.Collector) {
	if ex := trace.Last(); ex != nil && ex.Response != nil {
		p.endpointAnswers[endpoint] = ex.Response.Status
	}
}

// unregisteredRedirectURI is a redirect URI on the registered one's host and port with a path no
// client registers, so that only its path makes it unregistered.
func (p *prober) unregisteredRedirectURI() (uri, origin string, err error) {
	u, err := url.Parse(p.cfg.Client.RedirectURI)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("redirect URI %q is not an absolute URL", p.cfg.Client.RedirectURI)
	}
	other := *u
	other.Path, other.RawPath, other.RawQuery, other.Fragment = "/oauthdiag-probe-unregistered", "", "", ""
	return other.String(), u.Scheme + "://" + u.Host + "/", nil
}

// checkUnregisteredRedirect asks for authorization with an unregistered redirect_uri. The browser
// is told to stop at any URL of the redirect URI's origin, so it reports a redirect whether it goes
// to the unregistered URI (a deviation) or to the registered one.
func (p *prober) checkUnregisteredRedirect(ctx context.Context) {
	other, origin, err := p.unregisteredRedirectURI()
	if err != nil {
		p.set(UnregisteredRedirectURI, VerdictError, err.Error())
		return
	}
	cfg := p.cfg
	cfg.Client.RedirectURI = other
	ar, err := p.newRunner(cfg).AuthorizationRequest(p.extra)
	if err != nil {
		p.set(UnregisteredRedirectURI, VerdictError, "could not build the authorization request: "+err.Error())
		return
	}
	p.remember(ar.Verifier)
	sent := "authorization request with redirect_uri " + other + ": "
	redirect, err := p.browse(ctx, ar.URL, origin)
	if err == nil && redirect == "" {
		p.set(UnregisteredRedirectURI, VerdictError, sent+"the browser returned no redirect URL")
		return
	}
	if err == nil {
		p.judgeRedirectAfterUnregistered(sent, redirect, other)
		return
	}
	stop, stopped := p.stoppedOnPage(err)
	switch {
	case !stopped:
		p.set(UnregisteredRedirectURI, VerdictError, sent+"the browser failed: "+p.oneLine(err.Error()))
	case p.authorized == 0:
		p.set(UnregisteredRedirectURI, VerdictError, sent+stop+
			", but no authorization reached the registered redirect URI either, so the stop cannot be put down to the redirect_uri")
	default:
		p.set(UnregisteredRedirectURI, VerdictPass, sent+stop+" and did not redirect (the same login reaches the registered redirect URI)")
	}
}

func (p *prober) judgeRedirectAfterUnregistered(sent, redirect, other string) {
	u, err := url.Parse(redirect)
	if err != nil {
		p.set(UnregisteredRedirectURI, VerdictError, sent+"the browser returned an unparsable URL")
		return
	}
	q := u.Query()
	p.remember(q.Get("code"))
	carried := "no parameters"
	switch {
	case q.Get("code") != "":
		carried = "an authorization code"
	case q.Get("error") != "":
		carried = "error=" + q.Get("error")
	}
	at := *u
	at.RawQuery, at.Fragment = "", ""
	switch at.String() {
	case other:
		p.set(UnregisteredRedirectURI, VerdictDeviation, sent+"the provider redirected there with "+carried+
			": an unregistered redirect URI must get an error page, never a redirect")
	case p.cfg.Client.RedirectURI:
		p.set(UnregisteredRedirectURI, VerdictPass, sent+"the provider redirected to the registered redirect URI instead, with "+carried)
	default:
		p.set(UnregisteredRedirectURI, VerdictDeviation, sent+"the provider redirected to "+at.String()+" with "+carried)
	}
}

// stoppedOnPage recognises "the provider showed a page instead of redirecting": a
// HeadlessBrowser PageError with an error status or nothing to follow, or a browser command that
// exited with status 2 (oauthdiag browse's "stopped on a page") without printing a redirect.
func (p *prober) stoppedOnPage(err error) (string, bool) {
	var pe *browser.PageError
	if errors.As(err, &pe) {
		if pe.Reason != browser.PageErrorStatus && pe.Reason != browser.PageNothingToFollow {
			return "", false
		}
		s := fmt.Sprintf("the provider stopped on an HTTP %d page", pe.Status)
		if pe.Text != "" {
			s += fmt.Sprintf(" (%q)", p.cut(pe.Text, 120))
		}
		return s, true
	}
	var ce *browser.CommandError
	var ee *exec.ExitError
	if errors.As(err, &ce) && errors.As(err, &ee) && ee.ExitCode() == browser.ExitStoppedOnPage {
		return fmt.Sprintf("the browser command stopped on a page (exit status %d)", browser.ExitStoppedOnPage), true
	}
	return "", false
}

// checkWrongSecret exchanges a fresh code with a wrong client secret.
func (p *prober) checkWrongSecret(ctx context.Context) {
	method := p.cfg.AuthMethod()
	if method == oauthflow.AuthNone {
		p.set(WrongClientSecret, VerdictNotApplicable, "public client (auth method none): there is no secret to get wrong")
		return
	}
	auth, why, err := p.authorize(ctx)
	if err != nil {
		p.set(WrongClientSecret, VerdictError, why)
		return
	}
	wrong, err := p.randomValue()
	if err != nil || wrong == p.cfg.Client.Secret {
		p.set(WrongClientSecret, VerdictError, "could not make up a wrong secret")
		return
	}
	p.remember(wrong)
	cfg := p.cfg
	cfg.Client.Secret = wrong
	tok, err := p.newRunner(cfg).ExchangeCode(ctx, auth.req, auth.cb)
	p.rememberToken(tok)
	// RFC 6749 §5.2: 401 is required when the client authenticated with HTTP Basic.
	wantStatus := 0
	if method == oauthflow.AuthBasic {
		wantStatus = http.StatusUnauthorized
	}
	v, ev := p.rejection(err, "invalid_client", wantStatus)
	if err == nil {
		ev = "accepted: HTTP 200 with tokens, so the secret is not checked"
		p.cleanup(ctx, tok)
	}
	p.set(WrongClientSecret, v, fmt.Sprintf("code exchange with a wrong client secret (%s): %s", method, ev))
}

// checkTokenRedirectMismatch exchanges a fresh code with a redirect_uri other than the authorized one.
func (p *prober) checkTokenRedirectMismatch(ctx context.Context) {
	other, _, err := p.unregisteredRedirectURI()
	if err != nil {
		p.set(TokenRedirectURIMismatch, VerdictError, err.Error())
		return
	}
	auth, why, err := p.authorize(ctx)
	if err != nil {
		p.set(TokenRedirectURIMismatch, VerdictError, why)
		return
	}
	req := *auth.req
	req.RedirectURI = other
	tok, err := p.runner.ExchangeCode(ctx, &req, auth.cb)
	p.rememberToken(tok)
	v, ev := p.rejection(err, "invalid_grant", http.StatusBadRequest)
	if err == nil {
		ev = "accepted: HTTP 200 with tokens"
		p.cleanup(ctx, tok)
	}
	p.set(TokenRedirectURIMismatch, v, fmt.Sprintf("code exchange with redirect_uri %s instead of the authorized %s: %s", other, auth.req.RedirectURI, ev))
}

// checkWrongVerifier exchanges a fresh code with a PKCE verifier that does not match its challenge.
func (p *prober) checkWrongVerifier(ctx context.Context) {
	auth, why, err := p.authorize(ctx)
	if err != nil {
		p.set(WrongPKCEVerifier, VerdictError, why)
		return
	}
	wrong, err := p.randomValue()
	if err != nil || wrong == auth.req.Verifier {
		p.set(WrongPKCEVerifier, VerdictError, "could not make up a wrong verifier")
		return
	}
	p.remember(wrong)
	req := *auth.req
	req.Verifier = wrong
	tok, err := p.runner.ExchangeCode(ctx, &req, auth.cb)
	p.rememberToken(tok)
	v, ev := p.rejection(err, "invalid_grant", http.StatusBadRequest)
	if err == nil {
		ev = "accepted: HTTP 200 with tokens, so the verifier is not checked"
		p.cleanup(ctx, tok)
	}
	p.set(WrongPKCEVerifier, v, "code exchange (S256 challenge) with a well-formed but wrong code_verifier: "+ev)
}

// checkCodeReuse exchanges a fresh code twice.
func (p *prober) checkCodeReuse(ctx context.Context) {
	auth, why, err := p.authorize(ctx)
	if err != nil {
		p.set(CodeReuse, VerdictError, why)
		return
	}
	first, err := p.runner.ExchangeCode(ctx, auth.req, auth.cb)
	p.rememberToken(first)
	if err != nil {
		p.set(CodeReuse, VerdictError, "the first exchange of a fresh code failed: "+p.answer(err))
		return
	}
	second, err := p.runner.ExchangeCode(ctx, auth.req, auth.cb)
	p.rememberToken(second)
	v, ev := p.rejection(err, "invalid_grant", http.StatusBadRequest)
	if err == nil {
		ev = "accepted again: HTTP 200 with a second set of tokens"
		p.cleanup(ctx, second)
	}
	ev = "second exchange of a code already exchanged: " + ev
	// RFC 6749 §4.1.2 also says the tokens of the first exchange SHOULD be revoked: reported, not judged.
	if p.cfg.Provider.Endpoints.Introspection != "" && err != nil {
		if in, ierr := p.runner.Introspect(ctx, first.AccessToken, "access_token"); ierr == nil {
			if in.Active {
				ev += "; the access token from the first exchange stays active"
			} else {
				ev += "; the access token from the first exchange was revoked with it"
			}
		}
	}
	p.cleanup(ctx, first)
	p.set(CodeReuse, v, ev)
}

// rejection judges the answer to a token request the server must refuse with wantCode
// (and, when wantStatus is not 0, that HTTP status). err == nil means the request was accepted.
func (p *prober) rejection(err error, wantCode string, wantStatus int) (Verdict, string) {
	if err == nil {
		return VerdictDeviation, "accepted"
	}
	if undecided, why := p.couldNotDecide(err); undecided {
		return VerdictError, why
	}
	e, _ := oauthflow.AsError(err)
	switch {
	case e.Kind == oauthflow.KindOAuth && e.Code == wantCode && wantStatus != 0 && e.Status != wantStatus:
		return VerdictDeviation, fmt.Sprintf("rejected with %s, but HTTP %d instead of %d", wantCode, e.Status, wantStatus)
	case e.Kind == oauthflow.KindOAuth && e.Code == wantCode:
		return VerdictPass, "rejected: " + p.answer(err)
	case e.Kind == oauthflow.KindOAuth:
		return VerdictDeviation, fmt.Sprintf("rejected, but with %s instead of %s", p.answer(err), wantCode)
	case e.Status >= 400:
		return VerdictDeviation, fmt.Sprintf("rejected with %s, without the OAuth error %s in a JSON body", p.answer(err), wantCode)
	}
	return VerdictError, "unexpected answer: " + p.answer(err)
}

// couldNotDecide reports answers that say nothing about conformance: no answer at all, a
// server failure, or an error that is not an *oauthflow.Error.
func (p *prober) couldNotDecide(err error) (bool, string) {
	e, ok := oauthflow.AsError(err)
	switch {
	case !ok:
		return true, "no answer: " + p.oneLine(err.Error())
	case e.Kind == oauthflow.KindTransport:
		return true, "no answer: " + p.answer(err)
	case e.Status >= 500:
		return true, "the server failed (" + p.answer(err) + "), so the check could not decide"
	}
	return false, ""
}

// answer describes an error answer in a few words: status, error code, description.
func (p *prober) answer(err error) string {
	e, ok := oauthflow.AsError(err)
	if !ok {
		return p.oneLine(err.Error())
	}
	var parts []string
	if e.Status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", e.Status))
	}
	switch e.Kind {
	case oauthflow.KindOAuth, oauthflow.KindAPI:
		if e.Code != "" {
			parts = append(parts, e.Code)
		}
		if e.Description != "" {
			parts = append(parts, fmt.Sprintf("(%q)", p.cut(e.Description, 100)))
		}
	default:
		if e.Description != "" {
			parts = append(parts, e.Description)
		} else if e.Code != "" {
			parts = append(parts, e.Code)
		}
	}
	return p.oneLine(strings.Join(parts, " "))
}

// cut puts s on one line and cuts it to n runes. Secrets are scrubbed first: a secret cut in half
// would no longer match in scrub, and its beginning would stay in the evidence.
func (p *prober) cut(s string, n int) string {
	s = collapseSpace(p.scrub(s))
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// randomValue is a fresh 43-character base64url value: a well-formed PKCE verifier or secret.
func (p *prober) randomValue() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(p.random, b); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
