package testkit

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"sync"
)

// Random returns an endless stream of bytes determined by seed: the same seed gives the same
// bytes in every run, and different seeds give unrelated ones, so generated states, nonces,
// verifiers and ids are reproducible. It is safe for concurrent use (a server's handlers draw
// from it on their own goroutines), though the order of concurrent reads decides who gets which
// bytes.
func Random(seed string) io.Reader {
	return &lockedReader{r: rand.NewChaCha8(sha256.Sum256([]byte(seed)))}
}

// Counter returns a reader of the bytes 0, 1, 2, ..., 255, 0, 1, ...: for tests that state
// the exact values drawn (an id built from the first three bytes is "000102"). It is safe for
// concurrent use.
func Counter() io.Reader { return &lockedReader{r: &counter{}} }

type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// lockedReader serializes reads of a reader that is not safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
