package main

import (
	"context"
	"net/http"
	"testing"

	"oauthdiag/oauthflow"
	"oauthdiag/sandbox"
)

// Recording must be invisible next to the network: BenchmarkFlowRecorded against
// BenchmarkFlowUnrecorded is the whole headless flow with and without the session log.

func benchFlow(b *testing.B, record bool) {
	sb := sandbox.New(sandbox.WithAutoConsent(true))
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	res, err := sandboxConfig(&providerFlags{}, base, sb.Issuer())
	if err != nil {
		b.Fatal(err)
	}
	env := &cliEnv{getenv: func(k string) string {
		if k == "OAUTHDIAG_HOME" {
			return b.TempDir()
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
			Browser: &oauthflow.HeadlessBrowser{Client: client}})
		if !fr.OK {
			b.Fatalf("flow failed at %s", failedStepName(fr))
		}
	}
}

func BenchmarkFlowUnrecorded(b *testing.B) { benchFlow(b, false) }
func BenchmarkFlowRecorded(b *testing.B)   { benchFlow(b, true) }
