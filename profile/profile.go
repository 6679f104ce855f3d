package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/oauthdiag/oauthdiag/oauthflow"

	"github.com/BurntSushi/toml"
)

// SecretKind says where a profile's client secret comes from.
type SecretKind string

const (
	SecretDefault  SecretKind = ""         // not set: the command's own sources (flag, OAUTHDIAG_CLIENT_SECRET, prompt)
	SecretEnv      SecretKind = "env"      // an environment variable
	SecretPrompt   SecretKind = "prompt"   // asked for on the terminal each time
	SecretKeychain SecretKind = "keychain" // the OS keychain, account SecretAccount(profile)
	SecretPlain    SecretKind = "plain"    // in the config file itself (only with allow_plaintext_secret)
)

// SecretSource is a profile's secret setting. Plain holds the secret only for SecretPlain.
type SecretSource struct {
	Kind  SecretKind
	Env   string // the variable's name, for SecretEnv
	Plain string
}

// String describes the source without revealing a secret.
func (s SecretSource) String() string {
	switch s.Kind {
	case SecretEnv:
		return "env:" + s.Env
	case SecretPrompt, SecretKeychain:
		return string(s.Kind)
	case SecretPlain:
		return "plaintext in the config file"
	}
	return "default"
}

// Profile is one named configuration of the config file.
type Profile struct {
	Name string
	Line int // where the profile starts in the file; 0 when unknown
	// Provider is a preset name ("linkedin"); Issuer and DiscoveryURL ask for discovery.
	Provider     string
	Issuer       string
	DiscoveryURL string
	Endpoints    oauthflow.Endpoints
	ClientID     string
	RedirectURI  string
	Scopes       []string
	AuthMethod   oauthflow.AuthMethod // "" when not set
	PKCE         bool                 // default true
	APIHeaders   map[string]string
	Secret       SecretSource
	TokenStore   StorePreference // "" when not set
}

// ProfileFile is a parsed config file.
type ProfileFile struct {
	Path     string
	Profiles map[string]*Profile
	// Warnings are problems that do not stop the tool (a plaintext secret in a file others can read).
	Warnings []string
}

// Names returns the profile names, sorted.
func (f *ProfileFile) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrNoProfile is wrapped by Lookup's error for a name the file does not define.
var ErrNoProfile = errors.New("no such profile")

// Lookup returns the named profile.
func (f *ProfileFile) Lookup(name string) (*Profile, error) {
	if p, ok := f.Profiles[name]; ok {
		return p, nil
	}
	if len(f.Profiles) == 0 {
		return nil, fmt.Errorf("profile %q: %w: %s defines no profiles (add one with `oauthdiag profiles add %s ...`)", name, ErrNoProfile, f.Path, name)
	}
	return nil, fmt.Errorf("profile %q: %w in %s (it has %s)", name, ErrNoProfile, f.Path, strings.Join(f.Names(), ", "))
}

// ConfigError is a problem in the config file, located as precisely as the file allows.
type ConfigError struct {
	Path    string
	Line    int // 0 when unknown
	Profile string
	Key     string
	Msg     string
	Err     error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	switch {
	case e.Profile != "" && e.Key != "":
		fmt.Fprintf(&b, "profile %q, key %q: ", e.Profile, e.Key)
	case e.Profile != "":
		fmt.Fprintf(&b, "profile %q: ", e.Profile)
	case e.Key != "":
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// scopeList accepts scopes as an array or as one space- or comma-separated string.
type scopeList []string

func (s *scopeList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*s = oauthflow.SplitScopes(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("scopes must be strings, found %v", e)
			}
			out = append(out, oauthflow.SplitScopes(str)...)
		}
		*s = out
	default:
		return fmt.Errorf("scopes must be an array of strings or one string, found %T", v)
	}
	return nil
}

// rawProfile is a profile as written in the file.
type rawProfile struct {
	Provider             string            `toml:"provider,omitempty"`
	Issuer               string            `toml:"issuer,omitempty"`
	DiscoveryURL         string            `toml:"discovery_url,omitempty"`
	AuthURL              string            `toml:"auth_url,omitempty"`
	TokenURL             string            `toml:"token_url,omitempty"`
	UserinfoURL          string            `toml:"userinfo_url,omitempty"`
	IntrospectURL        string            `toml:"introspect_url,omitempty"`
	RevokeURL            string            `toml:"revoke_url,omitempty"`
	JWKSURL              string            `toml:"jwks_url,omitempty"`
	APIURL               string            `toml:"api_url,omitempty"`
	ClientID             string            `toml:"client_id,omitempty"`
	Secret               string            `toml:"secret,omitempty"`
	ClientSecret         string            `toml:"client_secret,omitempty"`
	AllowPlaintextSecret bool              `toml:"allow_plaintext_secret,omitempty"`
	RedirectURI          string            `toml:"redirect_uri,omitempty"`
	Scopes               scopeList         `toml:"scopes,omitempty"`
	AuthMethod           string            `toml:"auth_method,omitempty"`
	PKCE                 *bool             `toml:"pkce,omitempty"`
	APIHeaders           map[string]string `toml:"api_headers,omitempty"`
	TokenStore           string            `toml:"token_store,omitempty"`
}

type rawFile struct {
	Profiles map[string]rawProfile `toml:"profiles"`
}

// LoadProfiles reads the config file at path. A missing file is an empty one.
func LoadProfiles(path string) (*ProfileFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &ProfileFile{Path: path, Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the config file: %w", err)
	}
	f, err := ParseProfiles(path, data)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		for _, name := range f.Names() {
			if f.Profiles[name].Secret.Kind == SecretPlain {
				f.Warnings = append(f.Warnings, fmt.Sprintf("%s holds the client secret of profile %q in plain text and others can read it (mode %04o): chmod 600 %s, or move the secret to the keychain", path, name, fi.Mode().Perm(), path))
			}
		}
	}
	return f, nil
}

// ParseProfiles parses config file content; path is only used in messages.
func ParseProfiles(path string, data []byte) (*ProfileFile, error) {
	var raw rawFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		ce := &ConfigError{Path: path, Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: err}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			ce.Line, ce.Msg = pe.Position.Line, pe.Message
			if pe.LastKey != "" {
				ce.Msg = fmt.Sprintf("%s (at %s)", pe.Message, pe.LastKey)
			}
		}
		return nil, ce
	}
	lines := strings.Split(string(data), "\n")
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		ce := &ConfigError{Path: path, Line: keyLine(lines, k), Key: k[len(k)-1]}
		switch {
		case len(k) >= 3 && k[0] == "profiles":
			ce.Profile = k[1]
			ce.Msg = "unknown key; profiles take " + strings.Join(profileKeys(), ", ")
		case len(k) == 1:
			ce.Msg = "unknown key; the file holds [profiles.NAME] tables"
		default:
			ce.Msg = "unknown key"
		}
		return nil, ce
	}
	f := &ProfileFile{Path: path, Profiles: map[string]*Profile{}}
	for name, rp := range raw.Profiles {
		line := keyLine(lines, toml.Key{"profiles", name})
		p, err := rp.profile(name)
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				ce.Path, ce.Profile = path, name
				ce.Line = line
				if ce.Key != "" {
					if l := keyLine(lines, toml.Key{"profiles", name, ce.Key}); l > 0 {
						ce.Line = l
					}
				}
			}
			return nil, err
		}
		p.Line = line
		f.Profiles[name] = p
	}
	return f, nil
}

func profileKeys() []string {
	return []string{"provider", "issuer", "discovery_url", "auth_url", "token_url", "userinfo_url", "introspect_url", "revoke_url",
		"jwks_url", "api_url", "client_id", "secret", "client_secret", "allow_plaintext_secret", "redirect_uri", "scopes",
		"auth_method", "pkce", "api_headers", "token_store"}
}

func (rp rawProfile) profile(name string) (*Profile, error) {
	bad := func(key, format string, a ...any) error {
		return &ConfigError{Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	if err := ValidateProfileName(name); err != nil {
		return nil, &ConfigError{Msg: err.Error()}
	}
	p := &Profile{
		Name: name, Provider: rp.Provider, Issuer: rp.Issuer, DiscoveryURL: rp.DiscoveryURL, ClientID: rp.ClientID,
		RedirectURI: rp.RedirectURI, Scopes: []string(rp.Scopes), PKCE: true, APIHeaders: rp.APIHeaders,
		Endpoints: oauthflow.Endpoints{Authorization: rp.AuthURL, Token: rp.TokenURL, Userinfo: rp.UserinfoURL, Introspection: rp.IntrospectURL,
			Revocation: rp.RevokeURL, JWKS: rp.JWKSURL, API: rp.APIURL},
	}
	if rp.PKCE != nil {
		p.PKCE = *rp.PKCE
	}
	if rp.Provider != "" {
		if _, err := oauthflow.Preset(rp.Provider); err != nil {
			return nil, bad("provider", "%v", err)
		}
	}
	for _, u := range []struct{ key, v string }{
		{"issuer", rp.Issuer}, {"discovery_url", rp.DiscoveryURL}, {"auth_url", rp.AuthURL}, {"token_url", rp.TokenURL},
		{"userinfo_url", rp.UserinfoURL}, {"introspect_url", rp.IntrospectURL}, {"revoke_url", rp.RevokeURL},
		{"jwks_url", rp.JWKSURL}, {"api_url", rp.APIURL}, {"redirect_uri", rp.RedirectURI},
	} {
		if u.v == "" {
			continue
		}
		if err := oauthflow.CheckURL(u.v); err != nil {
			return nil, bad(u.key, "%v", err)
		}
	}
	if rp.Provider == "" && rp.Issuer == "" && rp.DiscoveryURL == "" && (rp.AuthURL == "" || rp.TokenURL == "") {
		return nil, bad("", "names no provider: set provider = \"linkedin\", issuer = URL (discovery), or auth_url and token_url")
	}
	if rp.AuthMethod != "" {
		m, err := oauthflow.ParseAuthMethod(rp.AuthMethod)
		if err != nil {
			return nil, bad("auth_method", "%v", err)
		}
		p.AuthMethod = m
	}
	if p.AuthMethod == oauthflow.AuthNone && !p.PKCE {
		return nil, bad("pkce", "a public client (auth_method = \"none\") needs PKCE: remove pkce = false")
	}
	if rp.TokenStore != "" {
		s, err := ParseStorePreference(rp.TokenStore)
		if err != nil {
			return nil, bad("token_store", "%v", err)
		}
		p.TokenStore = s
	}
	switch {
	case rp.ClientSecret != "" && rp.Secret != "":
		return nil, bad("client_secret", "set either secret (where the secret comes from) or client_secret, not both")
	case rp.ClientSecret != "" && !rp.AllowPlaintextSecret:
		return nil, bad("client_secret", "the client secret is in plain text: use secret = \"env:VARIABLE\", secret = \"keychain\" (then `oauthdiag profiles set-secret %s`) or secret = \"prompt\"; to keep it in this file anyway, add allow_plaintext_secret = true", name)
	case rp.ClientSecret != "":
		p.Secret = SecretSource{Kind: SecretPlain, Plain: rp.ClientSecret}
	default:
		s, err := ParseSecretSource(rp.Secret)
		if err != nil {
			return nil, bad("secret", "%v", err)
		}
		p.Secret = s
	}
	return p, nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseSecretSource reads a secret setting: "env:NAME", "prompt", "keychain" or "".
func ParseSecretSource(s string) (SecretSource, error) {
	switch {
	case s == "":
		return SecretSource{}, nil
	case s == string(SecretPrompt):
		return SecretSource{Kind: SecretPrompt}, nil
	case s == string(SecretKeychain):
		return SecretSource{Kind: SecretKeychain}, nil
	case strings.HasPrefix(s, "env:"):
		name := strings.TrimPrefix(s, "env:")
		if !envNameRE.MatchString(name) {
			return SecretSource{}, fmt.Errorf("%q is not an environment variable name", name)
		}
		return SecretSource{Kind: SecretEnv, Env: name}, nil
	}
	return SecretSource{}, errors.New(`secret says where the client secret comes from: "env:VARIABLE", "prompt" or "keychain" (the secret itself goes in client_secret, with allow_plaintext_secret = true)`)
}

// Config builds the flow configuration of the profile, without the secret. discover reports
// whether the provider's configuration must still be read from an issuer or discovery URL.
func (p *Profile) Config() (cfg oauthflow.Config, discover bool) {
	if p.Provider != "" {
		cfg.Provider, _ = oauthflow.Preset(p.Provider)
		discover = true
	}
	if p.Issuer != "" {
		cfg.Provider.Issuer = p.Issuer
		discover = true
		if p.Provider == "" {
			cfg.Provider.Name = oauthflow.HostOf(p.Issuer)
		}
	}
	if p.DiscoveryURL != "" {
		cfg.Provider.DiscoveryURL = p.DiscoveryURL
		discover = true
	}
	cfg.Provider.Endpoints = cfg.Provider.Endpoints.Overlay(p.Endpoints)
	if cfg.Provider.Name == "" {
		cfg.Provider.Name = "custom"
	}
	if len(p.APIHeaders) > 0 {
		h := make(map[string]string, len(cfg.Provider.APIHeaders)+len(p.APIHeaders))
		for k, v := range cfg.Provider.APIHeaders {
			h[k] = v
		}
		for k, v := range p.APIHeaders {
			h[k] = v
		}
		cfg.Provider.APIHeaders = h
	}
	cfg.Client = oauthflow.Client{ID: p.ClientID, RedirectURI: p.RedirectURI, Scopes: slices.Clone(p.Scopes), AuthMethod: p.AuthMethod, PKCE: p.PKCE}
	if p.Secret.Kind == SecretPlain {
		cfg.Client.Secret = p.Secret.Plain
	}
	return cfg, discover
}

// AppendProfile adds p to the config file at path as a new [profiles.NAME] table, keeping the
// rest of the file (comments included) as it is. The file is replaced atomically; a profile of
// that name must not exist. A plaintext secret is never written.
func AppendProfile(path string, p *Profile) error {
	if err := ValidateProfileName(p.Name); err != nil {
		return err
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the config file: %w", err)
	}
	existing, err := ParseProfiles(path, old)
	if err != nil {
		return fmt.Errorf("the config file has an error, fix it first: %w", err)
	}
	if _, ok := existing.Profiles[p.Name]; ok {
		return fmt.Errorf("profile %q already exists in %s: edit it there, or pick another name", p.Name, path)
	}
	if p.Secret.Kind == SecretPlain {
		return errors.New("oauthdiag does not write client secrets into the config file: use an environment variable, the keychain or the prompt")
	}
	rp := rawProfile{
		Provider: p.Provider, Issuer: p.Issuer, DiscoveryURL: p.DiscoveryURL,
		AuthURL: p.Endpoints.Authorization, TokenURL: p.Endpoints.Token, UserinfoURL: p.Endpoints.Userinfo,
		IntrospectURL: p.Endpoints.Introspection, RevokeURL: p.Endpoints.Revocation, JWKSURL: p.Endpoints.JWKS, APIURL: p.Endpoints.API,
		ClientID: p.ClientID, RedirectURI: p.RedirectURI, Scopes: scopeList(p.Scopes), AuthMethod: string(p.AuthMethod),
		APIHeaders: p.APIHeaders, TokenStore: string(p.TokenStore),
	}
	if p.Secret.Kind != SecretDefault {
		rp.Secret = p.Secret.String()
	}
	if !p.PKCE {
		f := false
		rp.PKCE = &f
	}
	var section bytes.Buffer
	if err := toml.NewEncoder(&section).Encode(rawFile{Profiles: map[string]rawProfile{p.Name: rp}}); err != nil {
		return fmt.Errorf("encoding the profile: %w", err)
	}
	out := bytes.TrimRight(old, "\n")
	if len(out) > 0 {
		out = append(out, "\n\n"...)
	}
	// The encoder writes an empty [profiles] table first; a file that has one already must not
	// get a second.
	sec := strings.TrimPrefix(section.String(), "[profiles]\n")
	out = append(out, strings.TrimLeft(sec, "\n")...)
	if _, err := ParseProfiles(path, out); err != nil {
		return fmt.Errorf("the new profile would not read back: %w", err)
	}
	if err := ensurePrivateDir(filepath.Dir(path)); err != nil {
		return err
	}
	return WriteFileAtomic(path, out, 0o600)
}

// keyLine finds the line where a key is set: a [table] header, a key = value line inside its
// table, or a dotted or inline-table form. 0 when it cannot tell.
func keyLine(lines []string, key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	parent, leaf := key[:len(key)-1], key[len(key)-1]
	header := regexp.MustCompile(`^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$`)
	assign := regexp.MustCompile(`^\s*(` + keyPattern(leaf) + `)\s*=`)
	var current []string
	for i, l := range lines {
		if m := header.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "[[") {
			current = splitDotted(m[1])
			if slices.Equal(current, []string(key)) {
				return i + 1
			}
			continue
		}
		if slices.Equal(current, []string(parent)) && assign.MatchString(l) {
			return i + 1
		}
		// Dotted keys and inline tables: "li.client_id = ..." or "li = { client_id = ... }".
		if len(current) <= len(parent) && slices.Equal(current, []string(parent[:len(current)])) {
			rest := parent[len(current):]
			prefix := ""
			for _, r := range rest {
				prefix += keyPattern(r) + `\s*(\.|=\s*\{.*?)\s*`
			}
			if regexp.MustCompile(`^\s*` + prefix + `(.*[\s{,])?` + keyPattern(leaf) + `\s*=`).MatchString(l) {
				return i + 1
			}
		}
	}
	return 0
}

func keyPattern(k string) string {
	q := regexp.QuoteMeta(k)
	return `(?:` + q + `|"` + q + `"|'` + q + `')`
}

func splitDotted(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ".") {
		out = append(out, strings.Trim(strings.TrimSpace(part), `"'`))
	}
	return out
}
