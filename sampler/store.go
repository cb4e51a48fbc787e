package sampler

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/creditd/models/draw"
)

// Store keeps draws durably in a directory:
//
//	records/<draw_id>.json        the published record (canonical encoding)
//	populations/<draw_id>.txt     its population lines
//	commitments/<sha256 hex>.json a seed commitment registered before a draw
//
// Every file is written atomically (temporary file, fsync, rename, fsync of
// the directory); a population is in place before its record, so a record
// on disk always has its population. Opening the store removes leftovers of
// interrupted writes and rebuilds the Ledger from the records.
type Store struct {
	dir    string
	ledger *Ledger

	mu          sync.RWMutex
	records     map[string]RecordInfo
	byRequest   map[[32]byte]string // SHA-256 of the canonical request → draw id
	seeds       map[string]string   // SHA-256 of seed bytes → first draw id using it
	commitments map[string]Commitment
}

// RecordInfo summarises a stored draw.
type RecordInfo struct {
	DrawID   string
	PlanID   string
	AsOf     time.Time
	Eligible int64
	Selected int
}

// Commitment is a seed commitment registered before a draw.
type Commitment struct {
	PlanID string `json:"plan_id"`
	// Commitment is the lowercase hex SHA-256 of the seed bytes.
	Commitment  string    `json:"commitment"`
	CommittedAt time.Time `json:"committed_at"`
	// KeyCommitment (draw/v2) is SHA-256("draw/v2/key" || 0x00 || B) of
	// the blinding key B the store generated with the commitment.
	KeyCommitment string `json:"key_commitment,omitempty"`
	// UsedBy is the draw that revealed the seed, "" while unused.
	UsedBy string `json:"-"`
	key    [32]byte
}

// Errors a service maps to responses.
var (
	// ErrNotFound: no such draw.
	ErrNotFound = errors.New("sampler: no such draw")
	// ErrCommitment: the seed does not match the plan's commitment, or the
	// commitment is missing, late or belongs to another plan.
	ErrCommitment = errors.New("sampler: seed commitment")
	// ErrSeedReused: the seed was revealed by an earlier draw.
	ErrSeedReused = errors.New("sampler: seed already used")
)

const (
	recordsDir     = "records"
	populationsDir = "populations"
	commitmentsDir = "commitments"
	tmpSuffix      = ".tmp"
)

// OpenStore opens (creating if needed) the store in dir and rebuilds the
// ledger from its records. A record that does not parse, or lacks its
// population file, is an error naming the file: the ledger must not
// silently miss a draw.
func OpenStore(dir string) (*Store, error) {
	s := &Store{
		dir:         dir,
		ledger:      NewLedger(),
		records:     map[string]RecordInfo{},
		byRequest:   map[[32]byte]string{},
		seeds:       map[string]string{},
		commitments: map[string]Commitment{},
	}
	for _, sub := range []string{recordsDir, populationsDir, commitmentsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("sampler store: %w", err)
		}
		// leftovers of interrupted writes
		tmps, _ := filepath.Glob(filepath.Join(dir, sub, "*"+tmpSuffix))
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	cs, err := os.ReadDir(filepath.Join(dir, commitmentsDir))
	if err != nil {
		return nil, fmt.Errorf("sampler store: %w", err)
	}
	for _, e := range cs {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, commitmentsDir, e.Name())
		c, err := readCommitment(path)
		if err != nil {
			return nil, fmt.Errorf("sampler store: %s: %w", path, err)
		}
		if err := s.loadKey(&c); err != nil {
			return nil, fmt.Errorf("sampler store: %s: %w", path, err)
		}
		s.commitments[c.Commitment] = c
	}
	rs, err := os.ReadDir(filepath.Join(dir, recordsDir))
	if err != nil {
		return nil, fmt.Errorf("sampler store: %w", err)
	}
	// in as_of order, so that "first draw using a seed" is well defined
	var recs []*draw.Record
	for _, e := range rs {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, recordsDir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("sampler store: %w", err)
		}
		rec, err := parseStoredRecord(data)
		if err != nil {
			return nil, fmt.Errorf("sampler store: %s: %w", path, err)
		}
		if rec.DrawID+".json" != e.Name() {
			return nil, fmt.Errorf("sampler store: %s holds draw %q", path, rec.DrawID)
		}
		if _, err := os.Stat(s.populationPath(rec.DrawID)); err != nil {
			return nil, fmt.Errorf("sampler store: draw %s has no population file: %w", rec.DrawID, err)
		}
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b *draw.Record) int {
		if c := a.Request.AsOf.Compare(b.Request.AsOf); c != 0 {
			return c
		}
		return strings.Compare(a.DrawID, b.DrawID)
	})
	for _, rec := range recs {
		s.index(rec)
	}
	// populations without a record are leftovers of a draw that failed
	// between the two renames
	ps, _ := os.ReadDir(filepath.Join(dir, populationsDir))
	for _, e := range ps {
		id := strings.TrimSuffix(e.Name(), ".txt")
		if _, ok := s.records[id]; !ok && strings.HasSuffix(e.Name(), ".txt") {
			os.Remove(filepath.Join(dir, populationsDir, e.Name()))
		}
	}
	return s, nil
}

// index adds a record to the in-memory indexes and the ledger; s.mu must
// be held or s not yet shared.
func (s *Store) index(rec *draw.Record) {
	info := RecordInfo{DrawID: rec.DrawID, PlanID: rec.Request.PlanID, AsOf: rec.Request.AsOf, Selected: len(rec.Selected)}
	for _, st := range rec.Strata {
		info.Eligible += st.N
	}
	s.records[rec.DrawID] = info
	s.byRequest[requestKey(&rec.Request)] = rec.DrawID
	sd := draw.SeedDigest(rec.Request.SeedBytes())
	if _, ok := s.seeds[sd]; !ok {
		s.seeds[sd] = rec.DrawID
	}
	if c, ok := s.commitments[sd]; ok && c.UsedBy == "" {
		c.UsedBy = rec.DrawID
		s.commitments[sd] = c
	}
	s.ledger.AddRecord(rec)
}

func requestKey(r *draw.Request) [32]byte { return sha256.Sum256(r.AppendJSON(nil)) }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Ledger is the ledger of the stored draws' selections.
func (s *Store) Ledger() *Ledger { return s.ledger }

func (s *Store) recordPath(id string) string {
	return filepath.Join(s.dir, recordsDir, id+".json")
}

func (s *Store) populationPath(id string) string {
	return filepath.Join(s.dir, populationsDir, id+".txt")
}

func (s *Store) has(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.records[id]
	return ok
}

// Record returns the stored record with the given id, or ErrNotFound.
func (s *Store) Record(id string) (*draw.Record, error) {
	data, err := s.RecordJSON(id)
	if err != nil {
		return nil, err
	}
	return parseStoredRecord(data)
}

// RecordJSON returns the stored record's bytes (its canonical encoding),
// or ErrNotFound.
func (s *Store) RecordJSON(id string) ([]byte, error) {
	if !s.has(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return os.ReadFile(s.recordPath(id))
}

// Population opens the stored population lines of a draw (an *os.File, so
// http.ServeContent can serve ranges), or returns ErrNotFound.
func (s *Store) Population(id string) (*os.File, error) {
	if !s.has(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return os.Open(s.populationPath(id))
}

// Records lists the stored draws of a plan ("" = all), by as_of then id.
func (s *Store) Records(planID string) []RecordInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []RecordInfo
	for _, r := range s.records {
		if planID == "" || r.PlanID == planID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b RecordInfo) int {
		if c := a.AsOf.Compare(b.AsOf); c != 0 {
			return c
		}
		return strings.Compare(a.DrawID, b.DrawID)
	})
	return out
}

// Commit registers a seed commitment (lowercase or uppercase hex SHA-256 of
// the seed bytes) for a plan at time at. Registering the same commitment
// for the same plan again returns the first registration; for another plan
// it is refused.
func (s *Store) Commit(planID, commitment string, at time.Time) (Commitment, error) {
	probe := draw.Request{PlanID: planID}
	if err := probe.Validate(); err != nil {
		var de *draw.Error
		if errors.As(err, &de) && de.Path == "plan_id" {
			return Commitment{}, err
		}
	}
	h := strings.ToLower(commitment)
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return Commitment{}, &draw.Error{Path: "commitment", Msg: "must be 64 hex digits (the SHA-256 of the seed bytes)"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.commitments[h]; ok {
		if c.PlanID != planID {
			return Commitment{}, fmt.Errorf("%w: %s is already registered for plan %q", ErrCommitment, h, c.PlanID)
		}
		return c, nil
	}
	if id, used := s.seeds[h]; used {
		return Commitment{}, fmt.Errorf("%w: the seed of %s was already revealed by draw %s", ErrSeedReused, h, id)
	}
	c := Commitment{PlanID: planID, Commitment: h, CommittedAt: at.UTC()}
	if err := s.loadKey(&c); err != nil {
		return Commitment{}, err
	}
	data := fmt.Appendf(nil, "{\"plan_id\": %q, \"commitment\": %q, \"committed_at\": %q}\n", planID, h, c.CommittedAt.Format(time.RFC3339Nano))
	if err := writeAtomic(filepath.Join(s.dir, commitmentsDir), h+".json", data); err != nil {
		return Commitment{}, err
	}
	s.commitments[h] = c
	return c, nil
}

// Commitments lists the registered commitments of a plan ("" = all), in
// registration order.
func (s *Store) Commitments(planID string) []Commitment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Commitment
	for _, c := range s.commitments {
		if planID == "" || c.PlanID == planID {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Commitment) int {
		if c := a.CommittedAt.Compare(b.CommittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Commitment, b.Commitment)
	})
	return out
}

func readCommitment(path string) (Commitment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Commitment{}, err
	}
	var c Commitment
	if err := jsonUnmarshalStrict(data, &c); err != nil {
		return c, err
	}
	if len(c.Commitment) != 64 || strings.Trim(c.Commitment, "0123456789abcdef") != "" || c.PlanID == "" {
		return c, errors.New("not a commitment")
	}
	return c, nil
}

// put moves the population file into place and writes the record, then
// indexes it. The record is the commit point.
func (s *Store) put(rec *draw.Record, popTmp string) error {
	return s.putBytes(rec, rec.AppendJSON(nil), popTmp)
}

// putBytes is put with the record's stored bytes and its v1 shape for the
// indexes.
func (s *Store) putBytes(rec *draw.Record, data []byte, popTmp string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[rec.DrawID]; ok {
		os.Remove(popTmp)
		return fmt.Errorf("sampler store: draw %s already exists", rec.DrawID)
	}
	if err := os.Rename(popTmp, s.populationPath(rec.DrawID)); err != nil {
		os.Remove(popTmp)
		return fmt.Errorf("sampler store: %w", err)
	}
	if err := syncDir(filepath.Join(s.dir, populationsDir)); err != nil {
		os.Remove(s.populationPath(rec.DrawID))
		return err
	}
	if err := writeAtomicMode(filepath.Join(s.dir, recordsDir), rec.DrawID+".json", data, 0o600); err != nil {
		os.Remove(s.populationPath(rec.DrawID))
		return err
	}
	s.index(rec)
	return nil
}

// lookup returns the id of a stored draw of exactly this request.
func (s *Store) lookup(r *draw.Request) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byRequest[requestKey(r)]
	return id, ok
}

// seedUse returns the draw that first revealed the seed with this digest.
func (s *Store) seedUse(digest string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.seeds[digest]
	return id, ok
}

// commitment returns the registered commitment with this digest, and the
// plan's unused commitments.
func (s *Store) commitment(digest, planID string) (Commitment, bool, []Commitment) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.commitments[digest]
	var open []Commitment
	for _, o := range s.commitments {
		if o.PlanID == planID && o.UsedBy == "" {
			open = append(open, o)
		}
	}
	return c, ok, open
}

// writeAtomic writes dir/name via a synced temporary file and a rename,
// then syncs the directory.
func writeAtomic(dir, name string, data []byte) error {
	return writeAtomicMode(dir, name, data, 0o644)
}

// writeAtomicMode is writeAtomic with the file's mode (0o600 for secrets).
func writeAtomicMode(dir, name string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(dir, name+".*"+tmpSuffix)
	if err != nil {
		return fmt.Errorf("sampler store: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sampler store: write %s: %w", name, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sampler store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("sampler store: sync %s: %w", dir, err)
	}
	return nil
}
