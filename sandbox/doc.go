// Package sandbox is an in-process LinkedIn-like OAuth 2.0 / OpenID Connect
// provider and API, for offline demos, training, and as the test target of the
// oauthdiag client. It is written independently of the client code (it shares
// no package with it) so that it can catch the client's bugs.
//
// One host serves LinkedIn's two hosts on LinkedIn's paths:
//
//	GET  /oauth/v2/authorization                 login and consent pages, or a straight redirect (WithAutoConsent)
//	POST /oauth/v2/accessToken                   authorization_code, refresh_token, client_credentials
//	POST /oauth/v2/introspectToken               LinkedIn's introspection
//	POST /oauth/v2/revoke                        RFC 7009 revocation
//	GET  /oauth/.well-known/openid-configuration OIDC discovery (issuer BaseURL+"/oauth")
//	GET  /oauth/openid/jwks                      the id_token signing key
//	GET  /v2/userinfo, /v2/me, /rest/me          member APIs (/rest/ needs LinkedIn-Version)
//
// Every response carries LinkedIn's x-li-* support headers and a Date from the
// injected clock.
//
// A Scenario injects one fault (an outage, throttling, expired or revoked
// tokens, a cancelled login...) so a client fails at a known step; SetScenario
// switches it at run time. A Compliance mode picks the error vocabulary:
// LinkedIn's own (the default), strict RFC codes, or a lenient provider that
// lets client mistakes through, for conformance probes. Scenarios produce their
// fault in every mode.
//
// Choices where LinkedIn's behaviour is not documented:
//   - Revoking a refresh token also revokes the access tokens issued from it;
//     revoking an access token leaves the refresh token alone.
//   - Authorizing a different scope set for the same client revokes that
//     client's earlier member tokens, as LinkedIn documents.
//   - A refresh returns the same refresh token with its remaining lifetime; the
//     new access token never outlives the refresh token.
//   - Tokens are kept after expiry so introspection can say "expired".
//   - The slow scenario waits in real time; the injected clock only dates
//     tokens and responses.
package sandbox
