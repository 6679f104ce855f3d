package profile

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultKeychainTimeout bounds every keychain operation. go-keyring can block indefinitely when
// D-Bus runs but nothing answers for the Secret Service, or waits on an unlock prompt.
const DefaultKeychainTimeout = 2 * time.Second

// KeychainService is the service name oauthdiag's keychain entries are filed under.
const KeychainService = "oauthdiag"

// keyringBackend is the part of go-keyring used here.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type systemKeyring struct{}

func (systemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (systemKeyring) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (systemKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// KeychainUnavailableError reports a keychain that failed or did not answer in time.
type KeychainUnavailableError struct {
	Op      string // "read", "write", "delete"
	Timeout time.Duration
	Err     error // nil when it did not answer in time
}

func (e *KeychainUnavailableError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("the OS keychain did not answer a %s within %s (no Secret Service running, or it waits for an unlock prompt)", e.Op, e.Timeout)
	}
	return fmt.Sprintf("the OS keychain failed to %s: %v", e.Op, e.Err)
}

func (e *KeychainUnavailableError) Unwrap() error { return e.Err }

// Keychain is the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) with a
// time limit on every operation.
type Keychain struct {
	service string
	timeout time.Duration
	backend keyringBackend
}

// NewKeychain returns the OS keychain for service; timeout <= 0 means DefaultKeychainTimeout.
func NewKeychain(service string, timeout time.Duration) *Keychain {
	if timeout <= 0 {
		timeout = DefaultKeychainTimeout
	}
	return &Keychain{service: service, timeout: timeout, backend: systemKeyring{}}
}

// bounded runs op in the background and gives up after the timeout. A keyring call that never
// returns leaves its goroutine behind; the process is a short-lived command, so that is the
// price of not hanging the user.
func (k *Keychain) bounded(op string, f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(k.timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if errors.Is(r.err, keyring.ErrNotFound) {
			return "", ErrNotStored
		}
		if r.err != nil {
			return "", &KeychainUnavailableError{Op: op, Timeout: k.timeout, Err: r.err}
		}
		return r.v, nil
	case <-t.C:
		return "", &KeychainUnavailableError{Op: op, Timeout: k.timeout}
	}
}

// Get reads an entry; ErrNotStored when there is none.
func (k *Keychain) Get(account string) (string, error) {
	return k.bounded("read", func() (string, error) { return k.backend.Get(k.service, account) })
}

// Set writes an entry, replacing any earlier one.
func (k *Keychain) Set(account, value string) error {
	_, err := k.bounded("write", func() (string, error) { return "", k.backend.Set(k.service, account, value) })
	return err
}

// Delete removes an entry; ErrNotStored when there was none.
func (k *Keychain) Delete(account string) error {
	_, err := k.bounded("delete", func() (string, error) { return "", k.backend.Delete(k.service, account) })
	return err
}

// Probe checks that the keychain answers, by looking up an entry that need not exist.
func (k *Keychain) Probe() error {
	_, err := k.Get("probe")
	if errors.Is(err, ErrNotStored) {
		return nil
	}
	return err
}

// TokenAccount is the keychain account holding a profile's token.
func TokenAccount(profile string) string { return "token/" + profile }

// SecretAccount is the keychain account holding a profile's client secret.
func SecretAccount(profile string) string { return "client-secret/" + profile }

// KeychainStore keeps tokens in the OS keychain, one entry per profile. The keychain replaces an
// entry as a whole, which makes every Save atomic.
type KeychainStore struct {
	kc  *Keychain
	now func() time.Time
}

// NewKeychainStore returns a token store in kc. now names moved-aside entries.
func NewKeychainStore(kc *Keychain, now func() time.Time) *KeychainStore {
	if now == nil {
		now = time.Now
	}
	return &KeychainStore{kc: kc, now: now}
}

// Kind is "keychain".
func (s *KeychainStore) Kind() string { return "keychain" }

// Where names the keychain entry.
func (s *KeychainStore) Where(profile string) string {
	return fmt.Sprintf("keychain service %q, account %q", s.kc.service, TokenAccount(profile))
}

// Load reads the profile's token. An unreadable entry is copied to account
// "token/<profile>.corrupt-<time>" and removed from its place.
func (s *KeychainStore) Load(profile string) (*StoredToken, error) {
	if err := ValidateProfileName(profile); err != nil {
		return nil, err
	}
	v, err := s.kc.Get(TokenAccount(profile))
	if err != nil {
		return nil, err
	}
	t, perr := decodeStored([]byte(v))
	if perr != nil {
		e := &CorruptEntryError{Profile: profile, Where: s.Where(profile), Err: perr}
		aside := TokenAccount(profile) + ".corrupt-" + s.now().UTC().Format("20060102T150405Z")
		if err := s.kc.Set(aside, v); err != nil {
			e.MoveErr = err
			return nil, e
		}
		if err := s.kc.Delete(TokenAccount(profile)); err != nil && !errors.Is(err, ErrNotStored) {
			e.MoveErr = err
			return nil, e
		}
		e.MovedTo = fmt.Sprintf("keychain service %q, account %q", s.kc.service, aside)
		return nil, e
	}
	if t.Format > storeFormat {
		return nil, &NewerFormatError{Profile: profile, Where: s.Where(profile), Format: t.Format}
	}
	return t, nil
}

// Save writes the profile's token.
func (s *KeychainStore) Save(profile string, t *StoredToken) error {
	if err := ValidateProfileName(profile); err != nil {
		return err
	}
	b, err := encodeStored(t)
	if err != nil {
		return fmt.Errorf("encoding the token: %w", err)
	}
	return s.kc.Set(TokenAccount(profile), string(b))
}

// Delete removes the profile's token.
func (s *KeychainStore) Delete(profile string) error {
	if err := ValidateProfileName(profile); err != nil {
		return err
	}
	return s.kc.Delete(TokenAccount(profile))
}

// StorePreference chooses the token store.
type StorePreference string

const (
	StoreAuto     StorePreference = "auto"     // the keychain when it answers, else a file
	StoreKeychain StorePreference = "keychain" // the keychain or an error
	StoreFile     StorePreference = "file"     // a file, without asking the keychain
)

// ParseStorePreference accepts auto, keychain and file ("" is auto).
func ParseStorePreference(s string) (StorePreference, error) {
	switch StorePreference(s) {
	case "", StoreAuto:
		return StoreAuto, nil
	case StoreKeychain, StoreFile:
		return StorePreference(s), nil
	}
	return "", fmt.Errorf("unknown token store %q: use auto, keychain or file", s)
}

// OpenStore opens the token store the preference asks for. With StoreAuto it probes the keychain
// and, when the keychain does not answer, returns a FileStore in dir together with the reason for
// the fallback (empty otherwise). kc nil means the OS keychain with the default timeout.
func OpenStore(pref StorePreference, dir string, kc *Keychain, now func() time.Time) (TokenStore, string, error) {
	if kc == nil {
		kc = NewKeychain(KeychainService, 0)
	}
	file := NewFileStore(dir, now)
	switch pref {
	case StoreFile:
		return file, "", nil
	case StoreKeychain:
		if err := kc.Probe(); err != nil {
			return nil, "", fmt.Errorf("--token-store keychain: %w (use --token-store file or auto)", err)
		}
		return NewKeychainStore(kc, now), "", nil
	case "", StoreAuto:
		if err := kc.Probe(); err != nil {
			return file, fmt.Sprintf("%v; tokens are kept in files under %s (mode 0600) instead", err, dir), nil
		}
		return &autoStore{kc: NewKeychainStore(kc, now), file: file}, "", nil
	}
	return nil, "", fmt.Errorf("unknown token store %q: use auto, keychain or file", pref)
}

// autoStore is the keychain, also reading tokens a run without keychain left in a file. Saving
// moves such a token into the keychain, so no copy stays on disk.
type autoStore struct {
	kc   *KeychainStore
	file *FileStore
}

func (s *autoStore) Kind() string                { return s.kc.Kind() }
func (s *autoStore) Where(profile string) string { return s.kc.Where(profile) }

func (s *autoStore) Load(profile string) (*StoredToken, error) {
	t, err := s.kc.Load(profile)
	if !errors.Is(err, ErrNotStored) {
		return t, err
	}
	return s.file.Load(profile)
}

func (s *autoStore) Save(profile string, t *StoredToken) error {
	if err := s.kc.Save(profile, t); err != nil {
		return err
	}
	if err := s.file.Delete(profile); err != nil && !errors.Is(err, ErrNotStored) {
		return fmt.Errorf("the token is now in the keychain, but its earlier file copy remains: %w", err)
	}
	return nil
}

func (s *autoStore) Delete(profile string) error {
	kerr := s.kc.Delete(profile)
	ferr := s.file.Delete(profile)
	switch {
	case kerr == nil && (ferr == nil || errors.Is(ferr, ErrNotStored)):
		return nil
	case errors.Is(kerr, ErrNotStored) && ferr == nil:
		return nil
	case errors.Is(kerr, ErrNotStored) && errors.Is(ferr, ErrNotStored):
		return ErrNotStored
	case kerr != nil && !errors.Is(kerr, ErrNotStored):
		return kerr
	}
	return ferr
}

// FileFallback returns the file store behind an auto store, or the store itself when it is a
// FileStore; nil otherwise.
func FileFallback(s TokenStore) *FileStore {
	switch v := s.(type) {
	case *FileStore:
		return v
	case *autoStore:
		return v.file
	}
	return nil
}
