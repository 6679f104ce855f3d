package ui

import (
	"fmt"
	"oauthdiag/sandbox"
	"strings"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 80, 24)
	s.waitFor("Configure", "No tokens yet")
	s.keys("A")
	s.waitUntil("failure", func(scr string) bool { return strings.Contains(scr, "✗ failed") })
	fmt.Println(s.screen())
	s.keys("pgdown")
	time.Sleep(100 * time.Millisecond)
	fmt.Println(s.screen())
	s.keys("2")
	time.Sleep(100 * time.Millisecond)
	fmt.Println(s.screen())
	s.keys("3")
	time.Sleep(100 * time.Millisecond)
	fmt.Println(s.screen())
	s.keys("f", "enter")
	time.Sleep(300 * time.Millisecond)
	fmt.Println(s.screen())
	s.keys("?")
	time.Sleep(100 * time.Millisecond)
	fmt.Println(s.screen())
}
