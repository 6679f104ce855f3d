package profile_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthdiag/oauthdiag/profile"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

var storeNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func storeTestToken(access string) *profile.StoredToken {
	raw := map[string]json.RawMessage{
		"access_token":  json.RawMessage(`"` + access + `"`),
		"refresh_token": json.RawMessage(`"rt-` + access + `"`),
		"expires_in":    json.RawMessage(`5184000`),
		"x_vendor":      json.RawMessage(`"kept"`),
	}
	return &profile.StoredToken{
		Token: oauthflow.Token{
			AccessToken: access, RefreshToken: "rt-" + access, IDToken: "id-" + access, TokenType: "Bearer",
			Scope: "openid,profile", ExpiresIn: 5184000, RefreshTokenExpiresIn: 31536000,
			ReceivedAt: storeNow, Expiry: storeNow.Add(60 * 24 * time.Hour), RefreshExpiry: storeNow.Add(365 * 24 * time.Hour), Raw: raw,
		},
		Scopes: []string{"openid", "profile", "email"}, Issuer: "https://www.linkedin.com/oauth",
		TokenEndpoint: "https://www.linkedin.com/oauth/v2/accessToken", ClientID: "86abc",
		AuthorizedAt: storeNow, SavedAt: storeNow, Refreshes: 2, ServerSkew: 3 * time.Second,
	}
}

func TestFileStoreRoundTripKeepsExpiriesAndScopes(t *testing.T) {
	s := profile.NewFileStore(filepath.Join(t.TempDir(), "tokens"), func() time.Time { return storeNow })
	want := storeTestToken("at-1")
	if err := s.Save("li", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("li")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Token.Expiry.Equal(want.Token.Expiry) || !got.Token.RefreshExpiry.Equal(want.Token.RefreshExpiry) {
		t.Errorf("expiries = %v / %v, want %v / %v", got.Token.Expiry, got.Token.RefreshExpiry, want.Token.Expiry, want.Token.RefreshExpiry)
	}
	if got.Token.Scope != "openid,profile" || strings.Join(got.Scopes, " ") != "openid profile email" {
		t.Errorf("scopes = granted %q, requested %v", got.Token.Scope, got.Scopes)
	}
	if got.Token.AccessToken != "at-1" || got.Token.RefreshToken != "rt-at-1" || got.Token.IDToken != "id-at-1" {
		t.Errorf("tokens did not survive: %+v", got.Token)
	}
	if got.ClientID != "86abc" || got.Refreshes != 2 || got.ServerSkew != 3*time.Second || !got.AuthorizedAt.Equal(storeNow) {
		t.Errorf("metadata did not survive: %+v", got)
	}
	// The raw response keeps unknown fields but not second copies of the secrets.
	if got.Token.Extra("x_vendor") != "kept" {
		t.Errorf("unknown response field lost: %v", got.Token.Raw)
	}
	b, _ := os.ReadFile(s.Where("li"))
	if n := strings.Count(string(b), "rt-at-1"); n != 1 {
		t.Errorf("the refresh token is written %d times, want once", n)
	}
}

func TestFileStoreIsPrivate(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "state", "tokens")
	s := profile.NewFileStore(dir, nil)
	if err := s.Save("li", storeTestToken("at")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(root, "state"): 0o700, s.Where("li"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
	}
	// A directory someone loosened is made private again on the next write.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("li", storeTestToken("at-2")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode after save = %04o, want 0700", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("a save left extra files: %v", entries)
	}
}

func TestFileStoreMovesACorruptEntryAside(t *testing.T) {
	cases := map[string]string{
		"truncated JSON":  `{"format":1,"token":{"access_token":"abc`,
		"not JSON":        "\x00\x01garbage",
		"no access token": `{"format":1,"token":{"token_type":"Bearer"}}`,
		"foreign file":    `{"hello":"world"}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := profile.NewFileStore(dir, func() time.Time { return storeNow })
			if err := os.WriteFile(s.Where("li"), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load("li")
			var ce *profile.CorruptEntryError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a CorruptEntryError", err)
			}
			wantAside := s.Where("li") + ".corrupt-20250301T120000Z"
			if ce.MovedTo != wantAside || ce.Profile != "li" || !strings.Contains(err.Error(), wantAside) {
				t.Fatalf("error %q (moved to %q) does not point at %s", err, ce.MovedTo, wantAside)
			}
			kept, err := os.ReadFile(wantAside)
			if err != nil || string(kept) != content {
				t.Fatalf("the corrupt content was not kept as it was: %q, %v", kept, err)
			}
			if _, err := s.Load("li"); !errors.Is(err, profile.ErrNotStored) {
				t.Fatalf("after moving aside Load = %v, want ErrNotStored", err)
			}
			if got := s.Aside("li"); len(got) != 1 || got[0] != wantAside {
				t.Errorf("Aside = %v", got)
			}
			// A second corrupt entry in the same second does not overwrite the first copy.
			os.WriteFile(s.Where("li"), []byte("again"), 0o600)
			s.Load("li")
			if got := s.Aside("li"); len(got) != 2 {
				t.Errorf("second corrupt entry: Aside = %v, want two copies", got)
			}
		})
	}
}

func TestFileStoreLeavesANewerFormatAlone(t *testing.T) {
	dir := t.TempDir()
	s := profile.NewFileStore(dir, nil)
	content := `{"format":99,"token":{"access_token":"x"},"new_field":true}`
	os.WriteFile(s.Where("li"), []byte(content), 0o600)
	_, err := s.Load("li")
	var nf *profile.NewerFormatError
	if !errors.As(err, &nf) || nf.Format != 99 || !strings.Contains(err.Error(), "upgrade oauthdiag") {
		t.Fatalf("Load = %v, want a NewerFormatError asking to upgrade", err)
	}
	if b, _ := os.ReadFile(s.Where("li")); string(b) != content {
		t.Fatal("an entry of a newer format was changed")
	}
}

func TestFileStoreDeleteAndMissing(t *testing.T) {
	s := profile.NewFileStore(t.TempDir(), nil)
	if _, err := s.Load("li"); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("Load of nothing = %v", err)
	}
	if err := s.Delete("li"); !errors.Is(err, profile.ErrNotStored) {
		t.Fatalf("Delete of nothing = %v", err)
	}
	s.Save("li", storeTestToken("a"))
	s.Save("other", storeTestToken("b"))
	if err := s.Delete("li"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("other"); err != nil {
		t.Fatalf("deleting one profile touched another: %v", err)
	}
}

func TestProfileNames(t *testing.T) {
	for _, ok := range []string{"li", "LinkedIn-prod", "a.b_c-1", "127.0.0.1_9101-diag-client"} {
		if err := profile.ValidateProfileName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "../x", "a/b", `a\b`, "with space", strings.Repeat("x", 65), "-flag"} {
		if err := profile.ValidateProfileName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
		s := profile.NewFileStore(t.TempDir(), nil)
		if err := s.Save(bad, storeTestToken("a")); err == nil {
			t.Errorf("Save(%q) accepted a name that is not a plain file name", bad)
		}
	}
	for _, c := range []struct{ provider, client, want string }{
		{"linkedin", "86abc", "linkedin-86abc"},
		{"127.0.0.1:9101", "diag-client", "127.0.0.1_9101-diag-client"},
		{"custom", "a/b c", "custom-a_b_c"},
		{"", "", "default"},
	} {
		got := profile.ProfileNameFor(c.provider, c.client)
		if got != c.want {
			t.Errorf("ProfileNameFor(%q, %q) = %q, want %q", c.provider, c.client, got, c.want)
		}
		if err := profile.ValidateProfileName(got); err != nil {
			t.Errorf("derived name %q is not valid: %v", got, err)
		}
	}
}

func TestParseStorePreference(t *testing.T) {
	for in, want := range map[string]profile.StorePreference{"": profile.StoreAuto, "auto": profile.StoreAuto, "keychain": profile.StoreKeychain, "file": profile.StoreFile} {
		if got, err := profile.ParseStorePreference(in); err != nil || got != want {
			t.Errorf("ParseStorePreference(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := profile.ParseStorePreference("disk"); err == nil || !strings.Contains(err.Error(), "auto, keychain or file") {
		t.Errorf("bad preference: %v", err)
	}
}

func TestDefaultProfileName(t *testing.T) {
	for _, c := range []struct {
		cfg  oauthflow.Config
		want string
	}{
		{oauthflow.Config{Provider: oauthflow.LinkedIn(), Client: oauthflow.Client{ID: "86abc"}}, "linkedin-86abc"},
		{oauthflow.Config{Provider: oauthflow.Provider{Name: "custom", Issuer: "https://id.example.com/realms/a"}, Client: oauthflow.Client{ID: "diag"}}, "id.example.com-diag"},
		{oauthflow.Config{Provider: oauthflow.Provider{Endpoints: oauthflow.Endpoints{Token: "http://127.0.0.1:9000/token"}}, Client: oauthflow.Client{ID: "c"}}, "127.0.0.1_9000-c"},
	} {
		if got := profile.DefaultProfileName(c.cfg); got != c.want {
			t.Errorf("DefaultProfileName = %q, want %q", got, c.want)
		}
	}
}
