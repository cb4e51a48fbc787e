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
}

func (b *batch) len() int {
	switch b.tbl {
	case tblApplied:
		return len(b.applied)
	case tblRejected:
		return len(b.rejected)
	case tblTierChanges:
		return len(b.tiers)
	case tblDraws:
		return len(b.draws)
	case tblDrawSelections:
		return len(b.selections)
	case tblInspections:
		return len(b.inspects)
	}
	return 0
}

// Spool record payload (after the 8-byte frame of spool.go):
//
//	byte    format version (1)
//	byte    table
//	uvarint row count
//	varint  firstAdded, Unix ns
//	rows    the table's fields in declaration order: strings as uvarint
//	        length + bytes, times as varint Unix milliseconds, integers as
//	        (u)varints, []string as uvarint count + strings.
const payloadVersion = 1

// maxRowsPerRecord bounds the row count a decoder will believe.
const maxRowsPerRecord = 1 << 26

type enc struct{ b []byte }

func (e *enc) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) time(t time.Time) { e.b = binary.AppendVarint(e.b, t.UnixMilli()) }
func (e *enc) u64(v uint64)     { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i64(v int64)      { e.b = binary.AppendVarint(e.b, v) }

// encodePayload appends b's spool payload to dst.
func encodePayload(dst []byte, b *batch) []byte {
	e := enc{b: dst}
	e.b = append(e.b, payloadVersion, byte(b.tbl))
	e.u64(uint64(b.len()))
	e.i64(b.firstAdded)
	switch b.tbl {
	case tblApplied:
		for i := range b.applied {
			r := &b.applied[i]
			e.str(r.EventID)
			e.str(r.USCC)
			e.str(r.Type)
			e.time(r.OccurredAt)
			e.str(r.Authority)
			e.str(r.Region)
			e.str(r.Attrs)
			e.time(r.AppliedAt)
			e.str(r.Source)
			e.u64(r.Seq)
		}
	case tblRejected:
		for i := range b.rejected {
			r := &b.rejected[i]
			e.time(r.At)
			e.str(r.Source)
			e.str(r.Reason)
			e.str(r.Detail)
			e.str(r.EventID)
			e.str(r.Original)
		}
	case tblTierChanges:
		for i := range b.tiers {
			r := &b.tiers[i]
			e.str(r.USCC)
			e.str(r.Region)
			e.time(r.At)
			e.str(r.OldTier)
			e.str(r.NewTier)
			e.str(r.Scheme)
			e.i64(int64(r.Score))
			e.str(r.Cause)
		}
	case tblDraws:
		for i := range b.draws {
			r := &b.draws[i]
			e.str(r.DrawID)
			e.str(r.PlanID)
			e.time(r.AsOf)
			e.str(r.Scheme)
			e.str(r.PopulationDigest)
			e.i64(int64(r.Eligible))
			e.i64(int64(r.Selected))
			e.str(r.RecordJSON)
		}
	case tblDrawSelections:
		for i := range b.selections {
			r := &b.selections[i]
			e.str(r.DrawID)
			e.str(r.PlanID)
			e.time(r.AsOf)
			e.str(r.USCC)
			e.str(r.Region)
			e.str(r.Tier)
			e.str(r.Priority)
			e.u64(uint64(len(r.Inspectors)))
			for _, s := range r.Inspectors {
				e.str(s)
			}
			e.i64(int64(r.Unassigned))
		}
	case tblInspections:
		for i := range b.inspects {
			r := &b.inspects[i]
			e.str(r.EventID)
			e.str(r.USCC)
			e.str(r.Region)
			e.time(r.At)
			e.str(r.PlanID)
			e.str(r.Result)
			e.str(r.TierAtInspection)
			e.str(r.Scheme)
		}
	}
	return e.b
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
	rows := int(n)
	switch b.tbl {
	case tblApplied:
		b.applied = make([]AppliedEvent, rows)
		for i := range b.applied {
			r := &b.applied[i]
			r.EventID = d.str()
			r.USCC = d.str()
			r.Type = d.str()
			r.OccurredAt = d.time()
			r.Authority = d.str()
			r.Region = d.str()
			r.Attrs = d.str()
			r.AppliedAt = d.time()
			r.Source = d.str()
			r.Seq = d.u64()
		}
	case tblRejected:
		b.rejected = make([]RejectedEvent, rows)
		for i := range b.rejected {
			r := &b.rejected[i]
			r.At = d.time()
			r.Source = d.str()
			r.Reason = d.str()
			r.Detail = d.str()
			r.EventID = d.str()
			r.Original = d.str()
		}
	case tblTierChanges:
		b.tiers = make([]TierChange, rows)
		for i := range b.tiers {
			r := &b.tiers[i]
			r.USCC = d.str()
			r.Region = d.str()
			r.At = d.time()
			r.OldTier = d.str()
			r.NewTier = d.str()
			r.Scheme = d.str()
			r.Score = d.int32()
			r.Cause = d.str()
		}
	case tblDraws:
		b.draws = make([]Draw, rows)
		for i := range b.draws {
			r := &b.draws[i]
			r.DrawID = d.str()
			r.PlanID = d.str()
			r.AsOf = d.time()
			r.Scheme = d.str()
			r.PopulationDigest = d.str()
			r.Eligible = d.int()
			r.Selected = d.int()
			r.RecordJSON = d.str()
		}
	case tblDrawSelections:
		b.selections = make([]DrawSelection, rows)
		for i := range b.selections {
			r := &b.selections[i]
			r.DrawID = d.str()
			r.PlanID = d.str()
			r.AsOf = d.time()
			r.USCC = d.str()
			r.Region = d.str()
			r.Tier = d.str()
			r.Priority = d.str()
			k := d.u64()
			if k > uint64(len(d.s)-d.i) {
				d.fail("inspector count")
			}
			if d.err != nil {
				break
			}
			if k > 0 {
				r.Inspectors = make([]string, k)
				for j := range r.Inspectors {
					r.Inspectors[j] = d.str()
				}
			}
			r.Unassigned = d.int()
		}
	case tblInspections:
		b.inspects = make([]Inspection, rows)
		for i := range b.inspects {
			r := &b.inspects[i]
			r.EventID = d.str()
			r.USCC = d.str()
			r.Region = d.str()
			r.At = d.time()
			r.PlanID = d.str()
			r.Result = d.str()
			r.TierAtInspection = d.str()
			r.Scheme = d.str()
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(d.s)-d.i)
	}
	return b, nil
}
