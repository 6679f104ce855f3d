package sandbox

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseScenario(t *testing.T) {
	for _, sc := range Scenarios() {
		got, err := ParseScenario(" " + strings.ToUpper(sc.String()) + " ")
		if err != nil || got != sc {
			t.Errorf("ParseScenario(%q) = %q, %v", sc, got, err)
		}
		if sc.Description() == "unknown scenario" {
			t.Errorf("%s has no description", sc)
		}
	}
	_, err := ParseScenario("chaos")
	if !errors.Is(err, ErrUnknownScenario) || !strings.Contains(err.Error(), "no-refresh-token") || !strings.Contains(err.Error(), `"chaos"`) {
		t.Errorf("ParseScenario(chaos) error %v: want ErrUnknownScenario naming the input and the valid names", err)
	}
	if len(Scenarios()) != 13 {
		t.Errorf("%d scenarios, want 13", len(Scenarios()))
	}
	if _, err := ParseCompliance("loose"); !errors.Is(err, ErrUnknownCompliance) || !strings.Contains(err.Error(), "lenient") {
		t.Errorf("ParseCompliance(loose) error %v", err)
	}
	if m, err := ParseCompliance("Strict"); err != nil || m != ComplianceStrict {
		t.Errorf("ParseCompliance(Strict) = %q, %v", m, err)
	}
}

// runClient walks the client's steps once, without retries, and returns the
// first step that fails with the failing answer.
func runClient(t *testing.T, c *testClient) (string, result) {
	t.Helper()
	if r := c.get("/oauth/.well-known/openid-configuration", nil); r.status != 200 {
		return "discovery", r
	}
	auth := c.authorize(authQuery("openid profile email"))
	if auth.status != http.StatusFound {
		return "authorize", auth
	}
	p := redirectParams(t, auth)
	if p.Get("error") != "" || p.Get("state") != "st-123" {
		return "callback", auth
	}
	tok := c.exchange(exchangeForm(p.Get("code")))
	if tok.status != 200 {
		return "exchange", tok
	}
	at, rt := tok.str("access_token"), tok.str("refresh_token")
	if r := c.api("/v2/userinfo", at); r.status != 200 {
		return "userinfo", r
	}
	if r := c.introspect(at); r.status != 200 || r.body["active"] != true {
		return "introspect", r
	}
	ref := c.exchange(refreshForm(rt))
	if ref.status != 200 {
		return "refresh", ref
	}
	if r := c.post("/oauth/v2/revoke", clientForm("token", ref.str("refresh_token"))); r.status != 200 {
		return "revoke", r
	}
	return "", result{}
}

func TestEveryScenarioFailsAtItsStep(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.String(), func(t *testing.T) {
			c := start(t, WithScenario(sc), WithSlowDelay(time.Millisecond))
			step, r := runClient(t, c)
			if step != sc.FailingStep() {
				t.Fatalf("failed at %q (%d %s), want %q", step, r.status, r.raw, sc.FailingStep())
			}
		})
	}
}

func TestScenarioFaults(t *testing.T) {
	t.Run("server-error", func(t *testing.T) {
		c := start(t)
		at := c.tokens("openid profile r_liteprofile").str("access_token")
		c.srv.SetScenario(ServerError)
		for _, path := range []string{"/v2/userinfo", "/v2/me"} {
			r := c.api(path, at)
			wantAPIError(t, r, 500, 0, "INTERNAL_SERVER_ERROR", "Internal Server Error")
			if r.header.Get("X-Li-Uuid") == "" || r.header.Get("X-Li-Fabric") == "" {
				t.Errorf("%s: 500 without x-li headers: %v", path, r.header)
			}
		}
	})
	t.Run("rate-limited retry succeeds on the third call", func(t *testing.T) {
		c := start(t, WithScenario(RateLimited))
		at := c.tokens("openid profile").str("access_token")
		for i := 1; i <= 2; i++ {
			r := c.api("/v2/userinfo", at)
			wantAPIError(t, r, 429, 0, "TOO_MANY_REQUESTS", errThrottled().Message)
			if r.header.Get("Retry-After") != "1" {
				t.Errorf("call %d: Retry-After %q", i, r.header.Get("Retry-After"))
			}
		}
		if r := c.api("/v2/userinfo", at); r.status != 200 {
			t.Fatalf("third call: %d %s", r.status, r.raw)
		}
		c.srv.SetScenario(RateLimited) // choosing it again restarts the count
		if r := c.api("/v2/userinfo", at); r.status != 429 {
			t.Fatalf("after SetScenario: %d, want 429", r.status)
		}
	})
	t.Run("expired-token: refresh recovers", func(t *testing.T) {
		c := start(t, WithScenario(ExpiredToken))
		tok := c.tokens("openid profile")
		wantAPIError(t, c.api("/v2/userinfo", tok.str("access_token")), 401, 65602, "EXPIRED_ACCESS_TOKEN", "Expired access token")
		in := c.introspect(tok.str("access_token"))
		if in.body["active"] != false || in.str("status") != "expired" {
			t.Errorf("introspection: %s", in.raw)
		}
		ref := c.exchange(refreshForm(tok.str("refresh_token")))
		if ref.status != 200 {
			t.Fatalf("refresh: %d %s", ref.status, ref.raw)
		}
		if r := c.api("/v2/userinfo", ref.str("access_token")); r.status != 200 {
			t.Fatalf("refreshed token: %d %s", r.status, r.raw)
		}
	})
	t.Run("revoked-token", func(t *testing.T) {
		c := start(t, WithScenario(RevokedToken))
		tok := c.tokens("openid profile")
		wantAPIError(t, c.api("/v2/userinfo", tok.str("access_token")), 401, 65601, "REVOKED_ACCESS_TOKEN", "The token has been revoked")
		if in := c.introspect(tok.str("access_token")); in.body["active"] != false || in.str("status") != "revoked" {
			t.Errorf("introspection: %s", in.raw)
		}
		wantOAuthError(t, c.exchange(refreshForm(tok.str("refresh_token"))), 400, "invalid_request", msgGrantInvalid)
	})
	t.Run("user-cancel", func(t *testing.T) {
		for _, auto := range []bool{true, false} {
			c := start(t, WithScenario(UserCancel), WithAutoConsent(auto))
			p := redirectParams(t, c.authorize(authQuery("openid")))
			if p.Get("error") != "user_cancelled_login" || p.Get("error_description") != "The user cancelled LinkedIn login" || p.Get("state") != "st-123" {
				t.Errorf("auto-consent=%v: %v", auto, p)
			}
		}
	})
	t.Run("redirect-mismatch", func(t *testing.T) {
		c := start(t, WithScenario(RedirectMismatch), WithCompliance(ComplianceLenient))
		r := c.authorize(authQuery("openid"))
		if r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(r.raw, "The redirect_uri does not match the registered value") {
			t.Fatalf("%d %q", r.status, r.raw)
		}
	})
	t.Run("bad-secret", func(t *testing.T) {
		for _, m := range Compliances() {
			c := start(t, WithScenario(BadSecret), WithCompliance(m))
			wantOAuthError(t, c.exchange(exchangeForm(c.code(authQuery("openid")))), 401, "invalid_client", msgClientAuth)
		}
	})
	t.Run("code-reuse", func(t *testing.T) {
		for _, tt := range []struct {
			m          Compliance
			code, desc string
		}{
			{ComplianceLinkedIn, "invalid_request", msgCodeNotFound},
			{ComplianceStrict, "invalid_grant", "authorization code has already been used"},
			{ComplianceLenient, "invalid_request", msgCodeNotFound},
		} {
			c := start(t, WithScenario(CodeReuse), WithCompliance(tt.m))
			wantOAuthError(t, c.exchange(exchangeForm(c.code(authQuery("openid")))), 400, tt.code, tt.desc)
		}
	})
	t.Run("scope-denied", func(t *testing.T) {
		c := start(t, WithScenario(ScopeDenied))
		at := c.tokens("openid profile r_liteprofile").str("access_token")
		wantAPIError(t, c.api("/v2/userinfo", at), 403, 100, "ACCESS_DENIED", "Not enough permissions to access: userinfo.GET.NO_VERSION")
		wantAPIError(t, c.api("/v2/me", at), 403, 100, "ACCESS_DENIED", "Not enough permissions to access: GET /me")
	})
	t.Run("flaky alternates", func(t *testing.T) {
		c := start(t, WithScenario(Flaky))
		at := c.tokens("openid profile").str("access_token")
		for i := 1; i <= 4; i++ {
			r := c.api("/v2/userinfo", at)
			if want := map[bool]int{true: 503, false: 200}[i%2 == 1]; r.status != want {
				t.Fatalf("call %d: %d, want %d", i, r.status, want)
			}
		}
	})
	t.Run("no-refresh-token", func(t *testing.T) {
		c := start(t, WithScenario(NoRefreshToken))
		tok := c.tokens("openid profile")
		if _, ok := tok.body["refresh_token"]; ok {
			t.Errorf("refresh_token issued: %s", tok.raw)
		}
		if _, ok := tok.body["refresh_token_expires_in"]; ok {
			t.Errorf("refresh_token_expires_in sent: %s", tok.raw)
		}
		wantOAuthError(t, c.exchange(refreshForm("AQanything")), 400, "invalid_request", msgGrantInvalid)
	})
}

func TestSlowScenarioHonoursCancellation(t *testing.T) {
	c := start(t, WithScenario(Slow), WithSlowDelay(time.Hour))
	at := c.tokens("openid profile").str("access_token")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	_, err := c.hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call error %v, want the client's deadline", err)
	}
	// Close must not wait for the hour either: a second slow call is cut short.
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, c.base+"/v2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := c.hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for c.srv.Stats().APICalls < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := c.srv.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
}
