package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/oauthdiag/oauthdiag/oauthflow"

	"github.com/oauthdiag/oauthdiag/internal/atomicfile"
)

// storeFormat is the version of the stored-token layout. A newer one is refused, not overwritten.
const storeFormat = 1

// StoredToken is what the token store keeps for one profile: the token with its absolute expiries
// and everything needed to decide, on a later run, whether it still fits the configuration.
// It holds secrets.
type StoredToken struct {
	Format int             `json:"format"`
	Token  oauthflow.Token `json:"token"`
	// Scopes are the scopes requested when the user authorized; the granted ones are Token.Scope.
	Scopes        []string  `json:"scopes,omitempty"`
	Issuer        string    `json:"issuer,omitempty"`
	TokenEndpoint string    `json:"token_endpoint,omitempty"`
	ClientID      string    `json:"client_id,omitempty"`
	AuthorizedAt  time.Time `json:"authorized_at,omitzero"` // when the user last authorized
	SavedAt       time.Time `json:"saved_at,omitzero"`
	Refreshes     int       `json:"refreshes,omitempty"` // refreshes since the authorization
	// ServerSkew is the server's clock minus ours, measured from the Date header of the last token
	// response. Times the server states absolutely (a JWT's exp) are converted with it.
	ServerSkew time.Duration `json:"server_skew,omitempty"`
}

// ServerToLocal converts a time read from the server's clock to ours.
func (s *StoredToken) ServerToLocal(t time.Time) time.Time { return t.Add(-s.ServerSkew) }

// ErrNotStored is returned by Load and Delete when the profile has no stored token.
var ErrNotStored = errors.New("no token stored")

// TokenStore keeps one StoredToken per profile.
type TokenStore interface {
	// Load returns ErrNotStored when there is nothing, a *CorruptEntryError when the entry could not
	// be read (it has then been moved aside), or another error when the store itself failed.
	Load(profile string) (*StoredToken, error)
	// Save replaces the profile's token atomically: a reader sees the old or the new one, never a mix.
	Save(profile string, t *StoredToken) error
	// Delete removes the profile's token; ErrNotStored when there was none.
	Delete(profile string) error
	// Kind is "keychain" or "file".
	Kind() string
	// Where describes where the profile's token lives, for messages.
	Where(profile string) string
}

// CorruptEntryError reports a stored entry that could not be read. The entry is not discarded: it
// is moved aside (MovedTo) so that it can be looked at, and the profile is then treated as having
// no token.
type CorruptEntryError struct {
	Profile string
	Where   string // where the entry was
	MovedTo string // where it is now; "" when moving it failed (MoveErr)
	MoveErr error
	Err     error // why it could not be read
}

func (e *CorruptEntryError) Error() string {
	msg := fmt.Sprintf("the stored token of profile %q (%s) is unreadable: %v", e.Profile, e.Where, e.Err)
	if e.MovedTo != "" {
		return msg + "; it was moved aside to " + e.MovedTo + " (look at it, then delete it)"
	}
	return fmt.Sprintf("%s; moving it aside failed too (%v): remove it by hand", msg, e.MoveErr)
}

func (e *CorruptEntryError) Unwrap() error { return e.Err }

// NewerFormatError reports an entry written by a newer version of the tool. It is left as it is.
type NewerFormatError struct {
	Profile string
	Where   string
	Format  int
}

func (e *NewerFormatError) Error() string {
	return fmt.Sprintf("the stored token of profile %q (%s) has format %d, newer than this oauthdiag understands (%d): upgrade oauthdiag, or use another --profile",
		e.Profile, e.Where, e.Format, storeFormat)
}

var profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateProfileName accepts names usable as file names and keychain accounts everywhere:
// letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters.
func ValidateProfileName(name string) error {
	if !profileNameRE.MatchString(name) {
		return fmt.Errorf("profile name %q is not usable: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// ProfileNameFor derives a profile name from a provider name (or host) and a client_id, for runs
// that name no profile: "linkedin-86abc", "127.0.0.1_9101-diag-client".
func ProfileNameFor(provider, clientID string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return strings.Trim(b.String(), "._-")
	}
	name := clean(provider)
	if c := clean(clientID); c != "" {
		if name != "" {
			name += "-"
		}
		name += c
	}
	if len(name) > 64 {
		name = strings.TrimRight(name[:64], "._-")
	}
	if name == "" {
		name = "default"
	}
	return name
}

// DefaultProfileName is the profile name of a configuration that names none: the provider's
// name, or for a generic provider the host of its issuer (or token endpoint), with the client_id.
func DefaultProfileName(cfg oauthflow.Config) string {
	name := cfg.Provider.Name
	if name == "" || name == "custom" {
		for _, u := range []string{cfg.Provider.Issuer, cfg.Provider.DiscoveryURL, cfg.Provider.Endpoints.Token, cfg.Provider.Endpoints.Authorization} {
			if u != "" {
				name = oauthflow.HostOf(u)
				break
			}
		}
	}
	return ProfileNameFor(name, cfg.Client.ID)
}

// encodeStored turns a token into the stored bytes. The raw response fields that repeat the
// typed secret fields are dropped: they would only double the secrets kept (and the keychain
// entry's size, which some keychains limit).
func encodeStored(t *StoredToken) ([]byte, error) {
	c := *t
	c.Format = storeFormat
	if c.Token.Raw != nil {
		raw := make(map[string]json.RawMessage, len(c.Token.Raw))
		for k, v := range c.Token.Raw {
			switch k {
			case "access_token", "refresh_token", "id_token":
			default:
				raw[k] = v
			}
		}
		c.Token.Raw = raw
	}
	return json.MarshalIndent(&c, "", "  ")
}

// decodeStored parses stored bytes; a parse failure is returned as is (the caller wraps it).
func decodeStored(b []byte) (*StoredToken, error) {
	var t StoredToken
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if t.Format > storeFormat {
		return &t, nil
	}
	if t.Format < 1 {
		return nil, errors.New(`no "format" field: not a token entry written by oauthdiag`)
	}
	if t.Token.AccessToken == "" {
		return nil, errors.New("the entry holds no access token")
	}
	return &t, nil
}

// FileStore keeps each profile's token in <dir>/<profile>.json, mode 0600, in a 0700 directory.
type FileStore struct {
	dir string
	now func() time.Time
	// beforeRename, when set, runs after the temporary file is written and before it replaces the
	// entry; an error aborts the write. It lets tests stop a write half-way.
	beforeRename func(tmp string) error
}

// NewFileStore returns a store in dir (created on the first Save). now names moved-aside entries.
func NewFileStore(dir string, now func() time.Time) *FileStore {
	if now == nil {
		now = time.Now
	}
	return &FileStore{dir: dir, now: now}
}

// Dir is the directory holding the token files.
func (s *FileStore) Dir() string { return s.dir }

// Kind is "file".
func (s *FileStore) Kind() string { return "file" }

// Where is the profile's token file.
func (s *FileStore) Where(profile string) string { return s.path(profile) }

func (s *FileStore) path(profile string) string { return filepath.Join(s.dir, profile+".json") }

// Load reads the profile's token.
func (s *FileStore) Load(profile string) (*StoredToken, error) {
	if err := ValidateProfileName(profile); err != nil {
		return nil, err
	}
	p := s.path(profile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotStored
	}
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	t, err := decodeStored(b)
	if err != nil {
		return nil, s.moveAside(profile, p, err)
	}
	if t.Format > storeFormat {
		return nil, &NewerFormatError{Profile: profile, Where: p, Format: t.Format}
	}
	return t, nil
}

func (s *FileStore) moveAside(profile, p string, cause error) error {
	e := &CorruptEntryError{Profile: profile, Where: p, Err: cause}
	stamp := s.now().UTC().Format("20060102T150405Z")
	for i := 0; i < 100; i++ {
		dst := p + ".corrupt-" + stamp
		if i > 0 {
			dst += fmt.Sprintf("-%d", i)
		}
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Rename(p, dst); err != nil {
			e.MoveErr = err
			return e
		}
		e.MovedTo = dst
		return e
	}
	e.MoveErr = errors.New("too many earlier copies with the same time stamp")
	return e
}

// Save writes the profile's token: a temporary file in the same directory, synced, then renamed
// over the entry, so a crash leaves either the old entry or the new one.
func (s *FileStore) Save(profile string, t *StoredToken) error {
	if err := ValidateProfileName(profile); err != nil {
		return err
	}
	b, err := encodeStored(t)
	if err != nil {
		return fmt.Errorf("encoding the token: %w", err)
	}
	if err := ensurePrivateDir(s.dir); err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path(profile), b, 0o600, atomicfile.BeforeRename(s.beforeRename))
}

// Delete removes the profile's token file and any temporary file a crashed write left behind.
func (s *FileStore) Delete(profile string) error {
	if err := ValidateProfileName(profile); err != nil {
		return err
	}
	p := s.path(profile)
	for _, tmp := range atomicfile.Temps(p) {
		os.Remove(tmp)
	}
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotStored
	}
	if err != nil {
		return fmt.Errorf("deleting the token file: %w", err)
	}
	atomicfile.SyncDir(s.dir)
	return nil
}

// Aside lists the entries of the profile that were moved aside as unreadable.
func (s *FileStore) Aside(profile string) []string {
	if ValidateProfileName(profile) != nil {
		return nil
	}
	m, _ := filepath.Glob(s.path(profile) + ".corrupt-*")
	return m
}

// ensurePrivateDir creates dir with mode 0700, or tightens an existing one to it: token files
// must not be listable by others.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking %s: %w", dir, err)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making %s private (mode 0700): %w", dir, err)
		}
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename, so readers never
// see a half-written file. The file gets mode perm.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}
