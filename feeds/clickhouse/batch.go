package clickhouse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// batch is a run of rows of one table, the unit that is inserted, spooled
// and replayed. Exactly one of the row slices is used, the one of tbl.
type batch struct {
	tbl table
	// seq orders batches in the sink (assigned when sealed or loaded from
	// the spool); Flush waits on it.
	seq uint64
	// firstAdded is the wall-clock time (Unix ns) the oldest row was added;
	// it survives the spool so the lag metric stays true after a restart.
	firstAdded int64
	// opened and sealed are monotonic times for the flush and spool timers.
	opened, sealed time.Time

	applied    []AppliedEvent
	rejected   []RejectedEvent
	tiers      []TierChange
	draws      []Draw
	selections []DrawSelection
	inspects   []Inspection
	bands      []ScoreBand
	cells      []ChallengerCell
	challTiers []ChallengerTier
}

func (b *batch) len() int {
	if b.tbl >= numTables {
		return 0
	}
	return tableDefs[b.tbl].count(b)
}

// Spool record payload (after the 8-byte frame of spool.go):
//
//	byte    format version (1)
//	byte    table
//	uvarint row count
//	varint  firstAdded, Unix ns
//	rows    the table's columns in declaration order (tables.go), except
//	        derived ones: strings as uvarint length + bytes, times as varint
//	        Unix milliseconds, integers as (u)varints, []string as uvarint
//	        count + strings.
const payloadVersion = 1

// maxRowsPerRecord bounds the row count a decoder will believe.
const maxRowsPerRecord = 1 << 26

// The spool's value encodings (appended to a payload).
func appendStr(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}
func appendTime(p []byte, t time.Time) []byte { return binary.AppendVarint(p, t.UnixMilli()) }

// encodePayload appends b's spool payload to dst.
func encodePayload(dst []byte, b *batch) []byte {
	p := append(dst, payloadVersion, byte(b.tbl))
	p = binary.AppendUvarint(p, uint64(b.len()))
	p = binary.AppendVarint(p, b.firstAdded)
	return tableDefs[b.tbl].encodeRows(p, b)
}

// errMalformed reports a payload that does not decode.
var errMalformed = errors.New("malformed spool payload")

// dec reads a payload held in one string, so decoded strings are substrings
// of it and decoding allocates only the row slices.
type dec struct {
	s   string
	i   int
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d", errMalformed, what, d.i)
	}
}

func (d *dec) u64() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for k := 0; k < binary.MaxVarintLen64; k++ {
		if d.i >= len(d.s) {
			d.fail("varint")
			return 0
		}
		c := d.s[d.i]
		d.i++
		if k == binary.MaxVarintLen64-1 && c > 1 {
			d.fail("varint")
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && k > 0 {
				d.fail("non-minimal varint") // keeps the encoding canonical
				return 0
			}
			return v
		}
		shift += 7
	}
	d.fail("varint")
	return 0
}

func (d *dec) i64() int64 {
	u := d.u64()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *dec) str() string {
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.i) {
		d.fail("string length")
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

func (d *dec) time() time.Time {
	ms := d.i64()
	if d.err == nil && (ms < 0 || ms >= maxTime.UnixMilli()) {
		d.fail("time")
	}
	return time.UnixMilli(ms).UTC()
}

func (d *dec) int32() int32 {
	v := d.i64()
	if v < -1<<31 || v > 1<<31-1 {
		d.fail("int32")
	}
	return int32(v)
}

func (d *dec) int() int {
	v := d.i64()
	if v < -1<<31 || v > 1<<31-1 {
		d.fail("int")
	}
	return int(v)
}

// decodePayload decodes a spool payload into a batch.
func decodePayload(p []byte) (*batch, error) {
	d := &dec{s: string(p)}
	if len(d.s) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", errMalformed, len(p))
	}
	if d.s[0] != payloadVersion {
		return nil, fmt.Errorf("%w: version %d", errMalformed, d.s[0])
	}
	b := &batch{tbl: table(d.s[1])}
	if b.tbl >= numTables {
		return nil, fmt.Errorf("%w: table %d", errMalformed, d.s[1])
	}
	d.i = 2
	n := d.u64()
	b.firstAdded = d.i64()
	if d.err != nil {
		return nil, d.err
	}
	// Every row takes at least one byte per field, so a count larger than
	// the remaining bytes is corrupt; this also bounds the allocation.
	if n > maxRowsPerRecord || n > uint64(len(d.s)-d.i) {
		return nil, fmt.Errorf("%w: row count %d", errMalformed, n)
	}
	tableDefs[b.tbl].decodeRows(d, b, int(n))
	if d.err != nil {
		return nil, d.err
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(d.s)-d.i)
	}
	return b, nil
}
