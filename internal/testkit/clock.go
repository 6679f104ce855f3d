package testkit

import (
	"sync"
	"time"
)

// Clock is a clock a test moves by hand. It is safe for concurrent use: a sandbox, a runner and
// a store often read one clock from their own goroutines while the test moves it.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// NewStepClock returns a clock that moves on by step after every reading: it reads start,
// start+step, start+2*step, ... so that consecutive readings differ by a known amount.
func NewStepClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: start, step: step}
}

// Now returns the clock's time (then, for a stepping clock, moves it on by its step). Its
// method value fits every WithClock option of this module.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Advance moves the clock by d, which may be negative.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
