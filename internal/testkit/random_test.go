package testkit_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

func read(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRandomIsDeterministicPerSeed(t *testing.T) {
	a, again, other := read(t, testkit.Random("a"), 4096), read(t, testkit.Random("a"), 4096), read(t, testkit.Random("b"), 4096)
	if !bytes.Equal(a, again) {
		t.Fatal("the same seed gave different bytes")
	}
	if bytes.Equal(a[:32], other[:32]) {
		t.Fatal("two seeds gave the same bytes")
	}
	if bytes.Equal(a[:32], a[32:64]) || bytes.Count(a, []byte{0}) > len(a)/16 {
		t.Fatal("the stream does not look random")
	}
	// The split into reads does not change the stream.
	r := testkit.Random("a")
	if got := append(read(t, r, 5), read(t, r, 4091)...); !bytes.Equal(got, a) {
		t.Fatal("reading in pieces gave other bytes")
	}
}

func TestCounterYieldsExactBytes(t *testing.T) {
	r := testkit.Counter()
	if got := read(t, r, 3); !bytes.Equal(got, []byte{0, 1, 2}) {
		t.Fatalf("first bytes %v, want 0 1 2", got)
	}
	rest := read(t, r, 256)
	if rest[0] != 3 || rest[252] != 255 || rest[253] != 0 || rest[255] != 2 {
		t.Fatalf("the count does not continue and wrap: %v", rest)
	}
}

// TestRandomIsSafeForConcurrentReaders: concurrent readers share one stream, each byte given once.
func TestRandomIsSafeForConcurrentReaders(t *testing.T) {
	for name, r := range map[string]io.Reader{"Random": testkit.Random("c"), "Counter": testkit.Counter()} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var total int
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 100 {
						b := make([]byte, 16)
						n, _ := r.Read(b)
						mu.Lock()
						total += n
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if total != 8*100*16 {
				t.Fatalf("read %d bytes, want %d", total, 8*100*16)
			}
		})
	}
}
