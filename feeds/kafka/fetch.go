package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// Fetch path design.
//
// Each owned partition has a fetcher goroutine and an applier goroutine.
// The fetcher issues one Fetch at a time (kafka-go's Client.Fetch, the
// protocol-level API: one request per partition, up to FetchMaxBytes,
// broker-side wait up to FetchMaxWait) and copies the records' keys and
// values into a batch arena: one reusable byte slice plus a slice of
// fixed-size record descriptors. kafka-go's Reader would allocate a key, a
// value and a Message per record and pass each through a channel; here a
// fetch costs a few allocations in kafka-go's decoder and nothing per
// record. Because the fetcher knows where a batch ends as soon as it has
// copied it, it fetches the next batch while the applier works on this
// one (three batches circulate: one being filled, one queued, one being
// applied).

// rec describes one record of a fetchedBatch.
type rec struct {
	offset int64
	timeMs int64
	keyOff uint32
	keyLen int32 // -1: null key
	valOff uint32
	valLen int32 // -1: null value
}

// fetchedBatch is the content of one fetch.
type fetchedBatch struct {
	recs     []rec
	data     []byte
	hwm      int64 // high watermark when fetched
	logStart int64
	next     int64 // offset to fetch after this batch
	fetched  time.Time
}

func (b *fetchedBatch) key(r *rec) []byte {
	if r.keyLen < 0 {
		return nil
	}
	return b.data[r.keyOff : r.keyOff+uint32(r.keyLen)]
}

func (b *fetchedBatch) value(r *rec) []byte {
	if r.valLen < 0 {
		return nil
	}
	return b.data[r.valOff : r.valOff+uint32(r.valLen)]
}

// readBytes appends the content of a record's key or value to dst.
func readBytes(dst []byte, b protocol.Bytes) ([]byte, int32, error) {
	if b == nil {
		return dst, -1, nil
	}
	n := b.Len()
	start := len(dst)
	dst = append(dst, make([]byte, n)...) // amortised growth: no allocation once the arena has grown
	_, err := io.ReadFull(b, dst[start:])
	_ = b.Close()
	return dst, int32(n), err
}

// fetchInto fetches from offset into b (reset first). It returns the
// number of records copied. Control batches (transaction markers) are
// skipped by kafka-go.
func fetchInto(ctx context.Context, cl *kafkago.Client, topic string, partition int, offset int64, maxBytes int, maxWait time.Duration, b *fetchedBatch) error {
	b.recs, b.data = b.recs[:0], b.data[:0]
	b.next = offset
	resp, err := cl.Fetch(ctx, &kafkago.FetchRequest{Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: int64(maxBytes), MaxWait: maxWait})
	if err != nil {
		return err
	}
	b.hwm, b.logStart, b.fetched = resp.HighWatermark, resp.LogStartOffset, time.Now()
	if resp.Error != nil {
		drain(resp.Records)
		return resp.Error
	}
	for {
		r, err := resp.Records.ReadRecord()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			drain(resp.Records)
			if len(b.recs) > 0 {
				return nil // keep what was read; the next fetch retries from there
			}
			return fmt.Errorf("reading fetched records: %w", err)
		}
		if r.Offset < offset { // a batch may start before the requested offset
			closeBytes(r.Key)
			closeBytes(r.Value)
			continue
		}
		var x rec
		x.offset = r.Offset
		if !r.Time.IsZero() {
			x.timeMs = r.Time.UnixMilli()
		}
		x.keyOff = uint32(len(b.data))
		if b.data, x.keyLen, err = readBytes(b.data, r.Key); err != nil {
			closeBytes(r.Value)
			return err
		}
		x.valOff = uint32(len(b.data))
		if b.data, x.valLen, err = readBytes(b.data, r.Value); err != nil {
			return err
		}
		b.recs = append(b.recs, x)
		b.next = r.Offset + 1
	}
	if len(b.recs) == 0 && b.next < b.hwm {
		// Nothing at or after offset in what came back although the log
		// goes on: the records there were compacted away or are
		// transaction markers. Step past one offset; offsets that do not
		// exist are never returned.
		b.next = offset + 1
	}
	return nil
}

func closeBytes(b protocol.Bytes) {
	if b != nil {
		_ = b.Close()
	}
}

// drain releases the pages of unread records.
func drain(rr kafkago.RecordReader) {
	if rr == nil {
		return
	}
	for {
		r, err := rr.ReadRecord()
		if err != nil {
			return
		}
		closeBytes(r.Key)
		closeBytes(r.Value)
	}
}
