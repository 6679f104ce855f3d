package oauthflow_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func TestParseTokenKeepsEveryField(t *testing.T) {
	t.Parallel()
	body := `{"access_token":"AQV-access","expires_in":5184000,"refresh_token":"AQX-refresh","refresh_token_expires_in":"31536000",
		"scope":"openid,profile email","token_type":"Bearer","id_token":"eyJ.x.y","x_li_member":"urn:li:person:7","nested":{"a":[1,2]}}`
	tok, err := oauthflow.ParseToken([]byte(body), fixedNow)
	if err != nil {
		t.Fatalf("ParseToken: %v", err)
	}
	if tok.AccessToken != "AQV-access" || tok.RefreshToken != "AQX-refresh" || tok.IDToken != "eyJ.x.y" || tok.TokenType != "Bearer" {
		t.Errorf("token strings not read: %+v", tok)
	}
	if tok.ExpiresIn != 5184000 || tok.RefreshTokenExpiresIn != 31536000 {
		t.Errorf("expires_in %d refresh_token_expires_in %d (sent as a string), want 5184000 and 31536000", tok.ExpiresIn, tok.RefreshTokenExpiresIn)
	}
	if want := fixedNow.Add(60 * 24 * time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("Expiry = %v, want receipt time + 60 days = %v", tok.Expiry, want)
	}
	if want := fixedNow.Add(365 * 24 * time.Hour); !tok.RefreshExpiry.Equal(want) {
		t.Errorf("RefreshExpiry = %v, want receipt time + 365 days = %v", tok.RefreshExpiry, want)
	}
	if !tok.ReceivedAt.Equal(fixedNow) {
		t.Errorf("ReceivedAt = %v", tok.ReceivedAt)
	}
	if got := tok.GrantedScopes(); !slices.Equal(got, []string{"openid", "profile", "email"}) {
		t.Errorf("GrantedScopes = %v: commas and spaces both separate", got)
	}
	if tok.Extra("x_li_member") != "urn:li:person:7" || tok.Extra("expires_in") != "5184000" || tok.Extra("absent") != "" {
		t.Errorf("Extra: %q %q %q", tok.Extra("x_li_member"), tok.Extra("expires_in"), tok.Extra("absent"))
	}
	if string(tok.Raw["nested"]) != `{"a":[1,2]}` {
		t.Errorf("an unknown structured field is not kept as sent: %s", tok.Raw["nested"])
	}

	// The JSON form keeps everything for the token store.
	out, _ := json.Marshal(tok)
	var back oauthflow.Token
	if err := json.Unmarshal(out, &back); err != nil || back.RefreshTokenExpiresIn != 31536000 || !back.RefreshExpiry.Equal(tok.RefreshExpiry) || back.Extra("x_li_member") != "urn:li:person:7" {
		t.Errorf("round trip lost fields: %s (%v)", out, err)
	}
}

func TestParseTokenLifetimes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body          string
		expiresIn     int64
		expiry        time.Time
		refreshExpiry time.Time
	}{
		{`{"access_token":"a","expires_in":"3600"}`, 3600, fixedNow.Add(time.Hour), time.Time{}},
		{`{"access_token":"a","expires_in":299.0}`, 299, fixedNow.Add(299 * time.Second), time.Time{}},
		{`{"access_token":"a"}`, 0, time.Time{}, time.Time{}},
		{`{"access_token":"a","expires_in":"soon"}`, 0, time.Time{}, time.Time{}},
		{`{"access_token":"a","expires_in":0,"refresh_token":"r","refresh_token_expires_in":86400}`, 0, time.Time{}, fixedNow.Add(24 * time.Hour)},
	}
	for _, tc := range cases {
		tok, err := oauthflow.ParseToken([]byte(tc.body), fixedNow)
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if tok.ExpiresIn != tc.expiresIn || !tok.Expiry.Equal(tc.expiry) || !tok.RefreshExpiry.Equal(tc.refreshExpiry) {
			t.Errorf("%s: expires_in %d expiry %v refresh expiry %v", tc.body, tok.ExpiresIn, tok.Expiry, tok.RefreshExpiry)
		}
	}
	for _, bad := range []string{"", "access_token=a", `{"access_token":"a"`, `[]`} {
		if _, err := oauthflow.ParseToken([]byte(bad), fixedNow); err == nil {
			t.Errorf("ParseToken(%q) accepted a body that is not a JSON object", bad)
		}
	}
}

func TestParseIntrospection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		body   string
		check  func(t *testing.T, in *oauthflow.Introspection)
		errMsg string
	}{
		{name: "RFC 7662", body: `{"active":true,"scope":"openid profile","client_id":"c","username":"alice","token_type":"Bearer",
			"exp":1742000000,"iat":"1741990000","nbf":1741990000,"sub":"alice","aud":["api","c"],"iss":"https://as.test","x_extra":1}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if !in.Active || in.Scope != "openid profile" || in.ClientID != "c" || in.Username != "alice" || in.Sub != "alice" || in.Iss != "https://as.test" {
					t.Errorf("fields: %+v", in)
				}
				if in.Exp != 1742000000 || in.Iat != 1741990000 || in.Nbf != 1741990000 {
					t.Errorf("times: exp %d iat %d (a string) nbf %d", in.Exp, in.Iat, in.Nbf)
				}
				if aud, ok := in.Aud.([]any); !ok || len(aud) != 2 {
					t.Errorf("aud as a list: %#v", in.Aud)
				}
				if _, ok := in.Raw["x_extra"]; !ok {
					t.Error("unknown fields are dropped")
				}
			}},
		{name: "LinkedIn", body: `{"active":true,"client_id":"77abc","authorized_at":1741000000,"created_at":1741000001,"status":"active",
			"expires_at":1746184001,"scope":"r_liteprofile,openid,profile","auth_type":"3L"}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if !in.Active || in.Status != "active" || in.AuthType != "3L" || in.ClientID != "77abc" {
					t.Errorf("fields: %+v", in)
				}
				if in.ExpiresAt != 1746184001 || in.CreatedAt != 1741000001 || in.AuthorizedAt != 1741000000 {
					t.Errorf("LinkedIn times: %+v", in)
				}
				if got := oauthflow.SplitScopes(in.Scope); !slices.Equal(got, []string{"r_liteprofile", "openid", "profile"}) {
					t.Errorf("comma-separated scope splits to %v", got)
				}
			}},
		{name: "scope as a list", body: `{"active":true,"scope":["a","b"]}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if in.Scope != "a b" {
					t.Errorf("scope = %q", in.Scope)
				}
			}},
		{name: "status revoked without active", body: `{"status":"revoked","client_id":"77abc"}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if in.Active || in.Status != "revoked" {
					t.Errorf("got active %v status %q", in.Active, in.Status)
				}
			}},
		{name: "status active without active", body: `{"status":"ACTIVE"}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if !in.Active {
					t.Error("status active must read as active")
				}
			}},
		{name: "inactive", body: `{"active":false}`,
			check: func(t *testing.T, in *oauthflow.Introspection) {
				if in.Active {
					t.Error("active false read as active")
				}
			}},
		{name: "neither active nor status", body: `{"client_id":"c"}`, errMsg: `neither "active" nor "status"`},
		{name: "wrong type", body: `{"active":true,"client_id":7}`, errMsg: "wrong type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.body), &raw); err != nil {
				t.Fatal(err)
			}
			in, err := oauthflow.ParseIntrospection(raw)
			if tc.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
					t.Errorf("ParseIntrospection = %+v, %v; want an error about %s", in, err, tc.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIntrospection: %v", err)
			}
			tc.check(t, in)
		})
	}
}

// seenRequest is what an endpoint received.
type seenRequest struct {
	Method, Path, ContentType, Authorization, Accept string
	Form                                             url.Values
}

// endpointServer answers every request with one canned answer and records what it received.
type endpointServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newEndpointServer(t *testing.T, status int, contentType, body string) *endpointServer {
	t.Helper()
	s := &endpointServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Authorization: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"), Form: form})
		s.mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *endpointServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

const tokenJSON = `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"openid profile","x_extra":"kept"}`

// Client credentials with characters that must be form-encoded inside HTTP Basic (RFC 6749 §2.3.1).
const (
	awkwardID     = "client:id 1"
	awkwardSecret = "s3cr:t/+%&"
)

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// clientAuthCase is one way of authenticating the client and what must reach the server for it.
type clientAuthCase struct {
	name           string
	client         oauthflow.AuthMethod
	provider       oauthflow.AuthMethod
	wantBasic      bool
	wantFormID     bool
	wantFormSecret bool
}

func clientAuthCases() []clientAuthCase {
	return []clientAuthCase{
		{name: "basic", client: oauthflow.AuthBasic, wantBasic: true},
		{name: "post", client: oauthflow.AuthPost, wantFormID: true, wantFormSecret: true},
		{name: "none", client: oauthflow.AuthNone, wantFormID: true},
		{name: "provider preference when the client has none", provider: oauthflow.AuthPost, wantFormID: true, wantFormSecret: true},
		{name: "basic when nobody says", wantBasic: true},
	}
}

func (c clientAuthCase) check(t *testing.T, got seenRequest) {
	t.Helper()
	if got.Method != http.MethodPost || !strings.HasPrefix(got.ContentType, "application/x-www-form-urlencoded") {
		t.Errorf("sent %s with Content-Type %q, want a form POST", got.Method, got.ContentType)
	}
	if c.wantBasic {
		if got.Authorization != basicHeader(awkwardID, awkwardSecret) {
			t.Errorf("Authorization = %q, want Basic with the form-encoded id and secret %q", got.Authorization, basicHeader(awkwardID, awkwardSecret))
		}
	} else if got.Authorization != "" {
		t.Errorf("Authorization = %q, want none", got.Authorization)
	}
	if has := got.Form.Get("client_id") == awkwardID; has != c.wantFormID {
		t.Errorf("client_id in the body = %q, want it there = %v", got.Form.Get("client_id"), c.wantFormID)
	}
	if has := got.Form.Has("client_secret"); has != c.wantFormSecret {
		t.Errorf("client_secret in the body = %v, want %v", has, c.wantFormSecret)
	}
	if c.wantFormSecret && got.Form.Get("client_secret") != awkwardSecret {
		t.Errorf("client_secret = %q", got.Form.Get("client_secret"))
	}
}

func tokenRunner(t *testing.T, srv *endpointServer, auth clientAuthCase, opts ...oauthflow.Option) *oauthflow.Runner {
	t.Helper()
	cfg := oauthflow.Config{
		Provider: oauthflow.Provider{AuthMethod: auth.provider, Endpoints: oauthflow.Endpoints{
			Authorization: srv.URL + "/authorize", Token: srv.URL + "/token",
			Introspection: srv.URL + "/introspect", Revocation: srv.URL + "/revoke"}},
		Client: oauthflow.Client{ID: awkwardID, Secret: awkwardSecret, AuthMethod: auth.client,
			RedirectURI: "http://127.0.0.1:8765/callback", Scopes: []string{"openid"}, PKCE: true},
	}
	return oauthflow.NewRunner(cfg, append([]oauthflow.Option{oauthflow.WithClock(fixedClock)}, opts...)...)
}

func TestTokenEndpointStepsAuthenticateTheClient(t *testing.T) {
	t.Parallel()
	for _, auth := range clientAuthCases() {
		t.Run(auth.name, func(t *testing.T) {
			t.Parallel()
			t.Run("exchange", func(t *testing.T) {
				t.Parallel()
				srv := newEndpointServer(t, 200, "application/json", tokenJSON)
				r := tokenRunner(t, srv, auth)
				ar := &oauthflow.AuthRequest{Verifier: "verifier-0123456789-0123456789-0123456789", RedirectURI: "http://127.0.0.1:8765/callback"}
				tctx, trace := httplog.Collect(t.Context())

				tok, err := r.ExchangeCode(tctx, ar, &oauthflow.Callback{Code: "the-code"})
				if err != nil {
					t.Fatalf("ExchangeCode: %v", err)
				}
				got := srv.requests()
				if len(got) != 1 {
					t.Fatalf("%d requests, want 1", len(got))
				}
				auth.check(t, got[0])
				f := got[0].Form
				if f.Get("grant_type") != "authorization_code" || f.Get("code") != "the-code" || f.Get("redirect_uri") != ar.RedirectURI || f.Get("code_verifier") != ar.Verifier {
					t.Errorf("exchange form %v", f)
				}
				if tok.AccessToken != "at-1" || tok.Extra("x_extra") != "kept" || !tok.Expiry.Equal(fixedNow.Add(time.Hour)) {
					t.Errorf("token %+v", tok)
				}
				if ex := trace.Exchanges(); len(ex) != 1 || ex[0].Step != oauthflow.StepExchange || string(ex[0].Response.Body) != tokenJSON {
					t.Errorf("trace %+v", ex)
				}
			})
			t.Run("refresh", func(t *testing.T) {
				t.Parallel()
				srv := newEndpointServer(t, 200, "application/json", tokenJSON)
				if _, err := tokenRunner(t, srv, auth).Refresh(t.Context(), "rt-0"); err != nil {
					t.Fatalf("Refresh: %v", err)
				}
				got := srv.requests()
				auth.check(t, got[0])
				if f := got[0].Form; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-0" {
					t.Errorf("refresh form %v", f)
				}
			})
			t.Run("introspect", func(t *testing.T) {
				t.Parallel()
				srv := newEndpointServer(t, 200, "application/json", `{"active":true}`)
				in, err := tokenRunner(t, srv, auth).Introspect(t.Context(), "at-1", "access_token")
				if err != nil || !in.Active {
					t.Fatalf("Introspect = %+v, %v", in, err)
				}
				got := srv.requests()
				auth.check(t, got[0])
				if f := got[0].Form; got[0].Path != "/introspect" || f.Get("token") != "at-1" || f.Get("token_type_hint") != "access_token" || got[0].Accept != "application/json" {
					t.Errorf("introspection request %+v", got[0])
				}
			})
			t.Run("revoke", func(t *testing.T) {
				t.Parallel()
				srv := newEndpointServer(t, 200, "", "")
				if err := tokenRunner(t, srv, auth).Revoke(t.Context(), "rt-1", "refresh_token"); err != nil {
					t.Fatalf("Revoke: %v", err)
				}
				got := srv.requests()
				auth.check(t, got[0])
				if f := got[0].Form; got[0].Path != "/revoke" || f.Get("token") != "rt-1" || f.Get("token_type_hint") != "refresh_token" {
					t.Errorf("revocation request %+v", got[0])
				}
			})
			if auth.client == oauthflow.AuthNone {
				return // a public client has no credentials to use the client_credentials grant with
			}
			t.Run("client credentials", func(t *testing.T) {
				t.Parallel()
				srv := newEndpointServer(t, 200, "application/json", `{"access_token":"app","expires_in":1800}`)
				tok, err := tokenRunner(t, srv, auth).ClientCredentials(t.Context(), []string{"r_ads", "w_ads"})
				if err != nil || tok.AccessToken != "app" {
					t.Fatalf("ClientCredentials = %+v, %v", tok, err)
				}
				got := srv.requests()
				auth.check(t, got[0])
				if f := got[0].Form; f.Get("grant_type") != "client_credentials" || f.Get("scope") != "r_ads w_ads" {
					t.Errorf("client credentials form %v", f)
				}
			})
		})
	}
}

func TestExchangeWithoutPKCESendsNoVerifier(t *testing.T) {
	t.Parallel()
	srv := newEndpointServer(t, 200, "application/json", tokenJSON)
	r := tokenRunner(t, srv, clientAuthCase{client: oauthflow.AuthBasic})
	if _, err := r.ExchangeCode(t.Context(), &oauthflow.AuthRequest{RedirectURI: "http://127.0.0.1:8765/callback"}, &oauthflow.Callback{Code: "c"}); err != nil {
		t.Fatal(err)
	}
	if f := srv.requests()[0].Form; f.Has("code_verifier") {
		t.Errorf("a verifier was sent without PKCE: %v", f)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		kind        oauthflow.ErrorKind
		code        string
		mention     string
	}{
		{name: "LinkedIn invalid_redirect_uri", status: 400, contentType: "application/json",
			body: `{"error":"invalid_redirect_uri","error_description":"Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists"}`,
			kind: oauthflow.KindOAuth, code: "invalid_redirect_uri", mention: "code verifier does not match"},
		{name: "invalid_client", status: 401, contentType: "application/json", body: `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			kind: oauthflow.KindOAuth, code: "invalid_client", mention: "HTTP 401"},
		{name: "HTML error page", status: 502, contentType: "text/html", body: "<html><body>Bad gateway</body></html>",
			kind: oauthflow.KindHTTP, mention: "an HTML page"},
		{name: "HTML with 200", status: 200, contentType: "text/html", body: "<!DOCTYPE html><html>Sign in</html>",
			kind: oauthflow.KindFormat, code: oauthflow.CodeNotJSON, mention: "an HTML page"},
		{name: "empty 200", status: 200, contentType: "application/json", body: "",
			kind: oauthflow.KindFormat, code: oauthflow.CodeEmptyBody, mention: "empty body"},
		{name: "truncated JSON", status: 200, contentType: "application/json", body: `{"access_token":"at-1","expi`,
			kind: oauthflow.KindFormat, code: oauthflow.CodeNotJSON, mention: "truncated"},
		{name: "no access_token", status: 200, contentType: "application/json", body: `{"token_type":"Bearer"}`,
			kind: oauthflow.KindFormat, code: oauthflow.CodeMissingField, mention: "no access_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEndpointServer(t, tc.status, tc.contentType, tc.body)
			r := tokenRunner(t, srv, clientAuthCase{client: oauthflow.AuthPost})
			steps := map[string]func() error{
				oauthflow.StepExchange: func() error {
					_, err := r.ExchangeCode(t.Context(), &oauthflow.AuthRequest{}, &oauthflow.Callback{Code: "c"})
					return err
				},
				oauthflow.StepRefresh: func() error { _, err := r.Refresh(t.Context(), "rt"); return err },
				oauthflow.StepClientCreds: func() error {
					_, err := r.ClientCredentials(t.Context(), nil)
					return err
				},
			}
			for step, run := range steps {
				err := run()
				e, ok := oauthflow.AsError(err)
				if !ok || e.Step != step || e.Kind != tc.kind || e.Code != tc.code || e.Status != tc.status {
					t.Errorf("%s: got %v, want step %s kind %v code %q status %d", step, err, step, tc.kind, tc.code, tc.status)
					continue
				}
				if !strings.Contains(err.Error(), tc.mention) {
					t.Errorf("%s: message %q does not mention %q", step, err.Error(), tc.mention)
				}
			}
		})
	}
}

func TestTokenEndpointTransportFailures(t *testing.T) {
	t.Parallel()
	// The body is read first: only then does the server notice the client hanging up.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	cases := []struct {
		name   string
		base   string
		client *http.Client
		code   string
	}{
		{name: "unreachable", base: closedURL(t), code: oauthflow.CodeRefused},
		{name: "timeout", base: hang.URL, client: &http.Client{Timeout: 50 * time.Millisecond}, code: oauthflow.CodeTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := oauthflow.Config{
				Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Token: tc.base + "/token", Introspection: tc.base + "/i", Revocation: tc.base + "/r"}},
				Client:   oauthflow.Client{ID: "c", Secret: "s", AuthMethod: oauthflow.AuthPost},
			}
			var opts []oauthflow.Option
			if tc.client != nil {
				opts = append(opts, oauthflow.WithHTTPClient(tc.client))
			}
			r := oauthflow.NewRunner(cfg, opts...)
			ctx := t.Context()
			errs := map[string]error{}
			_, errs[oauthflow.StepExchange] = r.ExchangeCode(ctx, &oauthflow.AuthRequest{}, &oauthflow.Callback{Code: "c"})
			_, errs[oauthflow.StepRefresh] = r.Refresh(ctx, "rt")
			_, errs[oauthflow.StepIntrospect] = r.Introspect(ctx, "at", "")
			errs[oauthflow.StepRevoke] = r.Revoke(ctx, "at", "")
			for step, err := range errs {
				e, ok := oauthflow.AsError(err)
				if !ok || e.Step != step || e.Kind != oauthflow.KindTransport || e.Code != tc.code || e.Hint == "" {
					t.Errorf("%s: got %v, want a transport error %q with a hint", step, err, tc.code)
				}
			}
		})
	}
}

func TestTokenStepsThatCannotRun(t *testing.T) {
	t.Parallel()
	srv := newEndpointServer(t, 200, "application/json", tokenJSON)
	r := oauthflow.NewRunner(oauthflow.Config{Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Token: srv.URL}},
		Client: oauthflow.Client{ID: "c", Secret: "s"}})
	ctx := t.Context()

	_, err := r.Refresh(ctx, "")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindUnavailable || e.Code != oauthflow.CodeNoRefreshToken || !strings.Contains(e.Hint, "offline_access") {
		t.Errorf("Refresh without a refresh token = %v", err)
	}
	_, err = r.ExchangeCode(ctx, &oauthflow.AuthRequest{}, &oauthflow.Callback{})
	if e, ok := oauthflow.AsError(err); !ok || e.Code != oauthflow.CodeMissingCode {
		t.Errorf("ExchangeCode without a code = %v", err)
	}
	_, err = r.Introspect(ctx, "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindUnavailable || e.Code != oauthflow.CodeNoEndpoint || !strings.Contains(e.Hint, "--introspect-url") {
		t.Errorf("Introspect without an endpoint = %v", err)
	}
	err = r.Revoke(ctx, "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindUnavailable || e.Code != oauthflow.CodeNoEndpoint || !strings.Contains(e.Hint, "--revoke-url") {
		t.Errorf("Revoke without an endpoint = %v", err)
	}
	_, err = r.Userinfo(ctx, "at")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindUnavailable || e.Code != oauthflow.CodeNoEndpoint {
		t.Errorf("Userinfo without an endpoint = %v", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests were sent by steps that cannot run", n)
	}
}

func TestRevocationAndIntrospectionErrors(t *testing.T) {
	t.Parallel()
	srv := newEndpointServer(t, 401, "application/json", `{"error":"invalid_client","error_description":"Invalid client secret"}`)
	r := tokenRunner(t, srv, clientAuthCase{client: oauthflow.AuthPost})
	err := r.Revoke(t.Context(), "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Step != oauthflow.StepRevoke || e.Kind != oauthflow.KindOAuth || e.Code != "invalid_client" || e.Status != 401 {
		t.Errorf("Revoke = %v", err)
	}
	_, err = r.IntrospectAs(t.Context(), oauthflow.StepIntrospectAfter, "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Step != oauthflow.StepIntrospectAfter || e.Code != "invalid_client" || e.Description != "Invalid client secret" {
		t.Errorf("IntrospectAs = %v", err)
	}

	html := newEndpointServer(t, 200, "text/html", "<html>login</html>")
	_, err = tokenRunner(t, html, clientAuthCase{client: oauthflow.AuthPost}).Introspect(t.Context(), "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindFormat || !strings.Contains(e.Description, "an HTML page") {
		t.Errorf("Introspect answered by HTML = %v", err)
	}
	noActive := newEndpointServer(t, 200, "application/json", `{"client_id":"c"}`)
	_, err = tokenRunner(t, noActive, clientAuthCase{client: oauthflow.AuthPost}).Introspect(t.Context(), "at", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindFormat || e.Code != oauthflow.CodeMissingField {
		t.Errorf("Introspect without active = %v", err)
	}
}

// A refresh response fills in only what it sends: the refresh token (with its expiry), the
// granted scope and the ID token carry over when omitted, and the notes say what happened.
func TestMergeRefreshedKeepsWhatTheResponseOmits(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	old := &oauthflow.Token{AccessToken: "a1", RefreshToken: "r1", RefreshExpiry: now.Add(time.Hour), Scope: "openid profile", IDToken: "id1"}

	got, notes := oauthflow.MergeRefreshed(old, &oauthflow.Token{AccessToken: "a2", Expiry: now.Add(time.Minute)})
	if got.AccessToken != "a2" || got.RefreshToken != "r1" || !got.RefreshExpiry.Equal(old.RefreshExpiry) ||
		got.Scope != "openid profile" || got.IDToken != "id1" {
		t.Errorf("merged %+v", got)
	}
	if len(notes) != 1 || notes[0] != "no new refresh token was sent: the old one stays in use" {
		t.Errorf("notes %q", notes)
	}

	got, notes = oauthflow.MergeRefreshed(old, &oauthflow.Token{AccessToken: "a3", RefreshToken: "r2", RefreshExpiry: now.Add(3 * time.Hour), Scope: "openid"})
	if got.RefreshToken != "r2" || got.Scope != "openid" {
		t.Errorf("rotation: merged %+v", got)
	}
	if !slices.Equal(notes, []string{"the refresh token was rotated: the new one replaces the old", "the refresh made the refresh token live longer (sliding expiry)"}) {
		t.Errorf("rotation notes %q", notes)
	}
	if old.AccessToken != "a1" || old.RefreshToken != "r1" {
		t.Errorf("the old token was changed: %+v", old)
	}
}
