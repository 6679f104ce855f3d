package recorder

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.RunHelpers(m, map[string]func() int{
		"crash-recorder":   crashChild,
		"bench-server":     func() int { return benchServer(userinfoHandler()) },
		"bench-server-1ms": func() int { return benchServer(delayedUserinfo()) },
	})
}

// crashDirEnv is the store directory of the crash-recorder helper.
const crashDirEnv = "RECORDER_CRASH_DIR"

// crashChild is a recording process that gets killed: it records calls from four goroutines
// as fast as it can into the store at $RECORDER_CRASH_DIR and prints "recorded <id>" once each
// call is on disk (its EventFinish), until it is killed. It stops by itself after 20 seconds or
// 20000 calls.
func crashChild() int {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		fmt.Fprintln(os.Stderr, crashDirEnv+" is not set")
		return 2
	}
	body := bytes.Repeat([]byte(`{"sub":"782bbtaQ","name":"John Doe"},`), 4000) // ~150 KB: writes take a while
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	st, err := Open(dir, WithEventBuffer(1<<16))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := st.NewSession(SessionMeta{Provider: "crash-test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	events, _ := s.Subscribe()
	out := bufio.NewWriter(os.Stdout)
	go func() {
		for ev := range events {
			if ev.Type == EventFinish {
				fmt.Fprintf(out, "recorded %s\n", ev.Call.ID)
			}
		}
	}()
	client := &http.Client{Transport: s.Transport(nil)}
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 5000 && time.Now().Before(deadline); i++ {
				resp, err := client.Get(srv.URL + "/v2/userinfo")
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	s.Close()
	return 0
}

// TestKilledRecorderLeavesEveryCompletedCall kills a recording process with SIGKILL in
// the middle of its calls, then reads the log: every call it reported as recorded is
// there and readable, and a torn last record, if any, is skipped.
func TestKilledRecorderLeavesEveryCompletedCall(t *testing.T) {
	dir := t.TempDir()
	cmd := testkit.Child(t, "crash-recorder", crashDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Never let a stuck child hang the test.
	watchdog := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	reported := map[string]bool{}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "recorded ")
		if !ok {
			continue
		}
		reported[id] = true
		if len(reported) == 300 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped before it was killed, after %d calls; stderr: %s", len(reported), stderr.String())
	}

	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Load("latest")
	if err != nil {
		t.Fatal(err)
	}
	readable := map[string]bool{}
	err = s.Each(func(e Entry) error {
		if e.Response == nil || e.Response.Status != 200 || e.Response.BodySize == 0 {
			return fmt.Errorf("%s read back incomplete: %+v", e.ID, e.Response)
		}
		readable[e.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range reported {
		if !readable[id] {
			t.Errorf("%s was reported recorded before the kill but is not in the log", id)
		}
	}
	if len(readable) < len(reported) {
		t.Errorf("log holds %d calls, the child reported %d", len(readable), len(reported))
	}
	t.Logf("killed after %d reported calls; the log holds %d, %d torn record(s) skipped", len(reported), len(readable), s.Skipped())
}
