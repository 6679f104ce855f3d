package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/spf13/pflag"

	"github.com/charmbracelet/x/term"
)

// providerFlags are the flags every command that talks to a provider shares.
type providerFlags struct {
	profileName  string
	provider     string
	issuer       string
	discoveryURL string
	endpoints    oauthflow.Endpoints
	clientID     string
	clientSecret string
	authMethod   string
	redirectURI  string
	scope        string
	noPKCE       bool
	apiHeaders   multiFlag
	timeout      time.Duration
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
func (m *multiFlag) Type() string       { return "K=V" }

func (p *providerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.profileName, "profile", "", "use the named profile from the config file (flags override it)")
	fs.StringVar(&p.provider, "provider", "", "provider preset: linkedin")
	fs.StringVar(&p.issuer, "issuer", "", "OpenID Connect / OAuth issuer URL to discover the endpoints from")
	fs.StringVar(&p.discoveryURL, "discovery-url", "", "explicit discovery document URL (instead of the issuer's well-known location)")
	fs.StringVar(&p.endpoints.Authorization, "auth-url", "", "authorization endpoint (overrides discovery)")
	fs.StringVar(&p.endpoints.Token, "token-url", "", "token endpoint (overrides discovery)")
	fs.StringVar(&p.endpoints.Userinfo, "userinfo-url", "", "userinfo endpoint (overrides discovery)")
	fs.StringVar(&p.endpoints.Introspection, "introspect-url", "", "introspection endpoint, RFC 7662 (overrides discovery)")
	fs.StringVar(&p.endpoints.Revocation, "revoke-url", "", "revocation endpoint, RFC 7009 (overrides discovery)")
	fs.StringVar(&p.endpoints.JWKS, "jwks-url", "", "JWKS URL for ID token signatures (overrides discovery)")
	fs.StringVar(&p.endpoints.API, "api-url", "", "URL the api-call step GETs with the access token")
	fs.StringVar(&p.clientID, "client-id", "", "OAuth client_id")
	fs.StringVar(&p.clientSecret, "client-secret", "", "client secret (prefer OAUTHDIAG_CLIENT_SECRET or the prompt: flags show up in process lists)")
	fs.StringVar(&p.authMethod, "auth-method", "", "client authentication: basic (client_secret_basic), post (client_secret_post) or none (public client with PKCE)")
	fs.StringVar(&p.redirectURI, "redirect-uri", "", "redirect URI registered for the client (default "+oauthflow.DefaultRedirectURI+")")
	fs.StringVar(&p.scope, "scope", "", "scopes to request, space- or comma-separated (default: the provider's)")
	fs.BoolVar(&p.noPKCE, "no-pkce", false, "do not send a PKCE code_challenge (PKCE S256 is on by default)")
	fs.Var(&p.apiHeaders, "api-header", "header for API calls, K=V or 'K: V' (repeatable), e.g. LinkedIn-Version=202411")
	fs.DurationVar(&p.timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
}

// resolved is a configuration ready to run, plus how to complete it.
type resolved struct {
	cfg oauthflow.Config
	// discover says the provider configuration must be read first (from issuer or discoveryURL).
	discover     bool
	issuer       string
	discoveryURL string
	profileName  string
}

// resolve builds the configuration from a profile (if any), the preset, discovery settings and the
// explicit flags, in that order of increasing precedence. The secret comes from the flag, then
// OAUTHDIAG_CLIENT_SECRET (or the profile's source), then a prompt when stdin is a terminal.
func (p *providerFlags) resolve(env *cliEnv, promptForSecret bool) (*resolved, error) {
	res := &resolved{}
	cfg := &res.cfg
	cfg.Client.PKCE = true
	if p.profileName != "" {
		if err := applyProfile(env, p.profileName, res); err != nil {
			return nil, err
		}
		res.profileName = p.profileName
	}
	if p.provider != "" {
		preset, err := oauthflow.Preset(p.provider)
		if err != nil {
			return nil, usagef("--provider: %v (on the command line: --issuer URL, or --auth-url and --token-url)", err)
		}
		cfg.Provider = preset
		res.discover = true
		res.issuer = cfg.Provider.Issuer
		res.discoveryURL = cfg.Provider.DiscoveryURL
	}
	if p.issuer != "" {
		res.discover, res.issuer = true, p.issuer
		cfg.Provider.Issuer = p.issuer
		if p.provider == "" {
			cfg.Provider.Name = ""
		}
	}
	if p.discoveryURL != "" {
		res.discover, res.discoveryURL = true, p.discoveryURL
	}
	if cfg.Provider.Name == "" {
		cfg.Provider.Name = "custom"
	}
	if err := p.overlay(cfg); err != nil {
		return nil, err
	}
	if cfg.Client.RedirectURI == "" {
		cfg.Client.RedirectURI = oauthflow.DefaultRedirectURI
	}
	if cfg.Client.Secret == "" {
		cfg.Client.Secret = env.getenv("OAUTHDIAG_CLIENT_SECRET")
	}
	if cfg.Client.ID == "" && !res.discover && cfg.Provider.Endpoints.Authorization == "" && cfg.Provider.Endpoints.Token == "" {
		return nil, usagef("no provider given: use --provider linkedin, --issuer URL, the endpoint flags (--auth-url, --token-url), --profile NAME, or --sandbox SCENARIO")
	}
	if cfg.Client.ID == "" {
		return nil, usagef("no client_id: pass --client-id (the application's ID at the provider)")
	}
	if cfg.Client.Secret == "" && cfg.Client.AuthMethod != oauthflow.AuthNone && promptForSecret {
		secret, err := promptSecret(env, "Client secret for "+cfg.Client.ID+": ")
		if err != nil {
			return nil, err
		}
		cfg.Client.Secret = secret
	}
	return res, nil
}

// overlay puts the endpoint, client and API header flags that were given over cfg.
func (p *providerFlags) overlay(cfg *oauthflow.Config) error {
	cfg.Provider.Endpoints = cfg.Provider.Endpoints.Overlay(p.endpoints)
	if p.clientID != "" {
		cfg.Client.ID = p.clientID
	}
	if p.clientSecret != "" {
		cfg.Client.Secret = p.clientSecret
	}
	if p.authMethod != "" {
		m, err := oauthflow.ParseAuthMethod(p.authMethod)
		if err != nil {
			return usagef("%v", err)
		}
		cfg.Client.AuthMethod = m
	}
	if p.redirectURI != "" {
		cfg.Client.RedirectURI = p.redirectURI
	}
	if p.scope != "" {
		cfg.Client.Scopes = oauthflow.SplitScopes(p.scope)
	}
	if p.noPKCE {
		cfg.Client.PKCE = false
	}
	return p.applyAPIHeaders(cfg)
}

// applyAPIHeaders puts the --api-header values over the provider's API headers.
func (p *providerFlags) applyAPIHeaders(cfg *oauthflow.Config) error {
	flagged, err := parseAPIHeaders(p.apiHeaders)
	if err != nil || len(flagged) == 0 {
		return err
	}
	headers := map[string]string{}
	for k, v := range cfg.Provider.APIHeaders {
		headers[k] = v
	}
	for k, v := range flagged {
		headers[k] = v
	}
	cfg.Provider.APIHeaders = headers
	return nil
}

// parseAPIHeaders reads --api-header values, Name=value or 'Name: value', into a map (nil when
// there are none); a later value for a name wins.
func parseAPIHeaders(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	headers := make(map[string]string, len(values))
	for _, h := range values {
		k, v, ok := strings.Cut(h, "=")
		if !ok {
			k, v, ok = strings.Cut(h, ":")
		}
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--api-header %q: write it as Name=value", h)
		}
		headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return headers, nil
}

// promptSecret reads a secret from the terminal without echo. Without a terminal it refuses
// rather than read a secret that would be echoed or piped in by accident.
func promptSecret(env *cliEnv, prompt string) (string, error) {
	f, ok := env.stdin.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return "", usagef("no client secret: pass --client-secret, set OAUTHDIAG_CLIENT_SECRET, or use --auth-method none for a public client")
	}
	fmt.Fprint(env.stderr, prompt)
	b, err := term.ReadPassword(f.Fd())
	fmt.Fprintln(env.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the client secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("empty client secret")
	}
	return s, nil
}

// parseParams reads repeated --param name=value flags into extra authorization request parameters.
func parseParams(params multiFlag) (url.Values, error) {
	extra := url.Values{}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--param %q: write it as name=value", p)
		}
		extra.Add(k, v)
	}
	return extra, nil
}
