package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/inspector"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// inspectRun runs `oauthdiag inspect` in-process and returns its output and exit status.
func inspectRun(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }}
	err := execute(context.Background(), e, inspectCommand(), args)
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ue):
		code = 2
	default:
		code = 1
	}
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// inspectSandbox signs in to a fresh sandbox and keeps the tokens (no revocation).
func inspectSandbox(t *testing.T) (*sandbox.Server, *oauthflow.Token) {
	t.Helper()
	sb := sandbox.New(sandbox.WithAutoConsent(true))
	_, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb, inspectSignIn(t, sb)
}

func inspectClientConfig(sb *sandbox.Server) oauthflow.Config {
	return oauthflow.Config{Provider: oauthflow.LinkedInAt(sb.BaseURL(), sb.BaseURL()), Client: oauthflow.Client{
		ID: sandbox.DefaultClientID, Secret: sandbox.DefaultClientSecret, RedirectURI: sandbox.DefaultRedirectURI, PKCE: true}}
}

// inspectSignIn runs a flow against sb that keeps its tokens.
func inspectSignIn(t *testing.T, sb *sandbox.Server) *oauthflow.Token {
	t.Helper()
	fr := oauthflow.NewRunner(inspectClientConfig(sb)).RunFlow(context.Background(), oauthflow.FlowOptions{Discover: true, Issuer: sb.Issuer(),
		Browser: &browser.Headless{}, SkipRevoke: true})
	if !fr.OK {
		t.Fatalf("sign-in failed at %v", fr.FailedStep().Err)
	}
	tok := *fr.Token
	return &tok
}

func inspectProviderFlags(sb *sandbox.Server) []string {
	return []string{"--issuer", sb.Issuer(), "--client-id", sandbox.DefaultClientID,
		"--introspect-url", sb.BaseURL() + "/oauth/v2/introspectToken", "--auth-method", "post"}
}

func TestInspectCommand(t *testing.T) {
	sb, tok := inspectSandbox(t)
	env := map[string]string{"OAUTHDIAG_HOME": t.TempDir(), "OAUTHDIAG_CLIENT_SECRET": sandbox.DefaultClientSecret}

	t.Run("access token from stdin, introspected, JSON", func(t *testing.T) {
		out, errOut, code := inspectRun(t, env, "Bearer "+tok.AccessToken+"\n", append(inspectProviderFlags(sb), "--json", "-")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc struct {
			Kind          string `json:"kind"`
			Fingerprint   string `json:"fingerprint"`
			Format        string `json:"format"`
			Introspection struct {
				Status string   `json:"status"`
				Scopes []string `json:"scopes"`
			} `json:"introspection"`
			State struct {
				Access struct {
					Status string `json:"status"`
					Source string `json:"source"`
				} `json:"access"`
			} `json:"state"`
			Next      inspector.Action      `json:"next_action"`
			Diagnoses []inspector.Diagnosis `json:"diagnoses"`
			Session   string                `json:"session"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if doc.Kind != "access" || doc.Format != "opaque" || doc.Fingerprint != inspector.Fingerprint(tok.AccessToken) {
			t.Errorf("kind %q format %q fingerprint %q", doc.Kind, doc.Format, doc.Fingerprint)
		}
		if doc.Introspection.Status != "active" || doc.State.Access.Status != "valid" || doc.State.Access.Source != "introspection-expires_at" || doc.Next.Kind != "use" {
			t.Errorf("introspection %+v, state %+v, next %+v", doc.Introspection, doc.State, doc.Next)
		}
		if doc.Diagnoses == nil || len(doc.Diagnoses) != 0 || doc.Session == "" {
			t.Errorf("diagnoses %+v (want an empty array), session %q", doc.Diagnoses, doc.Session)
		}
		if strings.Contains(out, tok.AccessToken) || strings.Contains(out, sandbox.DefaultClientSecret) {
			t.Error("the output shows a secret")
		}
	})

	t.Run("ID token: decoded, verified against the JWKS, text", func(t *testing.T) {
		out, errOut, code := inspectRun(t, env, "", append(inspectProviderFlags(sb), tok.IDToken)...)
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, errOut, out)
		}
		for _, want := range []string{"(id token, signed JWT", "ok   signature", "ok   iss", "ok   aud", `iss        "` + sb.Issuer() + `"`, "introspection\nskipped: ID tokens are verified, not introspected"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		for _, seg := range strings.Split(tok.IDToken, ".") {
			if strings.Contains(out, seg) {
				t.Fatal("the output shows part of the ID token")
			}
		}
	})

	t.Run("revoked token: exit 1 with the diagnosis", func(t *testing.T) {
		tok2 := inspectSignIn(t, sb)
		if err := oauthflow.NewRunner(inspectClientConfig(sb)).Revoke(context.Background(), tok2.AccessToken, "access_token"); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := inspectRun(t, env, tok2.AccessToken, append(inspectProviderFlags(sb), "-")...)
		if code != 1 || !strings.Contains(errOut, "the provider reports the token revoked") {
			t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
		}
		if !strings.Contains(out, "token-revoked: The token has been revoked") {
			t.Errorf("output lacks a diagnosis:\n%s", out)
		}
	})

	t.Run("reveal shows the token", func(t *testing.T) {
		out, _, code := inspectRun(t, env, tok.AccessToken, "--reveal", "-")
		if code != 0 || !strings.Contains(out, "value:  "+tok.AccessToken) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})

	t.Run("stored token", func(t *testing.T) {
		home := t.TempDir()
		store := profile.NewFileStore(filepath.Join(home, "state", "tokens"), time.Now)
		// The name `call` stores under when no --profile is given.
		profileName := profile.DefaultProfileName(oauthflow.Config{Provider: oauthflow.Provider{Issuer: sb.Issuer()},
			Client: oauthflow.Client{ID: sandbox.DefaultClientID}})
		if err := store.Save(profileName, &profile.StoredToken{Format: 1, Token: *tok, ClientID: sandbox.DefaultClientID}); err != nil {
			t.Fatal(err)
		}
		senv := map[string]string{"OAUTHDIAG_HOME": home, "OAUTHDIAG_CLIENT_SECRET": sandbox.DefaultClientSecret}
		out, errOut, code := inspectRun(t, senv, "", append(inspectProviderFlags(sb), "--stored", "--token-store", "file")...)
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, errOut, out)
		}
		for _, want := range []string{inspector.Fingerprint(tok.AccessToken), "refresh token: valid", "== ID token", "next action: use"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		for _, s := range []string{tok.AccessToken, tok.RefreshToken, tok.IDToken} {
			if strings.Contains(out, s) {
				t.Error("the output shows a stored token")
			}
		}
		_, errOut, code = inspectRun(t, map[string]string{"OAUTHDIAG_HOME": t.TempDir()}, "", append(inspectProviderFlags(sb), "--stored", "--token-store", "file")...)
		if code != 1 || !strings.Contains(errOut, "no token stored for profile") {
			t.Errorf("empty store: exit %d, %q", code, errOut)
		}
	})
}

func TestInspectCommandOffline(t *testing.T) {
	env := map[string]string{}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"opaque token, nothing sent", "AQV8eYx3Zq-opaque-token_value-0123456789\n", []string{"-"}, 0, "opaque: not a JWT", ""},
		{"zitadel JWE access token", "", []string{"eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIiwiaXYiOiJiYUNVNmRNMWxaaHJHMEQ3Iiwia2lkIjoia2V5MSIsInRhZyI6IjNRZFJydnpaMjY2SDg4WGhHc1pOY3cifQ.L2Fo9B6yYJJDyJDpS3gaQjVa3og4jwO2J-hDEnC8MOE.QJPgjT9fo5gIlLvE.Yi7MN7BQAvr0lZoXnQ2Pa7OsBETFOQik16GbBW2_Pt5IvyxElsu-gQ.6j1i0ctkMHUr8toe-8vnlw"}, 0, "encrypted (JWE): cannot be read by the client", ""},
		{"no token", "", nil, 2, "", "no token: pass it as an argument"},
		{"empty stdin", "\n\n", []string{"-"}, 2, "", "stdin held no token"},
		{"two tokens", "", []string{"a", "b"}, 2, "", "one token at a time"},
		{"token and --stored", "", []string{"--stored", "abc"}, 2, "", "not both"},
		{"bad --type", "", []string{"--type", "bearer", "abc"}, 2, "", "use access, refresh or id"},
		{"broken JWT", "", []string{"eyJhbGciOiJSUzI1NiJ9.!!!.sig"}, 0, "decode: not a JWT: the payload segment is not base64url", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := inspectRun(t, env, c.stdin, c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errOut, c.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
		})
	}
}

// TestInspectCommandJWKSOnly checks a signature with nothing but --jwks-url: no client, no
// introspection, no session log.
func TestInspectCommandJWKSOnly(t *testing.T) {
	sb, tok := inspectSandbox(t)
	home := t.TempDir()
	out, errOut, code := inspectRun(t, map[string]string{"OAUTHDIAG_HOME": home}, "", "--jwks-url", sb.BaseURL()+"/oauth/openid/jwks", tok.IDToken)
	if code != 0 || !strings.Contains(out, "ok   signature") || !strings.Contains(out, "skip aud") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if matches, _ := filepath.Glob(filepath.Join(home, "state", "sessions", "*")); len(matches) != 0 {
		t.Errorf("an offline inspection wrote a session log: %v", matches)
	}
}

// inspect --stored reads the store call and tui use: --token-store, else OAUTHDIAG_TOKEN_STORE,
// else the profile's token_store, else auto. With no keychain reachable, auto falls back to the
// token file and says so, a file store is used without a word, and a keychain store fails.
func TestInspectStoredTokenStorePreference(t *testing.T) {
	sb, tok := inspectSandbox(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	// A test that used the real keychain (CI has one) leaves this process connected to it, the
	// address notwithstanding: auto then uses the keychain, which still finds the file's token,
	// and has nothing to explain.
	autoNote := "tokens are kept in files under"
	if profile.NewKeychain(profile.KeychainService, 0).Probe() == nil {
		autoNote = ""
	}
	cases := []struct {
		name       string
		envStore   string // OAUTHDIAG_TOKEN_STORE
		tokenStore string // the profile's token_store
		code       int
		stderr     string // substring; "" means stderr must not mention the keychain
	}{
		{"auto falls back to the file", "", "", 0, autoNote},
		{"OAUTHDIAG_TOKEN_STORE=file", "file", "", 0, ""},
		{"profile token_store = file", "", "file", 0, ""},
		{"profile token_store = keychain", "", "keychain", 1, "keychain"},
		{"OAUTHDIAG_TOKEN_STORE over the profile", "file", "keychain", 0, ""},
		{"bad OAUTHDIAG_TOKEN_STORE", "disk", "file", 2, "OAUTHDIAG_TOKEN_STORE: unknown token store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			store := profile.NewFileStore(filepath.Join(home, "state", "tokens"), time.Now)
			if err := store.Save("st", &profile.StoredToken{Format: 1, Token: *tok, ClientID: sandbox.DefaultClientID}); err != nil {
				t.Fatal(err)
			}
			profileName := fmt.Sprintf("[profiles]\nst = { issuer = %q, client_id = %q, auth_method = \"post\", introspect_url = %q, secret = \"env:ST_SECRET\"",
				sb.Issuer(), sandbox.DefaultClientID, sb.BaseURL()+"/oauth/v2/introspectToken")
			if c.tokenStore != "" {
				profileName += fmt.Sprintf(", token_store = %q", c.tokenStore)
			}
			cfg := filepath.Join(home, "config", "config.toml")
			if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg, []byte(profileName+" }\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"OAUTHDIAG_HOME": home, "ST_SECRET": sandbox.DefaultClientSecret, "OAUTHDIAG_TOKEN_STORE": c.envStore}
			out, errOut, code := inspectRun(t, env, "", "--profile", "st", "--stored")
			if code != c.code {
				t.Fatalf("exit %d (want %d): %s\n%s", code, c.code, errOut, out)
			}
			if c.code == 0 && !strings.Contains(out, inspector.Fingerprint(tok.AccessToken)) {
				t.Errorf("the stored token was not inspected:\n%s", out)
			}
			switch {
			case c.stderr == "" && strings.Contains(errOut, "keychain"):
				t.Errorf("stderr mentions the keychain:\n%s", errOut)
			case !strings.Contains(errOut, c.stderr):
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errOut)
			}
		})
	}
}

// A server that echoes the client secret in an introspection error does not get it onto
// the screen: the output goes through everything the redactor knows, not just the token.
func TestInspectRedactsAnEchoedClientSecret(t *testing.T) {
	const secret = "echoed-Client-Secret-4242"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"client_secret %s is not the one registered"}`, r.PostForm.Get("client_secret"))
	}))
	defer srv.Close()
	env := map[string]string{"OAUTHDIAG_HOME": t.TempDir(), "OAUTHDIAG_CLIENT_SECRET": secret}
	for _, format := range [][]string{nil, {"--json"}} {
		args := append([]string{"--client-id", "c", "--auth-method", "post", "--introspect-url", srv.URL + "/introspect"}, format...)
		out, errOut, _ := inspectRun(t, env, "", append(args, "AQV8eYx3Zq-opaque-token_value-0123456789")...)
		if !strings.Contains(out+errOut, "invalid_client") {
			t.Fatalf("the introspection error is not shown:\n%s\n%s", out, errOut)
		}
		if strings.Contains(out+errOut, secret) {
			t.Errorf("inspect %v shows the client secret:\n%s\n%s", format, out, errOut)
		}
	}
}
