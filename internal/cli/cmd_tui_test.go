package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/profile"
	"github.com/oauthdiag/oauthdiag/sandbox"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// Bad flags of the TUI commands get one message naming the cause and the fix, exit status 2,
// and nothing is started: no sandbox, no session log, no full-screen program.
func TestTUICommandsRejectBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"demo", "--scenario", "meltdown"}, []string{"--scenario", `"meltdown"`, "happy", "server-error"}},
		{[]string{"demo", "--theme", "purple"}, []string{"--theme", "auto, dark or light"}},
		{[]string{"demo", "--access-ttl", "0s"}, []string{"--access-ttl", "at least 1s"}},
		{[]string{"demo", "--browser", "firefox"}, []string{"--browser", "headless, system or none"}},
		{[]string{"demo", "--compliance", "sloppy"}, []string{`"sloppy"`, "linkedin", "strict", "lenient"}},
		{[]string{"demo", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"demo", "--callback-timeout", "-1s"}, []string{"--callback-timeout must be positive"}},
		{[]string{"tui"}, []string{"no provider given", "--provider linkedin", "--profile NAME"}},
		{[]string{"tui", "--provider", "linkedin", "--client-id", "x", "--client-secret", "y", "--param", "novalue"}, []string{"--param", "name=value"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			home := t.TempDir()
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string {
					if k == "OAUTHDIAG_HOME" {
						return home
					}
					return ""
				}}
			code := runCLI(context.Background(), env, c.args)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (usage); stderr:\n%s", code, stderr.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("the message lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stdout.String(), "\x1b[?1049h") {
				t.Errorf("the full-screen program started despite the bad flags")
			}
		})
	}
}

func TestTUICommandsAreListed(t *testing.T) {
	var stdout bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stdout, getenv: func(string) string { return "" }}
	runCLI(context.Background(), env, []string{"help"})
	for _, want := range []string{"demo ", "embedded sandbox", "tui ", "real provider"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the usage lacks %q:\n%s", want, stdout.String())
		}
	}
}

// tui --profile starts from the profile's stored token and saves every new one back; a
// refresh keeps the authorization time and counts itself.
func TestTUIProfileTokenRoundTrip(t *testing.T) {
	home := t.TempDir()
	cfgFile := filepath.Join(home, "config", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o700); err != nil {
		t.Fatal(err)
	}
	profiles := "[profiles]\nli = { provider = \"linkedin\", client_id = \"86abc\", secret = \"env:LI_SECRET\", token_store = \"file\" }\n"
	if err := os.WriteFile(cfgFile, []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &stderr, stderr: &stderr, getenv: func(k string) string {
		switch k {
		case "OAUTHDIAG_HOME":
			return home
		case "LI_SECRET":
			return "li-secret-value"
		}
		return ""
	}}
	open := func() *profileToken {
		t.Helper()
		pf := providerFlags{profileName: "li"}
		res, err := pf.resolve(env, false)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := openProfileToken(env, res, "")
		if err != nil {
			t.Fatal(err)
		}
		return pt
	}
	first := open()
	if first.initial != nil {
		t.Fatalf("nothing stored yet, got %+v", first.initial)
	}
	authorized := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok := &oauthflow.Token{AccessToken: "access-1", RefreshToken: "refresh-1", ReceivedAt: authorized, Expiry: authorized.Add(time.Hour)}
	if err := first.save(tok, []string{"openid"}, nil, false); err != nil {
		t.Fatal(err)
	}
	second := open()
	if second.initial == nil || second.initial.AccessToken != "access-1" {
		t.Fatalf("the stored token is where the TUI starts, got %+v", second.initial)
	}
	refreshed := &oauthflow.Token{AccessToken: "access-2", RefreshToken: "refresh-1", ReceivedAt: authorized.Add(50 * time.Minute)}
	if err := second.save(refreshed, nil, nil, true); err != nil {
		t.Fatal(err)
	}
	st, err := second.store.Load("li")
	if err != nil {
		t.Fatal(err)
	}
	if st.Token.AccessToken != "access-2" || st.Refreshes != 1 || !st.AuthorizedAt.Equal(authorized) || st.ClientID != "86abc" {
		t.Errorf("after a refresh the store holds %+v", st)
	}

	// A token issued to another client is not used.
	st.ClientID = "someone-else"
	if err := second.store.Save("li", st); err != nil {
		t.Fatal(err)
	}
	if third := open(); third.initial != nil || !strings.Contains(stderr.String(), "issued to client someone-else") {
		t.Errorf("another client's token must be left alone and said so: %+v\n%s", third.initial, stderr.String())
	}
}

// While the TUI refreshes a profile's token it holds the profile's lock, so `call` and `refresh`
// in other terminals wait; and when one of them refreshed first, the TUI takes that token
// instead of spending the refresh token again (a rotating provider would refuse it).
func TestTUIRefreshIsSerialisedWithOtherCommands(t *testing.T) {
	home := t.TempDir()
	store := profile.NewFileStore(filepath.Join(home, "tokens"), time.Now)
	locker := profile.ProfileLocker(filepath.Join(home, "locks"), 200*time.Millisecond)
	pt := &profileToken{store: store, profileName: "li", lock: locker}
	now := time.Now()
	mine := &oauthflow.Token{AccessToken: "access-1", RefreshToken: "refresh-1", ReceivedAt: now.Add(-time.Hour), Expiry: now.Add(time.Minute)}
	if err := store.Save("li", &profile.StoredToken{Token: *mine}); err != nil {
		t.Fatal(err)
	}

	newer, release, err := pt.guardRefresh(t.Context(), mine)
	if err != nil || newer != nil {
		t.Fatalf("nothing newer is stored: got %+v, %v", newer, err)
	}
	if _, err := locker(t.Context(), "li"); err == nil {
		t.Fatal("another command got the profile lock while the TUI was refreshing")
	}
	release()

	// Another command refreshed and stored a newer token (rotating the refresh token).
	theirs := oauthflow.Token{AccessToken: "access-2", RefreshToken: "refresh-2", ReceivedAt: now, Expiry: now.Add(time.Hour)}
	if err := store.Save("li", &profile.StoredToken{Token: theirs}); err != nil {
		t.Fatal(err)
	}
	newer, release, err = pt.guardRefresh(t.Context(), mine)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if newer == nil || newer.AccessToken != "access-2" || newer.RefreshToken != "refresh-2" {
		t.Fatalf("the TUI must adopt the token another command stored, got %+v", newer)
	}
	unlock, err := locker(t.Context(), "li")
	if err != nil {
		t.Fatalf("the lock was not released: %v", err)
	}
	unlock()
}

// A token the TUI saves and the one `oauthdiag call` saves for the same token response are the
// same record, field by field: skew measured, expiry, scopes, issuer, authorization time. So is
// a refresh of it.
func TestTUIAndCallSaveATokenAlike(t *testing.T) {
	// The provider's clock runs five minutes ahead: the skew is part of what is stored.
	sb := sandbox.New(sandbox.WithAutoConsent(true), sandbox.WithClock(func() time.Time { return time.Now().Add(5 * time.Minute) }))
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := oauthflow.Config{Provider: oauthflow.LinkedInAt(base, base), Client: oauthflow.Client{
		ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI}}
	runner := oauthflow.NewRunner(cfg)
	auth, err := runner.Authorize(t.Context(), oauthflow.FlowOptions{Browser: &browser.Headless{}})
	if err != nil {
		t.Fatal(err)
	}
	now := auth.Token.ReceivedAt.Add(time.Second)
	clock := func() time.Time { return now }

	// call's way: the lifecycle authorizes (here: hands over the authorization made above) and stores.
	callStore := profile.NewFileStore(t.TempDir(), clock)
	lc := &profile.Lifecycle{Runner: runner, Store: callStore, Profile: "p", Now: clock,
		Authorize: func(context.Context, profile.Decision) (*oauthflow.Authorization, error) { return auth, nil }}
	if _, _, err := lc.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The TUI's way, for the same response.
	tuiStore := profile.NewFileStore(t.TempDir(), clock)
	pt := &profileToken{store: tuiStore, profileName: "p", cfg: cfg, now: clock}
	if err := pt.save(auth.Token, auth.Scopes, auth.Exchanges(), false); err != nil {
		t.Fatal(err)
	}
	byCall, err := callStore.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	byTUI, err := tuiStore.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byCall, byTUI) {
		t.Fatalf("the stored tokens differ:\ncall %+v\nTUI  %+v", byCall, byTUI)
	}
	if byTUI.ServerSkew != 5*time.Minute || byTUI.Issuer == "" || len(byTUI.Scopes) == 0 {
		t.Errorf("the stored token lacks the measured skew, the issuer or the scopes: %+v", byTUI)
	}

	// A refresh: the lifecycle's answer, saved the TUI's way after the authorization above.
	_, d, err := lc.Refresh(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	refreshedByCall, err := callStore.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	step := d.Steps[len(d.Steps)-1]
	if err := pt.save(&refreshedByCall.Token, nil, step.Exchanges, true); err != nil {
		t.Fatal(err)
	}
	refreshedByTUI, err := tuiStore.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(refreshedByCall, refreshedByTUI) || refreshedByTUI.Refreshes != 1 {
		t.Fatalf("the refreshed tokens differ:\ncall %+v\nTUI  %+v", refreshedByCall, refreshedByTUI)
	}
}
