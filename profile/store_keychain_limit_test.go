package profile

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// memoryKeyring is a keychain that keeps its entries in memory. refuseOver > 0 makes it refuse
// larger secrets with keyring.ErrSetDataTooBig, as a keychain does whose limit this package does
// not know beforehand; deleteErr makes every Delete fail.
type memoryKeyring struct {
	mu         sync.Mutex
	entries    map[string]string
	sets       int
	refuseOver int
	deleteErr  error
}

func (m *memoryKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.entries[service+"|"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memoryKeyring) Set(service, user, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets++
	if m.refuseOver > 0 && len(password) > m.refuseOver {
		return keyring.ErrSetDataTooBig
	}
	if m.entries == nil {
		m.entries = map[string]string{}
	}
	m.entries[service+"|"+user] = password
	return nil
}

func (m *memoryKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deleteErr != nil {
		return m.deleteErr
	}
	if _, ok := m.entries[service+"|"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.entries, service+"|"+user)
	return nil
}

// holding lists the accounts whose entry contains secret.
func (m *memoryKeyring) holding(secret string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var accts []string
	for k, v := range m.entries {
		if strings.Contains(v, secret) {
			accts = append(accts, k)
		}
	}
	return accts
}

// keychainOf is the keychain of goos, kept in backend.
func keychainOf(goos string, backend keyringBackend) *Keychain {
	return &Keychain{service: KeychainService, timeout: time.Second, backend: backend, limit: secretLimitFor(goos)}
}

// idTokenOf is a JWT-shaped ID token of size bytes: a provider that puts the user's groups in its
// ID tokens sends several KB.
func idTokenOf(size int) string {
	enc := base64.RawURLEncoding
	var groups []string
	for len(groups)*60 < size/2 {
		groups = append(groups, fmt.Sprintf("cn=team-%03d,ou=groups,dc=example,dc=com", len(groups)))
	}
	claims, _ := json.Marshal(map[string]any{"iss": "https://id.example.com", "sub": "u-1", "aud": "client-1", "exp": 1740830400, "groups": groups})
	tok := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "."
	return tok + strings.Repeat("s", max(0, size-len(tok)))
}

// tokenWithIDToken is a token set whose ID token has idSize bytes.
func tokenWithIDToken(access string, idSize int) *StoredToken {
	st := storedForTest(access)
	st.Format = storeFormat
	st.Token.IDToken = idTokenOf(idSize)
	st.Token.Scope = "openid profile"
	st.Token.RefreshExpiry = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st.Token.Raw = map[string]json.RawMessage{"expires_in": json.RawMessage(`5184000`), "x_vendor": json.RawMessage(`"kept"`)}
	st.Issuer, st.TokenEndpoint = "https://id.example.com", "https://id.example.com/token"
	st.AuthorizedAt, st.SavedAt, st.Refreshes, st.ServerSkew = st.Token.ReceivedAt, st.Token.ReceivedAt, 1, 2*time.Second
	return st
}

func TestTheKeychainLimitsAreThoseOfWindowsAndMacOS(t *testing.T) {
	if l := secretLimitFor("windows"); l.max != 2560 || l.measure(KeychainService, "token/li", strings.Repeat("a", 2560)) != 2560 {
		t.Errorf("Windows: limit %d; want the Credential Manager's 2560 bytes of secret", l.max)
	}
	// go-keyring sends the secret base64-encoded in a command line of at most 4096 bytes, so
	// about 3000 bytes of token fit, not 4096.
	mac := secretLimitFor("darwin")
	if mac.max != 4096 {
		t.Errorf("macOS: limit %d, want 4096", mac.max)
	}
	if n := mac.measure(KeychainService, "token/li", strings.Repeat("a", 2900)); n > 4096 {
		t.Errorf("macOS: a 2900-byte token counts %d bytes, want it to fit", n)
	}
	if n := mac.measure(KeychainService, "token/li", strings.Repeat("a", 3100)); n <= 4096 {
		t.Errorf("macOS: a 3100-byte token counts %d bytes, want it refused (base64 makes it over 4096)", n)
	}
	if l := secretLimitFor("linux"); l.max != 0 {
		t.Errorf("Linux: limit %d; the Secret Service has none", l.max)
	}
}

func TestAutoStoreKeepsATokenTooLargeForTheKeychainInAPrivateFile(t *testing.T) {
	for _, c := range []struct {
		goos, says string
	}{
		{"windows", "larger than the Windows Credential Manager takes (2560 bytes)"},
		{"darwin", "larger than the macOS Keychain takes (4096 bytes)"},
	} {
		t.Run(c.goos, func(t *testing.T) {
			backend := &memoryKeyring{}
			dir := t.TempDir()
			var notices []string
			store, reason, err := OpenStore(StoreAuto, dir, keychainOf(c.goos, backend), nil, WithNotice(func(n string) { notices = append(notices, n) }))
			if err != nil || reason != "" {
				t.Fatalf("OpenStore = %v, %q", err, reason)
			}
			first, refreshed := tokenWithIDToken("at-1", 6<<10), tokenWithIDToken("at-2", 6<<10)
			for _, st := range []*StoredToken{first, refreshed} {
				if err := store.Save("li", st); err != nil {
					t.Fatalf("Save of a 6 KB token set: %v", err)
				}
			}

			path := filepath.Join(dir, "li.json")
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("the token is not in a 0600 file at %s: %v %v", path, fi, err)
			}
			if w := store.Where("li"); w != path {
				t.Errorf("Where = %q, want the file %s", w, path)
			}
			if len(notices) != 1 {
				t.Fatalf("two saves gave %d notices %q, want exactly one", len(notices), notices)
			}
			if !strings.Contains(notices[0], c.says) || !strings.Contains(notices[0], "it is kept in "+path+" (mode 0600) instead") {
				t.Errorf("notice %q does not say why and where the token is kept", notices[0])
			}
			got, err := store.Load("li")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, refreshed) {
				t.Errorf("Load =\n%+v\nwant the last saved token\n%+v", got, refreshed)
			}
			if backend.sets != 0 {
				t.Errorf("the keychain was asked %d times to take a token over its known limit", backend.sets)
			}
			for _, secret := range []string{"at-1", "at-2", refreshed.Token.RefreshToken, refreshed.Token.IDToken} {
				if accts := backend.holding(secret); len(accts) > 0 {
					t.Errorf("the keychain still holds a secret of the token set in %v", accts)
				}
			}
		})
	}
}

func TestAutoStoreFallsBackWhenTheKeychainRefusesTheSize(t *testing.T) {
	// A keychain whose limit is known only from its refusal (go-keyring's ErrSetDataTooBig).
	backend := &memoryKeyring{refuseOver: 4000}
	dir := t.TempDir()
	var notices []string
	store, _, err := OpenStore(StoreAuto, dir, keychainOf("linux", backend), nil, WithNotice(func(n string) { notices = append(notices, n) }))
	if err != nil {
		t.Fatal(err)
	}
	want := tokenWithIDToken("at-1", 6<<10)
	for range 2 {
		if err := store.Save("li", want); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	path := filepath.Join(dir, "li.json")
	if len(notices) != 1 || !strings.Contains(notices[0], "larger than the OS keychain takes; it is kept in "+path) {
		t.Fatalf("notices = %q, want one saying the keychain refused it and where it is", notices)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the token is not in a 0600 file: %v %v", fi, err)
	}
	if got, err := store.Load("li"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if accts := backend.holding(want.Token.IDToken); len(accts) > 0 {
		t.Errorf("the keychain holds the token in %v", accts)
	}
}

func TestAutoStoreKeepsASmallTokenInTheKeychain(t *testing.T) {
	backend := &memoryKeyring{}
	dir := t.TempDir()
	var notices []string
	store, _, err := OpenStore(StoreAuto, dir, keychainOf("windows", backend), nil, WithNotice(func(n string) { notices = append(notices, n) }))
	if err != nil {
		t.Fatal(err)
	}
	want := tokenWithIDToken("at-1", 900)
	if err := store.Save("li", want); err != nil {
		t.Fatal(err)
	}
	if accts := backend.holding(want.Token.IDToken); len(accts) != 1 || accts[0] != KeychainService+"|"+TokenAccount("li") {
		t.Errorf("the small token is in keychain accounts %v, want %s", accts, TokenAccount("li"))
	}
	assertOnlyFiles(t, dir)
	if len(notices) != 0 {
		t.Errorf("notices %q for a token that fits", notices)
	}
	if got, err := store.Load("li"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if w := store.Where("li"); !strings.Contains(w, "keychain") {
		t.Errorf("Where = %q, want the keychain entry", w)
	}
}

func TestAutoStoreLeavesNoStaleCopyWhenTheTokenSizeChanges(t *testing.T) {
	backend := &memoryKeyring{}
	dir := t.TempDir()
	store, _, err := OpenStore(StoreAuto, dir, keychainOf("windows", backend), nil)
	if err != nil {
		t.Fatal(err)
	}
	small, large, smallAgain := tokenWithIDToken("at-1", 900), tokenWithIDToken("at-2", 6<<10), tokenWithIDToken("at-3", 900)

	if err := store.Save("li", small); err != nil {
		t.Fatal(err)
	}
	if err := store.Save("li", large); err != nil {
		t.Fatal(err)
	}
	if accts := backend.holding("at-1"); len(accts) > 0 {
		t.Errorf("the earlier, smaller token stayed in the keychain (%v) when the larger one went to a file", accts)
	}
	if got, err := store.Load("li"); err != nil || got.Token.AccessToken != "at-2" {
		t.Fatalf("Load after the large save = %+v, %v", got, err)
	}

	if err := store.Save("li", smallAgain); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir)
	if got, err := store.Load("li"); err != nil || got.Token.AccessToken != "at-3" {
		t.Fatalf("Load after the token fits again = %+v, %v", got, err)
	}
}

func TestForcedKeychainStoreRefusesATokenTooLargeForIt(t *testing.T) {
	backend := &memoryKeyring{}
	dir := t.TempDir()
	store, _, err := OpenStore(StoreKeychain, dir, keychainOf("windows", backend), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Save("li", tokenWithIDToken("at-1", 6<<10))
	var tooLarge *SecretTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Limit != 2560 || tooLarge.Size <= 2560 {
		t.Fatalf("Save = %v, want a SecretTooLargeError against the 2560-byte limit", err)
	}
	if !strings.Contains(err.Error(), "--token-store auto keeps such a token in a file") {
		t.Errorf("error %q does not say how to keep such a token", err)
	}
	assertOnlyFiles(t, dir)
	if backend.sets != 0 {
		t.Errorf("the keychain was asked to take it")
	}
}

func TestAutoStoreWhoseKeychainKeepsAStaleCopyLoadsTheNewerToken(t *testing.T) {
	backend := &memoryKeyring{}
	store, _, err := OpenStore(StoreAuto, t.TempDir(), keychainOf("windows", backend), nil)
	if err != nil {
		t.Fatal(err)
	}
	older := tokenWithIDToken("at-1", 900)
	if err := store.Save("li", older); err != nil {
		t.Fatal(err)
	}
	backend.deleteErr = errors.New("access denied")
	newer := tokenWithIDToken("at-2", 6<<10)
	newer.SavedAt = older.SavedAt.Add(time.Hour)
	err = store.Save("li", newer)
	if err == nil || !strings.Contains(err.Error(), "earlier keychain copy remains") {
		t.Fatalf("Save = %v, want an error saying the old keychain copy remains", err)
	}
	if got, err := store.Load("li"); err != nil || got.Token.AccessToken != "at-2" {
		t.Fatalf("Load = %+v, %v; want the newer token from the file, not the stale keychain copy", got, err)
	}
}
