package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/creditrisk/creditd/models/deadletter"
)

// listState is a State for tests: per key, the ids applied in order.
// Values are "id" (applied once; again: duplicate) or "BAD..." (rejected).
// Every applied id emits an output record.
type listState struct {
	mu   sync.Mutex
	keys map[string][]string
	seen map[string]bool
	out  string
}

func newListState(out string) NewState {
	return func(int) (State, error) {
		return &listState{keys: map[string][]string{}, seen: map[string]bool{}, out: out}, nil
	}
}

func (s *listState) Apply(m *Message, emit Emit) Result {
	v := string(m.Value)
	if strings.HasPrefix(v, "BAD") {
		return Result{Outcome: Rejected, Reason: "bad_value", Detail: "test rejection", EventID: v}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[v] {
		return Result{Outcome: Duplicate}
	}
	s.seen[v] = true
	s.keys[string(m.Key)] = append(s.keys[string(m.Key)], v)
	emit(Output{Topic: s.out, Key: []byte(string(m.Key)), Value: []byte("applied " + v)})
	return Result{Outcome: Applied}
}

func (s *listState) Tick(time.Time, Emit) {}

type listSnap struct {
	Offset int64
	Keys   map[string][]string
}

func (s *listState) WriteSnapshot(w io.Writer, offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.NewEncoder(w).Encode(listSnap{offset, s.keys})
}

func (s *listState) ReadSnapshot(r io.Reader) (int64, error) {
	var ls listSnap
	if err := json.NewDecoder(r).Decode(&ls); err != nil {
		return 0, err
	}
	// Consume the trailing newline so that the whole snapshot is read.
	_, _ = io.Copy(io.Discard, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.seen = map[string][]string{}, map[string]bool{}
	for k, ids := range ls.Keys {
		s.keys[k] = ids
		for _, id := range ids {
			s.seen[id] = true
		}
	}
	return ls.Offset, nil
}

func (s *listState) Entities() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func (s *listState) copyKeys() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for k, v := range s.keys {
		out[k] = append([]string(nil), v...)
	}
	return out
}

const (
	testTopic = "src"
	testOut   = "out"
	testParts = 6
)

func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(testParts, testTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("KAFKA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func testOptions(t *testing.T, c *kfake.Cluster, addr string) Options {
	return Options{Brokers: c.ListenAddrs(), Topic: testTopic, Group: "g", DeadLetterTopic: "src.dlq",
		OutputTopics: []string{testOut}, AdvertiseAddr: addr, SessionTimeout: 6 * time.Second,
		HeartbeatInterval: 300 * time.Millisecond, RebalanceTimeout: 10 * time.Second, CommitInterval: 100 * time.Millisecond,
		FetchMaxWait: 100 * time.Millisecond, SnapshotEvents: 40, SnapshotChunkBytes: 1024, Logger: testLogger(t)}
}

// member is a running Manager.
type member struct {
	m      *Manager
	cancel context.CancelFunc
	done   chan error
}

func startMember(t *testing.T, o Options) *member {
	t.Helper()
	m, err := New(o, newListState(testOut))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	mb := &member{m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { mb.done <- m.Run(ctx, 10*time.Second) }()
	t.Cleanup(func() { mb.stop(t) })
	return mb
}

func (mb *member) stop(t *testing.T) {
	if mb.cancel == nil {
		return
	}
	mb.cancel()
	mb.cancel = nil
	select {
	case err := <-mb.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("Run did not return")
	}
}

// produce writes records keyed by the CRC32 partitioner.
func produce(t *testing.T, c *kfake.Cluster, topic string, recs []Record) {
	t.Helper()
	w := &kafkago.Writer{Addr: kafkago.TCP(c.ListenAddrs()...), Topic: topic, Balancer: kafkago.CRC32Balancer{Consistent: true},
		BatchTimeout: time.Millisecond, RequiredAcks: kafkago.RequireAll}
	defer w.Close()
	msgs := make([]kafkago.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafkago.Message{Key: r.Key, Value: r.Value}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// stream makes n records over k keys; every 17th is bad; every 23rd
// repeats the key's previous id (a duplicate).
func stream(from, n, k int) (recs []Record, want map[string][]string, bad int) {
	want = map[string][]string{}
	last := map[string]string{}
	for i := from; i < from+n; i++ {
		key := fmt.Sprintf("key-%03d", i%k)
		var v string
		switch {
		case i%17 == 0:
			v = fmt.Sprintf("BAD-%d", i)
			bad++
		case i%23 == 0 && last[key] != "":
			v = last[key]
		default:
			v = fmt.Sprintf("id-%d", i)
			want[key] = append(want[key], v)
			last[key] = v
		}
		recs = append(recs, Record{Key: []byte(key), Value: []byte(v)})
	}
	return recs, want, bad
}

func merge(dst, src map[string][]string) {
	for k, v := range src {
		dst[k] = append(dst[k], v...)
	}
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// caughtUp reports whether the members together hold every partition live
// and applied to the topic's current end, with everything committed.
func caughtUp(ms ...*member) bool {
	if len(ms) == 0 {
		return false
	}
	ends := map[int]int64{}
	for p := range testParts {
		_, last, err := ms[0].m.offsetRange(context.Background(), testTopic, p)
		if err != nil {
			return false
		}
		ends[p] = last
	}
	held := map[int]bool{}
	for _, mb := range ms {
		st := mb.m.Status()
		if !st.Ready {
			return false
		}
		for _, p := range st.Held {
			if p.Phase != "live" || p.Position < ends[p.Partition] || p.Committed < p.Position {
				return false
			}
			held[p.Partition] = true
		}
	}
	return len(held) == testParts
}

// union collects the members' states.
func union(ms ...*member) map[string][]string {
	out := map[string][]string{}
	for _, mb := range ms {
		for _, st := range mb.m.States() {
			merge(out, st.(*listState).copyKeys())
		}
	}
	return out
}

func sameState(t *testing.T, got, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("state has %d keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(w) {
			t.Fatalf("key %s: %v, want %v", k, got[k], w)
		}
	}
}

// readTopic reads every record of a topic.
func readTopic(t *testing.T, c *kfake.Cluster, topic string) []kafkago.Message {
	t.Helper()
	tr := &kafkago.Transport{} // a fresh metadata cache: the topic may be new
	defer tr.CloseIdleConnections()
	cl := &kafkago.Client{Addr: kafkago.TCP(c.ListenAddrs()...), Transport: tr}
	n, err := partitionCount(context.Background(), cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []kafkago.Message
	m := &Manager{cl: cl}
	for p := range n {
		var b fetchedBatch
		first, _, err := m.offsetRange(context.Background(), topic, p)
		if err != nil {
			t.Fatal(err)
		}
		for off := first; ; {
			if err := fetchInto(context.Background(), cl, topic, p, off, 1<<20, 10*time.Millisecond, &b); err != nil {
				t.Fatal(err)
			}
			for i := range b.recs {
				r := &b.recs[i]
				out = append(out, kafkago.Message{Partition: p, Offset: r.offset, Key: append([]byte(nil), b.key(r)...),
					Value: append([]byte(nil), b.value(r)...)})
			}
			if b.next >= b.hwm || b.next == off {
				break
			}
			off = b.next
		}
	}
	return out
}

func TestApplyDeadLetterAndOutputs(t *testing.T) {
	c := newCluster(t)
	recs, want, bad := stream(0, 600, 40)
	// A record without a key and one on the wrong partition.
	produce(t, c, testTopic, recs)
	mb := startMember(t, testOptions(t, c, "127.0.0.1:1"))
	cl := &kafkago.Client{Addr: kafkago.TCP(c.ListenAddrs()...)}
	if _, err := cl.Produce(context.Background(), &kafkago.ProduceRequest{Topic: testTopic, Partition: 0,
		Records: kafkago.NewRecordReader(kafkago.Record{Value: kafkago.NewBytes([]byte("no key"))})}); err != nil {
		t.Fatal(err)
	}
	misplaced := []byte("key-001")
	wrong := ((CRC32{}).Partition(misplaced, testParts) + 1) % testParts
	if _, err := cl.Produce(context.Background(), &kafkago.ProduceRequest{Topic: testTopic, Partition: wrong,
		Records: kafkago.NewRecordReader(kafkago.Record{Key: kafkago.NewBytes(misplaced), Value: kafkago.NewBytes([]byte("id-misplaced"))})}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all applied", 30*time.Second, func() bool { return caughtUp(mb) })
	sameState(t, union(mb), want)

	letters := readTopic(t, c, "src.dlq")
	if len(letters) != bad+2 {
		t.Fatalf("%d dead letters, want %d", len(letters), bad+2)
	}
	reasons := map[string]int{}
	for _, m := range letters {
		var l deadletter.Letter
		if err := json.Unmarshal(m.Value, &l); err != nil {
			t.Fatalf("dead letter %s: %v", m.Value, err)
		}
		reasons[l.Reason]++
		if !strings.HasPrefix(l.Source, "kafka:src/") || len(l.Original) == 0 {
			t.Fatalf("letter %+v", l)
		}
	}
	if reasons["bad_value"] != bad || reasons[ReasonMissingKey] != 1 || reasons[ReasonWrongPartition] != 1 {
		t.Fatalf("reasons %v", reasons)
	}
	outs := readTopic(t, c, testOut)
	n := 0
	for _, ids := range want {
		n += len(ids)
	}
	if len(outs) != n {
		t.Fatalf("%d outputs, want %d", len(outs), n)
	}
	for _, o := range outs {
		if (CRC32{}).Partition(o.Key, testParts) != o.Partition {
			t.Fatalf("output keyed %s on partition %d", o.Key, o.Partition)
		}
	}
	st := mb.m.Status()
	if st.Snapshots == 0 {
		t.Errorf("no snapshots written (SnapshotEvents 40): %+v", st)
	}
}

func TestTwoMembersSplitAndHandOver(t *testing.T) {
	c := newCluster(t)
	recs, want, _ := stream(0, 400, 50)
	produce(t, c, testTopic, recs)
	a := startMember(t, testOptions(t, c, "127.0.0.1:1"))
	waitFor(t, "a caught up", 30*time.Second, func() bool { return caughtUp(a) })
	b := startMember(t, testOptions(t, c, "127.0.0.1:2"))
	waitFor(t, "the partitions split", 30*time.Second, func() bool {
		sa, sb := a.m.Status(), b.m.Status()
		return sa.Ready && sb.Ready && len(sa.Held) == testParts/2 && len(sb.Held) == testParts/2
	})
	// Both see the same owners, with the advertised addresses.
	waitFor(t, "owners described", 10*time.Second, func() bool {
		for p := range testParts {
			oa, ok1 := a.m.Owner(p)
			ob, ok2 := b.m.Owner(p)
			_, pha := a.m.Lookup(p)
			if !ok1 || !ok2 || oa.Addr != ob.Addr || (pha == PhaseLive) != (oa.Addr == "127.0.0.1:1") {
				return false
			}
		}
		return true
	})
	recs2, want2, _ := stream(400, 400, 50)
	merge(want, want2)
	produce(t, c, testTopic, recs2)
	waitFor(t, "both caught up", 30*time.Second, func() bool { return caughtUp(a, b) })
	sameState(t, union(a, b), want)

	// b leaves gracefully: it snapshots and commits; a restores b's
	// partitions from those snapshots (nothing to replay).
	b.stop(t)
	recs3, want3, _ := stream(800, 200, 50)
	merge(want, want3)
	produce(t, c, testTopic, recs3)
	waitFor(t, "a took over", 40*time.Second, func() bool { return caughtUp(a) })
	sameState(t, union(a), want)
	restoredFromSnapshot := 0
	for _, p := range a.m.Status().Held {
		if p.RestoreBytesTotal > 0 {
			restoredFromSnapshot++
		}
	}
	if restoredFromSnapshot != testParts/2 {
		t.Errorf("%d partitions restored from a snapshot, want %d", restoredFromSnapshot, testParts/2)
	}
}

// A member that stops without its final commit (as after a crash) loses
// nothing: its successor restores the last committed snapshot and replays
// the rest.
func TestCrashRestoresFromSnapshotAndReplays(t *testing.T) {
	c := newCluster(t)
	recs, want, _ := stream(0, 500, 30)
	produce(t, c, testTopic, recs)
	o := testOptions(t, c, "127.0.0.1:1")
	o.CommitInterval = 50 * time.Millisecond
	a := startMember(t, o)
	waitFor(t, "a caught up", 30*time.Second, func() bool { return caughtUp(a) })
	a.m.crash.Store(true)
	recs2, want2, _ := stream(500, 300, 30)
	merge(want, want2)
	produce(t, c, testTopic, recs2)
	time.Sleep(300 * time.Millisecond)
	a.stop(t)
	b := startMember(t, testOptions(t, c, "127.0.0.1:2"))
	waitFor(t, "b caught up", 40*time.Second, func() bool { return caughtUp(b) })
	sameState(t, union(b), want)
	replayed := false
	for _, p := range b.m.Status().Held {
		replayed = replayed || p.ReplayTo > p.ReplayFrom
	}
	if !replayed {
		t.Log("note: nothing had to be replayed")
	}
	// Outputs: nothing lost; those after a's last commit may repeat.
	seen := map[string]bool{}
	for _, m := range readTopic(t, c, testOut) {
		seen[string(m.Value)] = true
	}
	for _, ids := range want {
		for _, id := range ids {
			if !seen["applied "+id] {
				t.Fatalf("output for %s lost", id)
			}
		}
	}
}

func TestSnapshotRoundTripThroughTopic(t *testing.T) {
	c := newCluster(t)
	m, err := New(testOptions(t, c, ""), newListState(testOut))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ensureTopics(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := newListState(testOut)(0)
	ls := st.(*listState)
	for i := range 500 {
		ls.keys[fmt.Sprintf("k%d", i)] = []string{strings.Repeat("x", i%50)}
	}
	var buf strings.Builder
	if err := ls.WriteSnapshot(&buf, 1234); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ptr, err := m.snaps.upload(ctx, 2, []byte(buf.String()), 1234, len(ls.keys))
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Chunks < 10 {
		t.Fatalf("want many 1 KiB chunks, got %d", ptr.Chunks)
	}
	st2, _ := newListState(testOut)(0)
	off, err := m.snaps.load(ctx, 2, ptr, st2, nil)
	if err != nil || off != 1234 {
		t.Fatalf("load: %d, %v", off, err)
	}
	sameState(t, st2.(*listState).copyKeys(), ls.copyKeys())
	// A damaged pointer is refused.
	bad := *ptr
	bad.CRC++
	if _, err := m.snaps.load(ctx, 2, &bad, st2, nil); err == nil {
		t.Fatal("a pointer with a wrong CRC loaded")
	}
	// The scan finds it; once tombstoned, it does not.
	first, last, _ := m.offsetRange(ctx, m.opts.SnapshotTopic, 2)
	found, err := m.snaps.scan(ctx, 2, first, last)
	if err != nil || len(found) != 1 || found[0].ID != ptr.ID {
		t.Fatalf("scan: %v, %v", found, err)
	}
	if err := m.snaps.tombstone(ctx, 2, ptr); err != nil {
		t.Fatal(err)
	}
	first, last, _ = m.offsetRange(ctx, m.opts.SnapshotTopic, 2)
	found, err = m.snaps.scan(ctx, 2, first, last)
	if err != nil || len(found) != 0 {
		t.Fatalf("scan after tombstone: %v, %v", found, err)
	}
	// Compaction leaves the last batch alone, as Kafka leaves the active
	// segment: add one more record before compacting.
	if _, err := m.snaps.produce(ctx, 2, []kafkago.Record{{Key: kafkago.NewBytes([]byte("other"))}}, 0); err != nil {
		t.Fatal(err)
	}
	c.Compact()
	if _, err := m.snaps.load(ctx, 2, ptr, st2, nil); err == nil {
		t.Fatal("a compacted snapshot loaded")
	}
	for _, r := range readTopic(t, c, m.opts.SnapshotTopic) {
		if len(r.Value) > 0 {
			t.Fatalf("compaction left %s with a value", r.Key)
		}
	}
}

// kfake, like Apache Kafka, refuses session timeouts under 6s; kafka-go
// would retry forever, Run reports it.
func TestSessionTimeoutRefused(t *testing.T) {
	c := newCluster(t)
	o := testOptions(t, c, "")
	o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
	m, err := New(o, newListState(testOut))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = m.Run(ctx, time.Second)
	if err == nil || !strings.Contains(err.Error(), "session timeout") {
		t.Fatalf("Run: %v", err)
	}
}
