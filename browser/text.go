package browser

import (
	"strings"
	"unicode/utf8"
)

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// cutText shortens s to about n bytes at a rune boundary, marking the cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}
