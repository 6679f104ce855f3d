package cli

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func TestParseAPIHeaders(t *testing.T) {
	cases := []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{nil, nil, ""},
		{[]string{"LinkedIn-Version=202411"}, map[string]string{"LinkedIn-Version": "202411"}, ""},
		{[]string{"X-Restli-Protocol-Version: 2.0.0"}, map[string]string{"X-Restli-Protocol-Version": "2.0.0"}, ""},
		{[]string{" A = 1 ", "B: x", "A=2"}, map[string]string{"A": "2", "B": "x"}, ""},
		{[]string{"A="}, map[string]string{"A": ""}, ""},
		{[]string{"NoSeparator"}, nil, `--api-header "NoSeparator": write it as Name=value`},
		{[]string{" =v"}, nil, "write it as Name=value"},
	}
	for _, c := range cases {
		got, err := parseAPIHeaders(c.in)
		if c.err != "" {
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseAPIHeaders(%q) = %v, want a usage error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("parseAPIHeaders(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// --api-header values go over the provider's API headers, which are not changed in place.
func TestApplyAPIHeaders(t *testing.T) {
	preset := map[string]string{"LinkedIn-Version": "202401", "X-Keep": "1"}
	cfg := oauthflow.Config{Provider: oauthflow.Provider{APIHeaders: preset}}
	pf := providerFlags{apiHeaders: multiFlag{"LinkedIn-Version=202411"}}
	if err := pf.applyAPIHeaders(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"LinkedIn-Version": "202411", "X-Keep": "1"}; !maps.Equal(cfg.Provider.APIHeaders, want) {
		t.Errorf("headers %v, want %v", cfg.Provider.APIHeaders, want)
	}
	if preset["LinkedIn-Version"] != "202401" {
		t.Error("the provider's map was changed in place")
	}
}

func TestResolveProviderPreset(t *testing.T) {
	env := &cliEnv{getenv: func(string) string { return "" }}
	pf := providerFlags{provider: "LinkedIn", clientID: "86abc", authMethod: "none"}
	res, err := pf.resolve(env, false)
	if err != nil {
		t.Fatal(err)
	}
	want := oauthflow.LinkedIn()
	if !res.discover || res.issuer != want.Issuer || res.discoveryURL != want.DiscoveryURL || res.cfg.Provider.Name != want.Name {
		t.Errorf("--provider LinkedIn resolved to %+v", res)
	}

	pf.provider = "github"
	_, err = pf.resolve(env, false)
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("an unknown --provider: %v, want a usage error", err)
	}
	for _, want := range []string{`--provider: unknown provider preset "github"`, "linkedin", "--issuer URL", "--auth-url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q lacks %q", err, want)
		}
	}
}
