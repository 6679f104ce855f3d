package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestAPIAuthentication(t *testing.T) {
	c := start(t, WithCompliance(ComplianceStrict))
	tests := []struct {
		name, auth    string
		status        int
		service       int64
		code, message string
		challenge     string
	}{
		{"no header", "", 401, 401, "EMPTY_ACCESS_TOKEN", "Empty oauth2_access_token", `Bearer realm="api"`},
		{"empty bearer", "Bearer ", 401, 401, "EMPTY_ACCESS_TOKEN", "Empty oauth2_access_token", `Bearer realm="api"`},
		{"basic scheme", "Basic YTpi", 401, 401, "UNKNOWN_AUTHENTICATION_SCHEMA", "Unknown authentication schema", `error="invalid_request"`},
		{"unknown token", "Bearer AQnotatoken", 401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token", `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			r := c.get("/v2/userinfo", h)
			wantAPIError(t, r, tt.status, tt.service, tt.code, tt.message)
			if !strings.Contains(r.header.Get("WWW-Authenticate"), tt.challenge) {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", r.header.Get("WWW-Authenticate"), tt.challenge)
			}
		})
	}
}

func TestLinkedInModeSendsNoBearerChallenge(t *testing.T) {
	c := start(t)
	if r := c.get("/v2/userinfo", nil); r.header.Get("WWW-Authenticate") != "" {
		t.Errorf("LinkedIn sends no WWW-Authenticate; got %q", r.header.Get("WWW-Authenticate"))
	}
}

func TestUserinfoAndProfileShapes(t *testing.T) {
	c := start(t)
	oidc := c.tokens("openid profile email").str("access_token")
	u := c.api("/v2/userinfo", oidc)
	if got, want := keys(u.body), []string{"email", "email_verified", "family_name", "given_name", "locale", "name", "picture", "sub"}; !slices.Equal(got, want) {
		t.Errorf("userinfo fields %v, want %v", got, want)
	}
	if loc, ok := u.body["locale"].(map[string]any); !ok || loc["country"] != "US" || loc["language"] != "en" {
		t.Errorf("locale %v, want LinkedIn's object form", u.body["locale"])
	}
	wantAPIError(t, c.api("/v2/me", oidc), 403, 100, "ACCESS_DENIED", "Not enough permissions to access: GET /me")

	noEmail := c.tokens("openid profile").str("access_token")
	if r := c.api("/v2/userinfo", noEmail); r.body["email"] != nil || r.status != 200 {
		t.Errorf("userinfo without the email scope: %s", r.raw)
	}

	legacy := c.tokens("r_liteprofile r_emailaddress").str("access_token")
	wantAPIError(t, c.api("/v2/userinfo", legacy), 403, 100, "ACCESS_DENIED", "Not enough permissions to access: userinfo.GET.NO_VERSION")
	me := c.api("/v2/me", legacy)
	if got, want := keys(me.body), []string{"firstName", "id", "lastName", "localizedFirstName", "localizedLastName", "profilePicture"}; !slices.Equal(got, want) {
		t.Errorf("/v2/me fields %v, want %v", got, want)
	}
	if me.str("id") != u.str("sub") || me.str("localizedFirstName") != "Ada" {
		t.Errorf("/v2/me %s", me.raw)
	}
	if r := c.api("/v2/nothing", legacy); r.status != 404 || r.str("message") != "No virtual resource found" {
		t.Errorf("unknown resource: %d %s", r.status, r.raw)
	}
}

func TestRestVersionHeader(t *testing.T) {
	clock := newTestClock() // March 2025
	c := start(t, WithClock(clock.Now))
	at := c.tokens("openid profile").str("access_token")
	tests := []struct {
		version string
		status  int
		code    string
	}{
		{"", 400, "VERSION_MISSING"},
		{"202503", 200, ""},
		{"202403", 200, ""},
		{"202503.01", 200, ""},
		{"202402", 426, "NONEXISTENT_VERSION"},
		{"202504", 426, "NONEXISTENT_VERSION"},
		{"20250301", 426, "NONEXISTENT_VERSION"},
		{"202513", 426, "NONEXISTENT_VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			h := bearer(at)
			if tt.version != "" {
				h.Set("LinkedIn-Version", tt.version)
			}
			r := c.get("/rest/me", h)
			if r.status != tt.status || r.str("code") != tt.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
			if tt.status == 426 && r.str("message") != "Requested version "+tt.version+" is not active" {
				t.Errorf("message %q", r.str("message"))
			}
			if tt.status == 400 && !strings.Contains(r.str("message"), "LinkedIn-Version") {
				t.Errorf("message %q does not name the header", r.str("message"))
			}
		})
	}
}

func TestEveryResponseCarriesLinkedInHeaders(t *testing.T) {
	clock := newTestClock()
	c := start(t, WithClock(clock.Now), WithAutoConsent(false))
	responses := map[string]result{
		"discovery":       c.get("/oauth/.well-known/openid-configuration", nil),
		"jwks":            c.get("/oauth/openid/jwks", nil),
		"login page":      c.authorize(authQuery("openid")),
		"error page":      c.authorize(url.Values{}),
		"token error":     c.exchange(url.Values{}),
		"api error":       c.get("/v2/userinfo", nil),
		"introspection":   c.introspect("AQunknown"),
		"revocation":      c.post("/oauth/v2/revoke", clientForm("token", "AQunknown")),
		"unknown path":    c.get("/nowhere", nil),
		"index":           c.get("/", nil),
		"profile picture": c.get("/media/profile-picture", nil),
	}
	uuids := map[string]bool{}
	for name, r := range responses {
		for _, h := range []string{"X-Li-Uuid", "X-Li-Fabric", "X-Li-Request-Id", "X-Li-Pop", "X-Li-Proto"} {
			if r.header.Get(h) == "" {
				t.Errorf("%s: no %s", name, h)
			}
		}
		if raw, err := base64.StdEncoding.DecodeString(r.header.Get("X-Li-Uuid")); err != nil || len(raw) != 16 {
			t.Errorf("%s: x-li-uuid %q is not base64 of 16 bytes", name, r.header.Get("X-Li-Uuid"))
		}
		uuids[r.header.Get("X-Li-Uuid")] = true
		if d, err := http.ParseTime(r.header.Get("Date")); err != nil || !d.Equal(clock.Now()) {
			t.Errorf("%s: Date %q, want the injected clock %v", name, r.header.Get("Date"), clock.Now())
		}
	}
	if len(uuids) != len(responses) {
		t.Errorf("x-li-uuid repeated: %d distinct for %d responses", len(uuids), len(responses))
	}
}
