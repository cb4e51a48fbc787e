package api

import (
	"context"
	"sync"
	"time"
	"weak"

	"github.com/creditrisk/creditd/scoring"
)

// tierCache keeps the tier statistics of explicit instants (as_of given:
// the console's dashboard asks for the last six month ends on every
// load, each a full pass over the engine). An entry is per engine,
// region prefix and instant — the engine fixes the model — and holds the
// engine's Changes at the time the pass began: it is used only while
// Changes is unchanged, so a late event (one that changes a past month
// end) or any other applied event makes the next request recompute.
// Nothing is served stale; what the cache saves is the passes between
// events, e.g. a dashboard reloaded while the province's feed is quiet
// or between the batches of a file load. Kafka mode: each member caches
// its own partitions' engines, so a merged answer is fresh too.
type tierCache struct {
	mu sync.Mutex
	m  map[tierKey]tierEntry
}

type tierKey struct {
	eng    weak.Pointer[scoring.Engine] // a partition's engine dropped at a rebalance is not kept alive
	prefix string
	at     int64
}

type tierEntry struct {
	changes uint64
	st      scoring.TierStats
}

// tierCacheMax bounds the entries: a dashboard's six month ends for a few
// hundred region prefixes. A full cache is emptied (cheap, and rare).
const tierCacheMax = 2048

// stats answers eng.TierStats(at, prefix) from the cache when the
// engine has not changed since the entry was made.
func (c *tierCache) stats(ctx context.Context, eng *scoring.Engine, at time.Time, prefix string) (scoring.TierStats, error) {
	k := tierKey{eng: weak.Make(eng), prefix: prefix, at: at.Unix()}
	changes := eng.Changes() // read before the pass: a change during it invalidates the entry
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && e.changes == changes {
		return e.st, nil
	}
	st, err := eng.TierStats(ctx, at, prefix)
	if err != nil {
		return st, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= tierCacheMax {
		c.m = make(map[tierKey]tierEntry)
	}
	c.m[k] = tierEntry{changes: changes, st: st}
	c.mu.Unlock()
	return st, nil
}
