package testkit

import (
	"testing"

	"github.com/oauthdiag/oauthdiag/sandbox"
)

// StartSandbox starts the embedded sandbox with opts on a free port of 127.0.0.1, failing the
// test if it cannot, and closes it when the test and its subtests are done. Its BaseURL and
// Issuer are set on return.
func StartSandbox(t testing.TB, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	s := sandbox.New(opts...)
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the sandbox: %v", err)
		}
	})
	return s
}
