package inspector

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// liveSandboxToken runs a flow that keeps its tokens and returns a runner that can introspect them.
func liveSandboxToken(t *testing.T) (sandboxRun, *oauthflow.Runner) {
	t.Helper()
	run := runSandboxFlow(t, sandboxSetup{scenario: sandbox.Happy, flow: func(fo *oauthflow.FlowOptions) { fo.SkipRevoke = true }})
	if !run.result.OK {
		t.Fatalf("flow failed at %s", failedStep(run.result))
	}
	cfg := run.cfg
	cfg.Provider = run.result.Provider
	return run, oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func TestInspectSandboxTokens(t *testing.T) {
	run, runner := liveSandboxToken(t)
	tok := run.result.CurrentToken()
	if tok.IDToken == "" {
		tok.IDToken = run.result.Token.IDToken // a refresh need not send a new ID token
	}
	ctx := context.Background()

	t.Run("access token, introspected", func(t *testing.T) {
		ins, err := Inspect(ctx, tok.AccessToken, InspectOptions{Runner: runner, Introspect: true, Token: tok, ClaimedIssuer: run.result.ClaimedIssuer, Now: run.now})
		if err != nil {
			t.Fatal(err)
		}
		if ins.Kind != KindAccess || ins.Introspection == nil || ins.Introspection.Status != "active" || ins.Introspection.Shape != oauthflow.IntrospectionLinkedIn {
			t.Fatalf("inspection %+v", ins)
		}
		if ins.State.Access.Status != StatusValid || ins.State.Access.Source != SourceIntrospectionExpiresAt || ins.Next.Kind != ActionUse {
			t.Errorf("state %+v, next %+v", ins.State.Access, ins.Next)
		}
		if len(ins.Diagnoses) != 0 || len(ins.Mismatches) != 0 {
			t.Errorf("a fresh token has diagnoses %v, mismatches %+v", codes(ins.Diagnoses), ins.Mismatches)
		}
		if ins.IDToken == nil {
			t.Fatal("the ID token of the token response was not verified")
		}
		if !ins.IDToken.OK() {
			t.Fatalf("the ID token from the sandbox must verify against its JWKS:\n%s", RenderVerification(*ins.IDToken))
		}
		if ins.Scopes == nil || len(ins.Scopes.Missing) != 0 {
			t.Errorf("scopes %+v", ins.Scopes)
		}
	})
	t.Run("ID token", func(t *testing.T) {
		ins, err := Inspect(ctx, tok.IDToken, InspectOptions{Runner: runner, Introspect: true, Now: run.now})
		if err != nil {
			t.Fatal(err)
		}
		if ins.Kind != KindID || ins.State != nil || ins.Verification == nil {
			t.Fatalf("inspection %+v", ins)
		}
		for _, name := range []string{"signature", "iss", "aud", "exp", "nonce"} {
			c, _ := ins.Verification.Check(name)
			if name == "nonce" {
				if !c.Skipped {
					t.Errorf("nonce: no expected nonce was given, the check must be skipped: %+v", c)
				}
				continue
			}
			if !c.OK {
				t.Errorf("%s: %+v", name, c)
			}
		}
	})
	t.Run("revoked token: the server disagrees with the local state", func(t *testing.T) {
		if err := runner.Revoke(ctx, tok.AccessToken, "access_token"); err != nil {
			t.Fatal(err)
		}
		ins, err := Inspect(ctx, tok.AccessToken, InspectOptions{Runner: runner, Introspect: true, Token: tok, Now: run.now})
		if err != nil {
			t.Fatal(err)
		}
		if ins.State.Access.Status != StatusRevoked || ins.Next.Kind != ActionRefresh {
			t.Errorf("state %s, next %s: want revoked, refresh", ins.State.Access.Status, ins.Next.Kind)
		}
		if len(ins.Mismatches) == 0 || ins.Mismatches[0].Field != "status" || ins.Mismatches[0].Server != "revoked" {
			t.Errorf("mismatches %+v", ins.Mismatches)
		}
		if len(ins.Diagnoses) == 0 || ins.Diagnoses[0].Code != CodeTokenRevoked {
			t.Errorf("diagnoses %v", codes(ins.Diagnoses))
		}
	})
	t.Run("introspection with a wrong secret", func(t *testing.T) {
		cfg := runner.Config()
		cfg.Client.Secret = "wrong-secret"
		ins, err := Inspect(ctx, tok.RefreshToken, InspectOptions{Runner: oauthflow.NewRunner(cfg), Introspect: true, Kind: KindRefresh, Now: run.now})
		if err != nil {
			t.Fatal(err)
		}
		if ins.Introspection != nil || !strings.Contains(ins.IntrospectionSkipped, "failed") {
			t.Errorf("introspection %+v / %q", ins.Introspection, ins.IntrospectionSkipped)
		}
		if len(ins.Diagnoses) == 0 || ins.Diagnoses[0].Code != CodeBadClientCredentials {
			t.Fatalf("diagnoses %v", codes(ins.Diagnoses))
		}
	})
	t.Run("no secret in the output", func(t *testing.T) {
		ins, err := Inspect(ctx, tok.AccessToken, InspectOptions{Runner: runner, Introspect: true, Token: tok, Now: run.now})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ins)
		text := RenderInspection(ins, run.now)
		for _, s := range []string{tok.AccessToken, tok.RefreshToken, tok.IDToken, run.cfg.Client.Secret} {
			if strings.Contains(string(b), s) || strings.Contains(text, s) {
				t.Errorf("a secret of %d bytes appears in the inspection", len(s))
			}
		}
		for _, seg := range strings.Split(tok.IDToken, ".") {
			if strings.Contains(text, seg) {
				t.Error("a segment of the ID token appears in the text")
			}
		}
	})
}

func TestInspectOffline(t *testing.T) {
	ctx := context.Background()
	ins, err := Inspect(ctx, "AQV8eYx3Zq-opaque-token_value-0123456789", InspectOptions{Now: jwtNow})
	if err != nil {
		t.Fatal(err)
	}
	if ins.Format != FormatOpaque || ins.Verification != nil || ins.State.Access.Status != StatusUnknown || ins.Next.Kind != ActionUse {
		t.Fatalf("inspection %+v", ins)
	}
	if !strings.Contains(RenderInspection(ins, jwtNow), "opaque: not a JWT, cannot be read by the client") {
		t.Error("the rendering must say the token is opaque")
	}

	key := newRSAKey(t, "k1")
	expired := sign(t, key, map[string]any{"iss": "https://issuer.test", "sub": "s", "exp": jwtNow.Add(-time.Hour).Unix(), "iat": jwtNow.Add(-2 * time.Hour).Unix()})
	ins, err = Inspect(ctx, expired, InspectOptions{Now: jwtNow})
	if err != nil {
		t.Fatal(err)
	}
	// Given alone, nobody knows whether a refresh token exists: refresh first, per the policy.
	if ins.Kind != KindAccess || ins.State.Access.Status != StatusExpired || ins.State.Access.Source != SourceJWTExp ||
		ins.State.Refresh.Status != StatusUnknown || ins.Next.Kind != ActionRefresh {
		t.Fatalf("state %+v next %+v", ins.State, ins.Next)
	}
	if len(ins.Diagnoses) == 0 || ins.Diagnoses[0].Code != CodeAccessTokenExpired || !strings.Contains(ins.Diagnoses[0].Fix, "if you hold one") {
		t.Errorf("diagnoses %v", ins.Diagnoses)
	}

	for _, bad := range []string{"", "  ", "Bearer abc", "two tokens"} {
		if _, err := Inspect(ctx, bad, InspectOptions{}); err == nil {
			t.Errorf("Inspect(%q) accepted a non-token", bad)
		}
	}
}

func TestInspectZitadelTokens(t *testing.T) {
	p := peertest.Zitadel(t)
	cfg := oauthflow.Config{Provider: oauthflow.Provider{Issuer: p.Issuer},
		Client: oauthflow.Client{ID: p.ClientID, Secret: p.ClientSecret, RedirectURI: p.RedirectURI, AuthMethod: oauthflow.AuthBasic, PKCE: true,
			Scopes: []string{"openid", "profile", "email", "offline_access"}}}
	runner := oauthflow.NewRunner(cfg)
	fr := runner.RunFlow(context.Background(), oauthflow.FlowOptions{Discover: true, Issuer: p.Issuer, SkipRevoke: true,
		Browser: &browser.Headless{Username: p.Username, Password: p.Password}})
	if !fr.OK {
		t.Fatalf("flow failed at %s: %v", failedStep(fr), fr.FailedStep().Err)
	}
	now := time.Now()
	tok := fr.CurrentToken()
	if tok.IDToken == "" {
		tok.IDToken = fr.Token.IDToken
	}
	ins, err := Inspect(context.Background(), tok.AccessToken, InspectOptions{Runner: runner, Introspect: true, Token: tok, ClaimedIssuer: fr.ClaimedIssuer, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// zitadel's access tokens are JWE: unreadable to the client, so introspection is the truth.
	if ins.Format != FormatJWE || ins.Verification != nil || ins.Introspection == nil || !ins.Introspection.Active {
		t.Fatalf("inspection %+v", ins)
	}
	if ins.State.Access.Source != SourceIntrospectionExp || ins.State.Access.Lifetime > 5*time.Minute {
		t.Errorf("access state %+v: want the introspection's exp and zitadel's 5-minute lifetime", ins.State.Access)
	}
	if ins.IDToken == nil {
		t.Fatal("the ID token was not verified")
	}
	if !ins.IDToken.OK() {
		t.Errorf("zitadel's ID token must verify (issuer %q with its trailing slash):\n%s", fr.ClaimedIssuer, RenderVerification(*ins.IDToken))
	}
	if len(ins.Diagnoses) != 0 {
		t.Errorf("diagnoses on fresh zitadel tokens:\n%s", RenderDiagnoses(ins.Diagnoses))
	}
}
