package oauthflow_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oauthdiag/oauthdiag/httplog"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func TestDiscoveryURLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		issuer string
		want   []string
	}{
		{"https://www.linkedin.com/oauth", []string{
			"https://www.linkedin.com/oauth/.well-known/openid-configuration",
			"https://www.linkedin.com/.well-known/oauth-authorization-server/oauth"}},
		{"http://127.0.0.1:9102/", []string{
			"http://127.0.0.1:9102/.well-known/openid-configuration",
			"http://127.0.0.1:9102/.well-known/oauth-authorization-server"}},
		{" https://as.example.test/tenants/a/ ", []string{
			"https://as.example.test/tenants/a/.well-known/openid-configuration",
			"https://as.example.test/.well-known/oauth-authorization-server/tenants/a"}},
	}
	for _, tc := range cases {
		got, err := oauthflow.DiscoveryURLs(tc.issuer)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("DiscoveryURLs(%q) = %v, %v; want %v", tc.issuer, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "www.linkedin.com/oauth", "ftp://as.example.test", "https://"} {
		_, err := oauthflow.DiscoveryURLs(bad)
		if e, ok := oauthflow.AsError(err); !ok || e.Kind != oauthflow.KindConfig || e.Code != oauthflow.CodeBadURL || e.Hint == "" {
			t.Errorf("DiscoveryURLs(%q) = %v, want a config error with a hint", bad, err)
		}
	}
}

// discoveryServer serves handlers per path and records the paths asked for.
type discoveryServer struct {
	*httptest.Server
	mu    sync.Mutex
	asked []string
}

func newDiscoveryServer(t *testing.T, routes map[string]func(base string, w http.ResponseWriter)) *discoveryServer {
	t.Helper()
	d := &discoveryServer{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.asked = append(d.asked, r.URL.Path)
		d.mu.Unlock()
		if h, ok := routes[r.URL.Path]; ok {
			h("http://"+r.Host, w)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *discoveryServer) paths() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asked...)
}

func jsonDoc(doc map[string]any) func(string, http.ResponseWriter) {
	return func(base string, w http.ResponseWriter) {
		filled := map[string]any{}
		for k, v := range doc {
			if s, ok := v.(string); ok {
				v = strings.ReplaceAll(s, "{base}", base)
			}
			filled[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(filled)
	}
}

func raw(status int, contentType, body string) func(string, http.ResponseWriter) {
	return func(_ string, w http.ResponseWriter) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func fullDoc() map[string]any {
	return map[string]any{
		"issuer":                                         "{base}/oauth",
		"authorization_endpoint":                         "{base}/oauth/v2/authorization",
		"token_endpoint":                                 "{base}/oauth/v2/accessToken",
		"userinfo_endpoint":                              "{base}/v2/userinfo",
		"jwks_uri":                                       "{base}/oauth/openid/jwks",
		"introspection_endpoint":                         "{base}/introspect",
		"revocation_endpoint":                            "{base}/revoke",
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_post"},
		"authorization_response_iss_parameter_supported": true,
		"x_vendor_extension":                             map[string]any{"kept": true},
	}
}

func TestDiscoverReadsTheOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	srv := newDiscoveryServer(t, map[string]func(string, http.ResponseWriter){
		"/oauth/.well-known/openid-configuration": jsonDoc(fullDoc()),
	})
	tctx, trace := httplog.Collect(t.Context())

	res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(tctx, srv.URL+"/oauth", "")
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	p := res.Provider
	want := oauthflow.Endpoints{
		Authorization: srv.URL + "/oauth/v2/authorization", Token: srv.URL + "/oauth/v2/accessToken",
		Userinfo: srv.URL + "/v2/userinfo", JWKS: srv.URL + "/oauth/openid/jwks",
		Introspection: srv.URL + "/introspect", Revocation: srv.URL + "/revoke",
	}
	if p.Endpoints != want {
		t.Errorf("endpoints = %+v\nwant %+v", p.Endpoints, want)
	}
	if p.Issuer != srv.URL+"/oauth" || res.ClaimedIssuer != srv.URL+"/oauth" {
		t.Errorf("issuer %q claimed %q", p.Issuer, res.ClaimedIssuer)
	}
	if res.Source != srv.URL+"/oauth/.well-known/openid-configuration" || p.DiscoveryURL != res.Source {
		t.Errorf("source %q discovery URL %q", res.Source, p.DiscoveryURL)
	}
	if p.AuthMethod != oauthflow.AuthPost || !p.IssParameterSupported || !slices.Equal(p.CodeChallengeMethods, []string{"S256"}) {
		t.Errorf("capabilities not read: auth %q iss %v pkce %v", p.AuthMethod, p.IssParameterSupported, p.CodeChallengeMethods)
	}
	if _, ok := p.Discovered["x_vendor_extension"]; !ok {
		t.Error("unknown fields of the document must be kept in Discovered")
	}
	ex := trace.Exchanges()
	if len(ex) != 1 || ex[0].Step != oauthflow.StepDiscovery || ex[0].Response == nil || len(ex[0].Response.Body) == 0 {
		t.Errorf("the trace must hold the one discovery exchange with its body, got %+v", ex)
	}
	if got := srv.paths(); len(got) != 1 {
		t.Errorf("asked %v; a found document needs no second location", got)
	}
}

func TestDiscoverFallsBackToRFC8414(t *testing.T) {
	t.Parallel()
	doc := fullDoc()
	delete(doc, "token_endpoint_auth_methods_supported")
	srv := newDiscoveryServer(t, map[string]func(string, http.ResponseWriter){
		"/.well-known/oauth-authorization-server/oauth": jsonDoc(doc),
	})
	tctx, trace := httplog.Collect(t.Context())

	res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(tctx, srv.URL+"/oauth", "")
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if res.Source != srv.URL+"/.well-known/oauth-authorization-server/oauth" {
		t.Errorf("source = %q, want the RFC 8414 location", res.Source)
	}
	if res.Provider.AuthMethod != "" {
		t.Errorf("auth method %q: without token_endpoint_auth_methods_supported nothing is claimed", res.Provider.AuthMethod)
	}
	if got := srv.paths(); !slices.Equal(got, []string{"/oauth/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/oauth"}) {
		t.Errorf("asked %v, want the OIDC location then RFC 8414's", got)
	}
	if n := len(trace.Exchanges()); n != 2 {
		t.Errorf("trace holds %d exchanges, want both attempts", n)
	}
}

func TestDiscoverUsesAnExplicitURL(t *testing.T) {
	t.Parallel()
	srv := newDiscoveryServer(t, map[string]func(string, http.ResponseWriter){
		"/custom/config.json": jsonDoc(fullDoc()),
	})
	res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(t.Context(), "", srv.URL+"/custom/config.json")
	if err != nil || res.Source != srv.URL+"/custom/config.json" {
		t.Fatalf("Discover = %+v, %v", res, err)
	}
}

func TestDiscoverBadDocuments(t *testing.T) {
	t.Parallel()
	const path = "/oauth/.well-known/openid-configuration"
	cases := []struct {
		name    string
		serve   map[string]func(string, http.ResponseWriter)
		kind    oauthflow.ErrorKind
		code    string
		mention []string
	}{
		{name: "missing required fields", serve: map[string]func(string, http.ResponseWriter){
			path: jsonDoc(map[string]any{"issuer": "{base}/oauth", "jwks_uri": "{base}/jwks"})},
			kind: oauthflow.KindValidation, code: oauthflow.CodeDiscoveryIncomplete,
			mention: []string{"authorization_endpoint", "token_endpoint", "--auth-url"}},
		{name: "missing issuer", serve: map[string]func(string, http.ResponseWriter){
			path: jsonDoc(map[string]any{"authorization_endpoint": "{base}/a", "token_endpoint": "{base}/t"})},
			kind: oauthflow.KindValidation, code: oauthflow.CodeDiscoveryIncomplete, mention: []string{"lacks required issuer"}},
		{name: "HTML instead of JSON", serve: map[string]func(string, http.ResponseWriter){
			path: raw(200, "text/html; charset=utf-8", "<!doctype html><html><title>Sign in</title></html>")},
			kind: oauthflow.KindFormat, code: oauthflow.CodeNotJSON, mention: []string{"an HTML page", "not a JSON object"}},
		{name: "truncated JSON", serve: map[string]func(string, http.ResponseWriter){
			path: raw(200, "application/json", `{"issuer":"http://x/oauth","authorization_endpoint":"http://x/a`)},
			kind: oauthflow.KindFormat, code: oauthflow.CodeNotJSON, mention: []string{"truncated or malformed JSON"}},
		{name: "empty body", serve: map[string]func(string, http.ResponseWriter){
			path: raw(200, "application/json", "")},
			kind: oauthflow.KindFormat, code: oauthflow.CodeEmptyBody, mention: []string{"empty body"}},
		{name: "a JSON array", serve: map[string]func(string, http.ResponseWriter){
			path: raw(200, "application/json", `["issuer"]`)},
			kind: oauthflow.KindFormat, code: oauthflow.CodeNotJSON, mention: []string{"not a JSON object"}},
		{name: "required field of the wrong type", serve: map[string]func(string, http.ResponseWriter){
			path: jsonDoc(map[string]any{"issuer": "{base}/oauth", "authorization_endpoint": 42, "token_endpoint": "{base}/t"})},
			kind: oauthflow.KindValidation, code: oauthflow.CodeDiscoveryIncomplete, mention: []string{"authorization_endpoint"}},
		{name: "nothing at either location", serve: nil,
			kind: oauthflow.KindHTTP, mention: []string{"HTTP 404", "--issuer"}},
		{name: "server error is the answer, no second location", serve: map[string]func(string, http.ResponseWriter){
			path: raw(500, "application/json", `{"error":"server_error","error_description":"db down"}`)},
			kind: oauthflow.KindOAuth, code: "server_error", mention: []string{"db down"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newDiscoveryServer(t, tc.serve)
			res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(t.Context(), srv.URL+"/oauth", "")
			e, ok := oauthflow.AsError(err)
			if !ok || res != nil {
				t.Fatalf("Discover = %+v, %v; want an *Error", res, err)
			}
			if e.Step != oauthflow.StepDiscovery || e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("got step %q kind %v code %q, want discovery %v %q (%v)", e.Step, e.Kind, e.Code, tc.kind, tc.code, err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not mention %q", err.Error(), m)
				}
			}
			if e.Hint == "" {
				t.Errorf("no hint on what to do: %v", err)
			}
			if tc.code == "server_error" && len(srv.paths()) != 1 {
				t.Errorf("asked %v: only a missing document is worth another location", srv.paths())
			}
		})
	}
}

func TestDiscoverToleratesOptionalFieldsOfTheWrongType(t *testing.T) {
	t.Parallel()
	doc := fullDoc()
	doc["code_challenge_methods_supported"] = "S256"
	doc["authorization_response_iss_parameter_supported"] = "true"
	doc["token_endpoint_auth_methods_supported"] = "client_secret_basic"
	srv := newDiscoveryServer(t, map[string]func(string, http.ResponseWriter){
		"/oauth/.well-known/openid-configuration": jsonDoc(doc),
	})
	res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(t.Context(), srv.URL+"/oauth", "")
	if err != nil {
		t.Fatalf("a document with sloppy optional fields must still give the endpoints: %v", err)
	}
	if res.Provider.Endpoints.Token != srv.URL+"/oauth/v2/accessToken" {
		t.Errorf("token endpoint = %q", res.Provider.Endpoints.Token)
	}
	if res.Provider.Discovered["code_challenge_methods_supported"] != "S256" {
		t.Errorf("the field as sent must stay visible in Discovered: %v", res.Provider.Discovered["code_challenge_methods_supported"])
	}
}

func TestDiscoverUnreachableIssuer(t *testing.T) {
	t.Parallel()
	u := closedURL(t)
	tctx, trace := httplog.Collect(t.Context())

	_, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(tctx, u+"/oauth", "")
	e, ok := oauthflow.AsError(err)
	if !ok || e.Kind != oauthflow.KindTransport || e.Code != oauthflow.CodeRefused || e.Step != oauthflow.StepDiscovery {
		t.Fatalf("Discover = %v, want a refused connection at discovery", err)
	}
	if e.Hint == "" || !strings.Contains(e.Description, strings.TrimPrefix(u, "http://")) {
		t.Errorf("message %q must name the host and say what to check", err)
	}
	if n := len(trace.Exchanges()); n != 1 {
		t.Errorf("%d exchanges: an unreachable host is not retried at the second location", n)
	}
}

func TestMergeDiscovered(t *testing.T) {
	t.Parallel()
	discovered := oauthflow.Provider{
		Name: "as.example.test", Issuer: "https://as.example.test", DiscoveryURL: "https://as.example.test/.well-known/openid-configuration",
		Endpoints: oauthflow.Endpoints{Authorization: "https://as.example.test/authorize", Token: "https://as.example.test/token",
			Userinfo: "https://as.example.test/userinfo", JWKS: "https://as.example.test/jwks"},
		AuthMethod: oauthflow.AuthBasic, Introspection: oauthflow.IntrospectionRFC7662,
		CodeChallengeMethods: []string{"S256", "plain"}, IssParameterSupported: true,
		Discovered: map[string]any{"issuer": "https://as.example.test"},
	}
	cases := []struct {
		name       string
		configured oauthflow.Provider
		check      func(t *testing.T, got oauthflow.Provider)
	}{
		{name: "nothing configured takes discovery whole", configured: oauthflow.Provider{},
			check: func(t *testing.T, got oauthflow.Provider) {
				if got.Endpoints != discovered.Endpoints || got.Issuer != discovered.Issuer || got.Name != discovered.Name || got.AuthMethod != oauthflow.AuthBasic {
					t.Errorf("got %+v", got)
				}
			}},
		{name: "explicit endpoints win, gaps are filled", configured: oauthflow.Provider{Endpoints: oauthflow.Endpoints{
			Token: "https://proxy.test/token", Revocation: "https://as.example.test/revoke"}},
			check: func(t *testing.T, got oauthflow.Provider) {
				want := discovered.Endpoints
				want.Token, want.Revocation = "https://proxy.test/token", "https://as.example.test/revoke"
				if got.Endpoints != want {
					t.Errorf("endpoints = %+v, want %+v", got.Endpoints, want)
				}
			}},
		{name: "the LinkedIn preset keeps its name, issuer, auth method and shape", configured: oauthflow.LinkedIn(),
			check: func(t *testing.T, got oauthflow.Provider) {
				li := oauthflow.LinkedIn()
				if got.Name != "linkedin" || got.Issuer != li.Issuer || got.AuthMethod != oauthflow.AuthPost || got.Introspection != oauthflow.IntrospectionLinkedIn {
					t.Errorf("got name %q issuer %q auth %q shape %q", got.Name, got.Issuer, got.AuthMethod, got.Introspection)
				}
				if got.Endpoints.Introspection != li.Endpoints.Introspection || !slices.Equal(got.DefaultScopes, li.DefaultScopes) {
					t.Errorf("preset values lost: %+v", got)
				}
				if !slices.Equal(got.CodeChallengeMethods, []string{"S256", "plain"}) || !got.IssParameterSupported {
					t.Errorf("what the server says it supports must come from the document: %+v", got)
				}
				if got.Discovered == nil {
					t.Error("the discovered document is dropped")
				}
			}},
		{name: "configured PKCE methods fill a document without them", configured: oauthflow.Provider{CodeChallengeMethods: []string{"S256"}},
			check: func(t *testing.T, got oauthflow.Provider) {
				d := discovered
				d.CodeChallengeMethods = nil
				if m := oauthflow.MergeDiscovered(oauthflow.Provider{CodeChallengeMethods: []string{"S256"}}, d); !slices.Equal(m.CodeChallengeMethods, []string{"S256"}) {
					t.Errorf("got %v", m.CodeChallengeMethods)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, oauthflow.MergeDiscovered(tc.configured, discovered))
		})
	}
}

func TestDiscoverAcceptsMissingEndpointsTheConfigurationSupplies(t *testing.T) {
	t.Parallel()
	srv := newDiscoveryServer(t, map[string]func(string, http.ResponseWriter){
		"/oauth/.well-known/openid-configuration": jsonDoc(map[string]any{
			"issuer": "{base}/oauth", "authorization_endpoint": "{base}/authorize", "userinfo_endpoint": "{base}/userinfo"}),
	})
	cfg := oauthflow.Config{Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Token: srv.URL + "/token"}}}
	res, err := oauthflow.NewRunner(cfg).Discover(t.Context(), srv.URL+"/oauth", "")
	if err != nil {
		t.Fatalf("the error's own advice (--token-url) must work: %v", err)
	}
	if !slices.Equal(res.Supplied, []string{"token_endpoint"}) {
		t.Errorf("Supplied = %v, want [token_endpoint]", res.Supplied)
	}
	merged := oauthflow.MergeDiscovered(cfg.Provider, res.Provider)
	if merged.Endpoints.Token != srv.URL+"/token" || merged.Endpoints.Authorization != srv.URL+"/authorize" {
		t.Errorf("merged endpoints %+v", merged.Endpoints)
	}

	// Without the configured endpoint it is still an error, naming only what is missing.
	_, err = oauthflow.NewRunner(oauthflow.Config{}).Discover(t.Context(), srv.URL+"/oauth", "")
	if e, ok := oauthflow.AsError(err); !ok || e.Code != oauthflow.CodeDiscoveryIncomplete ||
		!strings.HasSuffix(e.Description, "lacks required token_endpoint") {
		t.Errorf("Discover without --token-url = %v", err)
	}
}

// Without --scope, an OpenID Connect provider is asked for openid plus the profile and email it
// offers; a plain OAuth server for nothing, since its scopes mean nothing to the tool.
func TestDiscoveryDefaultScopes(t *testing.T) {
	for _, tc := range []struct {
		supported string
		want      string
	}{
		{`["openid","profile","email","offline_access"]`, "openid profile email"},
		{`["openid","offline_access"]`, "openid"},
		{`["read","write"]`, ""},
		{`null`, ""},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			iss := "http://" + r.Host
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + iss + `","authorization_endpoint":"` + iss + `/a","token_endpoint":"` + iss + `/t","scopes_supported":` + tc.supported + `}`))
		}))
		res, err := oauthflow.NewRunner(oauthflow.Config{}).Discover(t.Context(), srv.URL, "")
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.supported, err)
		}
		if got := strings.Join(res.Provider.DefaultScopes, " "); got != tc.want {
			t.Errorf("scopes_supported %s: default scopes %q, want %q", tc.supported, got, tc.want)
		}
	}
}
