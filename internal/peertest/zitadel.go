package peertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// Zitadel starts the zitadel/oidc v3 OpenID Provider (the library's example login and in-memory storage)
// in-process on a free 127.0.0.1 port and stops it when the test ends. Each call is a separate server
// with its own state and signing key, so tests may run in parallel.
//
// Its issuer ends with a slash (http://127.0.0.1:PORT/), there is no consent page, access tokens are
// opaque and expire in 299 s, and refresh tokens rotate.
func Zitadel(t testing.TB) *Peer {
	t.Helper()
	srv, err := StartZitadel("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the zitadel/oidc peer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("stopping the zitadel/oidc peer: %v", err)
		}
	})
	return srv.Peer
}

// ZitadelServer is a running zitadel/oidc OpenID Provider.
type ZitadelServer struct {
	Peer     *Peer
	srv      *http.Server
	done     chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read after done is closed
}

// StartZitadel listens on addr (a loopback address; port 0 picks a free one), builds the issuer from the
// port actually bound, and serves until Close. redirectURIs are registered for every client in addition
// to DefaultRedirectURI.
func StartZitadel(addr string, redirectURIs ...string) (*ZitadelServer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("address %q: the peer listens on loopback IP addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	issuer := fmt.Sprintf("http://%s/", ln.Addr().String())
	redirects := append([]string{DefaultRedirectURI}, redirectURIs...)

	// The clients go to this server's own storage (NewStorageWithClients), not to the example's
	// package-level client registry, so servers started by parallel tests share nothing.
	clients := map[string]*storage.Client{}
	for _, c := range []*storage.Client{
		storage.WebClient("diag-client", "diag-secret", redirects...), // client_secret_basic
		storage.NativeClient("diag-public", redirects...),             // auth method none, PKCE required
	} {
		clients[c.GetID()] = c
	}
	// Users test-user@127.0.0.1 and test-user2, both with password verysecure; the storage also has
	// the client_credentials service user sid1 / verysecret built in.
	store := storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)
	// A nil logger keeps SetupServer from replacing the process-wide slog default.
	router := exampleop.SetupServer(issuer, store, nil, false)

	z := &ZitadelServer{
		Peer: &Peer{
			Name:           "zitadel-oidc",
			Issuer:         issuer,
			ClientID:       "diag-client",
			ClientSecret:   "diag-secret",
			PublicClientID: "diag-public",
			CCClientID:     "sid1",
			CCClientSecret: "verysecret",
			RedirectURI:    DefaultRedirectURI,
			Username:       "test-user@" + host,
			Password:       "verysecure",
		},
		srv:  &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		z.serveErr = z.srv.Serve(ln)
		close(z.done)
	}()
	return z, nil
}

// Close stops the server, waiting for in-flight requests until ctx ends.
func (z *ZitadelServer) Close(ctx context.Context) error {
	err := z.srv.Shutdown(ctx)
	<-z.done
	if z.serveErr != nil && !errors.Is(z.serveErr, http.ErrServerClosed) {
		return errors.Join(err, z.serveErr)
	}
	return err
}

// Done is closed when the server stops serving, by Close or by a failure.
func (z *ZitadelServer) Done() <-chan struct{} { return z.done }
