//go:build !unix

package recorder

import (
	"testing"
	"time"
)

// processCPU skips the CPU-time benchmarks where getrusage does not exist.
func processCPU(b *testing.B) time.Duration {
	b.Skip("process CPU time needs getrusage, which this platform lacks")
	return 0
}
