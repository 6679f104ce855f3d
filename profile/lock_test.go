package profile_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/profile"
)

// lockPathEnv is the lock file the hold-lock helper takes.
const lockPathEnv = "OAUTHDIAG_TEST_LOCK_PATH"

// holdLock, the hold-lock helper, holds a lock for its parent test until its stdin closes.
func holdLock() int {
	unlock, err := profile.LockFile(context.Background(), os.Getenv(lockPathEnv), time.Second)
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return 1
	}
	defer unlock()
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func TestLockFileBetweenProcesses(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" {
		t.Skip("uses a child process that is killed")
	}
	path := filepath.Join(t.TempDir(), "locks", "li.lock")
	cmd := testkit.Child(t, "hold-lock", lockPathEnv+"="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q %v", line, err)
	}

	_, err = profile.LockFile(t.Context(), path, 50*time.Millisecond)
	var le *profile.LockError
	if !errors.As(err, &le) || le.Path != path || le.Err != nil {
		t.Fatalf("LockFile while another process holds it = %v, want a timeout LockError", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "another oauthdiag command") {
		t.Errorf("message %q does not name the lock file and the cause", err)
	}

	// A process that dies releases its lock: no stale lock to clean by hand.
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := profile.LockFile(t.Context(), path, 5*time.Second)
	if err != nil {
		t.Fatalf("lock not released by the dead process: %v", err)
	}
	unlock()
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock directory mode: %v %v", fi.Mode(), err)
	}
}

func TestLockFileWithinOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.lock")
	unlock, err := profile.LockFile(t.Context(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the file, as a second Lifecycle in this process makes, is excluded too.
	if _, err := profile.LockFile(t.Context(), path, 20*time.Millisecond); err == nil {
		t.Fatal("the lock was taken twice")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := profile.LockFile(ctx, path, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait = %v, want context.Canceled", err)
	}
	unlock()
	unlock2, err := profile.LockFile(t.Context(), path, time.Second)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
	if _, err := profile.ProfileLocker(t.TempDir(), time.Second)(t.Context(), "../escape"); err == nil {
		t.Fatal("a profile name with a path was accepted for a lock file")
	}
}
