package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Position is a record's sequence number in the log: 0 for the first record
// ever appended, monotonic across segments and restarts. As a point in the
// log, Position p is the boundary before record p (see the package doc).
type Position uint64

const (
	segmentHeaderSize = 20
	recordHeaderSize  = 8
	formatVersion     = 1
	segmentSuffix     = ".wal"
	segmentNameDigits = 20
	lockName          = "LOCK"

	// MaxRecordSizeLimit is the largest payload the format allows (1 GiB).
	// Options.MaxRecordSize may not exceed it.
	MaxRecordSizeLimit = 1 << 30
)

var segmentMagic = [4]byte{'C', 'W', 'A', 'L'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentName is the file name of the segment whose first record is first.
func segmentName(first Position) string {
	return fmt.Sprintf("%020d%s", uint64(first), segmentSuffix)
}

// parseSegmentName is the inverse of segmentName; ok is false for any other
// file name.
func parseSegmentName(name string) (Position, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != segmentNameDigits {
		return 0, false
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return Position(v), true
}

// encodeSegmentHeader returns the header of a segment starting at first.
func encodeSegmentHeader(first Position) [segmentHeaderSize]byte {
	var h [segmentHeaderSize]byte
	copy(h[0:4], segmentMagic[:])
	h[4] = formatVersion
	binary.LittleEndian.PutUint64(h[8:16], uint64(first))
	binary.LittleEndian.PutUint32(h[16:20], crc32.Checksum(h[:16], castagnoli))
	return h
}

// errBadHeader and its wrappers describe a segment header that does not
// check out.
var errBadHeader = errors.New("bad segment header")

// decodeSegmentHeader checks a segment header and returns the position it
// declares.
func decodeSegmentHeader(h []byte) (Position, error) {
	if len(h) < segmentHeaderSize {
		return 0, fmt.Errorf("%w: %d bytes, want %d", errBadHeader, len(h), segmentHeaderSize)
	}
	if got, want := binary.LittleEndian.Uint32(h[16:20]), crc32.Checksum(h[:16], castagnoli); got != want {
		return 0, fmt.Errorf("%w: checksum %08x, want %08x", errBadHeader, got, want)
	}
	if [4]byte(h[0:4]) != segmentMagic {
		return 0, fmt.Errorf("%w: magic %q, want %q", errBadHeader, h[0:4], segmentMagic[:])
	}
	if h[4] != formatVersion {
		return 0, fmt.Errorf("%w: format version %d, this program reads %d", errBadHeader, h[4], formatVersion)
	}
	return Position(binary.LittleEndian.Uint64(h[8:16])), nil
}

// recordChecksum is the CRC-32C of a frame's length and payload, which are
// contiguous in the frame (bytes 4 to 8+n): one CRC call per record.
func recordChecksum(lenAndPayload []byte) uint32 {
	return crc32.Checksum(lenAndPayload, castagnoli)
}

// appendRecord appends rec's frame (header and payload) to dst. The frame is
// built in dst itself, so the checksum runs over it in one call.
func appendRecord(dst []byte, rec []byte) []byte {
	n := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(dst[n+4:n+8], uint32(len(rec)))
	dst = append(dst, rec...)
	binary.LittleEndian.PutUint32(dst[n:n+4], recordChecksum(dst[n+4:]))
	return dst
}

// recordHeader returns the frame header of rec, for the write-through path
// of records larger than the write buffer.
func recordHeader(rec []byte) [recordHeaderSize]byte {
	var h [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(rec)))
	crc := crc32.Update(crc32.Update(0, castagnoli, h[4:8]), castagnoli, rec)
	binary.LittleEndian.PutUint32(h[0:4], crc)
	return h
}

// CorruptionError reports a segment that does not decode: a bad record, a
// bad header, or a gap in positions between segments. Its presence in a
// segment other than the last (or, in a running Log, anywhere before the end)
// means the disk lost or changed data the log had synced.
type CorruptionError struct {
	Segment  string   // file name of the segment
	Offset   int64    // byte offset in the segment where decoding failed
	Position Position // position of the record that failed (or was expected)
	Reason   string   // what is wrong
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt segment %s at offset %d (position %d): %s", e.Segment, e.Offset, e.Position, e.Reason)
}
