package cli

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
)

// browseAuthURL is an authorization request for the peer's confidential client.
func browseAuthURL(p *peertest.Peer, redirectURI string) string {
	return strings.TrimSuffix(p.Issuer, "/") + "/auth?" + url.Values{
		"response_type": {"code"}, "client_id": {p.ClientID}, "redirect_uri": {redirectURI},
		"scope": {"openid"}, "state": {"st-1"},
	}.Encode()
}

// TestBrowseCommand specifies what `oauthdiag browse` prints and how it exits, as a flow's --browser-cmd
// relies on it, against the in-process zitadel/oidc peer.
func TestBrowseCommand(t *testing.T) {
	p := peertest.Zitadel(t)
	const canary = "canary-browse-pw-5e0a"
	cases := []struct {
		name       string
		args       func() []string
		env        map[string]string
		wantCode   int
		wantStdout string // prefix
		wantStderr string // substring
	}{
		{
			name:       "code: exit 0, redirect URL on stdout; credentials from the environment",
			args:       func() []string { return []string{browseAuthURL(p, p.RedirectURI)} },
			env:        map[string]string{"OAUTHDIAG_BROWSE_USER": p.Username, "OAUTHDIAG_BROWSE_PASSWORD": p.Password},
			wantCode:   0,
			wantStdout: p.RedirectURI + "?code=",
		},
		{
			name: "flags after the URL, trace with -v",
			args: func() []string {
				return []string{browseAuthURL(p, p.RedirectURI), "--user", p.Username, "--password", p.Password, "-v"}
			},
			wantCode:   0,
			wantStdout: p.RedirectURI + "?code=",
			wantStderr: "code=REDACTED",
		},
		{
			name: "error page: exit 4, page text on stderr",
			args: func() []string {
				return []string{"--user", p.Username, browseAuthURL(p, "http://127.0.0.1:8765/unregistered")}
			},
			wantCode:   4,
			wantStderr: "redirect_uri is missing in the client configuration",
		},
		{
			name: "rejected password: exit 4, never echoed",
			args: func() []string {
				return []string{"-v", "--user", p.Username, "--password", canary, browseAuthURL(p, p.RedirectURI)}
			},
			wantCode:   4,
			wantStderr: "username or password wrong",
		},
		{
			name:       "usage error: no URL",
			args:       func() []string { return []string{"--cancel"} },
			wantCode:   2,
			wantStderr: "want exactly one AUTHORIZATION_URL",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return tc.env[k] }}
			code := runCLI(context.Background(), env, append([]string{"browse"}, tc.args()...))
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tc.wantStdout) || (tc.wantStdout == "" && stdout.Len() != 0) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), canary) {
				t.Error("the password was printed")
			}
		})
	}
}

// TestBrowseOutcome maps authorization responses to exit statuses.
func TestBrowseOutcome(t *testing.T) {
	for _, tc := range []struct {
		redirect string
		want     int
	}{
		{"http://127.0.0.1:8765/callback?code=c&state=s", 0},
		{"http://127.0.0.1:8765/callback#access_token=t&state=s", 0},
		{"http://127.0.0.1:8765/callback?error=access_denied&error_description=no&state=s", 3},
		{"http://127.0.0.1:8765/callback#error=invalid_scope", 3},
		{"http://127.0.0.1:8765/callback?state=s", 4},
	} {
		got := 0
		if err := browseOutcome(tc.redirect); err != nil {
			var ee *exitError
			if !errors.As(err, &ee) {
				t.Fatalf("browseOutcome(%q) = %v, want an *exitError", tc.redirect, err)
			}
			got = ee.code
		}
		if got != tc.want {
			t.Errorf("browseOutcome(%q) exit %d, want %d", tc.redirect, got, tc.want)
		}
	}
}
