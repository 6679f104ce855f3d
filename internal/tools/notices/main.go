// Command notices writes THIRD_PARTY_NOTICES.md: every module the oauthdiag binary links on its
// release platforms (linux, darwin and windows on amd64 and arm64, built with CGO_ENABLED=0),
// with its version, the licenses its license files hold and their full text, and the Go
// standard library's license.
//
// From the repository root, once the modules are downloaded (go mod download):
//
//	go run ./internal/tools/notices -o THIRD_PARTY_NOTICES.md
//
// The module graph comes from go list -deps on the main package, so test-only modules are left
// out. It fails, and writes nothing, when a linked module has no license file or one whose text
// it does not recognize, so that a new dependency cannot come in unlicensed: read that module's
// license, and only if the project accepts it teach license.go to recognize its text.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/oauthdiag/oauthdiag/internal/atomicfile"
)

// refreshCommand regenerates the committed notices; run it from the repository root.
const refreshCommand = "go run ./internal/tools/notices -o " + noticesFile

// noticesFile is the generated file, at the repository root.
const noticesFile = "THIRD_PARTY_NOTICES.md"

func main() {
	out := flag.String("o", "", "write the notices to `file`, replacing it atomically, instead of to standard output")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/tools/notices [-o %s]\n", noticesFile)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
}

// run generates the notices for the module that holds the working directory and writes them to
// the file out, or to stdout when out is empty.
func run(ctx context.Context, out string, stdout io.Writer) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	data, err := generate(ctx, root)
	if err != nil {
		return err
	}
	if out == "" {
		_, err := io.Copy(stdout, bytes.NewReader(data))
		return err
	}
	return atomicfile.WriteFile(out, data, 0o644)
}
