package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

func TestRunAllWalksTheHappyFlowAgainstTheSandbox(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Configure", "No tokens yet")
	s.keys("A")
	s.waitUntil("every step ok", func(scr string) bool { return strings.Count(scr, "✓") >= 8 && strings.Contains(scr, "Revoke") })
	scr := s.finish()
	golden.RequireEqual(t, scr)
}
