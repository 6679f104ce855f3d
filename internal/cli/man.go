package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manCommand writes man pages generated from the same command tree as the help.
func manCommand() command {
	return command{
		name:    "man",
		summary: "print the oauthdiag(1) man page, or write one page per command into a directory",
		example: "  oauthdiag man | man -l -\n  oauthdiag man --dir /usr/local/share/man/man1",
		setup: func(env *cliEnv, fs *pflag.FlagSet) runFunc {
			dir := fs.String("dir", "", "write oauthdiag.1 and a page per command (oauthdiag-flow.1, …) into this directory")
			return func(ctx context.Context, args []string) error {
				root := newRoot(env)
				root.DisableAutoGenTag = true
				header := &doc.GenManHeader{Title: "OAUTHDIAG", Section: "1", Source: "oauthdiag " + buildVersion().Version}
				if *dir == "" {
					return doc.GenMan(root, header, env.stdout)
				}
				if err := os.MkdirAll(*dir, 0o755); err != nil {
					return fmt.Errorf("creating %s: %w", *dir, err)
				}
				if err := doc.GenManTree(root, header, *dir); err != nil {
					return err
				}
				n := 0
				countPages(root, &n)
				fmt.Fprintf(env.stdout, "Wrote %d man pages into %s\n", n, *dir)
				return nil
			}
		},
	}
}

func countPages(c *cobra.Command, n *int) {
	if !c.IsAvailableCommand() && c.HasParent() {
		return
	}
	*n++
	for _, s := range c.Commands() {
		countPages(s, n)
	}
}
