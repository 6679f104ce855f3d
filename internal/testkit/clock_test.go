package testkit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

var start = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := testkit.NewClock(start)
	for range 3 {
		if got := c.Now(); !got.Equal(start) {
			t.Fatalf("Now = %v, want %v: reading must not move the clock", got, start)
		}
	}
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("after Advance(90s): %v", got)
	}
	c.Advance(-30 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("after Advance(-30s): %v", got)
	}
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(later)
	if got := c.Now(); !got.Equal(later) {
		t.Fatalf("after Set: %v, want %v", got, later)
	}
}

func TestStepClockAdvancesByItsStepOnEveryReading(t *testing.T) {
	c := testkit.NewStepClock(start, 7*time.Millisecond)
	for i := range 4 {
		if got, want := c.Now(), start.Add(time.Duration(i)*7*time.Millisecond); !got.Equal(want) {
			t.Fatalf("reading %d = %v, want %v", i, got, want)
		}
	}
	// Advance adds to the steps already taken.
	c.Advance(time.Hour)
	if got, want := c.Now(), start.Add(28*time.Millisecond+time.Hour); !got.Equal(want) {
		t.Fatalf("after Advance: %v, want %v", got, want)
	}
}

// TestStepClockIsSafeForConcurrentReaders: readers on several goroutines each get their own
// reading; none is lost or given twice.
func TestStepClockIsSafeForConcurrentReaders(t *testing.T) {
	const readers, reads = 8, 200
	c := testkit.NewStepClock(start, time.Second)
	var mu sync.Mutex
	seen := map[time.Time]bool{}
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range reads {
				now := c.Now()
				mu.Lock()
				seen[now] = true
				mu.Unlock()
			}
		})
	}
	for range reads {
		wg.Go(func() { c.Advance(0) })
	}
	wg.Wait()
	if len(seen) != readers*reads {
		t.Fatalf("%d distinct readings, want %d", len(seen), readers*reads)
	}
	if got, want := c.Now(), start.Add(readers*reads*time.Second); !got.Equal(want) {
		t.Fatalf("after %d readings the clock reads %v, want %v", readers*reads, got, want)
	}
}
