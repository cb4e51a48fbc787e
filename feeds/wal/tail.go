package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
)

// Telling a torn tail from corruption.
//
// A crash can leave only the bytes of the last unsynced write of the last
// segment incomplete: appends only ever extend the file, and every earlier
// write was followed by an fdatasync. So the damage of a torn write is
// always the end of the file: after the first record that does not decode,
// no record can be whole. A record that does not decode followed by one that
// does (its length fits and its checksum matches) is therefore not a torn
// write but damage to written, possibly acknowledged, data, and recovery
// must not cut it. Zeros (what a file system may show where the size grew
// but the data did not land) never form a valid record, because the CRC of a
// zero length is not zero.
//
// The search for a following record tries every byte offset (a corrupted
// length gives no hint where the next record starts). A candidate costs a
// CRC over its payload only if its length fits in the rest of the file, so
// text and zeros are cheap; the total CRC work is capped by tailScanBudget,
// and a search that runs out of budget counts as "cannot rule out valid
// records": the answer is then to refuse, never to cut.

// tailScanBudget caps the bytes checksummed while looking for a valid
// record after a bad one (a fraction of a second of CRC-32C).
const tailScanBudget = 1 << 30

// errScanBudget reports a search for a valid record that ran out of budget.
var errScanBudget = errors.New("wal: tail scan budget exhausted")

// DamagedDir is the subdirectory of the log directory where recovery keeps
// the bytes it cuts from the last segment. Nothing in it is read back.
const DamagedDir = "damaged"

// validFrameAt returns the offset in b of the first whole frame (length in
// range and fitting in b, checksum matching) at or after offset 0, or -1.
// It fails with errScanBudget after checksumming budget bytes.
func validFrameAt(b []byte, budget int64) (int64, error) {
	for o := 0; o+recordHeaderSize <= len(b); o++ {
		n := int64(binary.LittleEndian.Uint32(b[o+4 : o+8]))
		if n > MaxRecordSizeLimit || n > int64(len(b)-o-recordHeaderSize) {
			continue
		}
		if budget -= n + 4; budget < 0 {
			return int64(o), errScanBudget
		}
		if binary.LittleEndian.Uint32(b[o:o+4]) == recordChecksum(b[o+4:o+recordHeaderSize+int(n)]) {
			return int64(o), nil
		}
	}
	return -1, nil
}

// readFile returns the contents of a file of fsys.
func readFile(fsys FS, path string) ([]byte, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// classifyDamage decides what the bytes of the last segment are from offset
// bad on, where decoding failed with reason, searching for a valid record
// from offset from (bad+1 for a bad record, the header's end for a bad
// header). It returns nil for a torn tail and otherwise the
// *CorruptionError (or I/O error) that must stop recovery.
func classifyDamage(fsys FS, dir, name string, bad, from int64, pos Position, reason string) error {
	data, err := readFile(fsys, filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("wal: reading segment %s: %w", name, err)
	}
	if from >= int64(len(data)) {
		return nil
	}
	at, err := validFrameAt(data[from:], tailScanBudget)
	switch {
	case errors.Is(err, errScanBudget):
		return &CorruptionError{Segment: name, Offset: bad, Position: pos,
			Reason: fmt.Sprintf("%s; whether valid records follow could not be decided (search stopped at offset %d), so this is not treated as a torn write", reason, from+at)}
	case at >= 0:
		return &CorruptionError{Segment: name, Offset: bad, Position: pos,
			Reason: fmt.Sprintf("%s, but a valid record follows at offset %d: written data is damaged (a crash tears only the end of the last segment)", reason, from+at)}
	}
	return nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// setAside durably copies the bytes of segment name from offset off on into
// a new file under the log's damaged/ directory and returns its path. It
// copies nothing (and returns "") when those bytes are all zero and keepZero
// is false.
func setAside(fsys FS, dir, name string, off int64, keepZero bool) (string, error) {
	data, err := readFile(fsys, filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if off >= int64(len(data)) {
		return "", nil
	}
	cut := data[off:]
	if !keepZero && allZero(cut) {
		return "", nil
	}
	ddir := filepath.Join(dir, DamagedDir)
	if err := fsys.MkdirAll(ddir); err != nil {
		return "", err
	}
	if err := fsys.SyncDir(dir); err != nil {
		return "", err
	}
	base := fmt.Sprintf("%s.offset-%d", name, off)
	for i := 0; ; i++ {
		path := filepath.Join(ddir, base)
		if i > 0 {
			path = fmt.Sprintf("%s.%d", path, i)
		}
		f, err := fsys.Create(path)
		if errors.Is(err, iofs.ErrExist) && i < 1000 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(cut)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = fsys.SyncDir(ddir)
		}
		return path, err
	}
}
