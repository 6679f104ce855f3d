package sandbox

import (
	"crypto/rsa"
	"io"
	"log/slog"
	"time"
)

// Defaults, chosen to match LinkedIn where LinkedIn documents a value.
const (
	DefaultClientID        = "sandbox-client"
	DefaultClientSecret    = "sandbox-secret"
	DefaultRedirectURI     = "http://127.0.0.1:8765/callback"
	DefaultAccessTokenTTL  = 60 * 24 * time.Hour  // LinkedIn member tokens: 5184000 s
	DefaultRefreshTokenTTL = 365 * 24 * time.Hour // LinkedIn refresh tokens, never extended
	DefaultSlowDelay       = 12 * time.Second

	// AuthorizationCodeTTL is how long an authorization code can be redeemed.
	AuthorizationCodeTTL = 30 * time.Minute
	// ClientCredentialsTTL is the lifetime of 2-legged (client_credentials) tokens.
	ClientCredentialsTTL = 30 * time.Minute
	// IDTokenTTL is the lifetime written into the id_token's exp claim.
	IDTokenTTL = time.Hour
	// LoginPageTTL is how long a login or consent page stays usable.
	LoginPageTTL = 10 * time.Minute
)

// client is one registered application.
type client struct {
	id           string
	secret       string // "" marks a public client, which must use PKCE
	redirectURIs []string
}

func (c *client) public() bool { return c.secret == "" }

// allowsRedirect reports whether uri is registered; LinkedIn compares exactly
// (scheme, host, port, path and trailing slash).
func (c *client) allowsRedirect(uri string) bool {
	for _, r := range c.redirectURIs {
		if r == uri {
			return true
		}
	}
	return false
}

type config struct {
	scenario    Scenario
	compliance  Compliance
	clients     []client
	accessTTL   time.Duration
	refreshTTL  time.Duration
	clock       func() time.Time
	random      io.Reader
	autoConsent bool
	slowDelay   time.Duration
	logger      *slog.Logger
	signingKey  *rsa.PrivateKey
}

// Option configures a Server.
type Option func(*config)

// WithScenario sets the initial scenario (default Happy); SetScenario changes it later.
func WithScenario(s Scenario) Option { return func(c *config) { c.scenario = s } }

// WithCompliance sets the compliance mode (default ComplianceLinkedIn).
func WithCompliance(m Compliance) Option { return func(c *config) { c.compliance = m } }

// WithClient registers an application. Given several times, it registers several
// clients; the first call replaces the default client. A secret of "" registers a
// public client, which must use PKCE. Without redirect URIs the client gets
// DefaultRedirectURI. An empty id is ignored.
func WithClient(id, secret string, redirectURIs ...string) Option {
	return func(c *config) {
		if id == "" {
			return
		}
		uris := append([]string(nil), redirectURIs...)
		if len(uris) == 0 {
			uris = []string{DefaultRedirectURI}
		}
		c.clients = append(c.clients, client{id: id, secret: secret, redirectURIs: uris})
	}
}

// WithAccessTokenTTL sets the lifetime of member access tokens (default 60 days).
// A non-positive d keeps the default.
func WithAccessTokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.accessTTL = d
		}
	}
}

// WithRefreshTokenTTL sets the lifetime of refresh tokens (default 365 days). The
// lifetime runs from the authorization and is never extended by a refresh.
// A non-positive d keeps the default.
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.refreshTTL = d
		}
	}
}

// WithClock sets the time source (default time.Now). It drives token expiry,
// id_token claims and the Date header.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithRandom sets the source of randomness for codes, tokens and response ids
// (default crypto/rand). The RSA signing key is not drawn from it: since Go 1.26
// rsa.GenerateKey always uses a secure source; use WithSigningKey to fix the key.
func WithRandom(r io.Reader) Option {
	return func(c *config) {
		if r != nil {
			c.random = r
		}
	}
}

// WithSigningKey sets the RSA key that signs id_tokens (default: a fresh
// RSA-2048 key per server). Tests use it to skip key generation and to get a
// stable key id.
func WithSigningKey(k *rsa.PrivateKey) Option { return func(c *config) { c.signingKey = k } }

// WithAutoConsent makes /oauth/v2/authorization redirect straight back with a
// code (headless use). Without it (the default) a person signs in and consents
// on HTML pages.
func WithAutoConsent(on bool) Option { return func(c *config) { c.autoConsent = on } }

// WithSlowDelay sets how long API calls wait in the Slow scenario (default 12 s).
// A non-positive d keeps the default.
func WithSlowDelay(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.slowDelay = d
		}
	}
}

// WithLogger logs one line per request (method, path, status, request id) and
// scenario changes. Query strings, form values and headers are never logged,
// so codes, tokens and secrets stay out of the log.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

func defaultConfig() config {
	return config{
		scenario:   Happy,
		compliance: ComplianceLinkedIn,
		accessTTL:  DefaultAccessTokenTTL,
		refreshTTL: DefaultRefreshTokenTTL,
		clock:      time.Now,
		slowDelay:  DefaultSlowDelay,
		logger:     slog.New(slog.DiscardHandler),
	}
}
