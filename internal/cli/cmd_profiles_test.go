package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPath(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"OAUTHDIAG_HOME": "/h", "XDG_CONFIG_HOME": "/x", "HOME": "/u"}, "/h/config/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/u"}, "/x/oauthdiag/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/u"}, "/u/.config/oauthdiag/config.toml"},
		{map[string]string{"HOME": "/u"}, "/u/.config/oauthdiag/config.toml"},
	} {
		env := &cliEnv{getenv: func(k string) string { return c.vars[k] }}
		got, err := configPath(env)
		if err != nil || got != c.want {
			t.Errorf("configPath(%v) = %q, %v; want %q", c.vars, got, err, c.want)
		}
	}
	if _, err := configPath(&cliEnv{getenv: func(string) string { return "" }}); err == nil {
		t.Error("no HOME and no OAUTHDIAG_HOME: want an error")
	}
}

func TestProfilesCommandListsProfilesAndCachedTokens(t *testing.T) {
	e := newTokEnv(t)
	empty := e.run(profilesCommand(), "--json")
	e.mustSucceed(empty, "profiles --json")

	cfg := filepath.Join(e.home, "config", "config.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("\n[profiles]\nli = { provider = \"linkedin\", client_id = \"86abc\", secret = \"env:LI_SECRET\", token_store = \"file\" }\n")...), 0o600)

	list := e.run(profilesCommand())
	e.mustSucceed(list, "profiles")
	for _, want := range []string{"Profiles in " + cfg, "NAME", "li", "linkedin", "86abc", "env:LI_SECRET", "sb-client", "env:SB_SECRET", "file (forced)"} {
		if !strings.Contains(list.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, list.stdout)
		}
	}
	if strings.Count(list.stdout, "none") != 2 {
		t.Errorf("want no cached token for both profiles:\n%s", list.stdout)
	}

	e.mustSucceed(e.call("/v2/userinfo"), "call")
	var out struct {
		Config   string       `json:"config"`
		Profiles []profileRow `json:"profiles"`
	}
	js := e.run(profilesCommand(), "--json")
	e.mustSucceed(js, "profiles --json")
	if err := json.Unmarshal([]byte(js.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, js.stdout)
	}
	if out.Config != cfg || len(out.Profiles) != 2 || out.Profiles[1].Name != "sb" {
		t.Fatalf("JSON = %+v", out)
	}
	sb := out.Profiles[1].Token
	if !sb.Cached || !sb.HasRefresh || sb.Next != "use" || sb.Expiry.IsZero() || !strings.HasPrefix(sb.Summary, "access expires in ") {
		t.Errorf("sb token row = %+v", sb)
	}
	if out.Profiles[0].Token.Cached {
		t.Errorf("li has no token: %+v", out.Profiles[0].Token)
	}
	e.noSecretsIn(js.stdout, list.stdout)
}

func TestProfileSecretsAndErrors(t *testing.T) {
	e := newTokEnv(t)
	// The secret comes from the variable the profile names; without it, the command says which.
	delete(e.vars, "SB_SECRET")
	r := e.call("/v2/userinfo")
	if r.err == nil || !strings.Contains(r.stderr, "warning: profile sb takes its client secret from $SB_SECRET, which is not set") {
		t.Fatalf("missing secret variable: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.err.Error(), "no client secret") {
		t.Errorf("error %v does not say the secret is missing", r.err)
	}
	// --client-secret still overrides the profile.
	e.mustSucceed(e.call("--client-secret", tokSecret, "/v2/userinfo"), "call with --client-secret")

	r = e.run(callCommand(), "--profile", "nope", "/v2/userinfo")
	var ue *usageError
	if !errors.As(r.err, &ue) || !strings.Contains(r.err.Error(), `profile "nope": no such profile in `) || !strings.Contains(r.err.Error(), "(it has sb)") {
		t.Errorf("unknown profile: %v", r.err)
	}

	cfg := filepath.Join(e.home, "config", "config.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("scopez = \"x\"\n")...), 0o600)
	r = e.call("/v2/userinfo")
	if r.err == nil || !strings.Contains(r.err.Error(), `config.toml:`) || !strings.Contains(r.err.Error(), `profile "sb", key "scopez": unknown key`) {
		t.Errorf("unknown key: %v", r.err)
	}
}

func TestProfilesAddRefusals(t *testing.T) {
	e := newTokEnv(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add"}, "missing profile NAME"},
		{[]string{"add", "x", "--client-id", "a"}, "name the provider"},
		{[]string{"add", "x", "--provider", "linkedin"}, "no client_id"},
		{[]string{"add", "x", "--provider", "linkedin", "--client-id", "a", "--client-secret", "canary-secret"}, "does not write client secrets"},
		{[]string{"add", "x", "--provider", "linkedin", "--client-id", "a", "--secret", "hunter2"}, `"env:VARIABLE", "prompt" or "keychain"`},
		{[]string{"add", "../x", "--provider", "linkedin", "--client-id", "a"}, "not usable"},
		{[]string{"add", "sb", "--provider", "linkedin", "--client-id", "a"}, "already exists"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"set-secret"}, "missing profile NAME"},
	} {
		r := e.run(profilesCommand(), c.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("profiles %v = %v, want %q", c.args, r.err, c.want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(e.home, "config", "config.toml"))
	if strings.Contains(string(b), "canary-secret") {
		t.Fatal("a secret reached the config file")
	}
}
