//go:build !unix

package clickhouse

import "os"

// lockDir only creates the lock file where flock is unavailable: the
// directory is not protected against a second sink.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

func unlockDir(f *os.File) { f.Close() }
