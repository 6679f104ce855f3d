package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// loadProfileFile reads the config file, printing its warnings once.
func loadProfileFile(env *cliEnv) (*profile.ProfileFile, error) {
	path, err := configPath(env)
	if err != nil {
		return nil, err
	}
	f, err := profile.LoadProfiles(path)
	if err != nil {
		return nil, err
	}
	for _, w := range f.Warnings {
		fmt.Fprintln(env.stderr, "warning: "+w)
	}
	return f, nil
}

// loadProfile returns the named profile of the config file.
func loadProfile(env *cliEnv, name string) (*profile.Profile, error) {
	f, err := loadProfileFile(env)
	if err != nil {
		return nil, err
	}
	p, err := f.Lookup(name)
	if err != nil {
		return nil, usagef("--profile: %v", err)
	}
	return p, nil
}

// applyProfile fills res from the named profile of the config file. The client secret comes
// from the source the profile names; when that source has none, a warning says so and the
// command's own sources (--client-secret, OAUTHDIAG_CLIENT_SECRET, the prompt) still apply.
func applyProfile(env *cliEnv, name string, res *resolved) error {
	p, err := loadProfile(env, name)
	if err != nil {
		return err
	}
	cfg, discover := p.Config()
	res.cfg = cfg
	res.discover = discover
	if discover {
		res.issuer = cfg.Provider.Issuer
		res.discoveryURL = cfg.Provider.DiscoveryURL
	}
	if cfg.Client.AuthMethod == oauthflow.AuthNone {
		return nil
	}
	switch p.Secret.Kind {
	case profile.SecretEnv:
		if res.cfg.Client.Secret = env.getenv(p.Secret.Env); res.cfg.Client.Secret == "" {
			fmt.Fprintf(env.stderr, "warning: profile %s takes its client secret from $%s, which is not set\n", name, p.Secret.Env)
		}
	case profile.SecretKeychain:
		secret, err := profile.NewKeychain(profile.KeychainService, 0).Get(profile.SecretAccount(name))
		switch {
		case errors.Is(err, profile.ErrNotStored):
			fmt.Fprintf(env.stderr, "warning: the keychain has no client secret for profile %s: store it with `oauthdiag profiles set-secret %s`\n", name, name)
		case err != nil:
			fmt.Fprintf(env.stderr, "warning: profile %s keeps its client secret in the keychain, which cannot be read: %v\n", name, err)
		}
		res.cfg.Client.Secret = secret
	}
	return nil
}

func profilesCommand() command {
	return command{
		name:    "profiles",
		summary: "list the profiles of the config file (add, set-secret: manage them)",
		long:    profilesUsage,
		example: "  oauthdiag profiles add li --provider linkedin --client-id 86abc --secret env:LINKEDIN_CLIENT_SECRET\n  oauthdiag profiles --json",
		setup:   setupProfiles,
		sub: []command{
			{name: "add", use: "NAME", summary: "add a profile to the config file", args: exactArgs(1, "profile NAME"), setup: setupProfilesAdd,
				example: "  oauthdiag profiles add corp --issuer https://login.example.com/realms/corp --client-id diag --secret keychain"},
			{name: "set-secret", use: "NAME", summary: "store a profile's client secret in the OS keychain", args: exactArgs(1, "profile NAME"),
				setup: setupProfilesSetSecret, complete: completeProfiles,
				example: "  oauthdiag profiles set-secret corp\n  oauthdiag profiles set-secret corp --from-env CORP_SECRET"},
		},
	}
}

const profilesUsage = `Lists the profiles of the config file and their cached tokens; add and set-secret manage them.

The config file is $OAUTHDIAG_HOME/config/config.toml, else $XDG_CONFIG_HOME/oauthdiag/config.toml,
else ~/.config/oauthdiag/config.toml. A profile is a [profiles.NAME] table:

  [profiles]
  li = { provider = "linkedin", client_id = "86abc", secret = "env:LINKEDIN_CLIENT_SECRET" }

  [profiles.corp]
  issuer = "https://login.example.com/realms/corp"   # or auth_url, token_url, ... explicitly
  client_id = "diag"
  secret = "keychain"            # env:VARIABLE | prompt | keychain
  scopes = ["openid", "profile", "offline_access"]
  auth_method = "basic"          # basic | post | none
  pkce = true
  token_store = "auto"           # auto | keychain | file

Other keys: discovery_url, auth_url, token_url, userinfo_url, introspect_url, revoke_url, jwks_url,
api_url, redirect_uri, api_headers (a table). The secret itself is never written to the file;
client_secret = "..." is accepted only together with allow_plaintext_secret = true.
`

func setupProfiles(env *cliEnv, fs *pflag.FlagSet) runFunc {
	jsonOut := fs.Bool("json", false, "print JSON")
	return func(ctx context.Context, args []string) error {
		f, err := loadProfileFile(env)
		if err != nil {
			return err
		}
		rows, err := profileRows(env, f, time.Now())
		if err != nil {
			return err
		}
		if *jsonOut {
			return writeJSON(env.stdout, struct {
				Config   string       `json:"config"`
				Profiles []profileRow `json:"profiles"`
			}{f.Path, rows})
		}
		if len(rows) == 0 {
			fmt.Fprintf(env.stdout, "No profiles in %s. Add one with\n  oauthdiag profiles add li --provider linkedin --client-id ID --secret env:LINKEDIN_CLIENT_SECRET\n", f.Path)
			return nil
		}
		fmt.Fprintf(env.stdout, "Profiles in %s\n\n", f.Path)
		tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPROVIDER\tCLIENT_ID\tSECRET\tTOKEN STORE\tCACHED TOKEN")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Provider, orDash(r.ClientID), r.Secret, r.Store, r.Token.Summary)
		}
		return tw.Flush()
	}
}

// profileRow is one line of the profile list. It holds no secret.
type profileRow struct {
	Name     string          `json:"name"`
	Line     int             `json:"line,omitempty"`
	Provider string          `json:"provider"`
	ClientID string          `json:"client_id"`
	Secret   string          `json:"secret"`
	Store    string          `json:"token_store"`
	Token    profileTokenRow `json:"token"`
}

type profileTokenRow struct {
	Cached        bool      `json:"cached"`
	Expiry        time.Time `json:"expiry,omitzero"`
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
	HasRefresh    bool      `json:"has_refresh_token,omitempty"`
	Next          string    `json:"next,omitempty"` // what a command would do: use, refresh, authorize
	Summary       string    `json:"summary"`
}

func profileRows(env *cliEnv, f *profile.ProfileFile, now time.Time) ([]profileRow, error) {
	dir, err := stateDir(env)
	if err != nil {
		return nil, err
	}
	stores := map[profile.StorePreference]profile.TokenStore{}
	var rows []profileRow
	for _, name := range f.Names() {
		p := f.Profiles[name]
		cfg, _ := p.Config()
		row := profileRow{Name: name, Line: p.Line, Provider: cfg.Provider.Name, ClientID: p.ClientID, Secret: p.Secret.String()}
		if p.Issuer != "" && p.Provider == "" {
			row.Provider = p.Issuer
		}
		pref, err := storePreference(env, "", p)
		if err != nil {
			return nil, err
		}
		store, ok := stores[pref]
		if !ok {
			var reason string
			store, reason, err = profile.OpenStore(pref, filepath.Join(dir, "tokens"), nil, time.Now)
			if err != nil {
				row.Store, row.Token.Summary = string(pref), "unavailable: "+err.Error()
				rows = append(rows, row)
				continue
			}
			noteFallbackOnce(env, dir, reason)
			stores[pref] = store
		}
		row.Store = store.Kind()
		if pref != profile.StoreAuto {
			row.Store += " (forced)"
		}
		row.Token = tokenRow(store, name, cfg, now)
		rows = append(rows, row)
	}
	return rows, nil
}

func tokenRow(store profile.TokenStore, name string, cfg oauthflow.Config, now time.Time) profileTokenRow {
	st, err := store.Load(name)
	var ce *profile.CorruptEntryError
	switch {
	case errors.Is(err, profile.ErrNotStored):
		return profileTokenRow{Summary: "none"}
	case errors.As(err, &ce):
		return profileTokenRow{Summary: "unreadable, moved aside to " + ce.MovedTo}
	case err != nil:
		return profileTokenRow{Summary: "cannot read: " + err.Error()}
	}
	d := profile.Plan(st, cfg, now, 0)
	row := profileTokenRow{Cached: true, Expiry: st.Token.Expiry, RefreshExpiry: st.Token.RefreshExpiry,
		HasRefresh: st.Token.RefreshToken != "", Next: d.Action.String()}
	var parts []string
	switch left := st.Token.Expiry.Sub(now); {
	case st.Token.Expiry.IsZero():
		parts = append(parts, "access: expiry unknown")
	case left > 0:
		parts = append(parts, "access expires in "+oauthflow.HumanDuration(left))
	default:
		parts = append(parts, "access expired "+oauthflow.HumanDuration(-left)+" ago")
	}
	switch left := st.Token.RefreshExpiry.Sub(now); {
	case st.Token.RefreshToken == "":
		parts = append(parts, "no refresh token")
	case st.Token.RefreshExpiry.IsZero():
		parts = append(parts, "refresh: expiry unknown")
	case left > 0:
		parts = append(parts, "refresh in "+oauthflow.HumanDuration(left))
	default:
		parts = append(parts, "refresh expired")
	}
	row.Summary = strings.Join(parts, ", ") + " (next: " + row.Next + ")"
	return row
}

func setupProfilesAdd(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var pf providerFlags
	pf.register(fs)
	secret := fs.String("secret", "", "where the client secret comes from: env:VARIABLE, prompt or keychain")
	tokenStore := fs.String("token-store", "", "where the profile's tokens go: auto, keychain or file")
	return func(ctx context.Context, args []string) error {
		name := args[0]
		if err := profile.ValidateProfileName(name); err != nil {
			return usagef("%v", err)
		}
		if pf.clientSecret != "" {
			return usagef("oauthdiag does not write client secrets into the config file: use --secret env:VARIABLE, --secret keychain (then `oauthdiag profiles set-secret %s`) or --secret prompt", name)
		}
		if pf.profileName != "" {
			return usagef("--profile does not apply to profiles add")
		}
		p := &profile.Profile{Name: name, Issuer: pf.issuer, DiscoveryURL: pf.discoveryURL, Endpoints: pf.endpoints,
			ClientID: pf.clientID, RedirectURI: pf.redirectURI, Scopes: oauthflow.SplitScopes(pf.scope), PKCE: !pf.noPKCE}
		if pf.provider != "" {
			if _, err := oauthflow.Preset(pf.provider); err != nil {
				return usagef("--provider: %v", err)
			}
			p.Provider = strings.ToLower(pf.provider)
		}
		if p.Provider == "" && p.Issuer == "" && p.DiscoveryURL == "" && (p.Endpoints.Authorization == "" || p.Endpoints.Token == "") {
			return usagef("name the provider: --provider linkedin, --issuer URL, or --auth-url and --token-url")
		}
		if p.ClientID == "" {
			return usagef("no client_id: pass --client-id")
		}
		if pf.authMethod != "" {
			m, err := oauthflow.ParseAuthMethod(pf.authMethod)
			if err != nil {
				return usagef("%v", err)
			}
			p.AuthMethod = m
		}
		var err error
		if p.Secret, err = profile.ParseSecretSource(*secret); err != nil {
			return usagef("--secret: %v", err)
		}
		if *tokenStore != "" {
			if p.TokenStore, err = profile.ParseStorePreference(*tokenStore); err != nil {
				return usagef("--token-store: %v", err)
			}
		}
		if p.APIHeaders, err = parseAPIHeaders(pf.apiHeaders); err != nil {
			return err
		}
		path, err := configPath(env)
		if err != nil {
			return err
		}
		if err := profile.AppendProfile(path, p); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Added profile %s to %s\n", name, path)
		if p.Secret.Kind == profile.SecretKeychain {
			fmt.Fprintf(env.stdout, "Store its client secret with: oauthdiag profiles set-secret %s\n", name)
		}
		return nil
	}
}

func setupProfilesSetSecret(env *cliEnv, fs *pflag.FlagSet) runFunc {
	fromEnv := fs.String("from-env", "", "read the secret from this environment variable instead of the terminal")
	return func(ctx context.Context, args []string) error {
		name := args[0]
		if err := profile.ValidateProfileName(name); err != nil {
			return usagef("%v", err)
		}
		var secret string
		if *fromEnv != "" {
			if secret = env.getenv(*fromEnv); secret == "" {
				return usagef("$%s is not set", *fromEnv)
			}
		} else {
			var err error
			if secret, err = promptSecret(env, "Client secret for profile "+name+": "); err != nil {
				return err
			}
		}
		kc := profile.NewKeychain(profile.KeychainService, 0)
		if err := kc.Set(profile.SecretAccount(name), secret); err != nil {
			return fmt.Errorf("storing the secret: %w; without a keychain, use secret = \"env:VARIABLE\" in the profile", err)
		}
		fmt.Fprintf(env.stdout, "Stored the client secret of profile %s in the keychain (service %q, account %q).\n", name, profile.KeychainService, profile.SecretAccount(name))
		if p, err := loadProfile(env, name); err == nil && p.Secret.Kind != profile.SecretKeychain {
			fmt.Fprintf(env.stdout, "Note: the profile does not read it yet: set secret = \"keychain\" in its table.\n")
		}
		return nil
	}
}

// storePreference picks the token store: the --token-store flag, else $OAUTHDIAG_TOKEN_STORE,
// else the profile's token_store, else auto. Values were checked by the caller or the profile parser.
func storePreference(env *cliEnv, flagValue string, p *profile.Profile) (profile.StorePreference, error) {
	if flagValue != "" {
		pref, err := profile.ParseStorePreference(flagValue)
		if err != nil {
			return "", usagef("--token-store: %v", err)
		}
		return pref, nil
	}
	if v := env.getenv("OAUTHDIAG_TOKEN_STORE"); v != "" {
		pref, err := profile.ParseStorePreference(v)
		if err != nil {
			return "", usagef("OAUTHDIAG_TOKEN_STORE: %v", err)
		}
		return pref, nil
	}
	if p != nil && p.TokenStore != "" {
		return p.TokenStore, nil
	}
	return profile.StoreAuto, nil
}

// noteFallbackOnce tells the user why tokens go to files instead of the keychain, the first
// time that happens (and again when the reason changes), not on every command.
func noteFallbackOnce(env *cliEnv, stateDir, reason string) {
	if reason == "" {
		return
	}
	marker := filepath.Join(stateDir, "keychain-fallback")
	if old, err := os.ReadFile(marker); err == nil && string(old) == reason {
		return
	}
	fmt.Fprintln(env.stderr, "note: "+reason+" (shown once; --token-store file silences the keychain check)")
	_ = profile.WriteFileAtomic(marker, []byte(reason), 0o600)
}
