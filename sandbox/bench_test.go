package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// benchServer serves requests in-process, without sockets, so the numbers are
// the sandbox's own cost.
type benchServer struct {
	b *testing.B
	h http.Handler
}

func (s benchServer) serve(method, target string, form url.Values, header http.Header) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// flow runs authorization and code exchange and returns the access token.
func (s benchServer) flow(scope string) string {
	rec := s.serve(http.MethodGet, "/oauth/v2/authorization?"+authQuery(scope).Encode(), nil, nil)
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		s.b.Fatalf("authorize: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = s.serve(http.MethodPost, "/oauth/v2/accessToken", exchangeForm(loc.Query().Get("code")), nil)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &tok) != nil {
		s.b.Fatalf("exchange: %d %s", rec.Code, rec.Body)
	}
	return tok.AccessToken
}

func newBenchServer(b *testing.B) benchServer {
	return benchServer{b: b, h: New(WithSigningKey(testKey()), WithAutoConsent(true)).Handler()}
}

// BenchmarkFlow compares a plain OAuth flow with an OpenID Connect one (which
// signs an id_token).
func BenchmarkFlow(b *testing.B) {
	for _, scope := range []string{"r_liteprofile", "openid profile"} {
		b.Run(strings.ReplaceAll(scope, " ", "+"), func(b *testing.B) {
			s := newBenchServer(b)
			for b.Loop() {
				s.flow(scope)
			}
		})
	}
}

// BenchmarkUserinfo measures one authenticated API call.
func BenchmarkUserinfo(b *testing.B) {
	s := newBenchServer(b)
	h := bearer(s.flow("openid profile"))
	for b.Loop() {
		if rec := s.serve(http.MethodGet, "/v2/userinfo", nil, h); rec.Code != http.StatusOK {
			b.Fatalf("userinfo: %d", rec.Code)
		}
	}
}
