package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// knownScopes are the member scopes the sandbox grants, with the line the
// consent page shows for each.
func knownScopes() map[string]string {
	return map[string]string{
		"openid":          "Use your name and photo to sign you in",
		"profile":         "Use your name and photo",
		"email":           "Use the primary email address associated with your LinkedIn account",
		"w_member_social": "Create, modify, and delete posts, comments, and reactions on your behalf",
		"r_liteprofile":   "Use your name and photo (legacy profile API)",
		"r_emailaddress":  "Use the primary email address associated with your LinkedIn account (legacy)",
	}
}

// member is the one fake LinkedIn member every authorization signs in as.
type member struct {
	givenName  string
	familyName string
	email      string
	country    string
	language   string
}

func demoMember() member {
	return member{givenName: "Ada", familyName: "Lovelace", email: "ada.lovelace@example.com", country: "US", language: "en"}
}

// subjectFor is the member id as one application sees it: LinkedIn ids are
// pairwise, so two clients get two different ids for the same member.
func subjectFor(clientID string) string {
	sum := sha256.Sum256([]byte("sandbox-member|" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:10]
}

// pendingAuthorization is an authorization request waiting on the login and
// consent pages; its id travels in a hidden form field (no cookies).
type pendingAuthorization struct {
	id        string
	req       authRequest
	createdAt time.Time
	signedIn  bool
}

// authRequest is a validated authorization request.
type authRequest struct {
	clientID        string
	redirectURI     string
	state           string
	scopes          []string
	nonce           string
	challenge       string
	challengeMethod string
}

type authCode struct {
	req       authRequest
	issuedAt  time.Time
	expiresAt time.Time
	used      bool
	tokens    []*accessToken // issued from this code; revoked on reuse in strict mode
	refresh   *refreshToken
}

// scopeEpoch is a client's current member scope set and the tokens issued for
// it by code exchanges.
type scopeEpoch struct {
	scopes []string
	tokens []*accessToken
}

type tokenStatus string

const (
	statusActive  tokenStatus = "active"
	statusExpired tokenStatus = "expired"
	statusRevoked tokenStatus = "revoked"
)

type accessToken struct {
	value        string
	clientID     string
	scopes       []string
	authType     string // "3L" member token, "2L" client_credentials token
	createdAt    time.Time
	expiresAt    time.Time
	authorizedAt time.Time
	fromRefresh  bool
	revoked      bool
	refresh      *refreshToken // the refresh token issued with it or used to mint it
}

type refreshToken struct {
	value        string
	clientID     string
	scopes       []string
	createdAt    time.Time
	expiresAt    time.Time // fixed at authorization: refreshes never extend it
	authorizedAt time.Time
	revoked      bool
	accessTokens []*accessToken
}

// accessStatus is the token's state under the scenario. Expired-token treats
// tokens from the code exchange as expired (refreshed ones work); revoked-token
// treats every token as revoked. ignoreRevoked forgets revocations made through
// the revocation endpoint or by a new authorization (lenient introspection).
func accessStatus(t *accessToken, now time.Time, sc Scenario, ignoreRevoked bool) tokenStatus {
	switch {
	case (t.revoked && !ignoreRevoked) || sc == RevokedToken:
		return statusRevoked
	case !now.Before(t.expiresAt) || (sc == ExpiredToken && !t.fromRefresh):
		return statusExpired
	}
	return statusActive
}

func refreshStatus(t *refreshToken, now time.Time, sc Scenario, ignoreRevoked bool) tokenStatus {
	switch {
	case (t.revoked && !ignoreRevoked) || sc == RevokedToken:
		return statusRevoked
	case !now.Before(t.expiresAt):
		return statusExpired
	}
	return statusActive
}

// revoke revokes a refresh token and, by our choice, every access token issued
// from it: revoking the long-lived grant ends the whole session, as a logout
// should. Revoking an access token leaves its refresh token alone.
func (t *refreshToken) revoke() {
	t.revoked = true
	for _, a := range t.accessTokens {
		a.revoked = true
	}
}

// parseScopes splits a space-delimited scope parameter, dropping duplicates.
func parseScopes(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func hasScopes(granted []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(granted, w) {
			return false
		}
	}
	return true
}

// sameScopeSet compares scope sets regardless of order.
func sameScopeSet(a, b []string) bool {
	return len(a) == len(b) && hasScopes(a, b...)
}

// formatScopes renders scopes sorted, comma-separated as LinkedIn does, or
// space-separated as RFC 6749 requires in strict mode.
func formatScopes(scopes []string, c Compliance) string {
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	if c == ComplianceStrict {
		return strings.Join(sorted, " ")
	}
	return strings.Join(sorted, ",")
}

// prune drops login pages and codes that can no longer be used, at most once a
// minute so busy servers do not rescan on every request; expiry itself is
// checked where they are used. Tokens are kept so introspection can still say
// "expired" or "revoked". Called with s.mu held.
func (s *Server) prune(now time.Time) {
	if now.Sub(s.lastPrune) < time.Minute && !now.Before(s.lastPrune) {
		return
	}
	s.lastPrune = now
	for id, p := range s.pending {
		if now.Sub(p.createdAt) > LoginPageTTL {
			delete(s.pending, id)
		}
	}
	for v, c := range s.codes {
		// Keep used codes past their expiry a while so reuse is still recognised.
		if now.Sub(c.expiresAt) > AuthorizationCodeTTL {
			delete(s.codes, v)
		}
	}
}
