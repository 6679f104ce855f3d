// Package hostile is a provider built to misbehave, for the test suite: it echoes the secrets it
// is sent in every encoding, puts terminal escapes in the text it controls, redirects credentials
// to other hosts, answers too much, too slowly or not at all. It listens on loopback only, and
// every handler gives up within a bounded time, so a test against it cannot hang.
//
// Each class of misbehaviour lives in a file of its own; this file holds what they share: the
// server, its lifetime, and the canary secrets a test hands to oauthdiag and then looks for in
// every output.
package hostile

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// MaxHandlerTime bounds every handler: a misbehaving answer (a slow drip, a stall) ends by then.
const MaxHandlerTime = 10 * time.Second

// Canaries are secret values that must never appear in any output, in any encoding.
type Canaries struct {
	ClientID     string // not a secret: it is expected in bundles
	ClientSecret string
	AccessToken  string
	RefreshToken string
	IDToken      string
	Code         string
	Verifier     string
	State        string
}

// NewCanaries returns canary values distinct per test (name is mixed in), long enough that a
// chance match is impossible, and of the character sets real providers use.
func NewCanaries(name string) Canaries {
	tag := sanitizeTag(name)
	return Canaries{
		ClientID:     "hostile-client-" + tag,
		ClientSecret: "CANARYsecret" + tag + "Zq81xVb3",
		AccessToken:  "CANARYaccess" + tag + "AQV8eYx3Zq-opaque_value-0123456789",
		RefreshToken: "CANARYrefresh" + tag + "AQWmR7-opaque_value-9876543210",
		IDToken:      "", // set by the class that issues one
		Code:         "CANARYcode" + tag + "AQTf0hkC7Q",
		State:        "", // chosen by the client
		Verifier:     "", // chosen by the client
	}
}

// All are the canaries that are set, for scanning outputs.
func (c Canaries) All() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"client_secret": c.ClientSecret, "access_token": c.AccessToken,
		"refresh_token": c.RefreshToken, "id_token": c.IDToken, "code": c.Code, "code_verifier": c.Verifier, "state": c.State} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func sanitizeTag(name string) string {
	b := make([]byte, 0, 8)
	for i := 0; i < len(name) && len(b) < 8; i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	for len(b) < 4 {
		b = append(b, 'x')
	}
	return string(b)
}

// Server is a hostile provider on a loopback port.
type Server struct {
	*httptest.Server
}

// Start serves h on 127.0.0.1 until the test ends. Every request's context ends after
// MaxHandlerTime, so a handler that waits on it cannot outlive the test.
func Start(t testing.TB, h http.Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hostile provider: %v", err)
	}
	// A deadline on the request's context rather than http.TimeoutHandler, which would buffer
	// the answer and so hide a slow drip or a stream; WriteTimeout ends a handler that ignores it.
	bounded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), MaxHandlerTime)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: bounded,
		ReadHeaderTimeout: MaxHandlerTime, WriteTimeout: MaxHandlerTime + time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &Server{Server: srv}
}
