package profile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

const sampleConfig = `# oauthdiag profiles
[profiles]
li = { provider = "linkedin", client_id = "86abc", secret = "env:LINKEDIN_CLIENT_SECRET" }

[profiles.corp]
issuer = "https://login.example.com/realms/corp"
client_id = "diag"
secret = "keychain"
scopes = "openid profile offline_access"
auth_method = "basic"
token_store = "file"

[profiles.corp.api_headers]
X-Tenant = "blue"

[profiles.manual]
auth_url = "http://127.0.0.1:9000/authorize"
token_url = "http://127.0.0.1:9000/token"
revoke_url = "http://127.0.0.1:9000/revoke"
client_id = "public-app"
auth_method = "none"
redirect_uri = "http://127.0.0.1:8899/cb"
scopes = ["read", "write"]

[profiles.ci]
provider = "linkedin"
client_id = "ci-app"
client_secret = "plain-canary-secret"
allow_plaintext_secret = true
pkce = false
`

func TestParseProfiles(t *testing.T) {
	f, err := profile.ParseProfiles("config.toml", []byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "ci,corp,li,manual" {
		t.Fatalf("names = %s", got)
	}

	li, _ := f.Lookup("li")
	cfg, discover := li.Config()
	if !discover || cfg.Provider.Name != "linkedin" || cfg.Provider.Endpoints.Token != "https://www.linkedin.com/oauth/v2/accessToken" ||
		cfg.Client.ID != "86abc" || !cfg.Client.PKCE || cfg.Client.Secret != "" {
		t.Errorf("the one-line LinkedIn profile gives %+v (discover %v)", cfg, discover)
	}
	if li.Secret.Kind != profile.SecretEnv || li.Secret.Env != "LINKEDIN_CLIENT_SECRET" || li.Line != 3 {
		t.Errorf("li: secret %+v, line %d", li.Secret, li.Line)
	}

	corp, _ := f.Lookup("corp")
	cfg, discover = corp.Config()
	if !discover || cfg.Provider.Issuer != "https://login.example.com/realms/corp" || cfg.Provider.Name != "login.example.com" ||
		strings.Join(cfg.Client.Scopes, " ") != "openid profile offline_access" || cfg.Client.AuthMethod != oauthflow.AuthBasic ||
		cfg.Provider.APIHeaders["X-Tenant"] != "blue" {
		t.Errorf("corp gives %+v", cfg)
	}
	if corp.Secret.Kind != profile.SecretKeychain || corp.TokenStore != profile.StoreFile || corp.Line != 5 {
		t.Errorf("corp: %+v line %d", corp, corp.Line)
	}

	manual, _ := f.Lookup("manual")
	cfg, discover = manual.Config()
	if discover || cfg.Provider.Name != "custom" || cfg.Provider.Endpoints.Revocation != "http://127.0.0.1:9000/revoke" ||
		strings.Join(cfg.Client.Scopes, " ") != "read write" || cfg.Client.AuthMethod != oauthflow.AuthNone || cfg.Client.RedirectURI != "http://127.0.0.1:8899/cb" {
		t.Errorf("manual gives %+v (discover %v)", cfg, discover)
	}

	ci, _ := f.Lookup("ci")
	cfg, _ = ci.Config()
	if ci.Secret.Kind != profile.SecretPlain || cfg.Client.Secret != "plain-canary-secret" || cfg.Client.PKCE {
		t.Errorf("ci gives %+v", cfg)
	}
	if strings.Contains(ci.Secret.String(), "canary") {
		t.Errorf("the secret source description reveals the secret: %q", ci.Secret)
	}

	_, err = f.Lookup("nope")
	if !errors.Is(err, profile.ErrNoProfile) || !strings.Contains(err.Error(), "ci, corp, li, manual") {
		t.Errorf("Lookup(nope) = %v", err)
	}
}

func TestParseProfilesErrorsNameTheKeyAndLine(t *testing.T) {
	cases := []struct {
		name, config string
		line         int
		want         []string
	}{
		{"unknown key", "[profiles.li]\nprovider = \"linkedin\"\nclient_id = \"x\"\nscope = \"openid\"\n", 4,
			[]string{`profile "li", key "scope": unknown key`, "scopes"}},
		{"unknown key in an inline table", "[profiles]\nli = { provider = \"linkedin\", clientid = \"x\" }\n", 2,
			[]string{`key "clientid": unknown key`}},
		{"unknown top-level key", "default = \"li\"\n[profiles.li]\nprovider = \"linkedin\"\n", 1,
			[]string{`key "default": unknown key`}},
		{"plaintext secret", "[profiles.li]\nprovider = \"linkedin\"\nclient_id = \"x\"\nclient_secret = \"canary-s3cret\"\n", 4,
			[]string{"in plain text", "allow_plaintext_secret = true", `secret = "env:VARIABLE"`}},
		{"bad secret source", "[profiles.li]\nprovider = \"linkedin\"\nsecret = \"hunter2\"\n", 3,
			[]string{`key "secret"`, `"env:VARIABLE", "prompt" or "keychain"`}},
		{"bad URL", "[profiles.x]\nauth_url = \"ftp://a\"\ntoken_url = \"http://127.0.0.1/t\"\n", 2,
			[]string{`key "auth_url"`, "https://"}},
		{"no provider", "[profiles.x]\nclient_id = \"a\"\n", 1,
			[]string{"names no provider", "provider = \"linkedin\""}},
		{"unknown preset", "[profiles.x]\nprovider = \"github\"\n", 2, []string{"unknown provider preset \"github\""}},
		{"bad store", "[profiles.x]\nprovider = \"linkedin\"\ntoken_store = \"disk\"\n", 3, []string{"auto, keychain or file"}},
		{"bad auth method", "[profiles.x]\nprovider = \"linkedin\"\nauth_method = \"jwt\"\n", 3, []string{"unknown client auth method"}},
		{"public client without PKCE", "[profiles.x]\nprovider = \"linkedin\"\nauth_method = \"none\"\npkce = false\n", 4, []string{"needs PKCE"}},
		{"bad profile name", "[profiles.\"a b\"]\nprovider = \"linkedin\"\n", 1, []string{"not usable"}},
		{"TOML syntax", "[profiles.li]\nprovider = linkedin\n", 2, []string{"config.toml:2"}},
		{"wrong type", "[profiles.li]\nprovider = \"linkedin\"\npkce = \"yes\"\n", 0, []string{"line 3", "profiles.li.pkce", "type string"}},
		{"scopes of numbers", "[profiles.li]\nprovider = \"linkedin\"\nscopes = [1, 2]\n", 3, []string{"scopes must be strings"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := profile.ParseProfiles("config.toml", []byte(c.config))
			var ce *profile.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a ConfigError", err)
			}
			if ce.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", ce.Line, c.line, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "canary-s3cret") {
				t.Error("the error repeats the secret")
			}
		})
	}
}

func TestLoadProfiles(t *testing.T) {
	dir := t.TempDir()
	f, err := profile.LoadProfiles(filepath.Join(dir, "missing.toml"))
	if err != nil || len(f.Profiles) != 0 {
		t.Fatalf("a missing file = %+v, %v; want no profiles", f, err)
	}
	if _, err := f.Lookup("li"); err == nil || !strings.Contains(err.Error(), "oauthdiag profiles add li") {
		t.Errorf("Lookup in an empty file = %v", err)
	}
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(sampleConfig), 0o644)
	f, err = profile.LoadProfiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], `profile "ci" in plain text and others can read it`) {
		t.Errorf("warnings = %q", f.Warnings)
	}
	os.Chmod(path, 0o600)
	if f, _ = profile.LoadProfiles(path); len(f.Warnings) != 0 {
		t.Errorf("warnings for a private file: %q", f.Warnings)
	}
}

func TestAppendProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	path := filepath.Join(dir, "config.toml")
	p := &profile.Profile{Name: "li", Provider: "linkedin", ClientID: "86abc", PKCE: true,
		Secret: profile.SecretSource{Kind: profile.SecretEnv, Env: "LI_SECRET"}}
	if err := profile.AppendProfile(path, p); err != nil {
		t.Fatal(err)
	}
	// Existing content and comments survive a second profile.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("# my comment\n"), b...), 0o600)
	q := &profile.Profile{Name: "corp", Issuer: "https://id.example.com", ClientID: "d", Scopes: []string{"openid", "offline_access"},
		AuthMethod: oauthflow.AuthPost, PKCE: false, TokenStore: profile.StoreKeychain, Secret: profile.SecretSource{Kind: profile.SecretKeychain},
		APIHeaders: map[string]string{"X-A": "1"}}
	if err := profile.AppendProfile(path, q); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# my comment\n") {
		t.Errorf("the comment was lost:\n%s", b)
	}
	f, err := profile.LoadProfiles(path)
	if err != nil {
		t.Fatalf("the written file does not read back: %v\n%s", err, b)
	}
	li, _ := f.Lookup("li")
	corp, _ := f.Lookup("corp")
	if li.Provider != "linkedin" || li.ClientID != "86abc" || li.Secret.Env != "LI_SECRET" || !li.PKCE {
		t.Errorf("li read back as %+v", li)
	}
	if corp.Issuer != "https://id.example.com" || strings.Join(corp.Scopes, " ") != "openid offline_access" || corp.AuthMethod != oauthflow.AuthPost ||
		corp.PKCE || corp.TokenStore != profile.StoreKeychain || corp.Secret.Kind != profile.SecretKeychain || corp.APIHeaders["X-A"] != "1" {
		t.Errorf("corp read back as %+v\n%s", corp, b)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != want {
			t.Errorf("%s mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}

	if err := profile.AppendProfile(path, p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a duplicate name: %v", err)
	}
	plain := &profile.Profile{Name: "p", Provider: "linkedin", Secret: profile.SecretSource{Kind: profile.SecretPlain, Plain: "canary"}}
	if err := profile.AppendProfile(path, plain); err == nil {
		t.Error("a plaintext secret was written")
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Error("a refused append changed the file")
	}
}
