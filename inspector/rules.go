package inspector

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/httplog"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// LinkedIn's documented lifetime of an authorization code; RFC 6749 §4.1.2 recommends at most
// ten minutes, which most other servers use.
const (
	linkedInCodeLifetime = 30 * time.Minute
	rfcCodeLifetime      = 10 * time.Minute
	// recentLogin is how soon after the token arrived a 65601 counts as "right after a login".
	recentLogin = 10 * time.Minute
)

// Headers worth quoting as evidence. LinkedIn's support asks for the x-li ones, so an outage
// quotes them all; other diagnoses keep only the request id.
func evidenceHeaders(code string) []string {
	if code == CodeProviderOutage {
		return []string{"Retry-After", "X-Li-Uuid", "X-Li-Fabric", "X-Li-Request-Id", "X-Li-Pop", "X-Request-Id"}
	}
	return []string{"Retry-After", "WWW-Authenticate", "X-Li-Uuid", "X-Request-Id"}
}

// Diagnose explains what the observations show, using the context for what the client knows
// (configuration, tokens, clock). Diagnoses come most relevant first: those explaining a failed
// step or call, in the order they happened, then those found in the context (issuer, clock,
// ID token, scopes, token state). A code appears once; repeated evidence is merged.
func Diagnose(obs []Observation, ctx Context) []Diagnosis {
	var out []Diagnosis
	for i := range obs {
		o := &obs[i]
		if !o.Failed {
			continue
		}
		if d, ok := diagnoseObservation(o, &ctx); ok {
			out = append(out, d)
		}
	}
	out = append(out, contextDiagnoses(obs, &ctx, out)...)
	return dedupe(out)
}

func dedupe(ds []Diagnosis) []Diagnosis {
	var out []Diagnosis
	for _, d := range ds {
		i := slices.IndexFunc(out, func(x Diagnosis) bool { return x.Code == d.Code })
		if i < 0 {
			out = append(out, d)
			continue
		}
		for _, e := range d.Evidence {
			if !slices.Contains(out[i].Evidence, e) && len(out[i].Evidence) < 16 {
				out[i].Evidence = append(out[i].Evidence, e)
			}
		}
		// Proof from one observation outweighs a guess from another.
		out[i].BestGuess = out[i].BestGuess && d.BestGuess
		if out[i].RetryAfter == 0 {
			out[i].RetryAfter = d.RetryAfter
		}
	}
	return out
}

// finding is a diagnosis under construction for one observation.
type finding struct {
	o *Observation
	d Diagnosis
}

func (f *finding) guess() *finding           { f.d.BestGuess = true; return f }
func (f *finding) fix(s string) *finding     { f.d.Fix = s; return f }
func (f *finding) because(s string) *finding { f.d.Evidence = append(f.d.Evidence, s); return f }

func newFinding(o *Observation, code string) *finding {
	d := newDiagnosis(code)
	d.Step, d.CallID = o.Step, o.CallID
	d.Evidence = baseEvidence(o)
	return &finding{o: o, d: d}
}

// baseEvidence states what the observation showed, without secrets.
func baseEvidence(o *Observation) []string {
	var ev []string
	where := o.Step
	if where == "" {
		where = "call"
	}
	switch {
	case o.Method != "" && o.Status != 0:
		ev = append(ev, fmt.Sprintf("%s: %s %s answered HTTP %d", where, o.Method, o.URL, o.Status))
	case o.Method != "" && o.Transport != "":
		ev = append(ev, fmt.Sprintf("%s: %s %s got no answer (%s)", where, o.Method, o.URL, o.Transport))
	case o.Status != 0 && o.Page == nil:
		ev = append(ev, fmt.Sprintf("%s: HTTP %d", where, o.Status))
	}
	if o.OAuthError != "" {
		s := "error=" + o.OAuthError
		if o.ErrorDescription != "" {
			s += " error_description=" + strconv.Quote(o.ErrorDescription)
		} else {
			s += " (no error_description)"
		}
		ev = append(ev, s)
	}
	if o.APICode != "" || o.ServiceErrorCode != 0 || o.APIMessage != "" {
		var parts []string
		if o.APICode != "" {
			parts = append(parts, "code="+o.APICode)
		}
		if o.ServiceErrorCode != 0 {
			parts = append(parts, "serviceErrorCode="+strconv.Itoa(o.ServiceErrorCode))
		}
		if o.APIMessage != "" {
			parts = append(parts, "message="+strconv.Quote(o.APIMessage))
		}
		ev = append(ev, strings.Join(parts, " "))
	}
	if o.Transport != "" {
		s := "transport failure: " + string(o.Transport)
		if o.TransportDetail != "" {
			s += " (" + o.TransportDetail + ")"
		}
		ev = append(ev, s)
	}
	if o.ClientCode != "" {
		s := "client check " + o.ClientCode
		if o.Detail != "" {
			s += ": " + o.Detail
		}
		ev = append(ev, s)
	}
	if o.Page != nil {
		s := fmt.Sprintf("the browser stopped on an HTTP %d page at %s", o.Page.Status, o.Page.URL)
		if o.Page.Text != "" {
			s += ": " + strconv.Quote(cutText(o.Page.Text, 240))
		}
		ev = append(ev, s)
	}
	if o.OAuthError == "" && o.APICode == "" && o.APIMessage == "" && o.BodySummary != "" && o.Status >= 300 {
		ev = append(ev, "body: "+o.BodySummary)
	}
	if len(ev) == 0 && o.Detail != "" {
		ev = append(ev, o.Detail)
	}
	return ev
}

// text is every human-readable part of the answer, lower-cased, for wording checks. Rules use
// it only after structured evidence (status, codes) has been weighed.
func (o *Observation) text() string {
	parts := []string{o.ErrorDescription, o.APIMessage, o.APICode, o.Detail}
	if o.Page != nil {
		parts = append(parts, o.Page.Text)
	}
	if o.BodyKind == BodyText || o.BodyKind == BodyHTML {
		parts = append(parts, o.BodySummary)
	}
	return strings.ToLower(strings.Join(parts, " \n "))
}

func mentions(text string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

func isTokenEndpointStep(step string) bool {
	switch step {
	case oauthflow.StepExchange, oauthflow.StepRefresh, oauthflow.StepClientCreds, oauthflow.StepIntrospect,
		oauthflow.StepIntrospectAfter, oauthflow.StepRevoke:
		return true
	}
	return false
}

func isAPIStep(o *Observation) bool {
	switch o.Step {
	case oauthflow.StepUserinfo, oauthflow.StepAPICall:
		return true
	}
	return o.Bearer && !isTokenEndpointStep(o.Step)
}

// diagnoseObservation explains one failed observation; false when there is nothing to explain
// (the run was cancelled).
func diagnoseObservation(o *Observation, c *Context) (Diagnosis, bool) {
	var f *finding
	switch {
	case o.Page != nil:
		f = pageRule(o)
	case o.Transport != "":
		if o.Transport == httplog.ErrorCanceled {
			return Diagnosis{}, false
		}
		f = transportRule(o)
	case o.Status == http.StatusTooManyRequests || o.OAuthError == "slow_down" || o.APICode == "TOO_MANY_REQUESTS":
		f = rateLimitRule(o, c)
	case o.Status >= 500 || o.OAuthError == "server_error" || o.OAuthError == "temporarily_unavailable":
		f = outageRule(o)
	case o.ClientCode != "" || o.Kind == oauthflow.KindConfig:
		f = clientCodeRule(o, c)
	case isAPIStep(o):
		f = apiRule(o, c)
	case o.OAuthError != "":
		f = oauthRule(o, c)
	default:
		f = statusRule(o, c)
	}
	if f == nil {
		f = newFinding(o, CodeUnclassified).guess()
		if o.Hint != "" {
			f.fix(o.Hint)
		}
	}
	for _, h := range evidenceHeaders(f.d.Code) {
		if v := o.Header.Get(h); v != "" {
			f.because(h + ": " + v)
		}
	}
	return f.d, true
}

func pageRule(o *Observation) *finding {
	p := o.Page
	text := strings.ToLower(p.Text)
	switch {
	case p.Status >= 500:
		return outageRule(o)
	case p.Reason == browser.PageLoginRejected:
		return newFinding(o, CodeLoginFailed)
	case p.Status >= 400 && mentions(text, "redirect_uri", "redirect uri", "redirect url", "redirect_url", "callback"):
		return newFinding(o, CodeRedirectURIMismatch).
			because("the provider showed an error page instead of redirecting back, and the page names the redirect URI")
	case p.Status >= 400 && mentions(text, "client_id", "client id", "application", "client"):
		return newFinding(o, CodeBadClientCredentials).
			because("the provider showed an error page naming the client instead of redirecting back").
			fix("The client_id is not registered at this provider (or is disabled): check --client-id against the app's settings.")
	case p.Status >= 400:
		return newFinding(o, CodeRedirectURIMismatch).guess().
			because("an error page at the authorization endpoint, instead of a redirect back, is how providers answer an unregistered redirect_uri or an unknown client_id (LinkedIn documents both)").
			fix("Check that the redirect URI is registered exactly (scheme, host, port, path, trailing slash) and that the client_id is right; the page text above may say which.")
	}
	return newFinding(o, CodeUnclassified).guess().
		because("the browser could not continue: " + p.Reason.String()).
		fix("Open the authorization URL in a real browser to see the page; the provider may need JavaScript or an interaction the headless browser cannot do.")
}

func transportRule(o *Observation) *finding {
	switch o.Transport {
	case httplog.ErrorTimeout:
		f := newFinding(o, CodeTimeout)
		if isAPIStep(o) {
			f.because("the server did not answer within the client's timeout")
		}
		return f
	case httplog.ErrorTLS:
		return newFinding(o, CodeTLSError)
	case httplog.ErrorReset:
		return newFinding(o, CodeNetworkUnreachable).
			fix("The connection was reset mid-request: a proxy, a firewall or an overloaded server dropped it. Retry; if it persists, check proxies between you and the server.")
	case httplog.ErrorDNS:
		return newFinding(o, CodeNetworkUnreachable).
			fix("The host name does not resolve: check it for typos, and check DNS and proxy settings.")
	case httplog.ErrorConnectionRefused:
		return newFinding(o, CodeNetworkUnreachable).
			fix("Nothing listens at that host and port: check the URL's port and that the server is running.")
	}
	return newFinding(o, CodeNetworkUnreachable)
}

func rateLimitRule(o *Observation, c *Context) *finding {
	f := newFinding(o, CodeRateLimited)
	f.d.RetryAfter = o.RetryAfter
	now := c.Now
	if !o.ReceivedAt.IsZero() {
		now = o.ReceivedAt
	}
	if o.RetryAfter > 0 {
		msg := "Wait " + oauthflow.HumanDuration(o.RetryAfter)
		if !now.IsZero() {
			msg += " (until " + oauthflow.FormatUTC(now.Add(o.RetryAfter)) + ")"
		}
		f.fix(msg + " as Retry-After says, then retry; do not retry sooner, it extends throttling.")
		return f
	}
	f.because("no Retry-After header was sent")
	msg := "Back off exponentially (1 s, 2 s, 4 s …) before retrying."
	if c.isLinkedIn() || o.APICode == "TOO_MANY_REQUESTS" {
		if !now.IsZero() {
			midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
			msg += fmt.Sprintf(" LinkedIn's daily limits reset at midnight UTC (%s, %s); if the daily quota is used up, wait until then.", oauthflow.FormatUTC(midnight), oauthflow.Relative(midnight, now))
		} else {
			msg += " LinkedIn's daily limits reset at midnight UTC."
		}
	}
	f.fix(msg)
	return f
}

func outageRule(o *Observation) *finding {
	f := newFinding(o, CodeProviderOutage)
	status := o.Status
	if o.Page != nil {
		status = o.Page.Status
	}
	f.d.RetryAfter = o.RetryAfter
	switch {
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout || o.OAuthError == "temporarily_unavailable":
		msg := "This is usually transient: retry with backoff"
		if o.RetryAfter > 0 {
			msg += " after " + oauthflow.HumanDuration(o.RetryAfter) + " (Retry-After)"
		}
		f.fix(msg + ". If it keeps failing, export the support bundle (request, response headers such as x-li-uuid, client_id) for the provider's support.")
	default:
		f.fix("The provider failed on its side: retry once or twice with backoff. If it persists, export the support bundle (it has what LinkedIn's support asks for: the request, the response headers such as x-li-uuid, x-li-fabric and x-li-request-id, and the client_id) and open a ticket.")
	}
	if o.BodyKind == BodyHTML {
		f.because("the error came as an HTML page, typical of a gateway or load balancer in front of the API")
	}
	return f
}

func clientCodeRule(o *Observation, c *Context) *finding {
	switch o.ClientCode {
	case oauthflow.CodeStateMismatch:
		return newFinding(o, CodeStateMismatch)
	case oauthflow.CodeIssuerMismatch:
		return issuerFinding(newFinding(o, CodeIssuerMismatch), c.Provider.Issuer, c.ClaimedIssuer)
	case oauthflow.CodeNoRefreshToken:
		f := newFinding(o, CodeRefreshNotAvailable)
		if c.isLinkedIn() {
			f.because("LinkedIn issues refresh tokens only to apps approved for programmatic refresh (Marketing partners)")
		}
		return f
	case oauthflow.CodeCallbackTimeout:
		return newFinding(o, CodeTimeout).
			fix("No redirect came back in time: finish the login and consent in the browser, check that the redirect URI is registered exactly (an unregistered one shows an error page and never redirects), or paste the redirect URL.")
	case oauthflow.CodeNotJSON, oauthflow.CodeEmptyBody, oauthflow.CodeMissingField, oauthflow.CodeDiscoveryIncomplete, oauthflow.CodeMissingCode:
		f := newFinding(o, CodeUnexpectedFormat)
		if o.Hint != "" {
			f.fix(o.Hint)
		}
		if o.BodySummary != "" && o.Status < 300 {
			f.because("body: " + o.BodySummary)
		}
		return f
	case oauthflow.CodeTokenInactive:
		return inactiveRule(o, c)
	case oauthflow.CodeRevokedTokenActive:
		return newFinding(o, CodeRevocationNotEffective)
	}
	if o.Kind == oauthflow.KindConfig || o.ClientCode == oauthflow.CodePortBusy || o.ClientCode == oauthflow.CodeBadURL || o.ClientCode == oauthflow.CodeNoEndpoint {
		f := newFinding(o, CodeConfiguration)
		if o.Hint != "" {
			f.fix(o.Hint)
		} else if o.Detail != "" {
			f.fix("Fix the configuration: " + o.Detail + ".")
		}
		return f
	}
	if o.OAuthError != "" {
		return oauthRule(o, c)
	}
	return nil
}

// inactiveRule explains an introspection that calls a fresh token inactive.
func inactiveRule(o *Observation, c *Context) *finding {
	if v := c.Introspection; v != nil {
		switch v.Status {
		case "revoked":
			return revokedFinding(newFinding(o, CodeTokenRevoked).because("introspection status: revoked"), c, o)
		case "expired":
			return newFinding(o, CodeAccessTokenExpired).because("introspection status: expired")
		}
		if !v.Expiry.IsZero() && !c.Now.IsZero() && !c.Now.Before(v.Expiry) {
			return newFinding(o, CodeAccessTokenExpired).because("introspection exp " + oauthflow.FormatUTC(v.Expiry) + " has passed")
		}
	}
	return revokedFinding(newFinding(o, CodeTokenRevoked).guess().
		because("RFC 7662 only says inactive: with the expiry still ahead, revocation or invalidation is the likely cause"), c, o)
}

// revokedFinding adds LinkedIn's known pattern: 65601 moments after a login.
func revokedFinding(f *finding, c *Context, o *Observation) *finding {
	if c.Token == nil || c.Token.ReceivedAt.IsZero() {
		return f
	}
	at := o.Started
	if at.IsZero() {
		at = c.Now
	}
	if age := at.Sub(c.Token.ReceivedAt); age >= 0 && age < recentLogin {
		f.because("the token had been issued " + sinceText(age) + " before")
		if c.isLinkedIn() || o.ServiceErrorCode == 65601 {
			f.fix("LinkedIn is known to answer 65601 REVOKED_ACCESS_TOKEN for a token issued moments ago: a newer authorization of the same member and app (a second login, a parallel run, or a request with a different scope set) replaced it. Run one authorization at a time with the same scopes, use the newest token, and authorize again.")
		}
	}
	return f
}

// apiRule explains a failed call to a resource server (userinfo, an API) with the access token.
func apiRule(o *Observation, c *Context) *finding {
	text := o.text()
	isRest := strings.Contains(o.URL, "/rest/")
	switch {
	case o.APICode == "VERSION_MISSING" || o.APICode == "NONEXISTENT_VERSION" || o.Status == http.StatusUpgradeRequired ||
		(o.Status == http.StatusBadRequest && mentions(text, "linkedin-version")):
		f := newFinding(o, CodeMissingAPIVersion)
		if o.APIVersion != "" {
			f.because("LinkedIn-Version: " + o.APIVersion + " was sent but is not an active version")
			f.fix("LinkedIn-Version " + o.APIVersion + " is not active (versions are retired after about a year): send a current YYYYMM with --api-header LinkedIn-Version=YYYYMM.")
		}
		return f
	case isRest && o.Method != "" && o.APIVersion == "" && (c.isLinkedIn() || strings.Contains(o.URL, "linkedin")):
		return newFinding(o, CodeMissingAPIVersion).because("the request to a /rest/ URL carried no LinkedIn-Version header")
	case o.Status == http.StatusUnauthorized || o.OAuthError == "invalid_token":
		return unauthorizedRule(o, c, text)
	case o.Status == http.StatusForbidden && localTokenDead(c):
		// Some servers (zitadel) answer a revoked or expired token with a bare 403.
		return unauthorizedRule(o, c, text)
	case o.Status == http.StatusForbidden || o.OAuthError == "insufficient_scope":
		return forbiddenRule(o, c, text)
	case o.Status == http.StatusNotFound:
		f := newFinding(o, CodeEndpointNotFound)
		if c.isLinkedIn() || strings.Contains(o.URL, "linkedin") || o.APICode != "" {
			f.guess().
				because("LinkedIn also answers 404 for APIs the app has no access to").
				fix("Check the API URL; if it is right, the app lacks the product that opens this API (LinkedIn answers 404 for restricted APIs).")
		}
		return f
	case o.ClientCode != "" || o.Kind == oauthflow.KindFormat:
		return clientCodeRule(o, c)
	}
	if o.OAuthError != "" {
		return oauthRule(o, c)
	}
	return statusRule(o, c)
}

// localTokenDead says the client already knows its access token is expired or revoked.
func localTokenDead(c *Context) bool {
	st := c.state()
	return st != nil && (st.Access.Status == StatusExpired || st.Access.Status == StatusRevoked)
}

func unauthorizedRule(o *Observation, c *Context, text string) *finding {
	st := c.state()
	switch {
	case o.ServiceErrorCode == 65601 || o.APICode == "REVOKED_ACCESS_TOKEN" || mentions(text, "revoked"):
		return revokedFinding(newFinding(o, CodeTokenRevoked), c, o)
	case o.APICode == "EXPIRED_ACCESS_TOKEN" || mentions(text, "expired"):
		f := newFinding(o, CodeAccessTokenExpired)
		return accessExpiredFix(f, st)
	case st != nil && st.Access.Status == StatusExpired:
		f := newFinding(o, CodeAccessTokenExpired).because("local state: the access token " + st.Access.Reason)
		return accessExpiredFix(f, st)
	case st != nil && st.Access.Status == StatusRevoked:
		return newFinding(o, CodeTokenRevoked).because("local state: the access token is " + st.Access.Reason)
	case o.APICode == "EMPTY_ACCESS_TOKEN" || o.APICode == "UNKNOWN_AUTHENTICATION_SCHEMA" || mentions(text, "empty oauth2_access_token", "unknown authentication schema") || (o.Method != "" && !o.Bearer):
		return newFinding(o, CodeInvalidAccessToken).
			because("the request did not carry a usable Authorization: Bearer header").
			fix("Send the access token as Authorization: Bearer <token> (not as a query parameter, not with another scheme).")
	case o.ServiceErrorCode == 65600 || o.APICode == "INVALID_ACCESS_TOKEN" || mentions(text, "invalid access token", "invalid_token", "malformed"):
		return newFinding(o, CodeInvalidAccessToken)
	}
	return newFinding(o, CodeInvalidAccessToken).guess().
		because("401 without a reason the client can read").
		fix("The server refused the token without saying why: it may be expired, revoked, for another audience, or not a token this server issued. Introspect it (oauthdiag inspect) and, if in doubt, authorize again.")
}

func accessExpiredFix(f *finding, st *State) *finding {
	if st == nil {
		return f
	}
	switch {
	case st.Refresh.Present && st.Refresh.Status.usable():
		f.fix("Refresh: a refresh token is available (" + st.Refresh.Reason + "). Next time refresh before the access token expires.")
	case st.Refresh.Status == StatusNone:
		f.fix("No refresh token was issued, so the member must authorize again to get a new access token.")
	default:
		f.fix("The refresh token is " + string(st.Refresh.Status) + " too: the member must authorize again.")
	}
	return f
}

func forbiddenRule(o *Observation, c *Context, text string) *finding {
	granted, source, known := c.grantedScopes()
	diff := ScopeDiff(c.requestedScopes(), granted)
	asked := oauthflow.AuthParam(o.Header.Get("WWW-Authenticate"), "scope")
	switch {
	case known && len(diff.Missing) > 0:
		return newFinding(o, CodeScopeNotAuthorized).
			because(fmt.Sprintf("scopes requested but not granted (%s): %s", source, strings.Join(diff.Missing, " ")))
	case strings.Contains(text, "no_version") && o.Step == oauthflow.StepUserinfo:
		// LinkedIn answers userinfo.GET.NO_VERSION when the token lacks openid and profile; a
		// token that has both rules that out.
		if known && slices.Contains(granted, "openid") && slices.Contains(granted, "profile") {
			break
		}
		f := newFinding(o, CodeScopeNotAuthorized).
			because("LinkedIn answers userinfo.GET.NO_VERSION when the token lacks the openid and profile scopes").
			fix("Request openid profile (and email) in the authorization and make sure the app has the Sign In with LinkedIn using OpenID Connect product.")
		if !known {
			f.guess()
		}
		return f
	case o.OAuthError == "insufficient_scope" && asked != "" && !(known && slices.Contains(granted, asked)):
		return newFinding(o, CodeScopeNotAuthorized).
			because("WWW-Authenticate says insufficient_scope (RFC 6750) and asks for scope " + strconv.Quote(asked) + ", which the token lacks")
	case o.OAuthError == "insufficient_scope" && !known:
		return newFinding(o, CodeScopeNotAuthorized).guess().
			because("WWW-Authenticate says insufficient_scope (RFC 6750); the granted scopes are unknown")
	}
	f := newFinding(o, CodeAccessDenied)
	if known {
		f.because("the token carries every requested scope (" + source + ": " + strings.Join(granted, " ") + "), so the API itself is not open to this app")
		f.fix("The token has the scopes that were requested, but this API needs a permission they do not give: add the product (LinkedIn) or the scope that opens this API to the app, request that scope, and authorize again.")
	} else {
		f.guess().because("the granted scopes are unknown (no scope in the token response or introspection)")
	}
	return f
}

// oauthRule explains an OAuth error (RFC 6749 §4.1.2.1, §5.2, LinkedIn's variants) from the
// authorization redirect or a token-endpoint answer.
func oauthRule(o *Observation, c *Context) *finding {
	e := o.OAuthError
	text := o.text()
	switch {
	case e == "invalid_client":
		return badClientFinding(newFinding(o, CodeBadClientCredentials), o, c)
	case e == "unauthorized_scope_error" || e == "invalid_scope":
		f := newFinding(o, CodeScopeNotAuthorized)
		if e == "unauthorized_scope_error" {
			f.because("LinkedIn's unauthorized_scope_error: the scope is not enabled for the app's products")
		}
		return f
	case e == "user_cancelled_login" || e == "user_cancelled_authorize":
		return newFinding(o, CodeUserCancelled)
	case e == "access_denied":
		if mentions(text, "cancel", "abort", "declin", "denied by the user", "user denied", "end-user", "resource owner denied", "rejected") {
			return newFinding(o, CodeUserCancelled)
		}
		return newFinding(o, CodeAccessDenied).guess().
			because("access_denied without a reason: the user declined, or the provider refused this user or app").
			fix("If the user declined consent, start again and allow. Otherwise the provider refused: check that this user may use the app (assignment, test users, app in development mode) and that the requested scopes are allowed.")
	case e == "login_required" || e == "consent_required" || e == "interaction_required" || e == "account_selection_required":
		return newFinding(o, CodeReauthorizationRequired).
			because("the provider needs the user to interact (prompt=none cannot complete)").
			fix("Start the authorization without prompt=none so the user can sign in and consent.")
	case e == "invalid_redirect_uri" && o.Step == oauthflow.StepExchange:
		return codeRule(o, c, true)
	case e == "invalid_redirect_uri":
		return newFinding(o, CodeRedirectURIMismatch)
	case e == "unauthorized_client" || e == "unsupported_grant_type" || e == "unsupported_response_type":
		if o.Step == oauthflow.StepRefresh {
			return refreshUnavailableFinding(newFinding(o, CodeRefreshNotAvailable), c)
		}
		return newFinding(o, CodeGrantNotAllowed)
	case e == "invalid_token":
		return unauthorizedRule(o, c, text)
	case e == "insufficient_scope":
		return forbiddenRule(o, c, text)
	case mentions(text, "client authentication", "client_secret", "client secret", "client credentials", "invalid client", "client_id / client_secret") ||
		(mentions(text, `"client_id"`) && mentions(text, "missing")):
		f := badClientFinding(newFinding(o, CodeBadClientCredentials), o, c)
		if mentions(text, "token") && !mentions(text, "client_secret", "client secret") {
			// LinkedIn's introspection says "Invalid client id or token": either may be wrong.
			f.guess().because("the message blames the client id or the token")
		}
		return f
	case mentions(text, "redirect_uri", "redirect uri"):
		if o.Step == oauthflow.StepExchange {
			return codeRule(o, c, false)
		}
		return newFinding(o, CodeRedirectURIMismatch)
	case mentions(text, "code_verifier", "code verifier", "pkce", "code_challenge", "code challenge"):
		return newFinding(o, CodePKCEMismatch)
	case o.Step == oauthflow.StepExchange && (e == "invalid_grant" || e == "invalid_request"):
		return codeRule(o, c, false)
	case o.Step == oauthflow.StepRefresh && (e == "invalid_grant" || e == "invalid_request"):
		if mentions(text, `"refresh_token"`) && mentions(text, "missing") {
			return refreshUnavailableFinding(newFinding(o, CodeRefreshNotAvailable), c)
		}
		return refreshRule(o, c, text)
	case o.Status == http.StatusUnauthorized && isTokenEndpointStep(o.Step):
		return badClientFinding(newFinding(o, CodeBadClientCredentials), o, c).guess()
	}
	return nil
}

func badClientFinding(f *finding, o *Observation, c *Context) *finding {
	text := o.text()
	if mentions(text, "missing") && mentions(text, "client_id", "client_secret") && o.ClientAuth == "basic" {
		f.because("the client sent its credentials with HTTP Basic, and the server looked for them in the form body")
		f.fix("This provider wants client_id and client_secret in the form body: use --auth-method post (LinkedIn requires it).")
		return f
	}
	if o.ClientAuth != "" {
		f.because("client authentication used: " + o.ClientAuth)
	}
	if c.isLinkedIn() && o.ClientAuth == "basic" {
		f.fix("LinkedIn expects client_id and client_secret in the form body: use --auth-method post; then check both values against the app's Auth tab (a regenerated secret invalidates the old one).")
	}
	return f
}

func refreshUnavailableFinding(f *finding, c *Context) *finding {
	if c.isLinkedIn() {
		f.because("LinkedIn grants refresh tokens only to apps approved for programmatic refresh")
	}
	return f
}

// codeRule explains a refused authorization code. Servers word this many ways (LinkedIn:
// invalid_request "authorization code not found" or invalid_redirect_uri; oidc-provider:
// invalid_grant "grant request is invalid"; zitadel: invalid_grant "invalid code"), so the
// request the client sent is weighed first: it can prove a redirect or PKCE mismatch.
func codeRule(o *Observation, c *Context, linkedInLumped bool) *finding {
	text := o.text()
	ar := c.Authorization
	if ar != nil && o.RedirectURI != "" && ar.RedirectURI != "" && o.RedirectURI != ar.RedirectURI {
		return newFinding(o, CodeRedirectURIMismatch).
			because(fmt.Sprintf("the token request sent redirect_uri %s, the authorization request %s", o.RedirectURI, ar.RedirectURI))
	}
	if sent, known := c.pkceSent(); known && o.Method != "" {
		switch {
		case sent && !o.SentVerifier:
			return newFinding(o, CodePKCEMismatch).because("the authorization request sent a code_challenge but the token request no code_verifier")
		case !sent && o.SentVerifier:
			return newFinding(o, CodePKCEMismatch).because("the token request sent a code_verifier but the authorization request no code_challenge")
		}
	}
	if !linkedInLumped && mentions(text, "redirect_uri", "redirect uri") {
		return newFinding(o, CodeRedirectURIMismatch)
	}
	if !linkedInLumped && mentions(text, "code_verifier", "code verifier", "pkce", "code_challenge") {
		return newFinding(o, CodePKCEMismatch)
	}
	f := newFinding(o, CodeAuthorizationCodeBad)
	limit := rfcCodeLifetime
	if c.isLinkedIn() || linkedInLumped {
		limit = linkedInCodeLifetime
	}
	if !c.CodeIssuedAt.IsZero() && !o.Started.IsZero() {
		age := o.Started.Sub(c.CodeIssuedAt)
		f.because("the code was exchanged " + sinceText(age) + " after it arrived")
		if age > limit {
			f.because("codes live " + oauthflow.HumanDuration(limit) + " here: this one had expired")
			return f
		}
	}
	if linkedInLumped {
		f.guess().because("LinkedIn's invalid_redirect_uri at the token endpoint covers a mismatched redirect URI, a wrong code verifier, a code older than 30 minutes or already used, and an external member binding")
		if ar != nil && o.RedirectURI == ar.RedirectURI && o.RedirectURI != "" {
			f.because("this client sent the same redirect_uri in both requests")
		}
		f.fix("Exchange each code once, within 30 minutes, with exactly the redirect_uri and code_verifier of its authorization request (a code pasted from another run fails the same way); then start a fresh authorization.")
		return f
	}
	if mentions(text, "code") {
		if mentions(text, "already", "used", "redeemed") {
			f.because("the server says the code was already used")
		}
		return f
	}
	return f.guess().
		because("the server's answer does not say which part of the grant it rejected").
		fix("Most often the code was already used or is too old; it can also be a code from another authorization, or a redirect_uri or PKCE verifier that does not match the authorization request. Start a fresh authorization and exchange its code once, immediately.")
}

// refreshRule explains a refused refresh token; local state decides when the wording cannot.
func refreshRule(o *Observation, c *Context, text string) *finding {
	st := c.state()
	switch {
	case st != nil && st.Refresh.Status == StatusExpired:
		return newFinding(o, CodeRefreshTokenExpired).because("local state: the refresh token " + st.Refresh.Reason)
	case st != nil && st.Refresh.Status == StatusRevoked:
		return newFinding(o, CodeTokenRevoked).because("local state: the refresh token is " + st.Refresh.Reason)
	}
	expired, revoked := mentions(text, "expired"), mentions(text, "revoked")
	switch {
	case expired && !revoked:
		return newFinding(o, CodeRefreshTokenExpired)
	case revoked && !expired:
		return newFinding(o, CodeTokenRevoked)
	}
	return newFinding(o, CodeReauthorizationRequired).guess().
		because("the refresh token was refused (the answer does not say whether it expired, was revoked or is unknown), so nothing is left to refresh with")
}

// statusRule explains what only the status and the body show.
func statusRule(o *Observation, c *Context) *finding {
	switch {
	case o.Status == http.StatusNotFound:
		f := newFinding(o, CodeEndpointNotFound)
		if o.Step == oauthflow.StepDiscovery && c.isLinkedIn() {
			f.because("LinkedIn's discovery document is under /oauth/, not at the host root")
		}
		return f
	case o.Status == http.StatusUnauthorized && isTokenEndpointStep(o.Step):
		return badClientFinding(newFinding(o, CodeBadClientCredentials), o, c).guess().
			because("401 from the token endpoint without an error code")
	case o.Status >= 400 && (o.BodyKind == BodyHTML || o.BodyKind == BodyText) && o.Step != oauthflow.StepAuthorize:
		return newFinding(o, CodeUnexpectedFormat).
			because("a JSON answer was expected from this endpoint")
	case o.Status >= 400 && o.Step == oauthflow.StepAuthorize:
		return newFinding(o, CodeRedirectURIMismatch).guess()
	}
	return nil
}

// contextDiagnoses finds what the observations alone do not show: issuer, clock, ID token,
// scopes and token state. found are the diagnoses already made, to avoid restating them.
func contextDiagnoses(obs []Observation, c *Context, found []Diagnosis) []Diagnosis {
	var out []Diagnosis
	has := func(code string) bool {
		return slices.ContainsFunc(found, func(d Diagnosis) bool { return d.Code == code }) ||
			slices.ContainsFunc(out, func(d Diagnosis) bool { return d.Code == code })
	}
	add := func(d Diagnosis) { out = append(out, d) }

	// Issuer: configured vs discovery vs the ID token.
	if c.Provider.Issuer != "" && c.ClaimedIssuer != "" && !oauthflow.SameIssuer(c.Provider.Issuer, c.ClaimedIssuer) {
		f := &finding{d: newDiagnosis(CodeIssuerMismatch), o: &Observation{}}
		f.d.Step = oauthflow.StepDiscovery
		f.because(fmt.Sprintf("configured issuer %q, the discovery document states %q", c.Provider.Issuer, c.ClaimedIssuer))
		add(issuerFinding(f, c.Provider.Issuer, c.ClaimedIssuer).d)
	}
	var skewExplains []string
	if v := c.IDToken; v != nil && v.Format == FormatJWT {
		if chk, ok := v.Check("iss"); ok && !chk.OK && !chk.Skipped {
			f := &finding{d: newDiagnosis(CodeIssuerMismatch), o: &Observation{}}
			f.because("ID token: " + chk.Detail)
			add(issuerFinding(f, c.expectedIssuer(), v.JWT.String("iss")).d)
		}
		var bad []string
		for _, chk := range v.Failed() {
			switch chk.Name {
			case "iss":
			case "exp", "iat", "nbf":
				skewExplains = append(skewExplains, "ID token "+chk.Name+": "+chk.Detail)
				bad = append(bad, chk.Name+": "+chk.Detail)
			default:
				bad = append(bad, chk.Name+": "+chk.Detail)
			}
		}
		if len(bad) > 0 {
			d := newDiagnosis(CodeIDTokenInvalid)
			for _, b := range bad {
				d.Evidence = append(d.Evidence, "ID token "+b)
			}
			add(d)
		}
	}

	// Clock skew from the servers' Date headers.
	if skew, ok := MeasureSkew(obs); ok && oauthflow.AbsDuration(skew) > c.skewTolerance() {
		d := newDiagnosis(CodeClockSkew)
		dir := "ahead of"
		if skew < 0 {
			dir = "behind"
		}
		d.Evidence = append(d.Evidence, fmt.Sprintf("the server's Date header is %s %s the local clock (tolerance %s)", oauthflow.HumanDuration(oauthflow.AbsDuration(skew)), dir, oauthflow.HumanDuration(c.skewTolerance())))
		for _, o := range obs {
			if !o.ServerDate.IsZero() && !o.ReceivedAt.IsZero() {
				d.Evidence = append(d.Evidence, fmt.Sprintf("%s: Date %s, received at %s local time", o.Step, o.ServerDate.UTC().Format(http.TimeFormat), oauthflow.FormatUTC(o.ReceivedAt)))
				break
			}
		}
		d.Evidence = append(d.Evidence, skewExplains...)
		add(d)
	}

	// Scopes: requested vs granted.
	if granted, source, ok := c.grantedScopes(); ok && !has(CodeScopeNotAuthorized) {
		if diff := ScopeDiff(c.requestedScopes(), granted); len(diff.Missing) > 0 {
			d := newDiagnosis(CodeScopeNotAuthorized)
			d.Evidence = append(d.Evidence, fmt.Sprintf("requested %s; granted (%s) %s; missing %s",
				strings.Join(diff.Requested, " "), source, strings.Join(diff.Granted, " "), strings.Join(diff.Missing, " ")))
			add(d)
		}
	}

	// Token state: what the local clock and introspection say about the tokens held.
	if st := c.state(); st != nil && (st.Access.Present || st.Refresh.Present) {
		a, r := st.Access, st.Refresh
		accessDead := a.Status == StatusExpired || a.Status == StatusRevoked
		refreshDead := r.Status == StatusExpired || r.Status == StatusRevoked || r.Status == StatusNone
		switch {
		case accessDead && refreshDead && !has(CodeReauthorizationRequired):
			d := newDiagnosis(CodeReauthorizationRequired)
			d.Evidence = append(d.Evidence, "access token: "+string(a.Status)+" ("+a.Reason+")", "refresh token: "+string(r.Status)+" ("+r.Reason+")")
			add(d)
		case a.Status == StatusExpired && !has(CodeAccessTokenExpired):
			d := newDiagnosis(CodeAccessTokenExpired)
			d.Evidence = append(d.Evidence, "local state: the access token "+a.Reason)
			d.Fix = "Refresh it with the refresh token (" + r.Reason + "), and refresh before expiry next time."
			if !r.Present {
				d.Fix = "Refresh it with its refresh token if you hold one (refresh before expiry next time); without one, the member must authorize again."
			}
			add(d)
		case a.Status == StatusRevoked && !has(CodeTokenRevoked):
			d := newDiagnosis(CodeTokenRevoked)
			d.Evidence = append(d.Evidence, "access token: "+a.Reason)
			add(d)
		}
		if r.Status == StatusExpired && !has(CodeRefreshTokenExpired) {
			d := newDiagnosis(CodeRefreshTokenExpired)
			d.Evidence = append(d.Evidence, "local state: the refresh token "+r.Reason)
			add(d)
		}
	}
	return out
}

// issuerFinding explains an issuer disagreement, naming LinkedIn's 2024 move when it fits.
func issuerFinding(f *finding, expected, got string) *finding {
	e, g := strings.TrimRight(expected, "/"), strings.TrimRight(got, "/")
	legacy, current := "https://www.linkedin.com", "https://www.linkedin.com/oauth"
	switch {
	case e == legacy && g == current:
		f.because("LinkedIn moved its issuer in 2024 from " + legacy + " to " + current + "; the configuration still pins the old one")
		f.fix("Replace the pinned issuer " + legacy + " with " + current + " (or let discovery supply it).")
	case e == current && g == legacy:
		f.because("the token or document states LinkedIn's old issuer " + legacy + "; the current one is " + current)
	case e != "" && g != "" && (strings.HasPrefix(e, g+"/") || strings.HasPrefix(g, e+"/")):
		f.because("one issuer is a path prefix of the other: issuers are compared exactly, path included")
		f.fix("Use the issuer exactly as the discovery document states it: " + got + ".")
	}
	return f
}

// sinceText renders a short interval for evidence; below a second the milliseconds mean nothing.
func sinceText(d time.Duration) string {
	if d < time.Second {
		return "less than a second"
	}
	return oauthflow.HumanDuration(d)
}
