package profile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultLockTimeout is how long a command waits for another one working on the same profile.
const DefaultLockTimeout = 30 * time.Second

// LockError reports a lock that could not be taken.
type LockError struct {
	Path    string
	Timeout time.Duration
	Err     error // nil when the wait timed out
}

func (e *LockError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cannot lock %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("another oauthdiag command has held the lock file %s for more than %s: let it finish (or stop it) and retry", e.Path, e.Timeout)
}

func (e *LockError) Unwrap() error { return e.Err }

// errLocked is what tryLock returns while another process holds the lock.
var errLocked = errors.New("locked")

// LockFile takes an exclusive lock on path (created if missing), waiting up to timeout while
// another process or another open of the file holds it. The lock is the operating system's
// (flock on Unix, LockFileEx on Windows), so a process that dies releases it: there are no stale
// locks to clean up. unlock releases it.
func LockFile(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	if err := ensurePrivateDir(filepath.Dir(path)); err != nil {
		return nil, &LockError{Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &LockError{Path: path, Err: err}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	wait := 5 * time.Millisecond
	for {
		err := tryLock(f)
		if err == nil {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, &LockError{Path: path, Err: err}
		}
		poll := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			poll.Stop()
			f.Close()
			return nil, &LockError{Path: path, Err: ctx.Err()}
		case <-deadline.C:
			poll.Stop()
			f.Close()
			return nil, &LockError{Path: path, Timeout: timeout}
		case <-poll.C:
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}

// ProfileLocker returns a Lifecycle.Lock that locks <dir>/<profile>.lock.
func ProfileLocker(dir string, timeout time.Duration) func(ctx context.Context, profile string) (func(), error) {
	return func(ctx context.Context, profile string) (func(), error) {
		if err := ValidateProfileName(profile); err != nil {
			return nil, err
		}
		return LockFile(ctx, filepath.Join(dir, profile+".lock"), timeout)
	}
}
