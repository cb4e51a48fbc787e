package clickhouse

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// randRows builds a batch of n random rows of table t (times at millisecond
// precision, as stored).
func randRows(r *rand.Rand, t table, n int) *batch {
	str := func(max int) string {
		b := make([]byte, r.IntN(max+1))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	tm := func() time.Time {
		return time.UnixMilli(r.Int64N(maxTime.UnixMilli())).UTC()
	}
	b := &batch{tbl: t, firstAdded: r.Int64()}
	for range n {
		switch t {
		case tblApplied:
			b.applied = append(b.applied, AppliedEvent{str(20), str(18), str(10), tm(), str(8), str(6), str(60), tm(), str(30), r.Uint64()})
		case tblRejected:
			b.rejected = append(b.rejected, RejectedEvent{tm(), str(20), str(10), str(40), str(20), str(200)})
		case tblTierChanges:
			b.tiers = append(b.tiers, TierChange{str(18), str(6), tm(), str(1), str(1), str(10), r.Int32() - 1<<30, str(20)})
		case tblDraws:
			b.draws = append(b.draws, Draw{str(20), str(20), tm(), str(10), str(64), r.IntN(1 << 30), r.IntN(1 << 20), str(500)})
		case tblDrawSelections:
			var insp []string
			for range r.IntN(4) {
				insp = append(insp, str(8))
			}
			b.selections = append(b.selections, DrawSelection{str(20), str(20), tm(), str(18), str(6), str(1), str(64), insp, r.IntN(3)})
		case tblInspections:
			b.inspects = append(b.inspects, Inspection{str(20), str(18), str(6), tm(), str(20), str(12), str(1), str(10)})
		case tblScoreBands:
			b.bands = append(b.bands, ScoreBand{tm(), str(6), str(10), str(40), r.IntN(20), r.IntN(1 << 30)})
		case tblChallengerAgreement:
			b.cells = append(b.cells, ChallengerCell{tm(), str(6), str(40), str(40), str(1), str(1), r.IntN(1 << 30)})
		case tblChallengerTiers:
			b.challTiers = append(b.challTiers, ChallengerTier{tm(), str(6), str(40), str(1), r.IntN(1 << 30), r.IntN(1 << 20), r.IntN(1 << 20), r.IntN(1 << 20)})
		}
	}
	return b
}

func TestPayloadRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for tb := range numTables {
		for _, n := range []int{0, 1, 7, 300} {
			t.Run(fmt.Sprintf("%s/%d", tb, n), func(t *testing.T) {
				b := randRows(r, tb, n)
				p := encodePayload(nil, b)
				got, err := decodePayload(p)
				if err != nil {
					t.Fatal(err)
				}
				if got.len() != n {
					t.Fatalf("decoded %d rows, want %d", got.len(), n)
				}
				if n > 0 && !reflect.DeepEqual(got, b) {
					t.Fatalf("round trip differs")
				}
				// Any truncation must fail cleanly, never panic or succeed.
				for cut := 0; cut < len(p); cut += 1 + len(p)/50 {
					if _, err := decodePayload(p[:cut]); err == nil {
						t.Fatalf("truncated payload (%d of %d bytes) decoded", cut, len(p))
					}
				}
			})
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := encodePayload(nil, randRows(rand.New(rand.NewPCG(3, 4)), tblTierChanges, 2))
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"version", append([]byte{9}, good[1:]...)},
		{"table", append([]byte{payloadVersion, byte(numTables)}, good[2:]...)},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"huge count", []byte{payloadVersion, byte(tblApplied), 0xff, 0xff, 0xff, 0xff, 0x0f, 0}},
		{"varint overflow", []byte{payloadVersion, byte(tblApplied), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodePayload(tc.p); err == nil {
				t.Fatal("decoded")
			}
		})
	}
}

func FuzzDecodePayload(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for tb := range numTables {
		f.Add(encodePayload(nil, randRows(r, tb, 3)))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodePayload(p)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes (the encoding is
		// canonical for valid input).
		if q := encodePayload(nil, b); string(q) != string(p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", p, q)
		}
	})
}

func TestValidate(t *testing.T) {
	ok := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"applied ok", (&AppliedEvent{EventID: "e", USCC: "u", OccurredAt: ok, AppliedAt: ok}).validate()},
		{"tier ok", (&TierChange{USCC: "u", At: ok}).validate()},
		{"draw ok", (&Draw{DrawID: "d", AsOf: ok}).validate()},
		{"selection ok", (&DrawSelection{DrawID: "d", USCC: "u", AsOf: ok}).validate()},
		{"inspection ok", (&Inspection{EventID: "e", USCC: "u", At: ok}).validate()},
		{"rejected zero time filled", (&RejectedEvent{}).validate(ok)},
	} {
		if tc.err != nil {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"applied no id", (&AppliedEvent{USCC: "u", OccurredAt: ok, AppliedAt: ok}).validate()},
		{"applied no uscc", (&AppliedEvent{EventID: "e", OccurredAt: ok, AppliedAt: ok}).validate()},
		{"applied zero time", (&AppliedEvent{EventID: "e", USCC: "u", AppliedAt: ok}).validate()},
		{"applied before 1970", (&AppliedEvent{EventID: "e", USCC: "u", OccurredAt: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), AppliedAt: ok}).validate()},
		{"tier after 2105", (&TierChange{USCC: "u", At: time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)}).validate()},
		{"draw no id", (&Draw{AsOf: ok}).validate()},
		{"selection no uscc", (&DrawSelection{DrawID: "d", AsOf: ok}).validate()},
		{"inspection no time", (&Inspection{EventID: "e", USCC: "u"}).validate()},
	} {
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestSplitTime(t *testing.T) {
	in := time.Date(2026, 5, 6, 7, 8, 9, 987654321, time.FixedZone("CST", 8*3600))
	sec, ms := splitTime(in)
	if sec.Location() != time.UTC || !sec.Equal(time.Date(2026, 5, 5, 23, 8, 9, 0, time.UTC)) || ms != 987 {
		t.Fatalf("splitTime = %v, %d", sec, ms)
	}
}
