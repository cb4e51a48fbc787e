//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wal

import "os"

// lockFile is a no-op where flock(2) is not available: the caller must not
// open the same log twice.
func lockFile(*os.File) error { return nil }
