package profile

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
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

// SecretTooLargeError reports an entry larger than the OS keychain takes. Tokens with large JWTs
// (ID tokens of several KB) exceed the Windows Credential Manager's and the macOS Keychain's limits.
type SecretTooLargeError struct {
	Account  string
	Keychain string // "the Windows Credential Manager", "the macOS Keychain", "the OS keychain"
	Size     int    // the entry's size as that keychain counts it
	Limit    int    // the most it takes; 0 when only its refusal (Err) says it is too large
	Err      error  // keyring.ErrSetDataTooBig when the keychain refused; nil when refused before asking
}

func (e *SecretTooLargeError) Error() string {
	if e.Limit == 0 {
		return fmt.Sprintf("%s refused entry %q (%d bytes) as too large", e.Keychain, e.Account, e.Size)
	}
	return fmt.Sprintf("entry %q would be %d bytes, more than the %d %s takes", e.Account, e.Size, e.Limit, e.Keychain)
}

func (e *SecretTooLargeError) Unwrap() error { return e.Err }

// secretLimit is the largest entry a platform's keychain takes, measured the way go-keyring
// measures it before refusing with keyring.ErrSetDataTooBig. The zero value is no limit.
type secretLimit struct {
	keychain string
	max      int                                       // 0: no limit
	size     func(service, account, secret string) int // nil: the secret's length
}

// secretLimitFor returns the limit of the keychain go-keyring uses on goos.
func secretLimitFor(goos string) secretLimit {
	switch goos {
	case "windows":
		// The credential blob alone is limited.
		return secretLimit{keychain: "the Windows Credential Manager", max: 2560}
	case "darwin":
		// go-keyring hands the secret to /usr/bin/security as one command line of at most 4096
		// bytes, base64-encoded behind a prefix. Counting quotes around every argument
		// overestimates by a few bytes at most, which only sends a borderline token to a file.
		return secretLimit{keychain: "the macOS Keychain", max: 4096,
			size: func(service, account, secret string) int {
				const frame = len("add-generic-password -U -s '' -a '' -w 'go-keyring-base64:'\n")
				return frame + len(service) + len(account) + base64.StdEncoding.EncodedLen(len(secret))
			}}
	}
	return secretLimit{}
}

func (l secretLimit) name() string {
	if l.keychain == "" {
		return "the OS keychain"
	}
	return l.keychain
}

func (l secretLimit) measure(service, account, secret string) int {
	if l.size == nil {
		return len(secret)
	}
	return l.size(service, account, secret)
}

// Keychain is the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) with a
// time limit on every operation.
type Keychain struct {
	service string
	timeout time.Duration
	backend keyringBackend
	limit   secretLimit
}

// NewKeychain returns the OS keychain for service; timeout <= 0 means DefaultKeychainTimeout.
func NewKeychain(service string, timeout time.Duration) *Keychain {
	if timeout <= 0 {
		timeout = DefaultKeychainTimeout
	}
	return &Keychain{service: service, timeout: timeout, backend: systemKeyring{}, limit: secretLimitFor(runtime.GOOS)}
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
		if errors.Is(r.err, keyring.ErrSetDataTooBig) {
			return "", r.err // the keychain works; Set says what was refused
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

// Set writes an entry, replacing any earlier one. An entry larger than the platform's keychain
// takes is refused with *SecretTooLargeError, without asking the keychain when the limit is known.
func (k *Keychain) Set(account, value string) error {
	tooLarge := &SecretTooLargeError{Account: account, Keychain: k.limit.name(), Size: k.limit.measure(k.service, account, value)}
	if k.limit.max > 0 && tooLarge.Size > k.limit.max {
		tooLarge.Limit = k.limit.max
		return tooLarge
	}
	_, err := k.bounded("write", func() (string, error) { return "", k.backend.Set(k.service, account, value) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		tooLarge.Limit, tooLarge.Err = k.limit.max, err
		return tooLarge
	}
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

// Save writes the profile's token. A token larger than the keychain takes is refused with a
// *SecretTooLargeError: this store is the keychain or nothing (the auto store uses a file then).
func (s *KeychainStore) Save(profile string, t *StoredToken) error {
	if err := ValidateProfileName(profile); err != nil {
		return err
	}
	b, err := encodeStored(t)
	if err != nil {
		return fmt.Errorf("encoding the token: %w", err)
	}
	err = s.kc.Set(TokenAccount(profile), string(b))
	var tooLarge *SecretTooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("the token of profile %q does not fit in the keychain: %w (--token-store auto keeps such a token in a file)", profile, err)
	}
	return err
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

// StoreOption configures the store OpenStore opens.
type StoreOption func(*storeOptions)

type storeOptions struct {
	notice func(string)
}

// WithNotice gives the store a way to say, once per profile, that it keeps a token in a file
// because the keychain does not take one that large. The sentence reads like OpenStore's
// fallback reason ("...; it is kept in <file> (mode 0600) instead") and stays the same from one
// save to the next, so a caller can show it the same way, and only once across runs.
func WithNotice(notice func(notice string)) StoreOption {
	return func(o *storeOptions) { o.notice = notice }
}

// OpenStore opens the token store the preference asks for. With StoreAuto it probes the keychain
// and, when the keychain does not answer, returns a FileStore in dir together with the reason for
// the fallback (empty otherwise); when it answers, tokens too large for it go to a file in dir
// (see WithNotice). kc nil means the OS keychain with the default timeout.
func OpenStore(pref StorePreference, dir string, kc *Keychain, now func() time.Time, opts ...StoreOption) (TokenStore, string, error) {
	var o storeOptions
	for _, opt := range opts {
		opt(&o)
	}
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
		return &autoStore{kc: NewKeychainStore(kc, now), file: file, notice: o.notice}, "", nil
	}
	return nil, "", fmt.Errorf("unknown token store %q: use auto, keychain or file", pref)
}

// autoStore is the keychain, also reading tokens a run without keychain left in a file. Saving
// moves such a token into the keychain, so no copy stays on disk. A token the keychain does not
// take (too large) is kept in the file instead, and then no copy stays in the keychain.
type autoStore struct {
	kc     *KeychainStore
	file   *FileStore
	notice func(string) // nil: nobody listens

	mu      sync.Mutex
	noticed map[string]bool // profiles whose file fallback was announced
}

func (s *autoStore) Kind() string { return s.kc.Kind() }

// Where is the file when the profile's token is in one (only one place holds it after a save).
func (s *autoStore) Where(profile string) string {
	if ValidateProfileName(profile) == nil {
		if _, err := os.Stat(s.file.Where(profile)); err == nil {
			return s.file.Where(profile)
		}
	}
	return s.kc.Where(profile)
}

func (s *autoStore) Load(profile string) (*StoredToken, error) {
	t, err := s.kc.Load(profile)
	if errors.Is(err, ErrNotStored) {
		return s.file.Load(profile)
	}
	if err != nil {
		return nil, err
	}
	// A save that moved the token between the keychain and the file but could not remove the
	// other copy leaves two; the one saved later is the token in use (a refresh may have
	// rotated the other's refresh token away).
	if f, ferr := s.file.Load(profile); ferr == nil && f.SavedAt.After(t.SavedAt) {
		return f, nil
	}
	return t, nil
}

func (s *autoStore) Save(profile string, t *StoredToken) error {
	err := s.kc.Save(profile, t)
	var tooLarge *SecretTooLargeError
	if errors.As(err, &tooLarge) {
		return s.saveToFile(profile, t, tooLarge)
	}
	if err != nil {
		return err
	}
	if err := s.file.Delete(profile); err != nil && !errors.Is(err, ErrNotStored) {
		return fmt.Errorf("the token is now in the keychain, but its earlier file copy remains: %w", err)
	}
	return nil
}

// saveToFile keeps a token the keychain refused in the file. The file is written first, so that
// a failure to remove the keychain's earlier (smaller) token costs nothing but a stale copy.
func (s *autoStore) saveToFile(profile string, t *StoredToken, tooLarge *SecretTooLargeError) error {
	if err := s.file.Save(profile, t); err != nil {
		return fmt.Errorf("%v, and keeping it in a file failed too: %w", tooLarge, err)
	}
	if err := s.kc.Delete(profile); err != nil && !errors.Is(err, ErrNotStored) {
		return fmt.Errorf("the token is now in %s, but its earlier keychain copy remains: %w", s.file.Where(profile), err)
	}
	s.announce(profile, tooLarge)
	return nil
}

func (s *autoStore) announce(profile string, tooLarge *SecretTooLargeError) {
	if s.notice == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noticed[profile] {
		return
	}
	if s.noticed == nil {
		s.noticed = map[string]bool{}
	}
	s.noticed[profile] = true
	limit := ""
	if tooLarge.Limit > 0 {
		limit = fmt.Sprintf(" (%d bytes)", tooLarge.Limit)
	}
	s.notice(fmt.Sprintf("the token of profile %q is larger than %s takes%s; it is kept in %s (mode 0600) instead",
		profile, tooLarge.Keychain, limit, s.file.Where(profile)))
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
