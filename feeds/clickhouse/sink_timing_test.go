package clickhouse

import (
	"testing"
)

// offlineSink is a Sink without connection or goroutines: the benchmarks
// measure Add itself, retiring sealed batches the way the inserter does.
func offlineSink(b *testing.B) *Sink {
	o := Options{Addr: "127.0.0.1:1", DisableSpool: true, Logger: discard}
	if err := o.EnsureDefaults(); err != nil {
		b.Fatal(err)
	}
	s := &Sink{opts: o, log: discard, pending: map[uint64]struct{}{}, progress: make(chan struct{}),
		wakeFlush: make(chan struct{}, 1), wakeInsert: make(chan struct{}, 1)}
	s.m = newMetrics(s)
	return s
}

// retire drops sealed batches as if inserted.
func (s *Sink) retire() {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, b := range q {
		s.mu.Lock()
		s.memRows -= b.len()
		delete(s.pending, b.seq)
		s.mu.Unlock()
		s.recycle(b)
	}
}

func BenchmarkAddAppliedEvent(b *testing.B) {
	s := offlineSink(b)
	row := appliedRow(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.AddAppliedEvent(row); err != nil {
			b.Fatal(err)
		}
		if i%s.opts.BatchRows == 0 {
			s.retire()
		}
	}
}

func BenchmarkAddTierChange(b *testing.B) {
	s := offlineSink(b)
	row := tierRow(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.AddTierChange(row); err != nil {
			b.Fatal(err)
		}
		if i%s.opts.BatchRows == 0 {
			s.retire()
		}
	}
}

func BenchmarkAddAppliedEventParallel(b *testing.B) {
	s := offlineSink(b)
	row := appliedRow(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 1; pb.Next(); i++ {
			if err := s.AddAppliedEvent(row); err != nil {
				b.Fatal(err)
			}
			if i%s.opts.BatchRows == 0 {
				s.retire()
			}
		}
	})
}

func BenchmarkEncodePayload(b *testing.B) {
	bt := &batch{tbl: tblApplied}
	for i := range 10_000 {
		bt.applied = append(bt.applied, appliedRow(i))
	}
	buf := encodePayload(nil, bt)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = encodePayload(buf[:0], bt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/row")
}

func BenchmarkDecodePayload(b *testing.B) {
	bt := &batch{tbl: tblApplied}
	for i := range 10_000 {
		bt.applied = append(bt.applied, appliedRow(i))
	}
	buf := encodePayload(nil, bt)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePayload(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/row")
}

func BenchmarkColumnsOf(b *testing.B) {
	bt := &batch{tbl: tblApplied}
	for i := range 10_000 {
		bt.applied = append(bt.applied, appliedRow(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		columnsOf(bt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/row")
}
