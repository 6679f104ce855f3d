package testkit_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// TestStartSandboxServesUntilTheTestEnds: the sandbox answers discovery on loopback with the
// options given, and is closed once the test that started it is done.
func TestStartSandboxServesUntilTheTestEnds(t *testing.T) {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var base string
	t.Run("running", func(t *testing.T) {
		s := testkit.StartSandbox(t, sandbox.WithScenario(sandbox.Flaky))
		base = s.BaseURL()
		if !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("BaseURL %q, want a loopback URL", base)
		}
		if s.Scenario() != sandbox.Flaky {
			t.Errorf("scenario %q: the options were not applied", s.Scenario())
		}
		resp, err := hc.Get(s.Issuer() + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			Issuer string `json:"issuer"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK || doc.Issuer != s.Issuer() {
			t.Fatalf("discovery: HTTP %d, issuer %q, %v; want 200 and %q", resp.StatusCode, doc.Issuer, err, s.Issuer())
		}
	})
	if base == "" {
		t.Fatal("the subtest did not start the sandbox")
	}
	if resp, err := hc.Get(base + "/oauth/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Fatal("the sandbox still answers after its test ended")
	}
}
