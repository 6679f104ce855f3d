package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/oauthdiag/oauthdiag/sandbox"
	"github.com/spf13/pflag"
)

// sandboxFlags are the sandbox command's flags.
type sandboxFlags struct {
	addr         string
	scenario     string
	compliance   string
	clientID     string
	clientSecret string
	redirectURIs multiFlag
	accessTTL    time.Duration
	refreshTTL   time.Duration
	slowDelay    time.Duration
	autoConsent  bool
	quiet        bool
}

func sandboxCommand() command {
	return command{
		name:    "sandbox",
		summary: "run the LinkedIn-like sandbox provider on a loopback address",
		example: "  oauthdiag sandbox --addr 127.0.0.1:9000\n  oauthdiag sandbox --scenario rate-limited --json",
		setup:   setupSandbox,
	}
}

func (f *sandboxFlags) register(fs *pflag.FlagSet) {
	var names []string
	for _, s := range sandbox.Scenarios() {
		names = append(names, s.String())
	}
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8766", "loopback host:port to listen on (127.0.0.1:0 picks a free port)")
	fs.StringVar(&f.scenario, "scenario", sandbox.Happy.String(), "fault to inject: "+strings.Join(names, ", "))
	fs.StringVar(&f.compliance, "compliance", sandbox.ComplianceLinkedIn.String(), "error vocabulary: linkedin (LinkedIn's own), strict (RFC codes) or lenient (accepts client mistakes)")
	fs.StringVar(&f.clientID, "client-id", sandbox.DefaultClientID, "client_id of the registered application")
	fs.StringVar(&f.clientSecret, "client-secret", sandbox.DefaultClientSecret, `client secret; "" registers a public client, which must use PKCE`)
	fs.Var(&f.redirectURIs, "redirect-uri", "registered redirect URI, matched exactly (repeatable or comma-separated; default "+sandbox.DefaultRedirectURI+")")
	fs.DurationVar(&f.accessTTL, "access-ttl", sandbox.DefaultAccessTokenTTL, "access token lifetime (LinkedIn: 60 days; 90s makes expiry demonstrable)")
	fs.DurationVar(&f.refreshTTL, "refresh-ttl", sandbox.DefaultRefreshTokenTTL, "refresh token lifetime, counted from the authorization and never extended")
	fs.DurationVar(&f.slowDelay, "slow-delay", sandbox.DefaultSlowDelay, "how long API calls wait in the slow scenario")
	fs.BoolVar(&f.autoConsent, "auto-consent", false, "redirect straight back with a code instead of showing the login and consent pages")
	fs.BoolVar(&f.quiet, "quiet", false, "do not log each request to stderr")
}

// options checks the flag values and turns them into sandbox options.
func (f *sandboxFlags) options(stderr io.Writer) ([]sandbox.Option, error) {
	scenario, err := sandbox.ParseScenario(f.scenario)
	if err != nil {
		return nil, usagef("--scenario: %v", err)
	}
	compliance, err := sandbox.ParseCompliance(f.compliance)
	if err != nil {
		return nil, usagef("--compliance: %v", err)
	}
	if strings.TrimSpace(f.clientID) == "" {
		return nil, usagef("--client-id must not be empty (default %s)", sandbox.DefaultClientID)
	}
	var uris []string
	for _, v := range f.redirectURIs {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				uris = append(uris, u)
			}
		}
	}
	if len(uris) == 0 {
		uris = []string{sandbox.DefaultRedirectURI}
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return nil, usagef("--redirect-uri %q: want an absolute http(s) URL without a fragment, e.g. %s", raw, sandbox.DefaultRedirectURI)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--access-ttl", f.accessTTL}, {"--refresh-ttl", f.refreshTTL}, {"--slow-delay", f.slowDelay}} {
		if d.v <= 0 {
			return nil, usagef("%s must be a positive duration such as 90s, 30m or 1440h", d.name)
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if !f.quiet {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	return []sandbox.Option{
		sandbox.WithScenario(scenario),
		sandbox.WithCompliance(compliance),
		sandbox.WithClient(f.clientID, f.clientSecret, uris...),
		sandbox.WithAccessTokenTTL(f.accessTTL),
		sandbox.WithRefreshTokenTTL(f.refreshTTL),
		sandbox.WithSlowDelay(f.slowDelay),
		sandbox.WithAutoConsent(f.autoConsent),
		sandbox.WithLogger(logger),
	}, nil
}

func setupSandbox(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var f sandboxFlags
	f.register(fs)
	jsonOut := fs.Bool("json", false, "print the base URL, clients, scenario and endpoints as one JSON document")
	return func(ctx context.Context, args []string) error {
		opts, err := f.options(env.stderr)
		if err != nil {
			return err
		}
		srv := sandbox.New(opts...)
		base, err := srv.Start(f.addr)
		if err != nil {
			return startError(f.addr, err)
		}
		defer srv.Close()

		info := sandboxInfo{BaseURL: base, Issuer: srv.Issuer(),
			Clients:    []sandboxClientInfo{{ClientID: f.clientID, Public: f.clientSecret == "", RedirectURIs: srv.RedirectURIs(f.clientID)}},
			Scenario:   sandboxScenario{Name: string(srv.Scenario()), Description: srv.Scenario().Description()},
			Compliance: string(srv.Compliance()),
			Endpoints: map[string]string{
				"discovery":     base + "/oauth/.well-known/openid-configuration",
				"authorization": base + "/oauth/v2/authorization",
				"token":         base + "/oauth/v2/accessToken",
				"introspection": base + "/oauth/v2/introspectToken",
				"revocation":    base + "/oauth/v2/revoke",
				"jwks":          base + "/oauth/openid/jwks",
				"userinfo":      base + "/v2/userinfo",
				"profile":       base + "/v2/me",
			}}
		if *jsonOut {
			if err := writeJSON(env.stdout, info); err != nil {
				return err
			}
		} else {
			info.print(env.stdout)
		}
		fmt.Fprintln(env.stderr, "sandbox running; press Ctrl+C to stop")

		<-ctx.Done()
		return srv.Close()
	}
}

// startError explains why the sandbox could not listen and what to do.
func startError(addr string, err error) error {
	switch {
	case errors.Is(err, sandbox.ErrNotLoopback):
		return usagef("--addr: %v", err)
	case errors.Is(err, syscall.EADDRINUSE):
		host, port, _ := net.SplitHostPort(addr)
		return fmt.Errorf("port %s on %s is already in use (another sandbox?); choose another port, or --addr 127.0.0.1:0 for any free one: %w", port, host, err)
	}
	return fmt.Errorf("starting the sandbox on %s: %w", addr, err)
}

// sandboxInfo is what a running sandbox tells its user: where it is and how to use it.
type sandboxInfo struct {
	BaseURL    string              `json:"base_url"`
	Issuer     string              `json:"issuer"`
	Clients    []sandboxClientInfo `json:"clients"`
	Scenario   sandboxScenario     `json:"scenario"`
	Compliance string              `json:"compliance"`
	Endpoints  map[string]string   `json:"endpoints"`
}

// sandboxClientInfo is a registered client; its secret is the one given with --client-secret and is
// never printed.
type sandboxClientInfo struct {
	ClientID     string   `json:"client_id"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
}

type sandboxScenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (in sandboxInfo) print(out io.Writer) {
	fmt.Fprintln(out, in.BaseURL)
	fmt.Fprintf(out, "issuer:         %s\n", in.Issuer)
	for _, c := range in.Clients {
		fmt.Fprintf(out, "client_id:      %s\n", c.ClientID)
		if c.Public {
			fmt.Fprintln(out, "client_secret:  none (public client: PKCE required)")
		} else {
			fmt.Fprintln(out, "client_secret:  set (not shown; see --client-secret)")
		}
		fmt.Fprintf(out, "redirect_uri:   %s\n", strings.Join(c.RedirectURIs, ", "))
	}
	fmt.Fprintf(out, "scenario:       %s (%s)\n", in.Scenario.Name, in.Scenario.Description)
	fmt.Fprintf(out, "compliance:     %s\n", in.Compliance)
	for _, k := range []string{"discovery", "authorization", "token", "introspection", "revocation", "jwks", "userinfo", "profile"} {
		fmt.Fprintf(out, "%-15s %s\n", k+":", in.Endpoints[k])
	}
}
