package recorder

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

const (
	tokA = "AQV8-access-token-0123456789abcdefghijklmnopqrstuvwxyz"
	tokR = "AQWrefresh-token-9876543210zyxwvutsrqponmlkjihgfedcba"
	jwt  = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhZGEiLCJpc3MiOiJodHRwczovL3d3dy5saW5rZWRpbi5jb20vb2F1dGgifQ.c2lnbmF0dXJlLWJ5dGVz"
)

func ph(kind, v string) string { return Placeholder(kind, v) }

func TestFingerprintIsStableShortAndASCII(t *testing.T) {
	fp := Fingerprint(tokA)
	if fp != Fingerprint(tokA) {
		t.Fatal("fingerprint is not deterministic")
	}
	if fp == Fingerprint(tokR) {
		t.Fatal("two tokens share a fingerprint")
	}
	if !strings.HasPrefix(fp, "sha256:") || !strings.HasSuffix(fp, ":len="+strconv.Itoa(len(tokA))) || len(fp) != len("sha256:12345678:len=54") {
		t.Fatalf("fingerprint %q is not sha256:<8 hex>:len=<n>", fp)
	}
	p := Placeholder(KindAccessToken, tokA)
	for _, r := range p {
		if r > 127 || r == ' ' {
			t.Fatalf("placeholder %q has a space or non-ASCII rune, which breaks URLs and shells", p)
		}
	}
	refs := Placeholders("a " + p + " b " + p)
	if len(refs) != 1 || refs[0].Kind != KindAccessToken || refs[0].Fingerprint != fp {
		t.Fatalf("Placeholders = %v", refs)
	}
}

func TestRedactString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"query parameter", "GET /cb?code=abc123xyz&state=s1", "GET /cb?code=" + ph("code", "abc123xyz") + "&state=" + ph("state", "s1")},
		{"escaped value is fingerprinted decoded", "refresh_token=a%2Bb%2Fc", "refresh_token=" + ph("refresh_token", "a+b/c")},
		{"LinkedIn's query token", "/v2/me?oauth2_access_token=" + tokA, "/v2/me?oauth2_access_token=" + ph("access_token", tokA)},
		{"upper-case name", "Client_Secret=hunter2", "Client_Secret=" + ph("client_secret", "hunter2")},
		{"longer names are not secrets", "error_code=5&response_type=code&statuscode=3", "error_code=5&response_type=code&statuscode=3"},
		{"empty value stays visible", "client_secret=&client_id=x", "client_secret=&client_id=x"},
		{"JSON pair in prose", `server said {"access_token": "` + tokA + `"}`, `server said {"access_token": "` + ph("access_token", tokA) + `"}`},
		{"bearer in prose", "sent Authorization: Bearer " + tokA + " to api", "sent Authorization: Bearer " + ph("access_token", tokA) + " to api"},
		{"bearer challenge is not a token", `Bearer realm="api", error="invalid_token"`, `Bearer realm="api", error="invalid_token"`},
		{"prose after Bearer is not a token", "send a Bearer authorization header", "send a Bearer authorization header"},
		{"JWT anywhere", "id " + jwt + " end", "id " + ph("jwt", jwt) + " end"},
		{"url.Error message", `Post "http://127.0.0.1:1/token?client_secret=s3cr3t!": dial tcp: connection refused`,
			`Post "http://127.0.0.1:1/token?client_secret=` + ph("client_secret", "s3cr3t!") + `": dial tcp: connection refused`},
		{"placeholders are left alone", "code=" + ph("code", "x"), "code=" + ph("code", "x")},
		{"nothing secret", "GET /v2/userinfo 200", "GET /v2/userinfo 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewRedactor().RedactString(tt.in); got != tt.want {
				t.Errorf("RedactString(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactKnownSecretsAnywhere(t *testing.T) {
	r := NewRedactor()
	r.AddSecret(KindClientSecret, "s3cr3t-value")
	r.AddSecret(KindAccessToken, "tok/with+chars=")
	r.AddSecret(KindCode, "abc") // too short to match free text; structural rules still apply
	tests := []struct{ in, want string }{
		{"the secret s3cr3t-value leaked", "the secret " + ph("client_secret", "s3cr3t-value") + " leaked"},
		{"path /x/s3cr3t-value/y", "path /x/" + ph("client_secret", "s3cr3t-value") + "/y"},
		{"escaped tok%2Fwith%2Bchars%3D in a URL", "escaped " + ph("access_token", "tok/with+chars=") + " in a URL"},
		{`{"echo":"tok\/with+chars="}`, `{"echo":"` + ph("access_token", "tok/with+chars=") + `"}`},
		{"a cab and abc stay", "a cab and abc stay"},
		{"token=s3cr3t-value keeps the learned kind", "token=" + ph("client_secret", "s3cr3t-value") + " keeps the learned kind"},
	}
	for _, tt := range tests {
		if got := r.RedactString(tt.in); got != tt.want {
			t.Errorf("RedactString(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if v, ok := r.Resolve(KindClientSecret, Fingerprint("s3cr3t-value")); !ok || v != "s3cr3t-value" {
		t.Errorf("Resolve by fingerprint = %q, %v", v, ok)
	}
	if _, ok := r.Resolve(KindClientSecret, Fingerprint("other")); ok {
		t.Error("Resolve found a value it was never given")
	}
}

func TestRedactHeader(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("my-client:pa%24%24word"))
	h := http.Header{
		"Authorization":       {"Bearer " + tokA},
		"Proxy-Authorization": {basic},
		"Cookie":              {"li_at=AQEDAR; JSESSIONID=ajax:123"},
		"Set-Cookie":          {"bcookie=v=2&abc; Path=/; HttpOnly; Secure"},
		"Www-Authenticate":    {`Bearer realm="api", error="invalid_token"`},
		"Location":            {"http://127.0.0.1:8765/callback?code=AQTcode123&state=xyz"},
		"X-Api-Key":           {"key-123456"},
		"Content-Type":        {"application/json"},
		"X-Li-Uuid":           {"AAYJ4F2GbW2hN6d5TfXXXQ=="},
	}
	got := NewRedactor().RedactHeader(h)
	want := map[string]string{
		"Authorization":       "Bearer " + ph("access_token", tokA),
		"Proxy-Authorization": "Basic my-client:" + ph("client_secret", "pa$$word"),
		"Cookie":              "li_at=" + ph("cookie", "AQEDAR") + "; JSESSIONID=" + ph("cookie", "ajax:123"),
		"Set-Cookie":          "bcookie=" + ph("cookie", "v=2&abc") + "; Path=/; HttpOnly; Secure",
		"Www-Authenticate":    `Bearer realm="api", error="invalid_token"`,
		"Location":            "http://127.0.0.1:8765/callback?code=" + ph("code", "AQTcode123") + "&state=" + ph("state", "xyz"),
		"X-Api-Key":           ph("api_key", "key-123456"),
		"Content-Type":        "application/json",
		"X-Li-Uuid":           "AAYJ4F2GbW2hN6d5TfXXXQ==",
	}
	for k, w := range want {
		if g := got.Get(k); g != w {
			t.Errorf("%s\n got %q\nwant %q", k, g, w)
		}
	}
	if h.Get("Authorization") != "Bearer "+tokA {
		t.Error("RedactHeader modified its input")
	}
}

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name, ct, in, want string
	}{
		{"form", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code=AQT1&client_secret=sec%26ret&code_verifier=v123",
			"grant_type=authorization_code&code=" + ph("code", "AQT1") + "&client_secret=" + ph("client_secret", "sec&ret") + "&code_verifier=" + ph("code_verifier", "v123")},
		{"JSON keeps layout and nests", "application/json; charset=utf-8",
			"{\n  \"access_token\": \"" + tokA + "\",\n  \"expires_in\": 5184000,\n  \"nested\": {\"refresh_token\":\"" + tokR + "\", \"list\": [\"token\", {\"id_token\": \"" + jwt + "\"}]},\n  \"token_type\": \"Bearer\"\n}",
			"{\n  \"access_token\": \"" + ph("access_token", tokA) + "\",\n  \"expires_in\": 5184000,\n  \"nested\": {\"refresh_token\":\"" + ph("refresh_token", tokR) + "\", \"list\": [\"token\", {\"id_token\": \"" + ph("id_token", jwt) + "\"}]},\n  \"token_type\": \"Bearer\"\n}"},
		{"JSON with escapes", "application/json", `{"password":"a\"b\u0041"}`, `{"password":"` + ph("password", `a"bA`) + `"}`},
		{"JSON without content type", "", `{"client_secret":"xyz"}`, `{"client_secret":"` + ph("client_secret", "xyz") + `"}`},
		{"invalid JSON falls back to text", "application/json", `{"access_token":"abc", oops`, `{"access_token":"` + ph("access_token", "abc") + `", oops`},
		{"JWT body", "application/jwt", jwt + "\n", ph("jwt", jwt)},
		{"LinkedIn error body is kept", "application/json", `{"serviceErrorCode":65600,"message":"Invalid access token","status":401}`, `{"serviceErrorCode":65600,"message":"Invalid access token","status":401}`},
		{"HTML with a code link", "text/html", `<a href="/cb?code=AQT9&amp;state=s">Found</a>`, `<a href="/cb?code=` + ph("code", "AQT9") + `&amp;state=` + ph("state", "s") + `">Found</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(NewRedactor().RedactBody(tt.ct, []byte(tt.in))); got != tt.want {
				t.Errorf("RedactBody\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:pa55@host/p?q=1", "https://user:" + ph("password", "pa55") + "@host/p?q=1"},
		{"http://127.0.0.1/cb#access_token=" + tokA + "&token_type=bearer", "http://127.0.0.1/cb#access_token=" + ph("access_token", tokA) + "&token_type=bearer"},
		{"https://api.linkedin.com/v2/userinfo", "https://api.linkedin.com/v2/userinfo"},
	}
	for _, tt := range tests {
		if got := NewRedactor().RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestLinkedInErrorCodesAreNotAuthorizationCodes(t *testing.T) {
	body := `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}`
	if got := string(NewRedactor().RedactBody("application/json", []byte(body))); got != body {
		t.Errorf("an API error code was redacted:\n%s", got)
	}
	grant := `{"grant_type":"authorization_code","code":"AQTx9_8k2LmN"}`
	if got := string(NewRedactor().RedactBody("application/json", []byte(grant))); strings.Contains(got, "AQTx9_8k2LmN") {
		t.Errorf("an authorization code in JSON was kept: %s", got)
	}
}

// A LinkedIn API error code quoted in diagnosis evidence ("code=INTERNAL_SERVER_ERROR") is not an
// authorization code and must stay readable, while a real code in the same shape is redacted.
func TestRedactKeepsUpperSnakeErrorCodesInText(t *testing.T) {
	r := NewRedactor()
	got := r.RedactString(`code=INTERNAL_SERVER_ERROR message="Internal Server Error"`)
	if !strings.Contains(got, "code=INTERNAL_SERVER_ERROR") {
		t.Errorf("error code redacted: %s", got)
	}
	got = r.RedactString("callback?code=Xy7bQ_k9ZpLmN3aa&state=s")
	if strings.Contains(got, "Xy7bQ_k9ZpLmN3aa") {
		t.Errorf("authorization code leaked: %s", got)
	}
}
