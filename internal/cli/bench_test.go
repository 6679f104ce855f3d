package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/oauthdiag/oauthdiag/browser"
	"github.com/oauthdiag/oauthdiag/internal/testkit"

	"github.com/oauthdiag/oauthdiag/oauthflow"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// Recording must be invisible next to the network: BenchmarkFlowRecorded against
// BenchmarkFlowUnrecorded is the whole headless flow with and without the session log,
// against the sandbox in this process (as `oauthdiag demo` runs it) and, in the
// ServerProcess pair, in a process of its own (as `oauthdiag sandbox` or any local
// provider runs).

// TestMain lets the test binary serve as the children some tests need: the sandbox in a process
// of its own, and a headless browser for --browser-cmd.
func TestMain(m *testing.M) {
	testkit.RunHelpers(m, map[string]func() int{"bench-sandbox": serveBenchSandbox, "browse": browseHelper})
}

func serveBenchSandbox() int {
	sb := sandbox.New(sandbox.WithAutoConsent(true))
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Printf("%s %s\n", base, sb.Issuer())
	// The parent closes our stdin when it is done (or dies): then we go too.
	bufio.NewReader(os.Stdin).ReadString('\n')
	sb.Close()
	return 0
}

// startSandboxProcess runs the sandbox in a child process and returns its base URL and issuer.
func startSandboxProcess(b *testing.B) (base, issuer string) {
	b.Helper()
	base, issuer, _ = strings.Cut(testkit.ChildServer(b, "bench-sandbox"), " ")
	return base, issuer
}

func startSandboxHere(b *testing.B) (base, issuer string) {
	b.Helper()
	sb := testkit.StartSandbox(b, sandbox.WithAutoConsent(true))
	return sb.BaseURL(), sb.Issuer()
}

func benchFlow(b *testing.B, base, issuer string, record bool) {
	res, err := sandboxConfig(&providerFlags{}, base, issuer)
	if err != nil {
		b.Fatal(err)
	}
	home := b.TempDir()
	env := &cliEnv{getenv: func(k string) string {
		if k == "OAUTHDIAG_HOME" {
			return home
		}
		return ""
	}}
	client := &http.Client{}
	if record {
		rec, err := openRecording(env, res.cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { rec.Close() })
		client = rec.client(0)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		r := oauthflow.NewRunner(res.cfg, oauthflow.WithHTTPClient(client))
		fr := r.RunFlow(ctx, oauthflow.FlowOptions{Discover: true, Issuer: res.issuer,
			Browser: &browser.Headless{Client: client}})
		if !fr.OK {
			b.Fatalf("flow failed at %s", failedStepName(fr))
		}
	}
}

func BenchmarkFlowUnrecorded(b *testing.B) {
	base, issuer := startSandboxHere(b)
	benchFlow(b, base, issuer, false)
}

func BenchmarkFlowRecorded(b *testing.B) {
	base, issuer := startSandboxHere(b)
	benchFlow(b, base, issuer, true)
}

func BenchmarkFlowServerProcessUnrecorded(b *testing.B) {
	base, issuer := startSandboxProcess(b)
	benchFlow(b, base, issuer, false)
}

func BenchmarkFlowServerProcessRecorded(b *testing.B) {
	base, issuer := startSandboxProcess(b)
	benchFlow(b, base, issuer, true)
}
