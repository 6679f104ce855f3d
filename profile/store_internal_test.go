package profile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/oauthflow"
)

func storedForTest(access string) *StoredToken {
	return &StoredToken{
		Token: oauthflow.Token{AccessToken: access, RefreshToken: "rt-" + access, TokenType: "Bearer",
			ReceivedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Expiry: time.Date(2025, 4, 30, 12, 0, 0, 0, time.UTC)},
		Scopes: []string{"openid", "profile"}, ClientID: "client-1",
	}
}

func TestFileStoreFailedWriteKeepsTheOldEntry(t *testing.T) {
	dir := t.TempDir()
	s := NewFileStore(dir, nil)
	if err := s.Save("li", storedForTest("old-token")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	s.beforeRename = func(tmp string) error {
		// The new content is complete in the temporary file, but the entry must not see it yet.
		b, err := os.ReadFile(tmp)
		if err != nil || !strings.Contains(string(b), "new-token") {
			t.Errorf("temporary file does not hold the new token: %v", err)
		}
		return boom
	}
	err := s.Save("li", storedForTest("new-token"))
	if !errors.Is(err, boom) {
		t.Fatalf("Save = %v, want the injected failure", err)
	}
	s.beforeRename = nil
	got, err := s.Load("li")
	if err != nil || got.Token.AccessToken != "old-token" {
		t.Fatalf("after a failed write Load = %+v, %v; want the old token", got, err)
	}
	assertOnlyFiles(t, dir, "li.json")
}

// crashDirEnv is the token directory of the crash-before-rename helper.
const crashDirEnv = "OAUTHDIAG_TEST_CRASH_DIR"

// CrashBeforeRename, the crash-before-rename helper, saves a token into the store at
// $OAUTHDIAG_TEST_CRASH_DIR and exits with status 3 after writing the temporary file, before the
// rename. It is exported for the TestMain of package profile_test, the one of this test binary.
func CrashBeforeRename() int {
	s := NewFileStore(os.Getenv(crashDirEnv), nil)
	s.beforeRename = func(string) error { os.Exit(3); return nil }
	s.Save("li", storedForTest("new-token"))
	return 0
}

// TestFileStoreCrashBetweenWriteAndRename kills a real process after it wrote the temporary file and
// before the rename: the entry must still be the old one, and logout must leave nothing behind.
func TestFileStoreCrashBetweenWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	s := NewFileStore(dir, nil)
	if err := s.Save("li", storedForTest("old-token")); err != nil {
		t.Fatal(err)
	}
	out, err := testkit.Child(t, "crash-before-rename", crashDirEnv+"="+dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("the writer did not crash where intended: %v\n%s", err, out)
	}
	got, err := s.Load("li")
	if err != nil || got.Token.AccessToken != "old-token" {
		t.Fatalf("after a crash Load = %+v, %v; want the old token", got, err)
	}
	temps, _ := filepath.Glob(filepath.Join(dir, ".li.json.tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("want the crashed write's temporary file, found %v", temps)
	}
	if fi, err := os.Stat(temps[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the temporary file must be private from the start: %v %v", fi.Mode(), err)
	}
	if err := s.Delete("li"); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir)
}

func TestKeychainTimesOutAndReportsIt(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	kc := &Keychain{service: "test", timeout: 20 * time.Millisecond, backend: hangingKeyring{block}}
	_, err := kc.Get("x")
	var ku *KeychainUnavailableError
	if !errors.As(err, &ku) || ku.Err != nil || ku.Op != "read" {
		t.Fatalf("Get on a keychain that never answers = %v, want a timeout KeychainUnavailableError", err)
	}
	if !strings.Contains(err.Error(), "did not answer a read within 20ms") {
		t.Errorf("message %q does not say what timed out", err)
	}
	store, reason, err := OpenStore(StoreAuto, t.TempDir(), kc, nil)
	if err != nil || store.Kind() != "file" || !strings.Contains(reason, "did not answer") {
		t.Fatalf("OpenStore(auto) = %v, %q, %v; want the file store and the reason", store, reason, err)
	}
	if _, _, err := OpenStore(StoreKeychain, t.TempDir(), kc, nil); !errors.As(err, &ku) {
		t.Fatalf("OpenStore(keychain) on a dead keychain = %v, want the KeychainUnavailableError", err)
	}
}

// hangingKeyring stands for a Secret Service that accepts the D-Bus call and never replies; the
// real-bus version of this runs in TestOpenStoreFallsBackWhenDBusHangs.
type hangingKeyring struct{ block chan struct{} }

func (h hangingKeyring) Get(string, string) (string, error) { <-h.block; return "", nil }
func (h hangingKeyring) Set(string, string, string) error   { <-h.block; return nil }
func (h hangingKeyring) Delete(string, string) error        { <-h.block; return nil }

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("files in %s = %v, want %v", dir, got, want)
	}
}
