package ui

import "github.com/oauthdiag/oauthdiag/oauthflow"

// stepID is one step of the stepper: the flow engine's steps, in their order, so that the TUI
// and `oauthdiag flow` walk the same steps and report the same outcomes.
type stepID int

const (
	stepDiscovery stepID = iota
	stepAuthorize
	stepCallback
	stepExchange
	stepUserinfo
	stepAPICall
	stepIntrospect
	stepRefresh
	stepRevoke
	stepIntrospectAfter
	numSteps
)

// flowStepNames are the engine's names of the stepper's steps.
var flowStepNames = [numSteps]string{oauthflow.StepDiscovery, oauthflow.StepAuthorize, oauthflow.StepCallback,
	oauthflow.StepExchange, oauthflow.StepUserinfo, oauthflow.StepAPICall, oauthflow.StepIntrospect,
	oauthflow.StepRefresh, oauthflow.StepRevoke, oauthflow.StepIntrospectAfter}

var stepNames = [numSteps]string{"Discovery", "Authorize", "Callback", "Exchange", "Userinfo", "API call",
	"Introspect", "Refresh", "Revoke", "Verify revoke"}

func (s stepID) String() string {
	if s >= 0 && s < numSteps {
		return stepNames[s]
	}
	return "step?"
}

// name is the engine's name of the step.
func (s stepID) name() string { return flowStepNames[s] }

// explanation is what a trainer says about a step: what it does and why.
func (s stepID) explanation() string {
	switch s {
	case stepDiscovery:
		return "The client reads the provider's discovery document (/.well-known/openid-configuration) to learn its endpoints instead of hard-coding them. " +
			"The issuer named in it must be the one we expect, or ID tokens could not be trusted. " +
			"LinkedIn serves it under /oauth/ and leaves introspection and revocation out, so those come from the preset."
	case stepAuthorize:
		return "The browser is sent to the authorization endpoint with client_id, redirect_uri, scope, a random state and a PKCE code_challenge. " +
			"state ties the answer to this very request so a forged redirect is refused (CSRF); the challenge is a hash of a verifier only this app knows. " +
			"The user signs in and consents at the provider: the app never sees the password."
	case stepCallback:
		return "The provider redirects the browser back to the redirect URI with a one-time code and the state. " +
			"The state must match what we sent (otherwise the redirect is not ours: CSRF), and iss must match the issuer when the server sends it (RFC 9207, against mix-up). " +
			"The code alone is worthless without the client secret and the PKCE verifier."
	case stepExchange:
		return "The app trades the code for tokens at the token endpoint, server to server, authenticating with its client secret and sending the PKCE verifier. " +
			"The code is single-use and short-lived, so a code leaked through a log or the browser history cannot be redeemed again. " +
			"The secret stays server-side: it never goes through the browser."
	case stepUserinfo:
		return "The access token travels in the Authorization: Bearer header; whoever holds it can use it, so it must never appear in URLs or logs. " +
			"The userinfo endpoint (OpenID Connect) answers who signed in; an expired, revoked or under-scoped token gets 401 or 403, and the diagnosis says which."
	case stepAPICall:
		return "The same token calls the API itself (LinkedIn's versioned /rest/ APIs also need a LinkedIn-Version header). " +
			"The API checks the token on every call, and the scopes the member granted decide what it may do."
	case stepIntrospect:
		return "Introspection (RFC 7662, LinkedIn's introspectToken) asks the server what it thinks of the token: active, scopes, expiry. " +
			"The Inspect screen sets it beside the ID token, a signed JWT checked locally (signature against the JWKS, issuer, audience, expiry, nonce): " +
			"comparing both views reveals clock skew, revocation and scopes that were not granted."
	case stepRefresh:
		return "Shortly before the access token expires the app uses the refresh token to get a new one, without bothering the user. " +
			"Some providers rotate the refresh token on each use (keep the new one); LinkedIn never extends its lifetime, so when it runs out the user must authorize again."
	case stepRevoke:
		return "Logging out properly asks the provider to revoke the tokens (RFC 7009) instead of merely forgetting them locally."
	case stepIntrospectAfter:
		return "Introspecting the revoked access token proves the server agrees it is dead: a provider that still calls it active did not revoke it."
	}
	return ""
}

// stepState is where a step stands.
type stepState int

const (
	statePending stepState = iota
	stateRunning
	stateOK
	stateFailed
	stateSkipped
)

func (s stepState) String() string {
	switch s {
	case statePending:
		return "pending"
	case stateRunning:
		return "running"
	case stateOK:
		return "ok"
	case stateFailed:
		return "failed"
	case stateSkipped:
		return "skipped"
	}
	return "state?"
}

func stateOf(s oauthflow.StepStatus) stepState {
	switch s {
	case oauthflow.StatusOK:
		return stateOK
	case oauthflow.StatusFailed:
		return stateFailed
	case oauthflow.StatusSkipped:
		return stateSkipped
	}
	return statePending
}
