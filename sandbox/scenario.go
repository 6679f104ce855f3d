package sandbox

import (
	"errors"
	"fmt"
	"strings"
)

// Scenario is the fault the sandbox injects. Each one makes a client fail at one
// step of its flow (see FailingStep), so a demo or a test can show that step's
// diagnosis. Scenarios are independent of Compliance: a scenario always produces
// its fault; the compliance mode only chooses the error vocabulary.
type Scenario string

// The scenarios, in the order Scenarios lists them.
const (
	Happy            Scenario = "happy"
	ServerError      Scenario = "server-error"
	RateLimited      Scenario = "rate-limited"
	ExpiredToken     Scenario = "expired-token"
	RevokedToken     Scenario = "revoked-token"
	UserCancel       Scenario = "user-cancel"
	RedirectMismatch Scenario = "redirect-mismatch"
	BadSecret        Scenario = "bad-secret"
	CodeReuse        Scenario = "code-reuse"
	ScopeDenied      Scenario = "scope-denied"
	Slow             Scenario = "slow"
	Flaky            Scenario = "flaky"
	NoRefreshToken   Scenario = "no-refresh-token"
)

// ErrUnknownScenario is wrapped by ParseScenario's error.
var ErrUnknownScenario = errors.New("unknown scenario")

// ErrUnknownCompliance is wrapped by ParseCompliance's error.
var ErrUnknownCompliance = errors.New("unknown compliance mode")

func (s Scenario) String() string { return string(s) }

// Scenarios lists every scenario, happy first.
func Scenarios() []Scenario {
	return []Scenario{Happy, ServerError, RateLimited, ExpiredToken, RevokedToken, UserCancel,
		RedirectMismatch, BadSecret, CodeReuse, ScopeDenied, Slow, Flaky, NoRefreshToken}
}

// Description says in one line what the scenario does, for pickers and help text.
func (s Scenario) Description() string {
	switch s {
	case Happy:
		return "everything works"
	case ServerError:
		return "API calls answer 500 Internal Server Error"
	case RateLimited:
		return "the first 2 API calls answer 429 with Retry-After: 1, later ones succeed"
	case ExpiredToken:
		return "access tokens from the code exchange are expired; refreshed ones work"
	case RevokedToken:
		return "every access and refresh token is reported revoked (65601 REVOKED_ACCESS_TOKEN)"
	case UserCancel:
		return "the member cancels the login: the redirect carries error=user_cancelled_login"
	case RedirectMismatch:
		return "every redirect_uri is treated as unregistered: an error page, no redirect"
	case BadSecret:
		return "the token endpoint rejects the client credentials (401 invalid_client)"
	case CodeReuse:
		return "the authorization code was already redeemed once, so the exchange fails"
	case ScopeDenied:
		return "API calls answer 403 ACCESS_DENIED (not enough permissions)"
	case Slow:
		return "API calls wait for the slow delay before answering"
	case Flaky:
		return "odd-numbered API calls answer 503, even-numbered ones succeed"
	case NoRefreshToken:
		return "no refresh token is issued and the refresh grant is refused"
	}
	return "unknown scenario"
}

// FailingStep names the client step at which the scenario's fault shows, using
// the client's step vocabulary (discovery, authorize, callback, exchange,
// userinfo, api-call, introspect, refresh, revoke). API faults show at the first
// API call, which is userinfo for an OpenID Connect client. Happy and Slow
// return "" (slow only fails a client whose timeout is shorter than the delay).
func (s Scenario) FailingStep() string {
	switch s {
	case ServerError, RateLimited, ExpiredToken, RevokedToken, ScopeDenied, Flaky:
		return "userinfo"
	case UserCancel:
		return "callback"
	case RedirectMismatch:
		return "authorize"
	case BadSecret, CodeReuse:
		return "exchange"
	case NoRefreshToken:
		return "refresh"
	}
	return ""
}

// ParseScenario returns the scenario named s (case-insensitive). Its error
// wraps ErrUnknownScenario and lists the valid names.
func ParseScenario(s string) (Scenario, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, sc := range Scenarios() {
		if string(sc) == name {
			return sc, nil
		}
	}
	names := make([]string, 0, len(Scenarios()))
	for _, sc := range Scenarios() {
		names = append(names, string(sc))
	}
	return "", fmt.Errorf("%w %q (valid scenarios: %s)", ErrUnknownScenario, s, strings.Join(names, ", "))
}

// Compliance chooses how closely the sandbox follows the standards.
type Compliance string

const (
	// ComplianceLinkedIn (the default) answers with LinkedIn's own error codes
	// and shapes, deviations included (invalid_redirect_uri, comma-separated
	// scopes, no iss in the authorization response).
	ComplianceLinkedIn Compliance = "linkedin"
	// ComplianceStrict answers with RFC 6749/7636/7009/7662/8414/9207 codes and
	// shapes, rejects sloppy clients, and sends iss in authorization responses.
	ComplianceStrict Compliance = "strict"
	// ComplianceLenient is a deliberately sloppy provider for conformance probes:
	// it accepts a wrong PKCE verifier, a reused code, a token-endpoint
	// redirect_uri that differs from the authorized one, an unregistered
	// redirect_uri, and a wrong client secret; it keeps revoked tokens active at
	// introspection and omits code_challenge_methods_supported from discovery.
	// Its error vocabulary is LinkedIn's.
	ComplianceLenient Compliance = "lenient"
)

func (c Compliance) String() string { return string(c) }

// Compliances lists every compliance mode, the default first.
func Compliances() []Compliance {
	return []Compliance{ComplianceLinkedIn, ComplianceStrict, ComplianceLenient}
}

// ParseCompliance returns the compliance mode named s (case-insensitive). Its
// error wraps ErrUnknownCompliance and lists the valid names.
func ParseCompliance(s string) (Compliance, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, c := range Compliances() {
		if string(c) == name {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w %q (valid modes: linkedin, strict, lenient)", ErrUnknownCompliance, s)
}
