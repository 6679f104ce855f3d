package oauthflow_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	ar := &oauthflow.AuthRequest{State: "st-123", RedirectURI: "http://127.0.0.1:8765/callback"}
	const issuer = "https://as.example.test/oauth"
	cb := func(q string) string { return "http://127.0.0.1:8765/callback?" + q }
	cases := []struct {
		name     string
		redirect string
		issuer   string
		// wantCode is the authorization code of a valid redirect; "" means an error is expected.
		wantCode string
		kind     oauthflow.ErrorKind
		code     string
		desc     string // a substring of the description
	}{
		{name: "valid", redirect: cb("code=abc&state=st-123"), wantCode: "abc"},
		{name: "valid with surrounding whitespace from a paste", redirect: "  " + cb("code=abc&state=st-123") + "\n", wantCode: "abc"},
		{name: "parameters in the fragment", redirect: "http://127.0.0.1:8765/callback#code=abc&state=st-123", wantCode: "abc"},
		{name: "RFC 9207 iss matches", redirect: cb("code=abc&state=st-123&iss=" + url.QueryEscape(issuer)), issuer: issuer, wantCode: "abc"},
		{name: "RFC 9207 iss matches up to a trailing slash", redirect: cb("code=abc&state=st-123&iss=" + url.QueryEscape(issuer+"/")), issuer: issuer, wantCode: "abc"},
		{name: "iss without an expected issuer is accepted", redirect: cb("code=abc&state=st-123&iss=https%3A%2F%2Fother.test"), wantCode: "abc"},
		{name: "wrong state", redirect: cb("code=abc&state=forged"), kind: oauthflow.KindValidation, code: oauthflow.CodeStateMismatch, desc: "does not match"},
		{name: "missing state", redirect: cb("code=abc"), kind: oauthflow.KindValidation, code: oauthflow.CodeStateMismatch, desc: "no state"},
		{name: "RFC 9207 iss mismatch", redirect: cb("code=abc&state=st-123&iss=https%3A%2F%2Fevil.test"), issuer: issuer,
			kind: oauthflow.KindValidation, code: oauthflow.CodeIssuerMismatch, desc: "https://evil.test"},
		{name: "user cancelled login", redirect: cb("error=user_cancelled_login&error_description=The+user+cancelled+LinkedIn+login&state=st-123"),
			kind: oauthflow.KindRedirect, code: "user_cancelled_login", desc: "The user cancelled LinkedIn login"},
		{name: "user cancelled authorize", redirect: cb("error=user_cancelled_authorize&error_description=The+user+cancelled+the+authorization&state=st-123"),
			kind: oauthflow.KindRedirect, code: "user_cancelled_authorize", desc: "cancelled the authorization"},
		{name: "scope not enabled for the app", redirect: cb("error=unauthorized_scope_error&error_description=Scope+%22r_emailaddress%22+is+not+authorized&state=st-123"),
			kind: oauthflow.KindRedirect, code: "unauthorized_scope_error", desc: `Scope "r_emailaddress" is not authorized`},
		{name: "error redirect with a foreign state is still the provider's error", redirect: cb("error=access_denied&state=other"),
			kind: oauthflow.KindRedirect, code: "access_denied"},
		{name: "missing code", redirect: cb("state=st-123"), kind: oauthflow.KindValidation, code: oauthflow.CodeMissingCode},
		{name: "redirect to another URL", redirect: "http://127.0.0.1:9999/elsewhere?code=abc&state=st-123", kind: oauthflow.KindValidation, code: oauthflow.CodeBadURL, desc: "not to the redirect URI"},
		{name: "redirect to another path", redirect: "http://127.0.0.1:8765/callback/?code=abc&state=st-123", kind: oauthflow.KindValidation, code: oauthflow.CodeBadURL},
		{name: "garbage text", redirect: "I clicked allow and nothing happened", kind: oauthflow.KindValidation, code: oauthflow.CodeBadURL},
		{name: "control characters", redirect: "http://127.0.0.1:8765/call\x7fback?code=\x00", kind: oauthflow.KindValidation, code: oauthflow.CodeBadURL},
		{name: "empty paste", redirect: "   ", kind: oauthflow.KindValidation, code: oauthflow.CodeBadURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := oauthflow.ParseRedirect(ar, tc.issuer, tc.redirect)
			if tc.wantCode != "" {
				if err != nil {
					t.Fatalf("ParseRedirect: %v", err)
				}
				if got.Code != tc.wantCode || got.State != ar.State {
					t.Errorf("got code %q state %q, want %q %q", got.Code, got.State, tc.wantCode, ar.State)
				}
				if got.URL != strings.TrimSpace(tc.redirect) {
					t.Errorf("URL = %q, want the redirect as received", got.URL)
				}
				return
			}
			e, ok := oauthflow.AsError(err)
			if !ok {
				t.Fatalf("ParseRedirect(%q) = %v, want an *Error", tc.redirect, err)
			}
			if e.Step != oauthflow.StepCallback || e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got step %q kind %v code %q, want callback %v %q (%v)", e.Step, e.Kind, e.Code, tc.kind, tc.code, err)
			}
			if !strings.Contains(e.Description, tc.desc) {
				t.Errorf("description %q does not mention %q", e.Description, tc.desc)
			}
			if tc.kind == oauthflow.KindValidation && e.Hint == "" {
				t.Errorf("a check that fails on our side must say what to do: %v", err)
			}
		})
	}
}

// freePort returns a port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

func get(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestListenerReceivesOneRedirect(t *testing.T) {
	t.Parallel()
	l, err := oauthflow.Listen("http://127.0.0.1:0/callback")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()
	host, _, _ := net.SplitHostPort(l.Addr())
	if host != "127.0.0.1" {
		t.Fatalf("listener bound %s; it must bind loopback only", l.Addr())
	}
	base := "http://" + l.Addr()

	if status, _ := get(t, base+"/favicon.ico"); status != http.StatusNotFound {
		t.Errorf("a request to another path answered %d, want 404 (and must not count as the redirect)", status)
	}
	status, page := get(t, base+"/callback?code=first&state=s1")
	if status != http.StatusOK || !strings.Contains(page, "Authorization received") {
		t.Errorf("the redirect got %d %q", status, page)
	}
	if strings.Contains(page, "first") {
		t.Error("the page echoes the authorization code")
	}
	_, second := get(t, base+"/callback?code=second&state=s1")
	if !strings.Contains(second, "Already received") {
		t.Errorf("a second redirect must be refused, got page %q", second)
	}
	got, err := l.Wait(t.Context(), 5*time.Second)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got != base+"/callback?code=first&state=s1" {
		t.Errorf("Wait = %q, want the first redirect", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestListenerShowsTheProviderError(t *testing.T) {
	t.Parallel()
	l, err := oauthflow.Listen("http://localhost:0/cb")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()
	if host, _, _ := net.SplitHostPort(l.Addr()); host != "127.0.0.1" {
		t.Errorf("a localhost redirect URI bound %s; want 127.0.0.1, never all interfaces", l.Addr())
	}
	_, page := get(t, "http://"+l.Addr()+"/cb?error=user_cancelled_login&error_description=<script>x</script>")
	if !strings.Contains(page, "user_cancelled_login") || strings.Contains(page, "<script>") {
		t.Errorf("error page must name the error and escape the description: %q", page)
	}
}

func TestListenerDeliverStandsInForTheBrowser(t *testing.T) {
	t.Parallel()
	l, err := oauthflow.Listen("http://127.0.0.1:0/callback")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()
	l.Deliver("http://127.0.0.1:8765/callback?code=pasted")
	l.Deliver("http://127.0.0.1:8765/callback?code=ignored")
	got, err := l.Wait(t.Context(), time.Second)
	if err != nil || got != "http://127.0.0.1:8765/callback?code=pasted" {
		t.Errorf("Wait = %q, %v; want the first delivered URL", got, err)
	}
}

func TestListenRefusals(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())

	cases := []struct {
		name, redirect string
		code           string
		mention        []string // in the message
	}{
		{name: "port busy", redirect: "http://127.0.0.1:" + busyPort + "/callback", code: oauthflow.CodePortBusy,
			mention: []string{"port " + busyPort + " is already in use", "--redirect-uri"}},
		{name: "not loopback", redirect: "http://app.example.test:8765/callback", code: oauthflow.CodeBadURL,
			mention: []string{"app.example.test", "not loopback", "paste"}},
		{name: "https cannot be served locally", redirect: "https://127.0.0.1:8765/callback", code: oauthflow.CodeBadURL,
			mention: []string{"http:// loopback"}},
		{name: "not a URL", redirect: "::", code: oauthflow.CodeBadURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := oauthflow.Listen(tc.redirect)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%q) succeeded", tc.redirect)
			}
			e, ok := oauthflow.AsError(err)
			if !ok || e.Kind != oauthflow.KindConfig || e.Code != tc.code {
				t.Fatalf("Listen(%q) = %v, want a config error %q", tc.redirect, err, tc.code)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not mention %q", err.Error(), m)
				}
			}
		})
	}
}

func TestListenerWaitEnds(t *testing.T) {
	t.Parallel()
	l, err := oauthflow.Listen("http://127.0.0.1:0/callback")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()

	_, err = l.Wait(t.Context(), 20*time.Millisecond)
	e, ok := oauthflow.AsError(err)
	if !ok || e.Kind != oauthflow.KindTimeout || e.Code != oauthflow.CodeCallbackTimeout || e.Hint == "" {
		t.Errorf("Wait after the timeout = %v, want a timeout error with a hint", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = l.Wait(ctx, time.Minute)
	e, ok = oauthflow.AsError(err)
	if !ok || e.Code != oauthflow.CodeCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v, want %s wrapping context.Canceled", err, oauthflow.CodeCanceled)
	}
}
