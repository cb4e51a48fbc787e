package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Snapshots design.
//
// A partition's state moves between instances as a snapshot in the
// snapshot topic (compacted, co-partitioned with the source: snapshot
// partition p holds source partition p's snapshots, produced with an
// explicit partition), plus the source topic itself from the snapshot's
// offset on: the source is the changelog. This is Kafka Streams' "source
// topic as changelog" with periodic checkpoints instead of a per-key
// changelog: applying an event costs no extra write, and a restore reads
// the state at memory speed and replays at most SnapshotEvents messages.
//
// A snapshot is the State's serialized bytes cut into chunk records keyed
// "s/<partition>/<id>/<index>", followed by a manifest record keyed
// "s/<partition>/<id>/m" that names the snapshot's source offset, its
// chunks' offsets, size and CRC-32C. Each snapshot has a fresh random id,
// so no snapshot can overwrite another's records, whoever writes it (a
// paused former owner included). The offset commit of source partition p
// carries, in its metadata, a pointer to the newest snapshot whose offset
// is at or below the committed offset: restoring reads that manifest and
// those chunks directly. Once a commit names a newer snapshot, the older
// one's records are tombstoned and compaction removes them. If the pointer
// is missing or its records are gone, the restore scans the snapshot
// partition for the newest complete snapshot.

// snapPointer locates a snapshot; it is the offset commit's metadata.
type snapPointer struct {
	ID       string `json:"id"`
	Offset   int64  `json:"offset"`   // next source offset the snapshot reflects
	Manifest int64  `json:"manifest"` // offset of the manifest record
	First    int64  `json:"first"`    // offset of chunk 0
	Last     int64  `json:"last"`     // offset of the last chunk
	Chunks   int    `json:"chunks"`
	Bytes    int64  `json:"bytes"`
	CRC      uint32 `json:"crc32c"`
}

// manifest is the manifest record's value.
type manifest struct {
	V         int    `json:"v"`
	Partition int    `json:"partition"`
	Topic     string `json:"topic"`
	snapPointer
	Entities int       `json:"entities"`
	Created  time.Time `json:"created"`
	Writer   string    `json:"writer,omitempty"`
}

// commitMeta is the offset commit metadata.
type commitMeta struct {
	V    int          `json:"v"`
	Snap *snapPointer `json:"snap,omitempty"`
}

func (m commitMeta) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func parseCommitMeta(s string) (commitMeta, bool) {
	var m commitMeta
	if s == "" || json.Unmarshal([]byte(s), &m) != nil || m.V != 1 {
		return commitMeta{}, false
	}
	return m, true
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func compressionCodec(name string) (kafkago.Compression, error) {
	switch strings.ToLower(name) {
	case "none", "":
		return 0, nil
	case "lz4":
		return kafkago.Lz4, nil
	case "snappy":
		return kafkago.Snappy, nil
	case "zstd":
		return kafkago.Zstd, nil
	case "gzip":
		return kafkago.Gzip, nil
	}
	return 0, fmt.Errorf("kafka: unknown compression %q (none, lz4, snappy, zstd, gzip)", name)
}

// snapStore writes and reads snapshots.
type snapStore struct {
	cl         *kafkago.Client
	topic      string // the snapshot topic
	source     string // the source topic (for the manifest)
	chunk      int
	codec      kafkago.Compression
	fetchBytes int
	writer     string
	now        func() time.Time
}

func snapPrefix(p int, id string) string { return "s/" + strconv.Itoa(p) + "/" + id + "/" }

func newSnapID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *snapStore) produce(ctx context.Context, p int, recs []kafkago.Record, codec kafkago.Compression) (int64, error) {
	res, err := s.cl.Produce(ctx, &kafkago.ProduceRequest{Topic: s.topic, Partition: p, RequiredAcks: kafkago.RequireAll,
		Records: kafkago.NewRecordReader(recs...), Compression: codec})
	if err == nil && res.Error != nil {
		err = res.Error
	}
	if err != nil {
		return 0, fmt.Errorf("producing to %s/%d: %w", s.topic, p, err)
	}
	return res.BaseOffset, nil
}

// upload writes data (a State snapshot at source offset offset) as chunks
// and a manifest, each acknowledged by all in-sync replicas, and returns
// its pointer.
func (s *snapStore) upload(ctx context.Context, p int, data []byte, offset int64, entities int) (*snapPointer, error) {
	id := newSnapID()
	prefix := snapPrefix(p, id)
	ptr := &snapPointer{ID: id, Offset: offset, Bytes: int64(len(data)), CRC: crc32.Checksum(data, castagnoli), First: -1}
	now := s.now()
	for i := 0; i == 0 || len(data) > 0; i++ {
		n := min(len(data), s.chunk)
		key := prefix + fmt.Sprintf("%06d", i)
		off, err := s.produce(ctx, p, []kafkago.Record{{Time: now, Key: kafkago.NewBytes([]byte(key)), Value: kafkago.NewBytes(data[:n])}}, s.codec)
		if err != nil {
			return nil, err
		}
		if ptr.First < 0 {
			ptr.First = off
		}
		ptr.Last = off
		ptr.Chunks++
		data = data[n:]
	}
	m := manifest{V: 1, Partition: p, Topic: s.source, snapPointer: *ptr, Entities: entities, Created: now.UTC(), Writer: s.writer}
	val, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	off, err := s.produce(ctx, p, []kafkago.Record{{Time: now, Key: kafkago.NewBytes([]byte(prefix + "m")), Value: kafkago.NewBytes(val)}}, 0)
	if err != nil {
		return nil, err
	}
	ptr.Manifest = off
	return ptr, nil
}

// tombstone deletes a snapshot's records (compaction removes them).
func (s *snapStore) tombstone(ctx context.Context, p int, ptr *snapPointer) error {
	prefix := snapPrefix(p, ptr.ID)
	now := s.now()
	recs := make([]kafkago.Record, 0, ptr.Chunks+1)
	for i := 0; i < ptr.Chunks; i++ {
		recs = append(recs, kafkago.Record{Time: now, Key: kafkago.NewBytes([]byte(prefix + fmt.Sprintf("%06d", i)))})
	}
	recs = append(recs, kafkago.Record{Time: now, Key: kafkago.NewBytes([]byte(prefix + "m"))})
	for len(recs) > 0 {
		n := min(len(recs), 1000)
		if _, err := s.produce(ctx, p, recs[:n], 0); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// errSnapshotMissing reports a snapshot whose records are not (all) there.
var errSnapshotMissing = errors.New("snapshot records missing")

// load restores the snapshot ptr of partition p into st and returns the
// source offset it reflects. progress is called with the bytes read so far.
func (s *snapStore) load(ctx context.Context, p int, ptr *snapPointer, st State, progress func(int64)) (int64, error) {
	// The manifest confirms that the pointer names a complete snapshot.
	var b fetchedBatch
	if err := fetchInto(ctx, s.cl, s.topic, p, ptr.Manifest, s.fetchBytes, 100*time.Millisecond, &b); err != nil {
		return 0, err
	}
	if len(b.recs) == 0 || b.recs[0].offset != ptr.Manifest || string(b.key(&b.recs[0])) != snapPrefix(p, ptr.ID)+"m" {
		return 0, fmt.Errorf("%w: no manifest of snapshot %s at offset %d", errSnapshotMissing, ptr.ID, ptr.Manifest)
	}
	var m manifest
	if err := json.Unmarshal(b.value(&b.recs[0]), &m); err != nil || m.snapPointer.ID != ptr.ID || m.Offset != ptr.Offset ||
		m.CRC != ptr.CRC || m.Bytes != ptr.Bytes || m.Chunks != ptr.Chunks || m.First != ptr.First || m.Last != ptr.Last {
		return 0, fmt.Errorf("%w: the manifest of snapshot %s does not match its pointer", errSnapshotMissing, ptr.ID)
	}
	cr := &chunkReader{s: s, ctx: ctx, p: p, ptr: ptr, prefix: snapPrefix(p, ptr.ID), next: ptr.First, progress: progress}
	off, err := st.ReadSnapshot(cr)
	if err == nil {
		err = cr.finish()
	} else if cr.err != nil {
		err = cr.err
	}
	if err != nil {
		return 0, fmt.Errorf("snapshot %s of partition %d: %w", ptr.ID, p, err)
	}
	if off != ptr.Offset {
		return 0, fmt.Errorf("snapshot %s of partition %d is at offset %d, its manifest says %d", ptr.ID, p, off, ptr.Offset)
	}
	return off, nil
}

// chunkReader streams a snapshot's chunks in order and checks them.
type chunkReader struct {
	s        *snapStore
	ctx      context.Context
	p        int
	ptr      *snapPointer
	prefix   string
	b        fetchedBatch
	i        int   // index into b.recs
	next     int64 // next offset to fetch
	chunk    int   // next chunk index expected
	cur      []byte
	read     int64
	crc      uint32
	done     bool
	err      error
	progress func(int64)
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.done {
			return 0, io.EOF
		}
		c.err = c.advance()
	}
	n := copy(p, c.cur)
	c.crc = crc32.Update(c.crc, castagnoli, c.cur[:n])
	c.cur = c.cur[n:]
	c.read += int64(n)
	if c.progress != nil {
		c.progress(c.read)
	}
	return n, nil
}

// advance moves to the next chunk.
func (c *chunkReader) advance() error {
	for {
		for c.i < len(c.b.recs) {
			r := &c.b.recs[c.i]
			c.i++
			if r.offset > c.ptr.Last {
				break
			}
			k := c.b.key(r)
			if !bytes.HasPrefix(k, []byte(c.prefix)) {
				continue // another snapshot's record
			}
			idx, err := strconv.Atoi(string(k[len(c.prefix):]))
			if err != nil || idx != c.chunk || r.valLen < 0 {
				return fmt.Errorf("%w: chunk %d of %d out of order or deleted", errSnapshotMissing, c.chunk, c.ptr.Chunks)
			}
			c.chunk++
			c.cur = c.b.value(r)
			if c.chunk == c.ptr.Chunks {
				c.done = true
			}
			return nil
		}
		if c.next > c.ptr.Last {
			return fmt.Errorf("%w: found %d of %d chunks", errSnapshotMissing, c.chunk, c.ptr.Chunks)
		}
		if err := fetchInto(c.ctx, c.s.cl, c.s.topic, c.p, c.next, c.s.fetchBytes, 100*time.Millisecond, &c.b); err != nil {
			return err
		}
		c.i = 0
		if len(c.b.recs) == 0 && c.b.next <= c.next {
			return fmt.Errorf("%w: nothing at offset %d", errSnapshotMissing, c.next)
		}
		c.next = c.b.next
	}
}

// finish checks that the whole snapshot was read and matches its manifest.
func (c *chunkReader) finish() error {
	if len(c.cur) != 0 || !c.done {
		return fmt.Errorf("%w: the state did not read the whole snapshot", errSnapshotMissing)
	}
	if c.read != c.ptr.Bytes || c.crc != c.ptr.CRC {
		return fmt.Errorf("snapshot %s: %d bytes with CRC-32C %08x, the manifest says %d bytes, %08x", c.ptr.ID, c.read, c.crc, c.ptr.Bytes, c.ptr.CRC)
	}
	return nil
}

// scan reads the snapshot partition from its start and returns the
// pointers of complete-looking snapshots (manifests not tombstoned), newest
// source offset first.
func (s *snapStore) scan(ctx context.Context, p int, from, to int64) ([]*snapPointer, error) {
	found := map[string]*snapPointer{}
	var b fetchedBatch
	prefix := []byte("s/" + strconv.Itoa(p) + "/")
	for next := from; next < to; {
		if err := fetchInto(ctx, s.cl, s.topic, p, next, s.fetchBytes, 100*time.Millisecond, &b); err != nil {
			return nil, err
		}
		for i := range b.recs {
			r := &b.recs[i]
			k := b.key(r)
			if !bytes.HasPrefix(k, prefix) || !bytes.HasSuffix(k, []byte("/m")) {
				continue
			}
			id := string(k[len(prefix) : len(k)-2])
			if r.valLen < 0 {
				delete(found, id)
				continue
			}
			var m manifest
			if json.Unmarshal(b.value(r), &m) != nil || m.snapPointer.ID != id || m.Partition != p {
				continue
			}
			ptr := m.snapPointer
			ptr.Manifest = r.offset
			found[id] = &ptr
		}
		if b.next <= next {
			break
		}
		next = b.next
	}
	out := make([]*snapPointer, 0, len(found))
	for _, ptr := range found {
		out = append(out, ptr)
	}
	sortPointers(out)
	return out, nil
}

// sortPointers orders pointers newest first (source offset, then manifest
// offset).
func sortPointers(ps []*snapPointer) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && newer(ps[j], ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func newer(a, b *snapPointer) bool {
	if a.Offset != b.Offset {
		return a.Offset > b.Offset
	}
	return a.Manifest > b.Manifest
}
