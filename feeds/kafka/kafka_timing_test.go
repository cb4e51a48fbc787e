package kafka

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// nopState applies everything and emits nothing: what is left is the
// package's own per-message cost.
type nopState struct{ n int }

func (s *nopState) Apply(m *Message, emit Emit) Result    { s.n++; return Result{Outcome: Applied} }
func (s *nopState) Tick(time.Time, Emit)                  {}
func (s *nopState) WriteSnapshot(io.Writer, int64) error  { return nil }
func (s *nopState) ReadSnapshot(io.Reader) (int64, error) { return 0, nil }
func (s *nopState) Entities() int                         { return s.n }

// BenchmarkApplyBatch is the applier's hot path over a fetched batch of
// 10,000 records: key check, message setup, bookkeeping. 0 allocs/op.
func BenchmarkApplyBatch(b *testing.B) {
	m := &Manager{opts: Options{Topic: "t", Partitioner: CRC32{}, DeadLetterTopic: "d", Now: time.Now}}
	part := newPartition(0)
	part.state = &nopState{}
	var fb fetchedBatch
	const n = 10_000
	var key []byte
	for i, k := 0, 0; i < n; k++ {
		key = fmt.Appendf(key[:0], "9137%014d", k)
		if (CRC32{}).Partition(key, 12) != 0 {
			continue
		}
		x := rec{offset: int64(i), timeMs: 1700000000000, keyOff: uint32(len(fb.data)), keyLen: int32(len(key))}
		fb.data = append(fb.data, key...)
		x.valOff = uint32(len(fb.data))
		fb.data = append(fb.data, make([]byte, 240)...)
		x.valLen = 240
		fb.recs = append(fb.recs, x)
		i++
	}
	ap := applier{m: m, part: part, n: 12}
	ap.emit = func(Output) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		part.next = 0
		ap.applyBatch(&fb)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/message")
}

func BenchmarkPartitioners(b *testing.B) {
	key := []byte("91350100M0001TGQXM")
	for _, p := range []Partitioner{CRC32{}, Murmur2{}, FNV1a{}} {
		b.Run(p.Name(), func(b *testing.B) {
			b.ReportAllocs()
			s := 0
			for i := 0; i < b.N; i++ {
				s += p.Partition(key, 12)
			}
			_ = s
		})
	}
}
