package wal

import (
	"io"
	"os"
	"path/filepath"
	"slices"
)

// FS is the file system the log runs on: the few operations it needs, so that
// tests can substitute MemFS and simulate crashes. Paths are slash- or
// OS-separated as filepath produces them.
type FS interface {
	// Create creates a new, empty file for writing and fails if the name
	// exists. The new directory entry is durable only after SyncDir.
	Create(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// OpenAppend opens an existing file for writing at its end.
	OpenAppend(name string) (File, error)
	// Remove deletes a file. The removal is durable only after SyncDir.
	Remove(name string) error
	// List returns the names (not paths) of the files in dir, sorted.
	List(dir string) ([]string, error)
	// MkdirAll creates dir and its parents as needed.
	MkdirAll(dir string) error
	// SyncDir makes the creations and removals of entries in dir durable.
	SyncDir(dir string) error
	// Lock takes an exclusive lock on the named file, creating it if needed,
	// and fails at once if another holder has it. Closing the result
	// releases the lock.
	Lock(name string) (io.Closer, error)
}

// File is an open file of an FS.
type File interface {
	io.Reader
	io.Writer
	io.Closer
	// Sync makes the file's written data and size durable (fdatasync).
	Sync() error
	// Truncate changes the file's size. Sync makes the change durable.
	Truncate(size int64) error
	// Size returns the file's current size in bytes.
	Size() (int64, error)
}

// OSFS returns the FS of the operating system.
func OSFS() FS { return osFS{} }

type osFS struct{}

// filePerm keeps segments readable by the service's group only: they hold
// enforcement data.
const filePerm = 0o640

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenAppend(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o750) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Lock(name string) (io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "lock", Path: name, Err: err}
	}
	return f, nil // closing the descriptor releases the flock
}

type osFile struct{ *os.File }

func (f osFile) Sync() error { return fdatasync(f.File) }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
