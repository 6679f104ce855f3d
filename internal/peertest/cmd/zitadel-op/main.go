// Command zitadel-op runs the zitadel/oidc peer of internal/peertest as a standalone server, for trying
// oauthdiag against it by hand. It listens on loopback only and stops by itself after -ttl.
//
//	go run ./internal/peertest/cmd/zitadel-op [-addr 127.0.0.1:9102] [-redirect-uri URI,...] [-ttl 2h]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/peertest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9102", "loopback address to listen on")
	redirects := flag.String("redirect-uri", "", "extra redirect URIs to register, comma-separated (always: "+peertest.DefaultRedirectURI+")")
	ttl := flag.Duration("ttl", 2*time.Hour, "stop after this long")
	flag.Parse()

	var extra []string
	for _, r := range strings.Split(*redirects, ",") {
		if r = strings.TrimSpace(r); r != "" {
			extra = append(extra, r)
		}
	}
	srv, err := peertest.StartZitadel(*addr, extra...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
	p := srv.Peer
	fmt.Printf("issuer %s\n", p.Issuer)
	fmt.Printf("confidential client %s / %s (client_secret_basic), public client %s (PKCE)\n", p.ClientID, p.ClientSecret, p.PublicClientID)
	fmt.Printf("client_credentials %s / %s; user %s / %s; redirect URI %s\n", p.CCClientID, p.CCClientSecret, p.Username, p.Password, p.RedirectURI)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(*ttl):
		fmt.Fprintln(os.Stderr, "zitadel-op: -ttl reached, stopping")
	case <-srv.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(shutdown); err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
}
