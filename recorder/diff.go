package recorder

import (
	"fmt"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// maxDiffBytes bounds the bodies diffed line by line; larger ones are only summarised,
// since a diff of megabytes helps nobody and costs seconds.
const maxDiffBytes = 256 << 10

// lineDiff returns a unified diff of two bodies labelled by call id.
func lineDiff(aID, bID, a, b string) string {
	if len(a)+len(b) > maxDiffBytes {
		return fmt.Sprintf("bodies differ (%d and %d bytes; too large to diff here)\n", len(a), len(b))
	}
	if a != "" && !strings.HasSuffix(a, "\n") {
		a += "\n"
	}
	if b != "" && !strings.HasSuffix(b, "\n") {
		b += "\n"
	}
	return udiff.Unified(aID, bID, a, b)
}
