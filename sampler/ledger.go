package sampler

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

// Ledger records which entities earlier draws selected, so that later draws
// can apply exclude_selected_within_days and max_inspections_per_year. The
// Store rebuilds it from the stored draw records when it opens; Sampler.Run
// adds each new draw. It is safe for concurrent use.
//
// Occasions. Exclusions and caps count "occasions" on which an entity was
// selected or inspected. A selection happens at its draw's as_of; an
// inspection at its own time. An inspection whose plan_id equals the plan of
// a draw that selected the entity is the same occasion as that selection
// (the inspection the draw ordered), not a second one: it merges with the
// latest selection of that plan at or before the inspection, made at most
// 365 days earlier. Any number of inspections may merge into one selection
// (a visit and its follow-up). An inspection without a plan, or with no such
// selection, is an occasion of its own.
//
// An entity is excluded by exclude_selected_within_days = d when any
// occasion has a time in [as_of − d·24h, as_of]; it is capped by
// max_inspections_per_year = m when at least m occasions have a time in
// [as_of − 365·24h, as_of] (a merged occasion counts when any of its times
// is in the window). Selections by draws whose as_of is after the draw's
// as_of are ignored.
type Ledger struct {
	mu    sync.RWMutex
	draws []ledgerDraw
	ids   map[string]bool
	n     int
}

type ledgerDraw struct {
	id, plan string
	at       int64
	selected []uscc.Code
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{ids: map[string]bool{}} }

// AddRecord adds the selections of a draw record. It returns false (and
// changes nothing) when the draw id is already in the ledger.
func (l *Ledger) AddRecord(rec *draw.Record) bool {
	sel := make([]uscc.Code, len(rec.Selected))
	for i := range rec.Selected {
		sel[i] = rec.Selected[i].USCC
	}
	return l.Add(rec.DrawID, rec.Request.PlanID, rec.Request.AsOf, sel)
}

// Add adds a draw's selections: drawID names the draw (for idempotence),
// planID its plan, at its as_of. The ledger keeps selected (it must not be
// modified afterwards).
func (l *Ledger) Add(drawID, planID string, at time.Time, selected []uscc.Code) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids[drawID] {
		return false
	}
	l.ids[drawID] = true
	l.draws = append(l.draws, ledgerDraw{id: drawID, plan: planID, at: at.Unix(), selected: selected})
	l.n += len(selected)
	return true
}

// Draws is the number of draws in the ledger.
func (l *Ledger) Draws() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.draws)
}

// Selections is the number of selections in the ledger.
func (l *Ledger) Selections() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.n
}

const daySeconds = 24 * 60 * 60

// mergeLookback is how far back an inspection looks for the selection it
// merges with.
const mergeLookback = 365 * daySeconds

// exclusion applies a request's exclusion window and yearly cap. It is built
// once per draw from the ledger and read by all scan workers.
type exclusion struct {
	asOf    int64
	exclude bool
	exFrom  int64 // start of the exclusion window
	cap     int
	capFrom int64 // start of the cap window
	minFrom int64 // earliest time that can matter
	// selections by earlier draws in [minFrom − mergeLookback, asOf]: the
	// entity's first occasion in occs, then linked by next (-1 ends). Flat
	// and pointer-free: a ledger window can hold a million selections.
	occ    map[uscc.Code]int32
	occs   []occasion
	plans  []string
	filter []uint64 // bitset over usccBit, nil when occ is empty
}

type occasion struct {
	at   int64
	plan int32
	next int32
}

const filterBits = 22

func usccBit(c *uscc.Code) uint64 {
	x := binary.LittleEndian.Uint64(c[10:18]) ^ binary.LittleEndian.Uint64(c[2:10])<<7
	return (x * 0x9e3779b97f4a7c15) >> (64 - filterBits)
}

// newExclusion returns nil when the request neither excludes nor caps.
func newExclusion(req *draw.Request, l *Ledger) *exclusion {
	if req.ExcludeSelectedWithinDays == 0 && req.MaxInspectionsPerYear == 0 {
		return nil
	}
	asOf := req.AsOf.Unix()
	x := &exclusion{asOf: asOf, minFrom: asOf}
	if d := req.ExcludeSelectedWithinDays; d > 0 {
		x.exclude, x.exFrom = true, asOf-int64(d)*daySeconds
		x.minFrom = min(x.minFrom, x.exFrom)
	}
	if m := req.MaxInspectionsPerYear; m > 0 {
		x.cap, x.capFrom = m, asOf-365*daySeconds
		x.minFrom = min(x.minFrom, x.capFrom)
	}
	if l == nil {
		return x
	}
	from := x.minFrom - mergeLookback
	planIdx := map[string]int32{}
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, d := range l.draws {
		if d.at >= from && d.at <= asOf {
			n += len(d.selected)
		}
	}
	for _, d := range l.draws {
		if d.at < from || d.at > asOf {
			continue
		}
		if x.occ == nil {
			x.occ = make(map[uscc.Code]int32, n)
			x.occs = make([]occasion, 0, n)
			x.filter = make([]uint64, 1<<filterBits/64)
		}
		p, ok := planIdx[d.plan]
		if !ok {
			p = int32(len(x.plans))
			planIdx[d.plan] = p
			x.plans = append(x.plans, d.plan)
		}
		for i := range d.selected {
			c := &d.selected[i]
			head, ok := x.occ[*c]
			if !ok {
				head = -1
			}
			x.occ[*c] = int32(len(x.occs))
			x.occs = append(x.occs, occasion{at: d.at, plan: p, next: head})
			b := usccBit(c)
			x.filter[b/64] |= 1 << (b % 64)
		}
	}
	return x
}

// check reports whether u is excluded by the window (recent) or the cap.
func (x *exclusion) check(u *Unit) (recent, capped bool) {
	var buf [8]occasion
	sels := buf[:0]
	if x.filter != nil {
		if b := usccBit(&u.USCC); x.filter[b/64]&(1<<(b%64)) != 0 {
			if i, ok := x.occ[u.USCC]; ok {
				for ; i >= 0; i = x.occs[i].next {
					sels = append(sels, x.occs[i])
				}
			}
		}
	}
	if len(sels) == 0 && len(u.Inspections) == 0 {
		return false, false // fast path: nothing on record
	}
	if x.exclude {
		for _, s := range sels {
			if s.at >= x.exFrom {
				return true, false
			}
		}
		for _, in := range u.Inspections {
			if in.At >= x.exFrom && in.At <= x.asOf {
				return true, false
			}
		}
	}
	if x.cap == 0 {
		return false, false
	}
	var lbuf [8]int64
	latest := lbuf[:0]
	for _, s := range sels {
		latest = append(latest, s.at)
	}
	count := 0
	for _, in := range u.Inspections {
		if in.At > x.asOf || in.At < x.minFrom {
			continue // outside every window; cannot extend a selection into one
		}
		merged := -1
		if in.PlanID != "" {
			for j, s := range sels {
				if x.plans[s.plan] == in.PlanID && s.at <= in.At && s.at >= in.At-mergeLookback &&
					(merged < 0 || s.at > sels[merged].at) {
					merged = j
				}
			}
		}
		if merged >= 0 {
			latest[merged] = max(latest[merged], in.At)
		} else if in.At >= x.capFrom {
			count++
		}
	}
	for _, t := range latest {
		if t >= x.capFrom {
			count++
		}
	}
	return false, count >= x.cap
}
