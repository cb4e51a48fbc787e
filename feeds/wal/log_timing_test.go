package wal

import (
	"log/slog"
	"path/filepath"
	"testing"
)

// Benchmarks run on the real file system (b.TempDir) with default options,
// 300-byte records: about the size of one credit event as NDJSON.

const benchRecordSize = 300

func benchOpen(b *testing.B) *Log {
	b.Helper()
	l, err := Open(filepath.Join(b.TempDir(), "wal"), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

func benchAppend(b *testing.B, syncEvery int) {
	l := benchOpen(b)
	rec := payload(1, benchRecordSize)
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
		i++
		if syncEvery > 0 && i%syncEvery == 0 {
			if err := l.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := l.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(l.Stats().Syncs), "fsyncs")
}

// BenchmarkAppendNoSync measures encoding and buffered writing alone.
func BenchmarkAppendNoSync(b *testing.B) { benchAppend(b, 0) }

// BenchmarkAppendSync1000 syncs every 1,000 records: batched acknowledgement.
func BenchmarkAppendSync1000(b *testing.B) { benchAppend(b, 1000) }

// BenchmarkAppendSync1 syncs after every record: the cost of one
// acknowledged event when nothing else is in flight.
func BenchmarkAppendSync1(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendSync1Parallel has many goroutines each appending one record
// and syncing it, as concurrent HTTP requests do: group commit at work.
func BenchmarkAppendSync1Parallel(b *testing.B) {
	l := benchOpen(b)
	rec := payload(1, benchRecordSize)
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(rec); err != nil {
				b.Error(err)
				return
			}
			if err := l.Sync(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	st := l.Stats()
	b.ReportMetric(float64(st.Next)/float64(max(st.Syncs, 1)), "records/fsync")
}

// BenchmarkReplay replays 64 MiB of 300-byte records (two segments' worth of
// files at 32 MiB each, warm in the page cache); each iteration is one full
// replay.
func BenchmarkReplay(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "wal")
	opts := Options{Logger: slog.New(slog.DiscardHandler), SegmentSize: 32 << 20}
	l, err := Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := payload(1, benchRecordSize)
	const n = (64 << 20) / (benchRecordSize + recordHeaderSize)
	for range n {
		if _, err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n * benchRecordSize)
	b.ReportAllocs()
	var sum int
	for b.Loop() {
		count := 0
		if err := l.Replay(0, func(_ Position, r []byte) error {
			count++
			sum += int(r[0])
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("replayed %d records, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendCPU is BenchmarkAppendNoSync on a file system that discards
// writes: the CPU cost of Append (lock, CRC, copy into the buffer, rollover
// bookkeeping) without the disk.
func BenchmarkAppendCPU(b *testing.B) {
	l, err := Open("/wal", Options{FS: discardFS{NewMemFS()}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := payload(1, benchRecordSize)
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// discardFS creates files that throw their writes away.
type discardFS struct{ *MemFS }

type discardFile struct{ File }

func (d discardFS) Create(name string) (File, error) {
	f, err := d.MemFS.Create(name)
	return discardFile{f}, err
}

func (discardFile) Write(p []byte) (int, error) { return len(p), nil }
func (discardFile) Sync() error                 { return nil }
