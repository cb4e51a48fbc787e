package sampler

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// group runs a draw's worker goroutines. A panic in a worker would crash
// the whole service (a goroutine's panic cannot be recovered by anyone
// else), so it is caught, stop is called so that the other workers and the
// caller stop waiting, and Wait raises it again in the caller's goroutine,
// where deferred clean-up (Sampler.Run's temporary file, its lock) and the
// HTTP layer's recovery run.
type group struct {
	wg   sync.WaitGroup
	stop func() // called once on the first panic; may be nil
	once sync.Once
	p    any
}

// Go runs fn in a new goroutine.
func (g *group) Go(fn func()) {
	g.wg.Go(func() {
		defer func() {
			if p := recover(); p != nil {
				g.once.Do(func() {
					g.p = fmt.Sprintf("%v\n\nin a sampler worker:\n%s", p, debug.Stack())
					if g.stop != nil {
						g.stop()
					}
				})
			}
		}()
		fn()
	})
}

// Wait waits for every goroutine and re-raises the first panic.
func (g *group) Wait() {
	g.wg.Wait()
	if g.p != nil {
		panic(g.p)
	}
}

// stopped reports without blocking whether done is closed: the check the
// long loops make per entity so that a cancelled draw stops within one
// entity's work (at most |pool| ≤ draw.MaxPoolSize hashes).
func stopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
