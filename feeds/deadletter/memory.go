package deadletter

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is a Sink that keeps letters in memory, for tests. The zero value
// is ready to use; it is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	letters []Letter
	synced  int
	closed  bool
}

var _ Sink = (*Memory)(nil)

// Write implements Sink. A zero At is stamped with time.Now; Original is
// copied.
func (m *Memory) Write(ctx context.Context, l Letter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.Validate(); err != nil {
		return err
	}
	if l.At.IsZero() {
		l.At = time.Now()
	}
	if l.Original != nil {
		l.Original = slices.Clone(l.Original)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.letters = append(m.letters, l)
	return nil
}

// Sync implements Sink: it marks every letter written so far as synced.
func (m *Memory) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.synced = len(m.letters)
	return nil
}

// Close implements Sink.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.synced = len(m.letters)
	return nil
}

// Letters returns the letters written so far, in order.
func (m *Memory) Letters() []Letter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.letters)
}

// Synced returns the letters that a Sync or Close covered, in order: what
// would survive a crash.
func (m *Memory) Synced() []Letter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.letters[:m.synced])
}
