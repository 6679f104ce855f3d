package inspector

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Diagnosis codes. They are stable identifiers: scripts, the JSON output, the support bundle and
// the TUI branch on them, so a code is never renamed or reused for another fault.
const (
	CodeBadClientCredentials    = "bad-client-credentials"
	CodeRedirectURIMismatch     = "redirect-uri-mismatch"
	CodeScopeNotAuthorized      = "scope-not-authorized"
	CodeAccessDenied            = "access-denied"
	CodeAccessTokenExpired      = "access-token-expired"
	CodeRefreshTokenExpired     = "refresh-token-expired"
	CodeReauthorizationRequired = "reauthorization-required"
	CodeTokenRevoked            = "token-revoked"
	CodeAuthorizationCodeBad    = "authorization-code-invalid"
	CodePKCEMismatch            = "pkce-mismatch"
	CodeStateMismatch           = "state-mismatch"
	CodeUserCancelled           = "user-cancelled"
	CodeRateLimited             = "rate-limited"
	CodeProviderOutage          = "provider-outage"
	CodeNetworkUnreachable      = "network-unreachable"
	CodeTLSError                = "tls-error"
	CodeTimeout                 = "timeout"
	CodeClockSkew               = "clock-skew"
	CodeUnexpectedFormat        = "unexpected-response-format"
	CodeIssuerMismatch          = "issuer-mismatch"
	CodeMissingAPIVersion       = "missing-api-version"
	CodeRefreshNotAvailable     = "refresh-not-available"

	// Codes beyond the minimum set, for faults that otherwise end up unexplained.
	CodeInvalidAccessToken     = "invalid-access-token"
	CodeIDTokenInvalid         = "id-token-invalid"
	CodeGrantNotAllowed        = "grant-not-allowed"
	CodeEndpointNotFound       = "endpoint-not-found"
	CodeLoginFailed            = "login-failed"
	CodeConfiguration          = "configuration-error"
	CodeRevocationNotEffective = "revocation-not-effective"
	CodeUnclassified           = "unclassified"
)

// Diagnosis is one explained fault: what it is, the facts that show it and what to do.
type Diagnosis struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Fix   string `json:"fix"`
	// Evidence lists the observed facts the rule used, as short readable lines. Bodies are
	// summarised and URLs lose their query, but a line may quote what a server sent (an
	// error_description, page text), which can echo a secret: show it through Redacted.
	Evidence []string `json:"evidence"`
	// BestGuess marks a diagnosis the evidence supports but does not prove: the fix then names
	// the other candidates.
	BestGuess bool   `json:"best_guess"`
	Step      string `json:"step,omitempty"`
	CallID    string `json:"call_id,omitempty"` // the recorded call the diagnosis came from
	// RetryAfter is how long to wait before retrying (rate-limited, provider-outage), 0 if unknown.
	RetryAfter time.Duration `json:"retry_after_ns,omitempty"`
}

// Redacted returns d with its title, evidence and fix passed through redact.
func (d Diagnosis) Redacted(redact func(string) string) Diagnosis {
	d.Title, d.Fix = redact(d.Title), redact(d.Fix)
	ev := make([]string, len(d.Evidence))
	for i, e := range d.Evidence {
		ev[i] = redact(e)
	}
	d.Evidence = ev
	return d
}

// Text renders the diagnosis as plain lines for a terminal or a report.
func (d Diagnosis) Text() string {
	var b strings.Builder
	b.WriteString(d.Code)
	b.WriteString(": ")
	b.WriteString(d.Title)
	if d.BestGuess {
		b.WriteString(" (best guess)")
	}
	if d.Step != "" {
		fmt.Fprintf(&b, " [%s]", d.Step)
	}
	b.WriteByte('\n')
	for _, e := range d.Evidence {
		b.WriteString("  evidence: ")
		b.WriteString(e)
		b.WriteByte('\n')
	}
	if d.Fix != "" {
		b.WriteString("  fix: ")
		b.WriteString(d.Fix)
		b.WriteByte('\n')
	}
	return b.String()
}

// RenderDiagnoses renders a list of diagnoses, or a line saying there are none.
func RenderDiagnoses(ds []Diagnosis) string {
	if len(ds) == 0 {
		return "No problems found.\n"
	}
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Text())
	}
	return b.String()
}

// CodeInfo describes a diagnosis code: its fixed title and the fix given when no more specific
// one applies.
type CodeInfo struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Fix   string `json:"fix"`
}

// Codes lists every diagnosis code with its title and default fix, in a stable order.
func Codes() []CodeInfo {
	return slices.Clone(catalog)
}

// catalog is read-only after initialisation.
var catalog = []CodeInfo{
	{CodeBadClientCredentials, "The provider rejected the client credentials",
		"Check the client_id and client_secret against the app's settings (a secret regenerated in the developer portal invalidates the old one) and the client authentication method: LinkedIn wants them in the form body (--auth-method post), most others accept HTTP Basic."},
	{CodeRedirectURIMismatch, "The redirect URI does not match a registered one",
		"Register the exact redirect URI in the app's settings (scheme, host, port, path and trailing slash all count) or pass the registered one with --redirect-uri; the token request must send the same redirect_uri as the authorization request."},
	{CodeScopeNotAuthorized, "A requested scope is not authorized for this app",
		"Request only scopes the app's products grant (LinkedIn: add the product that provides the scope in the developer portal, e.g. Sign In with LinkedIn using OpenID Connect for openid profile email), then authorize again."},
	{CodeAccessDenied, "Access was denied",
		"The token is valid but not allowed to call this API: check that the app's products include the API and the token carries the scope it needs; re-authorize after adding them."},
	{CodeAccessTokenExpired, "The access token has expired",
		"Use the refresh token to get a new access token (refresh before expiry next time); without a refresh token, send the member through authorization again."},
	{CodeRefreshTokenExpired, "The refresh token has expired",
		"The refresh token's lifetime is over (LinkedIn: 365 days from the first authorization, not extended by refreshing): send the member through authorization again."},
	{CodeReauthorizationRequired, "The member must authorize again",
		"No usable token is left to refresh with: start the authorization flow again and store both new tokens."},
	{CodeTokenRevoked, "The token has been revoked",
		"The member or the app revoked it, or a newer authorization replaced it: authorize again; make sure only one authorization runs at a time and every run requests the same scopes."},
	{CodeAuthorizationCodeBad, "The authorization code was refused",
		"Authorization codes are single-use and short-lived (LinkedIn: 30 minutes): exchange each code once, immediately, with the same redirect_uri and PKCE verifier as its authorization request; start a fresh authorization to get a new code."},
	{CodePKCEMismatch, "The PKCE code verifier does not match the challenge",
		"Send the code_verifier of the same authorization request whose code_challenge produced this code (S256), and send none when no challenge was sent."},
	{CodeStateMismatch, "The state on the redirect does not match the request",
		"The redirect belongs to another authorization (an old tab, a second login, or a forged request): start the authorization again and use only its redirect."},
	{CodeUserCancelled, "The user cancelled the login or the consent",
		"Nothing is broken: the member declined. Start the authorization again and sign in and allow access."},
	{CodeRateLimited, "The provider is rate limiting the app",
		"Wait before retrying: honour Retry-After when the server sends it, otherwise back off exponentially. LinkedIn's daily limits are per app and per member and reset at midnight UTC."},
	{CodeProviderOutage, "The provider failed on its side",
		"The server answered with an error of its own: retry with backoff. If it persists, export the support bundle (request, response headers such as x-li-uuid, client_id) and send it to the provider's support."},
	{CodeNetworkUnreachable, "The provider could not be reached",
		"Check the host name and port in the URL, DNS, proxy settings and that the server is running."},
	{CodeTLSError, "The TLS connection to the provider failed",
		"Check the URL scheme (https vs http), the server certificate and its chain, proxies that intercept TLS, and the system clock."},
	{CodeTimeout, "The provider did not answer in time",
		"The server is slow or unreachable: retry, raise --timeout, or check the network path."},
	{CodeClockSkew, "The local clock disagrees with the provider's",
		"Synchronise the system clock (NTP); token expiry and ID-token time checks go wrong when clocks differ by more than a minute."},
	{CodeUnexpectedFormat, "The answer is not in the format the endpoint must use",
		"The URL probably points at a web page, a proxy or a login wall instead of the endpoint: check the endpoint URL (or --issuer for discovery)."},
	{CodeIssuerMismatch, "The issuer does not match the expected one",
		"Use the issuer exactly as the discovery document states it (LinkedIn moved its issuer in 2024 from https://www.linkedin.com to https://www.linkedin.com/oauth); update pinned issuers in your configuration."},
	{CodeMissingAPIVersion, "The LinkedIn versioned API call has no valid LinkedIn-Version",
		"Calls under https://api.linkedin.com/rest/ need a LinkedIn-Version: YYYYMM header naming an active version (--api-header LinkedIn-Version=YYYYMM) and X-Restli-Protocol-Version: 2.0.0."},
	{CodeRefreshNotAvailable, "No refresh token is available",
		"The provider issued no refresh token: request offline_access where the provider uses it; LinkedIn issues refresh tokens only to apps approved for programmatic refresh. Until then, re-authorize when the access token expires."},
	{CodeInvalidAccessToken, "The access token is not accepted",
		"The token is malformed, truncated, from another app or environment, or was not sent as Authorization: Bearer: send the token exactly as issued, or authorize again."},
	{CodeIDTokenInvalid, "The ID token failed validation",
		"Check the failed ID-token checks: audience must include the client_id, the nonce must be the one sent, the signature must verify against the provider's JWKS."},
	{CodeGrantNotAllowed, "The app is not allowed to use this grant or response type",
		"Enable the grant type (authorization_code, refresh_token, client_credentials) for the app in the provider's settings, or use one it allows."},
	{CodeEndpointNotFound, "The endpoint does not exist at this URL",
		"Check the URL: discovery documents live at ISSUER/.well-known/openid-configuration (LinkedIn's at https://www.linkedin.com/oauth/.well-known/openid-configuration)."},
	{CodeLoginFailed, "The login at the provider failed",
		"Check the username and password used for the login page."},
	{CodeConfiguration, "The configuration cannot work",
		"Fix the configuration named in the evidence."},
	{CodeRevocationNotEffective, "A revoked token is still accepted",
		"The provider did not invalidate the token (RFC 7009 requires it): do not rely on revocation with this provider; delete tokens locally and let them expire."},
	{CodeUnclassified, "The step failed for a reason no rule recognises",
		"Read the evidence and the recorded exchange; if the provider is at fault, export the support bundle."},
}

func codeInfo(code string) CodeInfo {
	for _, c := range catalog {
		if c.Code == code {
			return c
		}
	}
	return CodeInfo{Code: code, Title: code}
}

// newDiagnosis starts a diagnosis with the code's title and default fix.
func newDiagnosis(code string) Diagnosis {
	info := codeInfo(code)
	return Diagnosis{Code: code, Title: info.Title, Fix: info.Fix}
}
