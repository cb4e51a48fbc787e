package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/scoring"
)

// snapshotsKept is how many verified snapshots retention keeps: the newest,
// and one to fall back on if the newest turns out corrupt at the next start.
const snapshotsKept = 2

// snapshotSet is the retention of snapshot files. It counts only snapshots
// known to verify: the one restored at start and each one written since,
// after it was read back and its checksum checked. A snapshot that fails
// its check is set aside (scoring.SetAsideSnapshot), never counted, so a
// corrupt snapshot can never push a good one out, and the log is truncated
// only before the oldest kept verified snapshot, which recovery can always
// fall back on.
type snapshotSet struct {
	dir   string
	valid []uint64 // positions of verified snapshots, ascending
}

// add records a verified snapshot at pos.
func (s *snapshotSet) add(pos uint64) {
	if i, found := slices.BinarySearch(s.valid, pos); !found {
		s.valid = slices.Insert(s.valid, i, pos)
	}
}

// prune keeps the newest snapshotsKept verified snapshots, deletes every
// snapshot file older than the oldest of them, and returns the position
// before which log segments are no longer needed; ok is false (delete
// nothing) while fewer than snapshotsKept snapshots have verified.
func (s *snapshotSet) prune(logger *slog.Logger) (before wal.Position, ok bool) {
	if len(s.valid) < snapshotsKept {
		return 0, false
	}
	s.valid = s.valid[len(s.valid)-snapshotsKept:]
	oldest := s.valid[0]
	names, poss, err := scoring.SnapshotFiles(s.dir)
	if err != nil {
		logger.Warn("listing snapshots", "err", err)
		return 0, false
	}
	for i, name := range names {
		if poss[i] < oldest {
			if err := os.Remove(name); err != nil {
				logger.Warn("deleting an old snapshot", "path", name, "err", err)
			}
		}
	}
	return wal.Position(oldest), true
}

// verifyWritten checks a snapshot just written at pos and counts it if it
// verifies; one that does not is set aside and an error says why.
func (s *snapshotSet) verifyWritten(path string, pos uint64) error {
	got, err := scoring.VerifySnapshotFile(path)
	if err == nil && got != pos {
		err = fmt.Errorf("it says position %d, want %d", got, pos)
	}
	if err != nil {
		aside, aerr := scoring.SetAsideSnapshot(path)
		return fmt.Errorf("snapshot %s does not verify after writing (set aside as %s, %v): %w", path, aside, aerr, err)
	}
	s.add(pos)
	return nil
}

// restore removes the temporary files of interrupted snapshot
// writes, restores the newest snapshot in dir that verifies, setting aside
// each newer one that does not (so that retention never counts it), and
// returns the restored position, which it adds to s.
func (s *snapshotSet) restore(eng *scoring.Engine, logger *slog.Logger) (uint64, bool, error) {
	dir := s.dir
	removed, err := scoring.RemoveSnapshotTemps(dir)
	if err != nil {
		return 0, false, fmt.Errorf("removing temporary snapshot files: %w", err)
	}
	for _, t := range removed {
		logger.Info("removed the temporary file of an interrupted snapshot", "path", t)
	}
	var asideErr error
	pos, found, err := eng.LoadLatestSnapshot(dir, func(path string, err error) {
		aside, aerr := scoring.SetAsideSnapshot(path)
		if aerr != nil && asideErr == nil {
			asideErr = fmt.Errorf("setting aside snapshot %s: %w", path, aerr)
		}
		logger.Warn("snapshot does not verify: set aside, restoring an older one", "path", path, "set_aside", aside, "err", err)
	})
	if err == nil {
		err = asideErr
	}
	if err != nil {
		return 0, false, fmt.Errorf("restoring a snapshot: %w", err)
	}
	if found {
		s.add(pos)
	}
	return pos, found, nil
}

// OpenLog opens the durable event log. A last segment damaged before its end
// stops the start with an error naming the segment, the offset and the way
// out, unless salvage is set (--wal-salvage).
func OpenLog(dir string, salvage bool, logger *slog.Logger) (*wal.Log, error) {
	log, err := wal.Open(dir, wal.Options{Logger: logger, Salvage: salvage})
	if ce := (*wal.CorruptionError)(nil); errors.As(err, &ce) {
		return nil, fmt.Errorf("opening the event log: %w; nothing was changed; to start anyway, restart with --wal-salvage, "+
			"which moves %s from offset %d on to %s and continues without the events in it", err,
			filepath.Join(dir, ce.Segment), ce.Offset, filepath.Join(dir, wal.DamagedDir))
	}
	if err != nil {
		return nil, fmt.Errorf("opening the event log: %w", err)
	}
	return log, nil
}
