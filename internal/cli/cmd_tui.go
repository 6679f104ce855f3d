package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"
	"github.com/spf13/pflag"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
	"github.com/oauthdiag/oauthdiag/ui"
)

func demoCommand() command {
	return command{
		name:    "demo",
		summary: "open the TUI on the embedded sandbox: short token lifetimes, a scenario menu, fully offline",
		example: "  oauthdiag demo\n  oauthdiag demo --scenario server-error",
		setup:   setupDemo,
	}
}

func tuiCommand() command {
	return command{
		name:    "tui",
		summary: "open the TUI on a real provider (provider flags or --profile NAME)",
		example: "  oauthdiag tui --profile li\n  oauthdiag tui --issuer https://login.example.com --client-id ID",
		setup:   setupTUI,
	}
}

// tuiFlags are the flags both TUI commands share.
type tuiFlags struct {
	callbackTimeout time.Duration
	bundleDir       string
	noAutoRefresh   bool
	theme           string
}

func (f *tuiFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.callbackTimeout, "callback-timeout", 5*time.Minute, "how long Authorize waits for the browser to come back")
	fs.StringVar(&f.bundleDir, "bundle-dir", "", "where x writes support bundles (default: bundles/ in the state directory)")
	fs.BoolVar(&f.noAutoRefresh, "no-auto-refresh", false, "start with auto-refresh off (a toggles it)")
	fs.StringVar(&f.theme, "theme", "auto", "colours for a dark or light background: auto, dark or light (NO_COLOR turns colours off)")
}

func (f *tuiFlags) options() ([]ui.Option, error) {
	opts := []ui.Option{ui.WithAutoRefresh(!f.noAutoRefresh)}
	switch strings.ToLower(f.theme) {
	case "auto", "":
	case "dark":
		opts = append(opts, ui.WithDarkBackground(true))
	case "light":
		opts = append(opts, ui.WithDarkBackground(false))
	default:
		return nil, usagef("--theme %q: use auto, dark or light", f.theme)
	}
	if f.callbackTimeout <= 0 {
		return nil, usagef("--callback-timeout must be positive, e.g. 5m")
	}
	return opts, nil
}

func (f *tuiFlags) resolveBundleDir(env *cliEnv) (string, error) {
	if f.bundleDir != "" {
		return f.bundleDir, nil
	}
	dir, err := stateDir(env)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "bundles"), nil
}

type demoFlags struct {
	tuiFlags
	accessTTL  time.Duration
	refreshTTL time.Duration
	scenario   string
	compliance string
	browser    string
	slowDelay  time.Duration
	timeout    time.Duration
}

func setupDemo(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var df demoFlags
	df.register(fs)
	fs.DurationVar(&df.accessTTL, "access-ttl", 90*time.Second, "lifetime of the sandbox's access tokens")
	fs.DurationVar(&df.refreshTTL, "refresh-ttl", 5*time.Minute, "lifetime of the sandbox's refresh tokens (never extended by a refresh, as at LinkedIn)")
	fs.StringVar(&df.scenario, "scenario", "happy", "fault to start with ("+scenarioNames()+"); m switches it at run time")
	fs.StringVar(&df.compliance, "compliance", "linkedin", "sandbox behaviour: linkedin, strict or lenient")
	fs.StringVar(&df.browser, "browser", "headless", "how Authorize reaches the sandbox's login page: headless (built in, no desktop browser), system (the desktop browser) or none (copy the URL, paste the redirect)")
	fs.DurationVar(&df.slowDelay, "slow-delay", 12*time.Second, "with the slow scenario: how long API calls stall")
	fs.DurationVar(&df.timeout, "timeout", 10*time.Second, "timeout of each HTTP request")
	return func(ctx context.Context, args []string) error {
		if df.accessTTL < time.Second || df.refreshTTL < time.Second {
			return usagef("--access-ttl and --refresh-ttl must be at least 1s (got %s and %s)", df.accessTTL, df.refreshTTL)
		}
		scenario, err := sandbox.ParseScenario(df.scenario)
		if err != nil {
			return usagef("--scenario: %v", err)
		}
		compliance, err := parseCompliance(df.compliance)
		if err != nil {
			return err
		}
		opts, err := df.options()
		if err != nil {
			return err
		}
		var br browser.Browser
		switch strings.ToLower(df.browser) {
		case "headless":
			br = &browser.Headless{Username: "ada@example.com", Password: "sandbox"}
		case "system":
			br = browser.System{}
		case "none":
		default:
			return usagef("--browser %q: use headless, system or none", df.browser)
		}
		bundleDir, err := df.resolveBundleDir(env)
		if err != nil {
			return err
		}

		// A free loopback port for the redirect, so the demo never clashes with a real app on 8765.
		port, err := freeLoopbackPort()
		if err != nil {
			return fmt.Errorf("finding a free port for the redirect listener: %w", err)
		}
		redirect := "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"
		sb := sandbox.New(
			sandbox.WithScenario(scenario),
			sandbox.WithCompliance(compliance),
			sandbox.WithClient(sandbox.DefaultClientID, sandbox.DefaultClientSecret, redirect),
			sandbox.WithAccessTokenTTL(df.accessTTL),
			sandbox.WithRefreshTokenTTL(df.refreshTTL),
			sandbox.WithSlowDelay(df.slowDelay),
		)
		base, err := sb.Start("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("starting the sandbox: %w", err)
		}
		defer sb.Close()

		p := oauthflow.LinkedInAt(base, base)
		cfg := oauthflow.Config{Provider: p, Client: oauthflow.Client{
			ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: redirect, PKCE: true,
		}}
		// The same API call `oauthdiag flow --sandbox` makes, so that the demo runs every step.
		sandboxAPICall(&cfg, &providerFlags{}, base, time.Now())
		rec, err := openRecording(env, cfg, map[string]string{"command": "demo", "sandbox_scenario": string(scenario)})
		if err != nil {
			return err
		}
		defer rec.Close()
		client := rec.client(df.timeout)
		return ui.Run(ctx, ui.Config{
			Runner:          oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(client)),
			Session:         rec.sess,
			HTTPClient:      client,
			Discover:        true,
			Issuer:          sb.Issuer(),
			DiscoveryURL:    p.DiscoveryURL,
			Browser:         br,
			Listen:          true,
			CallbackTimeout: df.callbackTimeout,
			Scenarios:       sandboxScenarios{sb},
			BundleDir:       bundleDir,
			ToolVersion:     toolVersion(),
			Mode:            "demo",
		}, opts...)
	}
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sandboxScenarios adapts the sandbox to the TUI's scenario menu.
type sandboxScenarios struct{ sb *sandbox.Server }

func (s sandboxScenarios) Scenarios() []ui.Scenario {
	var out []ui.Scenario
	for _, sc := range sandbox.Scenarios() {
		out = append(out, ui.Scenario{Name: string(sc), Description: sc.Description(), FailingStep: sc.FailingStep()})
	}
	return out
}

func (s sandboxScenarios) Current() string { return string(s.sb.Scenario()) }

func (s sandboxScenarios) SetScenario(name string) error {
	sc, err := sandbox.ParseScenario(name)
	if err != nil {
		return err
	}
	s.sb.SetScenario(sc)
	return nil
}

type tuiCmdFlags struct {
	tuiFlags
	pf         providerFlags
	browserCmd string
	noBrowser  bool
	noListen   bool
	params     multiFlag
	tokenStore string
}

func setupTUI(env *cliEnv, fs *pflag.FlagSet) runFunc {
	var tf tuiCmdFlags
	tf.pf.register(fs)
	tf.register(fs)
	fs.StringVar(&tf.browserCmd, "browser-cmd", "", "command that opens the authorization URL (given as its last argument); a redirect URL it prints is used")
	fs.BoolVar(&tf.noBrowser, "no-browser", false, "open no browser: copy the URL with y and paste the redirect with p")
	fs.BoolVar(&tf.noListen, "no-listen", false, "do not run the loopback listener for the redirect (paste it instead)")
	fs.Var(&tf.params, "param", "extra authorization request parameter K=V (repeatable), e.g. prompt=consent")
	fs.StringVar(&tf.tokenStore, "token-store", "", "with --profile: where the profile's token is kept: auto, keychain or file")
	return func(ctx context.Context, args []string) error {
		extra, err := parseParams(tf.params)
		if err != nil {
			return err
		}
		opts, err := tf.options()
		if err != nil {
			return err
		}
		res, err := tf.pf.resolve(env, true)
		if err != nil {
			return err
		}
		bundleDir, err := tf.resolveBundleDir(env)
		if err != nil {
			return err
		}
		var br browser.Browser
		switch {
		case tf.noBrowser:
		case tf.browserCmd != "":
			// The command's stderr is discarded: nothing may print into the TUI.
			br = browser.Command{Command: tf.browserCmd}
		default:
			br = browser.System{}
		}
		labels := map[string]string{"command": "tui"}
		var stored *profileToken
		if res.profileName != "" {
			labels["profile"] = res.profileName
			if stored, err = openProfileToken(env, res, tf.tokenStore); err != nil {
				return err
			}
		}
		rec, err := openRecording(env, res.cfg, labels)
		if err != nil {
			return err
		}
		defer rec.Close()
		client := rec.client(tf.pf.timeout)
		runner := oauthflow.NewRunner(res.cfg, oauthflow.WithHTTPClient(client))
		cfg := ui.Config{
			Runner:          runner,
			Session:         rec.sess,
			HTTPClient:      client,
			Discover:        res.discover,
			Issuer:          res.issuer,
			DiscoveryURL:    res.discoveryURL,
			Browser:         br,
			Listen:          !tf.noListen,
			CallbackTimeout: tf.callbackTimeout,
			ExtraAuthParams: extra,
			BundleDir:       bundleDir,
			ToolVersion:     toolVersion(),
		}
		if stored != nil {
			cfg.Profile = res.profileName
			cfg.InitialToken = stored.initial
			stored.config = runner.Config // the provider as discovery completed it
			cfg.SaveToken = stored.save
			cfg.GuardRefresh = stored.guardRefresh
		}
		return ui.Run(ctx, cfg, opts...)
	}
}

// profileToken connects the TUI to a profile's token store: the stored token (when it was
// issued to this client) is where the TUI starts, and every token the TUI gets is saved back.
type profileToken struct {
	mu          sync.Mutex
	store       profile.TokenStore
	profileName string
	cfg         oauthflow.Config
	// config is the configuration tokens are saved under; nil means cfg.
	config  func() oauthflow.Config
	initial *oauthflow.Token
	last    *profile.StoredToken
	lock    func(ctx context.Context, profileName string) (func(), error)
	now     func() time.Time // nil: time.Now
}

// guardRefresh takes the profile lock (the one call, refresh and logout take) and re-reads the
// store: when another command refreshed meanwhile, its token is returned so the TUI does not
// spend the refresh token a second time (a rotating provider would refuse the old one).
func (p *profileToken) guardRefresh(ctx context.Context, current *oauthflow.Token) (*oauthflow.Token, func(), error) {
	unlock, err := p.lock(ctx, p.profileName)
	if err != nil {
		return nil, nil, err
	}
	st, err := p.store.Load(p.profileName)
	if err != nil || current == nil || st.Token.AccessToken == current.AccessToken || !st.Token.ReceivedAt.After(current.ReceivedAt) {
		return nil, unlock, nil
	}
	if !st.Token.Expiry.IsZero() && !st.Token.Expiry.After(time.Now()) {
		return nil, unlock, nil
	}
	p.mu.Lock()
	p.last = st
	p.mu.Unlock()
	tok := st.Token
	return &tok, unlock, nil
}

// openProfileToken opens the token store of res's profile (the one call and inspect use) and
// reads the token the TUI starts from.
func openProfileToken(env *cliEnv, res *resolved, flagValue string) (*profileToken, error) {
	profileName, store, state, err := openProfileStore(env, res, flagValue)
	if err != nil {
		return nil, err
	}
	pt := &profileToken{store: store, profileName: profileName, cfg: res.cfg,
		lock: profile.ProfileLocker(filepath.Join(state, "locks"), profile.DefaultLockTimeout)}
	st, err := store.Load(profileName)
	switch {
	case errors.Is(err, profile.ErrNotStored):
	case err != nil:
		// An unreadable entry was moved aside by the store; the TUI starts without it.
		fmt.Fprintf(env.stderr, "note: the stored token of profile %s is not usable: %v\n", profileName, err)
	case st.ClientID == "" || st.ClientID == res.cfg.Client.ID:
		tok := st.Token
		pt.initial, pt.last = &tok, st
	default:
		fmt.Fprintf(env.stderr, "note: the token stored for profile %s was issued to client %s, not %s: it is not used\n", profileName, st.ClientID, res.cfg.Client.ID)
	}
	return pt, nil
}

// save stores a token the TUI got, as every command stores one (profile.Persisted): a refresh
// keeps the authorization time and counts the refresh; a new authorization starts over.
func (p *profileToken) save(tok *oauthflow.Token, scopes []string, exchanges []httplog.Exchange, refreshed bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var prev *profile.StoredToken
	if refreshed {
		prev = p.last
	}
	cfg := p.cfg
	if p.config != nil {
		cfg = p.config()
	}
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	st, _ := profile.Persisted(cfg, tok, scopes, exchanges, prev, now())
	if err := p.store.Save(p.profileName, st); err != nil {
		return fmt.Errorf("saving the token of profile %s: %w", p.profileName, err)
	}
	p.last = st
	return nil
}
