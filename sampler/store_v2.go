package sampler

// The Store's draw/v2 parts: blinding keys generated with seed
// commitments, v2 records (stored as their regulatory edition, mode 0600,
// since they hold the key), recusal amendments and the conflict register.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/uscc"
)

const (
	amendmentsDir = "amendments"
	registerFile  = "conflict-register.json"
)

// ErrPlanDrawn: the plan already has a draw (one commitment, one draw).
var ErrPlanDrawn = errors.New("sampler: the plan already has a draw")

// loadKey reads the commitment's blinding key (commitments/<h>.key, mode
// 0600), generating and storing one when there is none (a new commitment,
// or one registered before draw/v2).
func (s *Store) loadKey(c *Commitment) error {
	path := filepath.Join(s.dir, commitmentsDir, c.Commitment+".key")
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		b, herr := hex.DecodeString(strings.TrimSpace(string(data)))
		if herr != nil || len(b) != 32 {
			return fmt.Errorf("sampler store: %s is not a 32-byte hex key", path)
		}
		copy(c.key[:], b)
	case errors.Is(err, os.ErrNotExist):
		if _, err := rand.Read(c.key[:]); err != nil {
			return fmt.Errorf("sampler store: %w", err)
		}
		if err := writeAtomicMode(filepath.Join(s.dir, commitmentsDir), c.Commitment+".key", []byte(hex.EncodeToString(c.key[:])+"\n"), 0o600); err != nil {
			return err
		}
	default:
		return fmt.Errorf("sampler store: %w", err)
	}
	c.KeyCommitment = draw.KeyCommitment(c.key)
	return nil
}

// isV2 reports whether stored record bytes are a draw/v2 record.
func isV2(data []byte) bool {
	return bytes.HasPrefix(data, []byte(`{"format":"`+draw.FormatV2+`"`))
}

// parseStoredRecord parses a stored record of either format into the v1
// shape the indexes and the ledger use (a v2 record's selected entities
// without tiers).
func parseStoredRecord(data []byte) (*draw.Record, error) {
	if !isV2(data) {
		return draw.ParseRecord(data)
	}
	v, err := draw.ParseV2(data)
	if err != nil {
		return nil, err
	}
	return shadowV1(v), nil
}

func shadowV1(v *draw.V2) *draw.Record {
	rec := &draw.Record{DrawID: v.DrawID, Request: *v.Request, Selected: make([]draw.Selection, len(v.Selected))}
	rec.Strata = []draw.Stratum{{N: v.PopulationSize, Sample: v.SampleSize}}
	for i := range v.Selected {
		rec.Selected[i].USCC = uscc.Code([]byte(v.Selected[i].USCC))
	}
	return rec
}

// IsV2 reports whether the stored draw id is a draw/v2 record.
func (s *Store) IsV2(id string) bool {
	data, err := s.RecordJSON(id)
	return err == nil && isV2(data)
}

// RecordV2 returns a stored v2 record (regulatory edition) and its bytes.
func (s *Store) RecordV2(id string) (*draw.V2, []byte, error) {
	data, err := s.RecordJSON(id)
	if err != nil {
		return nil, nil, err
	}
	if !isV2(data) {
		return nil, nil, fmt.Errorf("%w: %q is a draw/v1 record", ErrNotFound, id)
	}
	v, err := draw.ParseV2(data)
	return v, data, err
}

// Amendments returns a v2 draw's amendments document.
func (s *Store) Amendments(id string) (*draw.Amendments, error) {
	if !s.has(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	data, err := os.ReadFile(filepath.Join(s.dir, amendmentsDir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return &draw.Amendments{DrawID: id, Amendments: []draw.Amendment{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sampler store: %w", err)
	}
	return draw.ParseAmendments(data)
}

func (s *Store) putAmendments(a *draw.Amendments) error {
	dir := filepath.Join(s.dir, amendmentsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sampler store: %w", err)
	}
	return writeAtomic(dir, a.DrawID+".json", draw.EncodeAmendments(a))
}

// Register returns the standing conflict register.
func (s *Store) Register() ([]RegisterEntry, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, registerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sampler store: %w", err)
	}
	var out []RegisterEntry
	if err := jsonUnmarshalStrict(data, &out); err != nil {
		return nil, fmt.Errorf("sampler store: %s: %w", registerFile, err)
	}
	return out, nil
}

// MaxRegister bounds the conflict register (entries).
const MaxRegister = 1_000_000

// AddRegister adds entries to the conflict register (duplicates are kept
// once). It applies to every later draw.
func (s *Store) AddRegister(entries []RegisterEntry) ([]RegisterEntry, error) {
	if len(entries) > MaxRegister {
		return nil, &draw.Error{Path: "", Msg: fmt.Sprintf("%d entries, at most %d", len(entries), MaxRegister)}
	}
	for i := range entries {
		if err := entries[i].Check(); err != nil {
			return nil, &draw.Error{Path: fmt.Sprintf("[%d].%s", i, strings.SplitN(err.Error(), ":", 2)[0]), Msg: err.Error()}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.Register()
	if err != nil {
		return nil, err
	}
	seen := make(map[RegisterEntry]bool, len(cur)+len(entries))
	for _, e := range cur {
		seen[e] = true
	}
	for _, e := range entries {
		if !seen[e] {
			seen[e] = true
			cur = append(cur, e)
		}
	}
	if len(cur) > MaxRegister {
		return nil, &draw.Error{Path: "", Msg: fmt.Sprintf("the register would hold %d entries, at most %d", len(cur), MaxRegister)}
	}
	data, _ := json.MarshalIndent(cur, "", " ")
	return cur, writeAtomic(s.dir, registerFile, append(data, '\n'))
}
