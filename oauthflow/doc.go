// Package oauthflow is the protocol: the steps of the OAuth 2.0 / OpenID Connect Authorization
// Code flow and the calls each step makes.
//
// A Flow is the flow's state plus its steps: Flow.Step runs one (discovery, authorize, callback,
// exchange, userinfo, api-call, introspect, refresh, revoke, introspect-after-revoke) and returns
// its report with the exchanges it made, each carrying the id the session log gave it.
// `oauthdiag flow` runs the steps in a loop (RunFlow), the TUI one command at a time, the token
// lifecycle the ones it needs. The package never prints, never reads the environment and never
// knows whether its HTTP client records: callers pass an *http.Client, whose transport captures
// every exchange (an httplog.Transport, added when missing), and the package hands it to
// golang.org/x/oauth2 through the oauth2.HTTPClient context key.
package oauthflow
