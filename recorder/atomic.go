package recorder

import (
	"io"
	"os"

	"github.com/oauthdiag/oauthdiag/internal/atomicfile"
)

// WriteFileAtomic writes a file through a temporary file in the same directory, synced
// and renamed into place, so an interrupted write leaves either the old file or none,
// never half of the new one.
func WriteFileAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	return atomicfile.Write(path, perm, write)
}
