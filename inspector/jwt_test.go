package inspector

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var jwtNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type testKey struct {
	priv any
	jwk  jose.JSONWebKey
	alg  jose.SignatureAlgorithm
}

func newRSAKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: k, alg: jose.RS256, jwk: jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}
}

func newECKey(t testing.TB, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: k, alg: jose.ES256, jwk: jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}
}

func sign(t testing.TB, k testKey, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.jwk.KeyID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func idClaims(mod func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":   "https://www.linkedin.com/oauth",
		"sub":   "member-1",
		"aud":   "client-1",
		"iat":   jwtNow.Add(-time.Minute).Unix(),
		"exp":   jwtNow.Add(time.Hour).Unix(),
		"nonce": "n-123",
		"email": "ada@example.test",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestVerifyJWT(t *testing.T) {
	good := newRSAKey(t, "k1")
	other := newRSAKey(t, "k1") // same kid, different key: a forged or re-keyed token
	ec := newECKey(t, "ec1")
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{good.jwk, ec.jwk}}
	opts := VerifyOptions{KeySet: set, Issuer: "https://www.linkedin.com/oauth", Audience: "client-1", Nonce: "n-123", Now: jwtNow}

	tests := []struct {
		name   string
		token  string
		opts   func(*VerifyOptions)
		failed []string // the checks that must fail; every other check must pass or be skipped
		detail string   // a fragment the first failed check's detail must contain
	}{
		{name: "valid RS256", token: sign(t, good, idClaims(nil))},
		{name: "valid ES256", token: sign(t, ec, idClaims(nil))},
		{name: "wrong key", token: sign(t, other, idClaims(nil)), failed: []string{"signature"}, detail: "does not verify"},
		{name: "unknown kid", token: sign(t, newRSAKey(t, "rotated"), idClaims(nil)), failed: []string{"signature"}, detail: `no key with kid "rotated"`},
		{name: "expired", token: sign(t, good, idClaims(func(c map[string]any) { c["exp"] = jwtNow.Add(-2 * time.Minute).Unix() })),
			failed: []string{"exp"}, detail: "expired at 2026-11-23 09:58:00Z (2m ago)"},
		{name: "expired within leeway", token: sign(t, good, idClaims(func(c map[string]any) { c["exp"] = jwtNow.Add(-30 * time.Second).Unix() }))},
		{name: "wrong audience", token: sign(t, good, idClaims(func(c map[string]any) { c["aud"] = []string{"someone-else"} })),
			failed: []string{"aud"}, detail: `does not include "client-1"`},
		{name: "audience array including client", token: sign(t, good, idClaims(func(c map[string]any) { c["aud"] = []string{"x", "client-1"} }))},
		{name: "nbf in the future", token: sign(t, good, idClaims(func(c map[string]any) { c["nbf"] = jwtNow.Add(10 * time.Minute).Unix() })),
			failed: []string{"nbf"}, detail: "not valid yet"},
		{name: "nbf in the future explained by skew", token: sign(t, good, idClaims(func(c map[string]any) { c["nbf"] = jwtNow.Add(10 * time.Minute).Unix() })),
			opts: func(o *VerifyOptions) { o.Skew = 10 * time.Minute }},
		{name: "iat in the future", token: sign(t, good, idClaims(func(c map[string]any) { c["iat"] = jwtNow.Add(5 * time.Minute).Unix() })),
			failed: []string{"iat"}, detail: "issued in the future"},
		{name: "legacy LinkedIn issuer", token: sign(t, good, idClaims(func(c map[string]any) { c["iss"] = "https://www.linkedin.com" })),
			failed: []string{"iss"}, detail: `iss is "https://www.linkedin.com", expected "https://www.linkedin.com/oauth"`},
		{name: "issuer differs by trailing slash", token: sign(t, good, idClaims(func(c map[string]any) { c["iss"] = "https://www.linkedin.com/oauth/" })),
			failed: []string{"iss"}, detail: "trailing slash"},
		{name: "wrong nonce", token: sign(t, good, idClaims(func(c map[string]any) { c["nonce"] = "n-other" })), failed: []string{"nonce"}, detail: "differs"},
		{name: "nonce missing", token: sign(t, good, idClaims(func(c map[string]any) { delete(c, "nonce") })), failed: []string{"nonce"}, detail: "has none"},
		{name: "exp missing", token: sign(t, good, idClaims(func(c map[string]any) { delete(c, "exp") })), failed: []string{"exp"}, detail: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.opts != nil {
				tt.opts(&o)
			}
			v, err := VerifyJWT(context.Background(), tt.token, o)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, c := range v.Failed() {
				failed = append(failed, c.Name)
			}
			if strings.Join(failed, ",") != strings.Join(tt.failed, ",") {
				t.Fatalf("failed checks = %v, want %v\n%s", failed, tt.failed, RenderVerification(v))
			}
			if v.OK() != (len(tt.failed) == 0) {
				t.Errorf("OK() = %v with failed checks %v", v.OK(), failed)
			}
			if tt.detail != "" && !strings.Contains(v.Failed()[0].Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", v.Failed()[0].Detail, tt.detail)
			}
			if len(v.Checks) != 7 {
				t.Errorf("got %d checks, want signature, iss, aud, exp, iat, nbf, nonce", len(v.Checks))
			}
		})
	}
}

func TestVerifyJWTFetchesJWKSWithTheGivenClient(t *testing.T) {
	key := newRSAKey(t, "k1")
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.jwk}})
	}))
	defer srv.Close()
	v, err := VerifyJWT(context.Background(), sign(t, key, idClaims(nil)), VerifyOptions{JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: jwtNow})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := v.Check("signature"); !c.OK {
		t.Fatalf("signature: %+v", c)
	}
	if hits != 1 {
		t.Errorf("JWKS fetched %d times, want 1", hits)
	}
}

func TestVerifyJWTWithoutUsableJWKS(t *testing.T) {
	key := newRSAKey(t, "k1")
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><head><title>Sign in</title></head><body>Please log in</body></html>"))
	}))
	defer html.Close()
	tok := sign(t, key, idClaims(nil))
	for name, opts := range map[string]VerifyOptions{
		"no JWKS URL":  {Now: jwtNow},
		"HTML at JWKS": {JWKSURL: html.URL, HTTPClient: html.Client(), Now: jwtNow},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := VerifyJWT(context.Background(), tok, opts)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := v.Check("signature")
			if c.OK || !c.Skipped {
				t.Fatalf("signature check = %+v, want skipped and not OK", c)
			}
			if v.OK() {
				t.Error("a token whose signature was not verified must not be OK")
			}
			if name == "HTML at JWKS" && !strings.Contains(c.Detail, `HTML page titled "Sign in"`) {
				t.Errorf("detail %q should say an HTML page came instead of keys", c.Detail)
			}
		})
	}
}

func TestVerifyJWTRejectsUnsignedTokens(t *testing.T) {
	header := b64(`{"alg":"none","typ":"JWT"}`)
	payload := b64(`{"iss":"x","exp":9999999999}`)
	v, err := VerifyJWT(context.Background(), header+"."+payload+".", VerifyOptions{KeySet: &jose.JSONWebKeySet{}, Now: jwtNow})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Check("signature")
	if c.OK || c.Skipped || !strings.Contains(c.Detail, "unsigned") {
		t.Fatalf("signature check = %+v, want a failure naming the unsigned token", c)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestDecodeJWTFormats(t *testing.T) {
	key := newRSAKey(t, "k1")
	// A zitadel access token: JWE compact serialization (five segments), from the peer transcript.
	const zitadelAccess = "eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIiwiaXYiOiJiYUNVNmRNMWxaaHJHMEQ3Iiwia2lkIjoia2V5MSIsInRhZyI6IjNRZFJydnpaMjY2SDg4WGhHc1pOY3cifQ.L2Fo9B6yYJJDyJDpS3gaQjVa3og4jwO2J-hDEnC8MOE.QJPgjT9fo5gIlLvE.Yi7MN7BQAvr0lZoXnQ2Pa7OsBETFOQik16GbBW2_Pt5IvyxElsu-gQ.6j1i0ctkMHUr8toe-8vnlw"
	tests := []struct {
		name    string
		raw     string
		format  Format
		wantErr error
	}{
		{"signed JWT", sign(t, key, idClaims(nil)), FormatJWT, nil},
		{"JWE", zitadelAccess, FormatJWE, nil},
		{"LinkedIn-style opaque", "AQV8eYx3Zq-opaque-token_value-0123456789", FormatOpaque, nil},
		{"oidc-provider opaque", "KVRBlBL_rAgv8mpD8AZcSqMu2J5gY3uasgMjoTtpAHz", FormatOpaque, nil},
		{"UUID refresh token", "a1bdbad8-a08c-4b81-b58a-a75fcfc1ab4d", FormatOpaque, nil},
		{"broken JWT payload", "eyJhbGciOiJSUzI1NiJ9.!!!.sig", "", ErrNotJWT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := DecodeJWT(tt.raw)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Format != tt.format {
				t.Fatalf("format = %s, want %s", j.Format, tt.format)
			}
			v, err := VerifyJWT(context.Background(), tt.raw, VerifyOptions{Now: jwtNow})
			if err != nil {
				t.Fatalf("an opaque or encrypted token is a fact, not an error: %v", err)
			}
			if tt.format != FormatJWT && (len(v.Checks) != 0 || v.OK()) {
				t.Errorf("a %s token must have no checks and not be OK: %+v", tt.format, v)
			}
		})
	}
	if j, _ := DecodeJWT(zitadelAccess); j.Header["alg"] != "A256GCMKW" || !strings.Contains(j.Format.Describe(), "cannot be read by the client") {
		t.Errorf("JWE header = %v, description %q", j.Header, j.Format.Describe())
	}
}

func TestRenderJWTShowsTimesAndNeverTheToken(t *testing.T) {
	key := newRSAKey(t, "k1")
	raw := sign(t, key, idClaims(nil))
	j, err := DecodeJWT(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := RenderJWT(j, jwtNow)
	for _, want := range []string{
		`iss        "https://www.linkedin.com/oauth"`,
		"exp        1795431600  2026-11-23 11:00:00Z (in 1h)",
		"iat        1795427940  2026-11-23 09:59:00Z (1m ago)",
		`email      "ada@example.test"`,
		`kid        "k1"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q:\n%s", want, out)
		}
	}
	for i, seg := range strings.Split(raw, ".") {
		if strings.Contains(out, seg) {
			t.Errorf("rendering contains segment %d of the token", i)
		}
	}
	if strings.Index(out, "iss ") > strings.Index(out, "email ") {
		t.Errorf("registered claims should come first:\n%s", out)
	}
}
