package profile_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/internal/testkit"
	"github.com/oauthdiag/oauthdiag/profile"
)

// EnvTestKeychain enables the tests that write to the real OS keychain. CI runs them inside
// dbus-run-session with an unlocked gnome-keyring-daemon, so no developer keychain is touched.
const envTestKeychain = "OAUTHDIAG_TEST_KEYCHAIN"

// testKeychainService is unique per run, so entries of an interrupted run never meet another's.
func testKeychainService() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "oauthdiag-test-" + hex.EncodeToString(b)
}

func TestKeychainStoreOnTheRealSecretService(t *testing.T) {
	if os.Getenv(envTestKeychain) != "1" {
		t.Skip("set " + envTestKeychain + "=1 to use the real keychain (CI: dbus-run-session with an unlocked gnome-keyring-daemon)")
	}
	service := testKeychainService()
	kc := profile.NewKeychain(service, 10*time.Second)
	dir := t.TempDir()
	t.Cleanup(func() {
		for _, acct := range []string{profile.TokenAccount("li"), profile.TokenAccount("moved")} {
			kc.Delete(acct)
		}
	})

	store, reason, err := profile.OpenStore(profile.StoreAuto, dir, kc, func() time.Time { return storeNow })
	if err != nil || reason != "" || store.Kind() != "keychain" {
		t.Fatalf("OpenStore(auto) = %v, %q, %v; want the keychain with no fallback", store, reason, err)
	}
	want := storeTestToken("kc-access-token")
	if err := store.Save("li", want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Load("li")
	if err != nil || got.Token.AccessToken != "kc-access-token" || !got.Token.RefreshExpiry.Equal(want.Token.RefreshExpiry) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// The entry is really in the Secret Service, where another client finds it.
	if path, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.Command(path, "lookup", "service", service, "username", profile.TokenAccount("li")).Output()
		if err != nil || !strings.Contains(string(out), "kc-access-token") {
			t.Fatalf("secret-tool does not see the entry: %v %q", err, out)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a keychain save wrote files: %v", entries)
	}

	// A token a keychain-less run left in a file is found, and moved into the keychain on save.
	fileOnly := profile.NewFileStore(dir, nil)
	if err := fileOnly.Save("moved", storeTestToken("from-file")); err != nil {
		t.Fatal(err)
	}
	got, err = store.Load("moved")
	if err != nil || got.Token.AccessToken != "from-file" {
		t.Fatalf("auto store does not read the file copy: %+v %v", got, err)
	}
	if err := store.Save("moved", got); err != nil {
		t.Fatal(err)
	}
	if _, err := fileOnly.Load("moved"); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("the file copy stayed after moving into the keychain: %v", err)
	}

	// A corrupt entry is moved to another account, not lost.
	if err := kc.Set(profile.TokenAccount("li"), "{not json"); err != nil {
		t.Fatal(err)
	}
	_, err = store.Load("li")
	var ce *profile.CorruptEntryError
	if !errors.As(err, &ce) || !strings.Contains(ce.MovedTo, profile.TokenAccount("li")+".corrupt-20250301T120000Z") {
		t.Fatalf("corrupt keychain entry: %v", err)
	}
	aside := profile.TokenAccount("li") + ".corrupt-20250301T120000Z"
	t.Cleanup(func() { kc.Delete(aside) })
	if v, err := kc.Get(aside); err != nil || v != "{not json" {
		t.Fatalf("the moved-aside entry = %q, %v", v, err)
	}

	if err := store.Delete("moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(profile.TokenAccount("moved")); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("after Delete the keychain still has the entry: %v", err)
	}
	if err := store.Delete("moved"); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("second Delete = %v, want ErrNotStored", err)
	}
}

// keychainChildResult is what the child process reports about the store it opened.
type keychainChildResult struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	Err    string `json:"err"`
	Saved  bool   `json:"saved"`
}

// keychainDirEnv is the token directory of the keychain-fallback helper.
const keychainDirEnv = "OAUTHDIAG_TEST_KEYCHAIN_DIR"

// keychainFallback, the keychain-fallback helper, is the body of the fallback tests, run in a
// child process so that the D-Bus address it sees (and a connection stuck in the D-Bus library)
// stays out of this one.
func keychainFallback() int {
	dir := os.Getenv(keychainDirEnv)
	var res keychainChildResult
	store, reason, err := profile.OpenStore(profile.StoreAuto, dir, profile.NewKeychain(testKeychainService(), 300*time.Millisecond), nil)
	if err != nil {
		res.Err = err.Error()
	} else {
		res.Kind, res.Reason = store.Kind(), reason
		res.Saved = store.Save("li", storeTestToken("fallback-token")) == nil
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

func runKeychainChild(t *testing.T, busAddress string) keychainChildResult {
	t.Helper()
	dir := t.TempDir()
	out, err := testkit.Child(t, "keychain-fallback", keychainDirEnv+"="+dir, "DBUS_SESSION_BUS_ADDRESS="+busAddress).Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var res keychainChildResult
	line := strings.SplitN(string(out), "\n", 2)[0]
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "li.json")); res.Saved && err != nil {
		t.Fatalf("the fallback store saved, but not to a file in its directory: %v", err)
	}
	return res
}

func TestOpenStoreFallsBackWithoutDBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service over D-Bus is the Linux keychain")
	}
	res := runKeychainChild(t, "unix:path="+filepath.Join(t.TempDir(), "no-bus-here"))
	if res.Err != "" || res.Kind != "file" || !res.Saved {
		t.Fatalf("without a bus: %+v; want a working file store", res)
	}
	if !strings.Contains(res.Reason, "keychain failed") || !strings.Contains(res.Reason, "tokens are kept in files") {
		t.Fatalf("fallback reason %q does not say what failed and where tokens go", res.Reason)
	}
}

func TestOpenStoreFallsBackWhenDBusHangs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service over D-Bus is the Linux keychain")
	}
	// A bus that accepts the connection and never says a word: the D-Bus library waits forever.
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	res := runKeychainChild(t, "unix:path="+sock)
	if res.Err != "" || res.Kind != "file" || !res.Saved {
		t.Fatalf("with a silent bus: %+v; want a working file store", res)
	}
	if !strings.Contains(res.Reason, "did not answer a read within 300ms") {
		t.Fatalf("fallback reason %q does not say the keychain did not answer", res.Reason)
	}
}
