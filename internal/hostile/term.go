package hostile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// Terminal injection: every text the provider controls carries escape sequences a terminal
// would act on, so a test can check that none reaches a terminal raw.

// termEscapes are what a hostile server hides in its text: an OSC 52 clipboard write, an OSC 0
// window title, an APC string (which tmux and screen take as a title, and which a TUI renderer may
// pass through untouched), CSI sequences that clear the screen and colour what follows, a BEL, a
// carriage return that would print over the line, DEL, the 8-bit forms of CSI and OSC (C1
// controls) and a right-to-left override that reverses what follows it.
const termEscapes = "\x1b]52;c;aG9zdGlsZQ==\x07" + "\x1b]0;" + TermTitle + "\x07" + "\x1b_" + TermTitle + "\x1b\\" +
	"\x1b[2J\x1b[31m" + "\a" + "\rOVERWRITTEN" + "\x7f" + "\u009b2J" + "\u009d0;" + TermTitle + "\u009c" + "\u202eESREVER"

// TermTitle is the window title the provider's OSC 0 sequences try to set.
const TermTitle = "HOSTILE-TITLE"

// headerEscapes are the escapes an HTTP header can carry to a Go client, which refuses C0
// controls and DEL in header values: the C1 forms of CSI and OSC, and the override.
const headerEscapes = "\u009b2J" + "\u009d0;" + TermTitle + "\u009c" + "\u202eESREVER"

// TermText is the hostile text the provider puts in field: the field's name in brackets, so a
// test can tell which field reached an output, then the escapes.
func TermText(field string) string { return "[" + field + "]" + termEscapes }

// TermHeader is TermText for an HTTP header value.
func TermHeader(field string) string { return "[" + field + "]" + headerEscapes }

// TermAuthorize is what the authorization endpoint answers.
type TermAuthorize int

const (
	// AuthorizeCode redirects back with a code, as a provider that consents at once does.
	AuthorizeCode TermAuthorize = iota
	// AuthorizeError redirects back with error, error_description and error_uri.
	AuthorizeError
	// AuthorizePage shows a login page a headless browser cannot complete (no form), with a
	// hostile title and text.
	AuthorizePage
)

// TermOptions choose which step fails, and how. Whatever they say, the discovery document claims
// a hostile issuer, the token answer grants a hostile scope and an ID token with hostile claims,
// introspection describes the token with hostile fields (until it is revoked), and the API
// answers 500 with a hostile plain-text body and WWW-Authenticate header.
type TermOptions struct {
	Authorize TermAuthorize
	// FailToken makes the token endpoint refuse every grant with invalid_grant and a hostile
	// error_description and error_uri.
	FailToken bool
	// FailUserinfo makes userinfo answer 400 with a hostile plain-text body (400, not 5xx, so
	// that a replay of it is not retried).
	FailUserinfo bool
}

// TermServer is the terminal-injection provider.
type TermServer struct {
	*Server
	Canaries Canaries
	key      *ecdsa.PrivateKey
}

// Issuer is the issuer a client should be configured with (the discovery document claims another).
func (s *TermServer) Issuer() string { return s.URL }

// APIURL is an API endpoint that fails with a hostile plain-text body.
func (s *TermServer) APIURL() string { return s.URL + "/api" }

// IDToken is a signed ID token for client whose claims carry hostile text.
func (s *TermServer) IDToken(clientID string) string {
	now := time.Now()
	claims := map[string]any{
		"iss": s.URL, "aud": clientID, "sub": TermText("sub"), "name": TermText("name"),
		"email": TermText("email"), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	return s.sign(claims)
}

// StartTerm starts the terminal-injection provider for client c.ClientID; its tokens are c's.
func StartTerm(t testing.TB, c Canaries, o TermOptions) *TermServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("hostile provider: signing key: %v", err)
	}
	ts := &TermServer{Canaries: c, key: key}
	var revoked atomic.Bool
	var requests atomic.Int64 // numbers the plain-text errors, so that a replay gets a different body
	mux := http.NewServeMux()
	base := func(r *http.Request) string { return "http://" + r.Host }
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		b := base(r)
		termWriteJSON(w, http.StatusOK, map[string]any{
			"issuer":                 b + "/" + TermText("issuer"),
			"authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
			"userinfo_endpoint": b + "/userinfo", "introspection_endpoint": b + "/introspect",
			"revocation_endpoint": b + "/revoke", "jwks_uri": b + "/jwks",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"service_documentation":                 TermText("service_documentation"),
		})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || back.Host == "" {
			http.Error(w, "redirect_uri missing", http.StatusBadRequest)
			return
		}
		params := url.Values{"state": {q.Get("state")}}
		switch o.Authorize {
		case AuthorizePage:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>",
				html.EscapeString(TermText("page_title")), html.EscapeString(TermText("page_heading")), html.EscapeString(TermText("page_text")))
			return
		case AuthorizeError:
			params.Set("error", "access_denied")
			params.Set("error_description", TermText("callback_error_description"))
			params.Set("error_uri", TermText("callback_error_uri"))
		default:
			params.Set("code", c.Code)
		}
		back.RawQuery = params.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if o.FailToken {
			termWriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant",
				"error_description": TermText("error_description"), "error_uri": TermText("error_uri")})
			return
		}
		revoked.Store(false) // a new token is active until it is revoked
		clientID := r.PostFormValue("client_id")
		if id, _, ok := r.BasicAuth(); ok {
			clientID = id
		}
		termWriteJSON(w, http.StatusOK, map[string]any{
			"access_token": c.AccessToken, "refresh_token": c.RefreshToken, "token_type": "Bearer", "expires_in": 3600,
			"scope": "openid " + TermText("scope"), "id_token": ts.IDToken(clientID),
		})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if o.FailUserinfo {
			termPlainError(w, http.StatusBadRequest, "userinfo", requests.Add(1))
			return
		}
		termWriteJSON(w, http.StatusOK, map[string]any{"sub": TermText("sub"), "name": TermText("userinfo_name")})
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		termPlainError(w, http.StatusInternalServerError, "api", requests.Add(1))
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		if revoked.Load() {
			termWriteJSON(w, http.StatusOK, map[string]any{"active": false})
			return
		}
		termWriteJSON(w, http.StatusOK, map[string]any{
			"active": true, "scope": TermText("introspection_scope"), "client_id": TermText("introspection_client_id"),
			"username": TermText("introspection_username"), "sub": TermText("introspection_sub"),
			"token_type": TermText("introspection_token_type"), "exp": time.Now().Add(time.Hour).Unix(),
			"x_hostile": TermText("introspection_extra"),
		})
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		revoked.Store(true)
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		termWriteJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
			"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "hostile",
			"x": termB64(pub[1:33]), "y": termB64(pub[33:]),
		}}})
	})
	ts.Server = Start(t, mux)
	return ts
}

// termPlainError answers status with a hostile plain-text body (its lines ended by LF, CRLF and
// LF) and hostile WWW-Authenticate and X-Request-Id headers.
func termPlainError(w http.ResponseWriter, status int, field string, n int64) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+TermHeader(field+"_www_authenticate")+`"`)
	w.Header().Set("X-Request-Id", TermHeader(field+"_request_id"))
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s\nanswer %d\r\n%s\n", TermText(field+"_body"), n, TermText(field+"_body_line3"))
}

// sign is an ES256 JWT of claims.
func (s *TermServer) sign(claims map[string]any) string {
	head, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "hostile"})
	body, _ := json.Marshal(claims)
	input := termB64(head) + "." + termB64(body)
	sum := sha256.Sum256([]byte(input))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		return input + ".unsigned"
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	sig.FillBytes(raw[32:])
	return input + "." + termB64(raw)
}

func termB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func termWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
