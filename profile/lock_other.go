//go:build !unix && !windows

package profile

import "os"

// Platforms without file locks run unlocked: concurrent commands may then refresh twice.
func tryLock(*os.File) error { return nil }

func unlockFile(*os.File) {}
