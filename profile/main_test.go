package profile_test

import (
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/profile"
)

// TestMain runs the helpers that tests start as child processes. A test binary has one
// TestMain, so the in-package tests' helper is listed here too.
func TestMain(m *testing.M) {
	testkit.RunHelpers(m, map[string]func() int{
		"hold-lock":           holdLock,
		"keychain-fallback":   keychainFallback,
		"crash-before-rename": profile.CrashBeforeRename,
	})
}
