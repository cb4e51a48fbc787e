package wal

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
)

// MemFS is an in-memory FS that can simulate a machine crash: Crash throws
// away everything that a real file system would be allowed to lose, that is,
// each file's bytes written since its last Sync and each directory entry
// created or removed since its directory's last SyncDir. Directories
// themselves (MkdirAll) are durable at once.
//
// It is safe for concurrent use. The zero value is not usable: call NewMemFS.
type MemFS struct {
	mu      sync.Mutex
	epoch   uint64              // incremented by Crash; handles of older epochs are dead
	dirs    map[string]bool     // existing directories
	files   map[string]*memNode // the namespace as the running program sees it
	durable map[string]*memNode // the namespace as of the last SyncDir of each entry's directory
	locks   map[string]*memLock // held locks by path
	syncs   int                 // number of file Syncs, for tests
}

type memNode struct {
	data []byte // current contents
	// durable is the contents as of the last Sync. Until a Truncate it is a
	// prefix of data sharing its array (appends write past its length), so
	// Sync costs no copy.
	durable []byte
	// truncated says data was cut below len(durable) since the last Sync, so
	// data is no longer durable plus appended bytes.
	truncated bool
}

type memLock struct{ epoch uint64 }

// errCrashed is returned by handles opened before a Crash.
var errCrashed = errors.New("memfs: file handle invalidated by a simulated crash")

// NewMemFS returns an empty in-memory file system with a root directory "/"
// and the current directory ".".
func NewMemFS() *MemFS {
	return &MemFS{
		dirs:    map[string]bool{"/": true, ".": true},
		files:   map[string]*memNode{},
		durable: map[string]*memNode{},
		locks:   map[string]*memLock{},
	}
}

func (m *MemFS) parentExists(name string) error {
	if !m.dirs[filepath.Dir(name)] {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.parentExists(name); err != nil {
		return nil, err
	}
	if _, ok := m.files[name]; ok {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	n := &memNode{}
	m.files[name] = n
	return &memFile{m: m, n: n, name: name, epoch: m.epoch, write: true}, nil
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) { return m.open(name, true) }

func (m *MemFS) open(name string, write bool) (File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{m: m, n: n, name: name, epoch: m.epoch, write: write}, nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

// List implements FS.
func (m *MemFS) List(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == dir {
			names = append(names, filepath.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

// SyncDir implements FS.
func (m *MemFS) SyncDir(dir string) error {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	for name, n := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = n
		}
	}
	for name := range m.durable {
		if _, ok := m.files[name]; !ok && filepath.Dir(name) == dir {
			delete(m.durable, name)
		}
	}
	return nil
}

// Lock implements FS. Locks are per MemFS and are released by Crash, as a
// crashed process's flocks are.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.parentExists(name); err != nil {
		return nil, err
	}
	if _, held := m.locks[name]; held {
		return nil, &fs.PathError{Op: "lock", Path: name, Err: errLocked}
	}
	if _, ok := m.files[name]; !ok {
		m.files[name] = &memNode{} // as flock(2) needs a file
	}
	l := &memLock{epoch: m.epoch}
	m.locks[name] = l
	return closerFunc(func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.locks[name] == l {
			delete(m.locks, name)
		}
		return nil
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// ReadFile returns a copy of the current contents of the named file.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(n.data), nil
}

// WriteFile creates or replaces the named file with data, durably (as if
// written, synced and its directory synced). Its directory must exist.
func (m *MemFS) WriteFile(name string, data []byte) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.parentExists(name); err != nil {
		return err
	}
	d := slices.Clone(data)
	n := &memNode{data: d, durable: d[:len(d):len(d)]}
	m.files[name] = n
	m.durable[name] = n
	return nil
}

// Syncs returns the number of file Syncs so far.
func (m *MemFS) Syncs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.syncs
}

// Crash simulates a power loss and reboot. Every handle opened before it
// fails from now on and every lock is released. With rng nil, exactly the
// durable state survives: each file has the contents of its last Sync and the
// directories hold the entries of their last SyncDir. With an rng, the crash
// is adversarial within what POSIX allows: each file keeps a random prefix of
// the bytes appended since its last Sync (as a kernel may have written some
// pages back), a quarter of those kept tails end in zeroed or garbage bytes (a
// torn sector), and each unsynced creation or removal of a directory entry
// independently did or did not reach the disk.
func (m *MemFS) Crash(rng *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
	m.locks = map[string]*memLock{}
	next := maps.Clone(m.durable)
	if rng != nil {
		// Sorted for reproducibility under a seeded rng.
		for _, name := range slices.Sorted(maps.Keys(m.files)) {
			if n := m.files[name]; m.durable[name] != n && rng.IntN(2) == 0 {
				next[name] = n // created, entry written back without SyncDir
			}
		}
		for _, name := range slices.Sorted(maps.Keys(m.durable)) {
			if _, ok := m.files[name]; !ok && rng.IntN(2) == 0 {
				delete(next, name) // removed, removal written back without SyncDir
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(next)) {
		n := next[name]
		d := slices.Clone(n.durable)
		if rng != nil && !n.truncated && len(n.data) > len(n.durable) {
			unsynced := n.data[len(n.durable):]
			k := rng.IntN(len(unsynced) + 1)
			d = append(d, unsynced[:k]...)
			if k > 0 && rng.IntN(4) == 0 {
				torn := d[len(d)-min(k, 1+rng.IntN(16)):]
				zero := rng.IntN(2) == 0
				for i := range torn {
					if zero {
						torn[i] = 0
					} else {
						torn[i] = byte(rng.Uint32())
					}
				}
			}
		}
		n.data = d
		n.durable = d[:len(d):len(d)]
		n.truncated = false
	}
	m.files = next
	m.durable = maps.Clone(next)
}

// memFile is a handle on a memNode. Writers append; readers have an offset.
type memFile struct {
	m      *MemFS
	n      *memNode
	name   string
	epoch  uint64
	write  bool
	off    int64
	closed bool
}

func (f *memFile) check(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if f.epoch != f.m.epoch {
		return &fs.PathError{Op: op, Path: f.name, Err: errCrashed}
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if f.off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.off:])
	f.off += int64(k)
	return k, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.write {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	f.n.data = append(f.n.data, p...)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("sync"); err != nil {
		return err
	}
	f.n.durable = f.n.data[:len(f.n.data):len(f.n.data)]
	f.n.truncated = false
	f.m.syncs++
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("truncate"); err != nil {
		return err
	}
	if !f.write {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrPermission}
	}
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.n
	if size < int64(len(n.data)) {
		// A fresh array: later appends must not overwrite bytes that
		// n.durable still holds.
		n.data = slices.Clone(n.data[:size])
		if size < int64(len(n.durable)) {
			n.truncated = true
		}
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("stat"); err != nil {
		return 0, err
	}
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}
