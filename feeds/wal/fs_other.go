//go:build !linux

package wal

import "os"

// fdatasync falls back to (*os.File).Sync where fdatasync(2) is not
// available; on Darwin that is fcntl(F_FULLFSYNC).
func fdatasync(f *os.File) error { return f.Sync() }
