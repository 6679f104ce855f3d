package oauthflow_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// The headless flow must cost close to the floor: the same HTTP requests made with nothing but
// net/http, as a curl script would make them. Compare BenchmarkFlowRunner with
// BenchmarkFlowRawHTTPFloor (same sandbox, same nine requests).

func BenchmarkFlowRunner(b *testing.B) {
	s := testkit.StartSandbox(b, sandbox.WithAutoConsent(true))
	cfg := sandboxConfig(s)
	client := &http.Client{}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		r := oauthflow.NewRunner(cfg, oauthflow.WithHTTPClient(client))
		fr := r.RunFlow(ctx, oauthflow.FlowOptions{Discover: true, Issuer: s.Issuer(),
			Browser: &browser.Headless{Client: client}})
		if !fr.OK {
			b.Fatalf("flow failed: %s", stepStatuses(fr))
		}
	}
}

func BenchmarkFlowRawHTTPFloor(b *testing.B) {
	s := testkit.StartSandbox(b, sandbox.WithAutoConsent(true))
	base := s.BaseURL()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	creds := url.Values{"client_id": {sandbox.DefaultClientID}, "client_secret": {sandbox.DefaultClientSecret}}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	post := func(path string, v url.Values) map[string]any {
		resp, err := client.PostForm(base+path, v)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		json.Unmarshal(body, &m)
		return m
	}
	get := func(u, bearer string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	const verifier = "dBjftJeZ4CVP-mJ92lbRA3e8UpsRbSBFFvoDpFcaa1NOAWvs"
	authURL := base + "/oauth/v2/authorization?" + url.Values{
		"response_type": {"code"}, "client_id": {sandbox.DefaultClientID}, "redirect_uri": {oauthflow.DefaultRedirectURI},
		"scope": {"openid profile email"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {oauthflow.S256Challenge(verifier)}, "code_challenge_method": {"S256"},
	}.Encode()
	b.ResetTimer()
	for b.Loop() {
		get(base+"/oauth/.well-known/openid-configuration", "")
		loc, err := url.Parse(get(authURL, "").Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			b.Fatalf("no code in the redirect %v", loc)
		}
		tok := post("/oauth/v2/accessToken", form("grant_type", "authorization_code", "code", loc.Query().Get("code"),
			"redirect_uri", oauthflow.DefaultRedirectURI, "code_verifier", verifier))
		at, _ := tok["access_token"].(string)
		rt, _ := tok["refresh_token"].(string)
		if r := get(base+"/v2/userinfo", at); r.StatusCode != 200 {
			b.Fatalf("userinfo %d", r.StatusCode)
		}
		post("/oauth/v2/introspectToken", form("token", at))
		ref := post("/oauth/v2/accessToken", form("grant_type", "refresh_token", "refresh_token", rt))
		at2, _ := ref["access_token"].(string)
		post("/oauth/v2/revoke", form("token", at2))
		post("/oauth/v2/revoke", form("token", rt))
		if in := post("/oauth/v2/introspectToken", form("token", at2)); in["active"] != false {
			b.Fatalf("revoked token still active: %v", in)
		}
		if strings.HasPrefix(at, " ") {
			b.Fatal("unreachable: keeps the compiler from treating the loop as dead")
		}
	}
}
