package recorder

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// writerNiceStep is how many nice levels below the process the writers' threads run:
// nice 10 for a process at the usual 0. There the kernel lets the client, and a local
// server, preempt a writer when they wake, so redaction and encoding run in the gaps
// while calls wait on the network; yet a writer keeps about a tenth of a busy CPU, so
// under load it falls behind by milliseconds, not seconds. SCHED_IDLE and nice 19 starve
// it instead: with two CPU hogs running, flushing a session took 25 s and 166 ms,
// against 3 ms at nice 10.
const writerNiceStep = 10

// maxNice is the lowest priority Linux has.
const maxNice = 19

// threadNice returns the calling thread's nice value.
func threadNice() (int, error) {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - prio, err // the system call answers 20-nice, to stay positive
}

// lowerThreadPriority lowers the calling thread writerNiceStep levels, as far as Linux
// allows. It fails when the thread is already at the lowest priority, where there is
// nothing to gain from a thread of its own.
func lowerThreadPriority() error {
	nice, err := threadNice()
	if err != nil {
		return err
	}
	if nice >= maxNice {
		return unix.EPERM
	}
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), min(nice+writerNiceStep, maxNice))
}

// lowPriority is the pool of goroutines locked to threads of lowered priority. They
// never unlock: no other goroutine ever runs at the lowered priority, and a thread is
// lowered once and then reused, rather than started and ended with every writer.
// (Threads the runtime starts later come from its template thread, not from these, so
// they do not inherit the nice value.)
var lowPriority struct {
	mu      sync.Mutex
	idle    []chan func()
	threads int  // threads lowered
	denied  bool // lowering a thread's priority failed here once: do not try again
}

// goLowPriority runs f on a goroutine of lowered priority, or on an ordinary goroutine
// where that cannot be had: with a single P, where a descheduled writer would hold the
// only P and stall the whole process while other programs keep the CPUs busy, or where
// lowering is refused (a seccomp filter, say).
func goLowPriority(f func()) {
	lp := &lowPriority
	lp.mu.Lock()
	if lp.denied || runtime.GOMAXPROCS(0) < 2 {
		lp.mu.Unlock()
		go f()
		return
	}
	if n := len(lp.idle); n > 0 {
		run := lp.idle[n-1]
		lp.idle = lp.idle[:n-1]
		lp.mu.Unlock()
		run <- f
		return
	}
	lp.mu.Unlock()
	go func() {
		runtime.LockOSThread()
		// On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
		if err := lowerThreadPriority(); err != nil {
			runtime.UnlockOSThread()
			lp.mu.Lock()
			lp.denied = true
			lp.mu.Unlock()
			f()
			return
		}
		lp.mu.Lock()
		lp.threads++
		lp.mu.Unlock()
		run := make(chan func())
		for {
			f()
			lp.mu.Lock()
			lp.idle = append(lp.idle, run)
			lp.mu.Unlock()
			f = <-run
		}
	}()
}
