package oauthflow_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// fixedNow is the clock of tests that need one.
var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// TestErrorResponseShapes serves every error body shape a provider or API sends and checks the
// typed error each one becomes, through a real HTTP exchange.
func TestErrorResponseShapes(t *testing.T) {
	t.Parallel()
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	cases := []struct {
		name             string
		answer           answer
		kind             oauthflow.ErrorKind
		code             string
		desc             string // substring of Description
		serviceErrorCode int
		retryAfter       time.Duration
		hint             bool // a hint is expected
	}{
		{name: "OAuth JSON", answer: answer{400, map[string]string{"Content-Type": "application/json"},
			`{"error":"invalid_redirect_uri","error_description":"Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code.","error_uri":"https://docs.example.test/e"}`},
			kind: oauthflow.KindOAuth, code: "invalid_redirect_uri", desc: "does not match authorization code"},
		{name: "LinkedIn API JSON, numeric serviceErrorCode", answer: answer{401, map[string]string{"Content-Type": "application/json"},
			`{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token has been revoked"}`},
			kind: oauthflow.KindAPI, code: "REVOKED_ACCESS_TOKEN", desc: "The token has been revoked", serviceErrorCode: 65601},
		{name: "LinkedIn API JSON, serviceErrorCode as a string", answer: answer{403, map[string]string{"Content-Type": "application/json"},
			`{"status":403,"serviceErrorCode":"100","message":"Not enough permissions to access: GET /me"}`},
			kind: oauthflow.KindAPI, desc: "Not enough permissions", serviceErrorCode: 100},
		{name: "LinkedIn API JSON, message only", answer: answer{401, map[string]string{"Content-Type": "application/json"},
			`{"message":"Empty oauth2_access_token","status":401}`},
			kind: oauthflow.KindAPI, desc: "Empty oauth2_access_token"},
		{name: "HTML page", answer: answer{502, map[string]string{"Content-Type": "text/html; charset=utf-8"},
			"<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>"},
			kind: oauthflow.KindHTTP, desc: "an HTML page", hint: true},
		{name: "HTML page without a Content-Type", answer: answer{404, map[string]string{"Content-Type": ""},
			"<html><body>Not here</body></html>"},
			kind: oauthflow.KindHTTP, desc: "an HTML page", hint: true},
		{name: "empty body", answer: answer{500, nil, ""},
			kind: oauthflow.KindHTTP, desc: "Internal Server Error"},
		{name: "form-encoded OAuth error", answer: answer{400, map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			"error=invalid_grant&error_description=Token+has+been+expired+or+revoked."},
			kind: oauthflow.KindOAuth, code: "invalid_grant", desc: "Token has been expired or revoked."},
		{name: "WWW-Authenticate Bearer error", answer: answer{401, map[string]string{"WWW-Authenticate": `Bearer realm="api", error="invalid_token", error_description="The access token expired"`}, ""},
			kind: oauthflow.KindOAuth, code: "invalid_token", desc: "The access token expired"},
		{name: "Retry-After in seconds", answer: answer{429, map[string]string{"Content-Type": "application/json", "Retry-After": "120"},
			`{"status":429,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}`},
			kind: oauthflow.KindAPI, code: "TOO_MANY_REQUESTS", desc: "throttle", retryAfter: 2 * time.Minute},
		{name: "Retry-After as an HTTP date", answer: answer{503, map[string]string{"Retry-After": fixedNow.Add(90 * time.Second).Format(http.TimeFormat)}, "down"},
			kind: oauthflow.KindHTTP, desc: "Service Unavailable", retryAfter: 90 * time.Second},
		{name: "Retry-After in the past is no wait", answer: answer{503, map[string]string{"Retry-After": fixedNow.Add(-time.Hour).Format(http.TimeFormat)}, ""},
			kind: oauthflow.KindHTTP},
		{name: "JSON without known fields", answer: answer{400, map[string]string{"Content-Type": "application/json"}, `{"oops":true}`},
			kind: oauthflow.KindHTTP, desc: "Bad Request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.answer.header {
					w.Header()[k] = []string{v}
				}
				w.WriteHeader(tc.answer.status)
				w.Write([]byte(tc.answer.body))
			}))
			defer srv.Close()
			r := oauthflow.NewRunner(oauthflow.Config{}, oauthflow.WithClock(fixedClock))
			resp, err := r.CallAPI(t.Context(), "tok", oauthflow.APIRequest{URL: srv.URL + "/v2/me"})
			e, ok := oauthflow.AsError(err)
			if !ok {
				t.Fatalf("CallAPI = %v, want an *Error", err)
			}
			if e.Step != oauthflow.StepAPICall || e.Status != tc.answer.status || e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got step %q status %d kind %v code %q, want api-call %d %v %q (%v)",
					e.Step, e.Status, e.Kind, e.Code, tc.answer.status, tc.kind, tc.code, err)
			}
			if !strings.Contains(e.Description, tc.desc) {
				t.Errorf("description %q does not contain %q", e.Description, tc.desc)
			}
			if e.ServiceErrorCode != tc.serviceErrorCode {
				t.Errorf("serviceErrorCode = %d, want %d", e.ServiceErrorCode, tc.serviceErrorCode)
			}
			if e.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tc.retryAfter)
			}
			if tc.hint != (e.Hint != "") {
				t.Errorf("hint %q, want one = %v", e.Hint, tc.hint)
			}
			if e.Body != tc.answer.body {
				t.Errorf("the error keeps body %q, want %q", e.Body, tc.answer.body)
			}
			if resp == nil || resp.Status != tc.answer.status {
				t.Errorf("the response must still be returned with the error, got %+v", resp)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "api-call: HTTP ") {
				t.Errorf("message %q must start with the step and the status", msg)
			}
		})
	}
}

func TestErrorMessageNamesCauseAndFix(t *testing.T) {
	t.Parallel()
	e := &oauthflow.Error{Step: "userinfo", Kind: oauthflow.KindAPI, Status: 401, Code: "REVOKED_ACCESS_TOKEN",
		Description: "The token has been revoked", ServiceErrorCode: 65601, Hint: "authorize again"}
	want := "userinfo: HTTP 401 REVOKED_ACCESS_TOKEN: The token has been revoked (serviceErrorCode 65601) — authorize again"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	cause := errors.New("boom")
	wrapped := &oauthflow.Error{Kind: oauthflow.KindTransport, Err: cause}
	if !errors.Is(wrapped, cause) || wrapped.Error() != "boom" {
		t.Errorf("an Error without text must show and unwrap its cause: %q", wrapped.Error())
	}
	if got := (&oauthflow.Error{Kind: oauthflow.KindFormat}).Error(); got != "format error" {
		t.Errorf("a bare Error reads %q", got)
	}
}

func TestErrorKindNames(t *testing.T) {
	t.Parallel()
	kinds := map[oauthflow.ErrorKind]string{
		oauthflow.KindTransport: "transport", oauthflow.KindOAuth: "oauth", oauthflow.KindAPI: "api", oauthflow.KindHTTP: "http",
		oauthflow.KindFormat: "format", oauthflow.KindRedirect: "redirect", oauthflow.KindValidation: "validation",
		oauthflow.KindConfig: "config", oauthflow.KindUnavailable: "unavailable", oauthflow.KindBrowser: "browser",
		oauthflow.KindTimeout: "timeout", oauthflow.ErrorKind(0): "unknown",
	}
	for k, want := range kinds {
		text, _ := k.MarshalText()
		if k.String() != want || string(text) != want {
			t.Errorf("kind %d reads %q / %q, want %q", int(k), k.String(), text, want)
		}
	}
}

// closedURL is an http URL on a port where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	return "http://127.0.0.1:" + freePort(t)
}

// TestTransportFailures: each way a call can fail before an answer gets the step error code
// scripts of flow --json have always matched on, a message naming the cause and a hint.
func TestTransportFailures(t *testing.T) {
	t.Parallel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	// A server that promises more body than it sends.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "200")
		w.Write([]byte(`{"sub":"abc","na`))
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	t.Cleanup(cut.Close)

	cases := []struct {
		name    string
		url     string
		client  *http.Client
		ctx     func() context.Context
		code    string
		mention string
	}{
		{name: "connection refused", url: closedURL(t) + "/v2/userinfo", code: "connection_refused", mention: "connection refused"},
		{name: "timeout", url: hang.URL + "/v2/userinfo", client: &http.Client{Timeout: 50 * time.Millisecond}, code: "timeout", mention: "did not answer in time"},
		{name: "cancelled", url: hang.URL + "/v2/userinfo", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, code: oauthflow.CodeCanceled, mention: "cancelled"},
		{name: "TLS spoken to by an untrusting client", url: tlsSrv.URL + "/v2/userinfo", code: "tls", mention: "TLS handshake"},
		{name: "body cut off", url: cut.URL + "/v2/userinfo", code: "network", mention: "broke off mid-body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := oauthflow.Config{Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Userinfo: tc.url}}}
			var opts []oauthflow.Option
			if tc.client != nil {
				opts = append(opts, oauthflow.WithHTTPClient(tc.client))
			}
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			tctx, trace := httplog.Collect(ctx)

			_, err := oauthflow.NewRunner(cfg, opts...).Userinfo(tctx, "tok")
			e, ok := oauthflow.AsError(err)
			if !ok || e.Kind != oauthflow.KindTransport || e.Code != tc.code || e.Step != oauthflow.StepUserinfo {
				t.Fatalf("Userinfo = %v, want a transport error %q at userinfo", err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("message %q does not mention %q", err.Error(), tc.mention)
			}
			if tc.code != oauthflow.CodeCanceled && e.Hint == "" && tc.code != "" {
				t.Errorf("no hint on what to do: %v", err)
			}
			if e.Err == nil {
				t.Error("the underlying cause is dropped")
			}
			if len(trace.Exchanges()) != 1 {
				t.Errorf("the failed call must still be in the trace, got %d exchanges", len(trace.Exchanges()))
			}
		})
	}
}

func TestTransportFailureNamesTheHost(t *testing.T) {
	t.Parallel()
	u := closedURL(t)
	_, err := oauthflow.NewRunner(oauthflow.Config{}).CallAPI(t.Context(), "", oauthflow.APIRequest{URL: u + "/x"})
	host := strings.TrimPrefix(u, "http://")
	if err == nil || !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), "is the server running") {
		t.Errorf("message %v must name %s and say what to check", err, host)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("the network error is not reachable with errors.As: %v", err)
	}
}
