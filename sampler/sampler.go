package sampler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/creditrisk/creditd/models/draw"
)

// Sampler runs draws against a Store: it enforces seed commitments, keeps
// draws idempotent, persists each record with its population and adds its
// selections to the ledger. Draws run one at a time (a draw uses every
// core; serialising them also makes each draw see all earlier ones).
type Sampler struct {
	store *Store
	opts  Options
	// turn is the draws' lock: a buffered channel of one, so that a draw
	// waiting for another gives up when its context ends.
	turn chan struct{}
}

// New returns a Sampler over store. opts are completed with EnsureDefaults.
func New(store *Store, opts Options) *Sampler {
	opts.EnsureDefaults()
	if opts.Arena == nil {
		opts.Arena = new(Arena)
	}
	return &Sampler{store: store, opts: opts, turn: make(chan struct{}, 1)}
}

// Store is the sampler's store.
func (s *Sampler) Store() *Store { return s.store }

// Commit registers a seed commitment for a plan, time-stamped now
// (Options.Now). See Store.Commit.
func (s *Sampler) Commit(planID, commitment string) (Commitment, error) {
	return s.store.Commit(planID, commitment, s.opts.Now())
}

// Run runs a draw over src, persists the record and its population lines
// in the Store, and adds the selections to the ledger. It returns the
// record as stored (request canonical, defaults explicit, seed_commitment
// filled in when the seed was committed in the Store).
//
// Seed commitments: a commitment in the request must be the seed's SHA-256
// (else the request is invalid). If the seed's SHA-256 is registered in the
// Store it must be for this plan and registered no later than as_of. If the
// plan has registered commitments that no draw has used, the seed must
// match one of them. With Options.RequireCommitment the seed must be
// registered. Violations are ErrCommitment.
//
// Idempotence: a request identical to a stored draw's (after the above)
// returns the stored record with Stats.Replayed set and draws nothing.
// Otherwise a seed already revealed by a stored draw is ErrSeedReused
// unless Options.AllowSeedReuse.
//
// Cancellation and failure: Run waits for an earlier draw only as long as
// ctx allows; a draw stops soon after ctx ends and returns ctx's error.
// Whatever ends a draw (an error, ctx, a draw above Options.MaxRankHashes
// or MaxAssignments, which is ErrTooLarge, or a panic, which is raised
// again after clean-up), the lock is released and no temporary file is
// left in the Store.
func (s *Sampler) Run(ctx context.Context, req *draw.Request, src Source) (*draw.Record, *Stats, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer s.release()
	p, err := Prepare(req, SchemeOf(src, &s.opts), &s.opts)
	if err != nil {
		return nil, nil, err
	}
	r := p.req
	digest := draw.SeedDigest(r.SeedBytes())
	reg, registered, open := s.store.commitment(digest, r.PlanID)
	switch {
	case registered && reg.PlanID != r.PlanID:
		return nil, nil, fmt.Errorf("%w: the seed was committed for plan %q, not %q", ErrCommitment, reg.PlanID, r.PlanID)
	case registered && reg.CommittedAt.After(r.AsOf):
		return nil, nil, fmt.Errorf("%w: the seed was committed at %s, after as_of %s; a commitment must precede the population it draws from",
			ErrCommitment, reg.CommittedAt.Format("2006-01-02T15:04:05Z07:00"), r.AsOf.Format("2006-01-02T15:04:05Z07:00"))
	case registered:
		r.SeedCommitment = digest
	case len(open) > 0:
		return nil, nil, fmt.Errorf("%w: plan %q committed to seed %s (and %d more) before the draw; this seed's SHA-256 is %s",
			ErrCommitment, r.PlanID, open[0].Commitment, len(open)-1, digest)
	case s.opts.RequireCommitment:
		return nil, nil, fmt.Errorf("%w: the seed was not committed in advance (register the SHA-256 of the seed before as_of)", ErrCommitment)
	}
	if id, ok := s.store.lookup(r); ok {
		rec, err := s.store.Record(id)
		if err != nil {
			return nil, nil, err
		}
		return rec, &Stats{Replayed: true}, nil
	}
	if id, used := s.store.seedUse(digest); used && !s.opts.AllowSeedReuse {
		return nil, nil, fmt.Errorf("%w: draw %s already revealed this seed; a new draw needs a new seed", ErrSeedReused, id)
	}
	return drawToStore(s.store, func(pop io.Writer) (*draw.Record, *Stats, error) {
		return execute(ctx, p, src, s.store.ledger, pop, s.opts, keepSigmas)
	}, s.store.put)
}

// drawToStore runs a draw writing its population to a temporary file of
// the store and, once the draw succeeded and the file is synced and
// closed, hands record and file to put (which moves or removes the file).
// Whatever else ends the draw (an error, a panic), the file is removed.
func drawToStore[R any](st *Store, run func(pop io.Writer) (R, *Stats, error), put func(rec R, tmp string) error) (R, *Stats, error) {
	var zero R
	f, err := st.tempPopulation()
	if err != nil {
		return zero, nil, err
	}
	tmp := f.Name()
	stored := false
	defer func() { // also on a panic
		if !stored {
			f.Close()
			os.Remove(tmp)
		}
	}()
	rec, stats, err := run(f)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return zero, stats, err
	}
	if err := f.Close(); err != nil {
		return zero, stats, fmt.Errorf("sampler store: %w", err)
	}
	stored = true // put moves or removes tmp
	if err := put(rec, tmp); err != nil {
		return zero, stats, err
	}
	return rec, stats, nil
}

// acquire takes the draws' lock, or gives up when ctx ends.
func (s *Sampler) acquire(ctx context.Context) error {
	select {
	case s.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Sampler) release() { <-s.turn }

// tempPopulation creates a draw's population file (a published document,
// mode 0644) under a temporary name.
func (st *Store) tempPopulation() (*os.File, error) {
	f, err := os.CreateTemp(filepath.Join(st.dir, populationsDir), "draw-*"+tmpSuffix)
	if err == nil {
		if err = f.Chmod(0o644); err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sampler store: %w", err)
	}
	return f, nil
}

// jsonUnmarshalStrict decodes data into v refusing unknown members.
func jsonUnmarshalStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
