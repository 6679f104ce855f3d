package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestWriteFileReplacesTheFileWithItsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	assertContent(t, path, "new")
	if fi, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Errorf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
	assertOnlyFiles(t, dir, "a.json")
}

// A bare file name is relative to the working directory: the temporary file must be made there
// too, not in $TMPDIR, from where the rename would cross devices.
func TestWriteFileBareNameUsesTheWorkingDirectory(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", elsewhere)
	var tmpDir string
	err := WriteFile("a.json", []byte("new"), 0o600, BeforeRename(func(tmp string) error {
		tmpDir = filepath.Dir(tmp)
		assertOnlyFiles(t, elsewhere)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tmpDir != "." {
		t.Errorf("temporary file made in %q, want the working directory", tmpDir)
	}
	assertContent(t, filepath.Join(dir, "a.json"), "new")
	assertOnlyFiles(t, dir, "a.json")
}

func TestFailedWriteKeepsTheOldFile(t *testing.T) {
	boom := errors.New("disk full")
	tests := []struct {
		name  string
		write func(io.Writer) error
		opts  func(t *testing.T) []Option
	}{
		{"writer fails", func(w io.Writer) error {
			io.WriteString(w, "half of the n")
			return boom
		}, nil},
		{"interrupted before the rename", func(w io.Writer) error {
			_, err := io.WriteString(w, "new")
			return err
		}, func(t *testing.T) []Option {
			return []Option{BeforeRename(func(tmp string) error {
				// The new content is complete in the temporary file, but the target must not see it yet.
				assertContent(t, tmp, "new")
				if fi, err := os.Stat(tmp); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o640) {
					t.Errorf("temporary file mode = %v, %v; want 0640 before the rename", fi.Mode(), err)
				}
				return boom
			})}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.json")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			var opts []Option
			if tt.opts != nil {
				opts = tt.opts(t)
			}
			if err := Write(path, 0o640, tt.write, opts...); !errors.Is(err, boom) {
				t.Fatalf("Write = %v, want the injected failure", err)
			}
			assertContent(t, path, "old")
			assertOnlyFiles(t, dir, "a.json")
		})
	}
}

// TestTempsFindsWhatAnInterruptedWriteLeft stops a writer's goroutine between the write and the
// rename, which leaves the temporary file as a crash would.
func TestTempsFindsWhatAnInterruptedWriteLeft(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	var left string
	done := make(chan struct{})
	go func() {
		defer close(done)
		WriteFile(path, []byte("new"), 0o600, BeforeRename(func(tmp string) error {
			left = tmp
			runtime.Goexit()
			return nil
		}))
	}()
	<-done
	// The temporary file of a neighbour whose name starts like ours is not ours.
	neighbour, err := os.CreateTemp(dir, tempPrefix(filepath.Join(dir, "a.json.tmp-1"))+"*")
	if err != nil {
		t.Fatal(err)
	}
	neighbour.Close()

	if got := Temps(path); !slices.Equal(got, []string{left}) {
		t.Fatalf("Temps(%q) = %v, want [%s]", path, got, left)
	}
	if got := Temps(filepath.Join(dir, "b.json")); got != nil {
		t.Errorf("Temps of a file never written = %v, want none", got)
	}
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Errorf("%s holds %q, %v; want %q", path, b, err, want)
	}
}

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
	if !slices.Equal(got, want) {
		t.Errorf("files in %s = %v, want %v", dir, got, want)
	}
}
