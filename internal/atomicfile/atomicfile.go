// Package atomicfile replaces files so that readers, and a crash, see either the old content
// or the new content, never part of the new one.
//
// The new content goes to a temporary file in the target's own directory (a rename is only
// atomic within one file system), named "."+base+".tmp-" and a random suffix. The file gets
// its mode before any byte is written, is synced and closed, and is renamed over the target;
// the directory is then synced so the rename itself survives a crash.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Option changes how Write and WriteFile replace a file.
type Option func(*options)

type options struct {
	beforeRename func(tmp string) error
}

// BeforeRename runs fn with the temporary file's name once it is complete, synced and closed,
// just before it replaces the target. An error from fn aborts the write: the temporary file is
// removed and the target is left as it was. It lets tests stop a write half-way.
func BeforeRename(fn func(tmp string) error) Option {
	return func(o *options) { o.beforeRename = fn }
}

// WriteFile replaces path with data; the file gets mode perm.
func WriteFile(path string, data []byte, perm os.FileMode, opts ...Option) error {
	return Write(path, perm, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}, opts...)
}

// Write replaces path with what write writes; the file gets mode perm. write receives a
// buffered writer on the temporary file; an error from it aborts the write and is returned
// as is, with the target left as it was.
func Write(path string, perm os.FileMode, write func(io.Writer) error, opts ...Option) (err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if o.beforeRename != nil {
		if err := o.beforeRename(tmp); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	SyncDir(dir)
	return nil
}

// Temps lists the temporary files that interrupted writes of path left behind, so that whoever
// deletes path can delete them too.
func Temps(path string) []string {
	prefix := tempPrefix(path)
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	var temps []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		// The random suffix has no dot: ".a.tmp-1.tmp-2" belongs to "a.tmp-1", not to "a".
		if ok && rest != "" && !strings.Contains(rest, ".") {
			temps = append(temps, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	return temps
}

// tempPrefix is the name of path's temporary files up to their random suffix.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// SyncDir makes renames and removals in dir durable. It is best effort: where a directory
// cannot be opened or synced it does nothing, since the files themselves are complete.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
