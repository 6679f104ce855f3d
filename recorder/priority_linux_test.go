package recorder

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// niceOf reads a thread's nice value from /proc.
func niceOf(t *testing.T, tid int) (int, bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return 0, false // the thread ended meanwhile
	}
	// The command name may hold spaces: the fields after it start past the last ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	nice, err := strconv.Atoi(fields[16]) // field 19 of stat, counted from the state
	if err != nil {
		t.Fatalf("thread %d: %v", tid, err)
	}
	return nice, true
}

// threadsAtNice counts this process's threads running at nice.
func threadsAtNice(t *testing.T, nice int) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(task))
		if v, ok := niceOf(t, tid); ok && v == nice {
			n++
		}
	}
	return n
}

// startNice is the priority the test binary started at, read before any writer ran
// (a CI runner may have lowered it). A writer's goroutine may come to own the main
// thread, so its nice value later says nothing about the process.
var startNice, startNiceErr = threadNice()

// processNice is startNice, skipping the test when there is no lower priority to go to.
func processNice(t *testing.T) int {
	t.Helper()
	if startNiceErr != nil {
		t.Fatalf("reading the priority: %v", startNiceErr)
	}
	if startNice >= maxNice {
		t.Skipf("the process already runs at nice %d: there is no lower priority to test", startNice)
	}
	return startNice
}

func loweredThreads() int {
	lowPriority.mu.Lock()
	defer lowPriority.mu.Unlock()
	return lowPriority.threads
}

// writerNiceOf records one call in a new session of a store opened with opts and
// returns the nice value its writer ran at.
func writerNiceOf(t *testing.T, opts ...Option) int {
	t.Helper()
	var mu sync.Mutex
	nice := -100
	st := openStore(t, append(opts, func(o *options) {
		o.writerStarted = func() {
			v, _ := niceOf(t, unix.Gettid())
			mu.Lock()
			nice = v
			mu.Unlock()
		}
	})...)
	srv := httptest.NewServer(userinfoHandler())
	defer srv.Close()
	s := startSession(t, st)
	resp, err := (&http.Client{Transport: s.Transport(srv.Client().Transport)}).Get(srv.URL + "/v2/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if nice == -100 {
		t.Fatal("no writer started for the call")
	}
	return nice
}

func TestWriterRunsAtLoweredPriority(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	want := min(processNice(t)+writerNiceStep, maxNice)
	if nice := writerNiceOf(t); nice != want {
		t.Fatalf("the writer ran at nice %d, want %d", nice, want)
	}
}

func TestWriterPriorityIsOrdinaryWhenAskedOrWithASingleP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	base := processNice(t)
	if nice := writerNiceOf(t, WithLowPriorityWriter(false)); nice != base {
		t.Errorf("with the low-priority writer off, the writer ran at nice %d", nice)
	}
	// A descheduled writer would hold the only P.
	runtime.GOMAXPROCS(1)
	if nice := writerNiceOf(t); nice != base {
		t.Errorf("with GOMAXPROCS=1, the writer ran at nice %d", nice)
	}
}

func TestLoweredThreadsAreReusedAndRunNothingElse(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	base := processNice(t)
	lowered := min(base+writerNiceStep, maxNice)
	writerNiceOf(t)
	before := loweredThreads()
	for range 50 {
		writerNiceOf(t)
	}
	// A session may open while the last writer is still on its way back to the pool,
	// and get a thread of its own; but threads must not pile up with sessions.
	if after := loweredThreads(); after > before+2 {
		t.Errorf("50 sessions in turn lowered %d more threads; idle ones should serve them", after-before)
	}

	// Every goroutine, including those on threads the runtime starts now, runs at the
	// process's priority: only the writers' own threads are lowered.
	var started, release sync.WaitGroup
	release.Add(1)
	nices := make([]int, 16)
	for i := range nices {
		started.Add(1)
		go func() {
			runtime.LockOSThread() // a thread each, new ones included
			nices[i], _ = niceOf(t, unix.Gettid())
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	if n, writers := threadsAtNice(t, lowered), loweredThreads(); n != writers {
		t.Errorf("%d threads run at nice %d, but the writers lowered %d", n, lowered, writers)
	}
	release.Done()
	for i, nice := range nices {
		if nice != base {
			t.Errorf("goroutine %d ran at nice %d after recording, not the process's %d; the lowered priority leaked", i, nice, base)
		}
	}
}
