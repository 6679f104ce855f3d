package oauthflow

// Step names are stable identifiers: the CLI's JSON, the recorder and the diagnosis rules use them.
const (
	StepDiscovery       = "discovery"
	StepAuthorize       = "authorize"
	StepCallback        = "callback"
	StepExchange        = "exchange"
	StepUserinfo        = "userinfo"
	StepAPICall         = "api-call"
	StepIntrospect      = "introspect"
	StepRefresh         = "refresh"
	StepRevoke          = "revoke"
	StepIntrospectAfter = "introspect-after-revoke"
	StepClientCreds     = "client-credentials"
	// StepIDToken labels the JWKS fetch made to verify an ID token's signature.
	StepIDToken = "id-token"
)
