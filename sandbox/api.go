package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// versionHeader is the YYYYMM (or YYYYMM.RR) value /rest/ APIs require.
var versionHeader = regexp.MustCompile(`^(\d{4})(\d{2})(\.\d{2})?$`)

// versionSupportMonths: LinkedIn supports each monthly version for at least a year.
const versionSupportMonths = 12

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.APICalls++
	s.scenarioCalls++
	n, sc := s.scenarioCalls, s.scenario
	s.mu.Unlock()
	if e := s.serveAPI(w, r, sc, n); e != nil {
		s.bump(func(st *Stats) { st.APIErrors++ })
		writeJSON(w, e.Status, e)
	}
}

// serveAPI answers an API call, or returns the error to send. Scenario faults
// come first: an outage or throttle does not look at the token.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, sc Scenario, n int) *apiError {
	switch sc {
	case Slow:
		if !s.waitSlow(r.Context()) {
			e := errUnavailable()
			return &e
		}
	case ServerError:
		e := errInternal()
		return &e
	case RateLimited:
		if n <= 2 {
			w.Header().Set("Retry-After", "1")
			e := errThrottled()
			return &e
		}
	case Flaky:
		if n%2 == 1 {
			e := errUnavailable()
			return &e
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		e := errMethodNotAllowed()
		return &e
	}
	path := r.URL.Path
	if strings.HasPrefix(path, "/rest/") {
		if e := s.checkVersion(r.Header.Get("LinkedIn-Version")); e != nil {
			return e
		}
	}
	t, e := s.authenticateAPI(w, r, sc)
	if e != nil {
		return e
	}
	switch path {
	case "/v2/userinfo":
		if sc == ScopeDenied || !hasScopes(t.scopes, "openid", "profile") {
			return s.denied(w, "userinfo.GET.NO_VERSION")
		}
		writeJSON(w, http.StatusOK, s.userinfo(r, t))
	case "/v2/me", "/rest/me":
		// /rest/me also takes the OIDC profile scope, so demos of the version
		// header work with today's scopes.
		allowed := hasScopes(t.scopes, "r_liteprofile") || (path == "/rest/me" && hasScopes(t.scopes, "profile"))
		if sc == ScopeDenied || !allowed {
			return s.denied(w, "GET /me")
		}
		writeJSON(w, http.StatusOK, liteProfile(t.clientID))
	default:
		e := errNotFound()
		return &e
	}
	return nil
}

// waitSlow waits the slow delay; false means the request or the server ended first.
func (s *Server) waitSlow(ctx context.Context) bool {
	t := time.NewTimer(s.cfg.slowDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// checkVersion validates LinkedIn-Version: missing is 400 VERSION_MISSING; a
// malformed value (e.g. 20240101), a future month or one more than a year old
// is 426 NONEXISTENT_VERSION, as LinkedIn answers sunset versions.
func (s *Server) checkVersion(v string) *apiError {
	if v == "" {
		e := errVersionMissing()
		return &e
	}
	m := versionHeader.FindStringSubmatch(v)
	inactive := errVersionInactive(v)
	if m == nil {
		return &inactive
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	if month < 1 || month > 12 {
		return &inactive
	}
	now := s.now().UTC()
	asked := year*12 + month - 1
	current := now.Year()*12 + int(now.Month()) - 1
	if asked > current || asked < current-versionSupportMonths {
		return &inactive
	}
	return nil
}

// authenticateAPI finds the bearer token and checks its state. Strict mode adds
// RFC 6750's WWW-Authenticate challenge, which LinkedIn does not send.
func (s *Server) authenticateAPI(w http.ResponseWriter, r *http.Request, sc Scenario) (*accessToken, *apiError) {
	fail := func(e apiError, rfcError string) (*accessToken, *apiError) {
		if s.cfg.compliance == ComplianceStrict {
			challenge := `Bearer realm="api"`
			if rfcError != "" {
				challenge += fmt.Sprintf(`, error=%q, error_description=%q`, rfcError, e.Message)
			}
			w.Header().Set("WWW-Authenticate", challenge)
		}
		return nil, &e
	}
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return fail(errEmptyToken(), "")
	}
	scheme, value, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return fail(errUnknownSchema(), "invalid_request")
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return fail(errEmptyToken(), "")
	}
	now := s.now()
	s.mu.Lock()
	t := s.access[value]
	var status tokenStatus
	if t != nil {
		status = accessStatus(t, now, sc, false)
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		return fail(errInvalidToken(), "invalid_token")
	case status == statusRevoked:
		return fail(errRevokedToken(), "invalid_token")
	case status == statusExpired:
		return fail(errExpiredToken(), "invalid_token")
	}
	return t, nil
}

func (s *Server) denied(w http.ResponseWriter, resource string) *apiError {
	if s.cfg.compliance == ComplianceStrict {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope"`)
	}
	e := errAccessDenied(resource)
	return &e
}

// userinfoResponse is /v2/userinfo, fields in LinkedIn's order; locale is an
// object, as LinkedIn sends it.
type userinfoResponse struct {
	Sub           string  `json:"sub"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
	Name          string  `json:"name"`
	Locale        *locale `json:"locale"`
	GivenName     string  `json:"given_name"`
	FamilyName    string  `json:"family_name"`
	Email         string  `json:"email,omitempty"`
	Picture       string  `json:"picture"`
}

func (s *Server) userinfo(r *http.Request, t *accessToken) userinfoResponse {
	m := demoMember()
	u := userinfoResponse{
		Sub:        subjectFor(t.clientID),
		Name:       m.givenName + " " + m.familyName,
		Locale:     &locale{Country: m.country, Language: m.language},
		GivenName:  m.givenName,
		FamilyName: m.familyName,
		Picture:    s.baseFor(r) + "/media/profile-picture",
	}
	if hasScopes(t.scopes, "email") {
		verified := true
		u.Email, u.EmailVerified = m.email, &verified
	}
	return u
}

// localizedName is LinkedIn's MultiLocaleString.
type localizedName struct {
	Localized       map[string]string `json:"localized"`
	PreferredLocale locale            `json:"preferredLocale"`
}

type liteProfileResponse struct {
	LocalizedLastName  string         `json:"localizedLastName"`
	ProfilePicture     map[string]any `json:"profilePicture"`
	FirstName          localizedName  `json:"firstName"`
	LastName           localizedName  `json:"lastName"`
	ID                 string         `json:"id"`
	LocalizedFirstName string         `json:"localizedFirstName"`
}

func liteProfile(clientID string) liteProfileResponse {
	m := demoMember()
	loc := locale{Country: m.country, Language: m.language}
	key := m.language + "_" + m.country
	return liteProfileResponse{
		LocalizedLastName:  m.familyName,
		ProfilePicture:     map[string]any{"displayImage": "urn:li:digitalmediaAsset:C4E03AQSandboxPicture"},
		FirstName:          localizedName{Localized: map[string]string{key: m.givenName}, PreferredLocale: loc},
		LastName:           localizedName{Localized: map[string]string{key: m.familyName}, PreferredLocale: loc},
		ID:                 subjectFor(clientID),
		LocalizedFirstName: m.givenName,
	}
}
