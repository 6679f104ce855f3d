// Command oauthdiag is a terminal diagnostics console for OAuth 2.0 and OpenID Connect.
package main

import (
	"os"

	"github.com/oauthdiag/oauthdiag/internal/cli"
)

func main() { os.Exit(cli.Main()) }
