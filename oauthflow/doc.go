// Package oauthflow runs the OAuth 2.0 / OpenID Connect Authorization Code flow one step at a time.
//
// Every step is a separate call that returns its result together with the HTTP exchanges it made
// (a Trace), so a caller can show each request and response. The package never prints, never reads
// the environment and never knows whether its HTTP client records: callers pass an *http.Client
// (for example one whose Transport records the session) and the package hands it to
// golang.org/x/oauth2 through the oauth2.HTTPClient context key.
package oauthflow
