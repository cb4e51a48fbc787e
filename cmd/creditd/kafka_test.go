package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/kafkamode"
	"github.com/creditrisk/creditd/feeds/deadletter"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/testenv"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

const kafkaTestParts = 12

// newKafkaCluster starts an in-process Kafka-protocol broker on a random
// loopback port with the events topic.
func newKafkaCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaTestParts, kf.DefaultTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// sharedTokens writes one tokens file into each data directory: every
// member of a group must accept the same tokens, since proxied requests
// carry the caller's.
func sharedTokens(t *testing.T, dirs ...string) {
	t.Helper()
	body := "regulator reg-" + strconv.FormatUint(rand.Uint64(), 16) + "-0123456789\n" +
		"source src-" + strconv.FormatUint(rand.Uint64(), 16) + "-0123456789\n" +
		"peer peer-" + strconv.FormatUint(rand.Uint64(), 16) + "-0123456789\n"
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "tokens"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func kafkaArgs(c *kfake.Cluster, data string, extra ...string) []string {
	return append([]string{"--tokens", filepath.Join(data, "tokens"), "--kafka-brokers", strings.Join(c.ListenAddrs(), ","),
		"--kafka-session-timeout", "6s", "--snapshot-events", "300"}, extra...)
}

// startKafkaService starts one creditd in Kafka mode on a new in-process
// broker and waits until it holds every partition; it returns the service
// and the broker addresses.
func startKafkaService(t *testing.T) (*service, []string) {
	c := newKafkaCluster(t)
	data := t.TempDir()
	sharedTokens(t, data)
	s := startService(t, data, kafkaArgs(c, data)...)
	waitUntil(t, "ready", 60*time.Second, func() bool {
		st, err := kafkaStatus(s.base)
		return err == nil && st.Ready && len(st.Held) == kafkaTestParts
	})
	return s, c.ListenAddrs()
}

// keyOf is the record key a producer uses: the event's USCC, or whatever
// the bad line has in its place.
func keyOf(line []byte) []byte {
	var v struct {
		USCC string `json:"uscc"`
	}
	if json.Unmarshal(line, &v) == nil && v.USCC != "" {
		if c, err := uscc.Parse(v.USCC); err == nil {
			return []byte(c.String())
		}
		return []byte(v.USCC)
	}
	return []byte("no-uscc")
}

// produceLines writes lines to the events topic with kafka-go's CRC32
// balancer, which places keys as librdkafka and kcat do.
func produceLines(t *testing.T, brokers []string, lines [][]byte) {
	t.Helper()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: kf.DefaultTopic, Balancer: kafkago.CRC32Balancer{Consistent: true},
		BatchTimeout: time.Millisecond, BatchSize: 1000, RequiredAcks: kafkago.RequireAll}
	defer w.Close()
	msgs := make([]kafkago.Message, len(lines))
	for i, l := range lines {
		msgs[i] = kafkago.Message{Key: keyOf(l), Value: l}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// endOffsets returns every partition's end offset of a topic.
func endOffsets(t *testing.T, brokers []string, topic string, n int) map[int]int64 {
	t.Helper()
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr}
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	for p := range n {
		req.Topics[topic] = append(req.Topics[topic], kafkago.LastOffsetOf(p))
	}
	res, err := cl.ListOffsets(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		out[po.Partition] = po.LastOffset
	}
	return out
}

// readAll reads every record of a topic.
func readAll(t *testing.T, brokers []string, topic string) []kafkago.Message {
	t.Helper()
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr}
	md, err := cl.Metadata(context.Background(), &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) == 0 {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	var out []kafkago.Message
	for _, p := range md.Topics[0].Partitions {
		for off := int64(0); ; {
			resp, err := cl.Fetch(context.Background(), &kafkago.FetchRequest{Topic: topic, Partition: p.ID, Offset: off,
				MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				r, err := resp.Records.ReadRecord()
				if err != nil {
					break
				}
				if r.Offset < off {
					continue
				}
				m := kafkago.Message{Topic: topic, Partition: p.ID, Offset: r.Offset}
				m.Key, _ = kafkago.ReadAll(r.Key)
				m.Value, _ = kafkago.ReadAll(r.Value)
				for _, h := range r.Headers {
					m.Headers = append(m.Headers, kafkago.Header(h))
				}
				out = append(out, m)
				off = r.Offset + 1
				n++
			}
			if n == 0 || off >= resp.HighWatermark {
				break
			}
		}
	}
	return out
}

// kafkaStatus reads a member's status.
func kafkaStatus(base string) (kf.Status, error) {
	var st kf.Status
	resp, err := http.Get(base + "/v1/kafka/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// caughtUpTo reports whether the members hold every partition live, at
// the given end offsets, with everything committed.
func caughtUpTo(ends map[int]int64, bases ...string) bool {
	held := map[int]bool{}
	for _, b := range bases {
		st, err := kafkaStatus(b)
		if err != nil || !st.Ready {
			return false
		}
		for _, p := range st.Held {
			if p.Phase != "live" || p.Position < ends[p.Partition] || p.Committed < p.Position {
				return false
			}
			held[p.Partition] = true
		}
	}
	return len(held) == kafkaTestParts
}

func mustParse(t *testing.T, s string) uscc.Code {
	t.Helper()
	c, err := uscc.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanReplay applies lines to one engine, as a single instance reading the
// whole stream would.
func cleanReplay(t *testing.T, lines [][]byte) (*scoring.Engine, map[uscc.Code]bool) {
	t.Helper()
	eng, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := event.Decoder{}
	codes := map[uscc.Code]bool{}
	now := time.Now()
	for _, l := range lines {
		var ev event.Event
		if d.Decode(l, &ev) != nil || string(keyOf(l)) != ev.USCC.String() {
			continue
		}
		if _, err := eng.ApplyAt(&ev, now, true, nil); err == nil {
			codes[ev.USCC] = true
		}
	}
	return eng, codes
}

// partitionExports is the clean replay's state as the per-partition event
// export shows it.
func partitionExports(t *testing.T, eng *scoring.Engine, codes map[uscc.Code]bool) map[int]string {
	t.Helper()
	sorted := make([]uscc.Code, 0, len(codes))
	for c := range codes {
		sorted = append(sorted, c)
	}
	slices.SortFunc(sorted, func(a, b uscc.Code) int { return strings.Compare(string(a[:]), string(b[:])) })
	out := map[int]*bytes.Buffer{}
	for _, c := range sorted {
		p := kf.CRC32{}.Partition(c[:], kafkaTestParts)
		if out[p] == nil {
			out[p] = &bytes.Buffer{}
		}
		lines, _ := eng.EntityEvents(c)
		for _, l := range lines {
			out[p].Write(l)
			out[p].WriteByte('\n')
		}
	}
	res := map[int]string{}
	for p, b := range out {
		res[p] = b.String()
	}
	return res
}

func getExport(t *testing.T, base, token string, p int) string {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/kafka/partitions/%d/events", base, p), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("export of partition %d: %d %s", p, resp.StatusCode, b.String())
	}
	return b.String()
}

// sameAsClean compares every partition's export from base with the clean
// replay: every event applied once, none lost, none twice.
func sameAsClean(t *testing.T, base, token string, want map[int]string) {
	t.Helper()
	for p := range kafkaTestParts {
		if got := getExport(t, base, token, p); got != want[p] {
			gl, wl := strings.Split(got, "\n"), strings.Split(want[p], "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("partition %d differs from a clean replay at line %d (%d vs %d lines):\n got %s\nwant %s",
						p, i+1, len(gl), len(wl), gl[i], wl[i])
				}
			}
			t.Fatalf("partition %d: %d lines, a clean replay has %d", p, len(gl), len(wl))
		}
	}
}

// Kafka mode in-process: consumption, dead letters, tier changes, two
// members splitting the partitions, queries answered for entities held by
// the other member, province-wide stats, POST /v1/events producing to the
// topic, draws refused on a partial member, a graceful hand-over.
func TestKafkaModeInProcess(t *testing.T) {
	c := newKafkaCluster(t)
	brokers := c.ListenAddrs()
	dataA, dataB := t.TempDir(), t.TempDir()
	sharedTokens(t, dataA, dataB)
	lines := genLines(t, 400, 300, 31, 0.02)
	produceLines(t, brokers, lines)
	a := startService(t, dataA, kafkaArgs(c, dataA)...)
	ends := endOffsets(t, brokers, kf.DefaultTopic, kafkaTestParts)
	waitUntil(t, "a caught up", 60*time.Second, func() bool { return caughtUpTo(ends, a.base) })

	b := startService(t, dataB, kafkaArgs(c, dataB)...)
	waitUntil(t, "the partitions split", 60*time.Second, func() bool {
		sa, err1 := kafkaStatus(a.base)
		sb, err2 := kafkaStatus(b.base)
		return err1 == nil && err2 == nil && sa.Ready && sb.Ready && len(sa.Held) == 6 && len(sb.Held) == 6 && caughtUpTo(ends, a.base, b.base)
	})

	clean, codes := cleanReplay(t, lines)
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	proxied := 0
	checkEntities := func(s *service) {
		t.Helper()
		for code := range codes {
			var resp *http.Response
			var body []byte
			waitUntil(t, "an answer for "+code.String(), 30*time.Second, func() bool {
				resp, body = s.do("GET", "/v1/entities/"+code.String()+"?records=1&as_of="+asOf.Format(time.RFC3339), api.RoleRegulator, nil)
				return resp.StatusCode != http.StatusServiceUnavailable
			})
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", code, resp.StatusCode, body)
			}
			if resp.Header.Get(kafkamode.HeaderServedBy) != strings.TrimPrefix(s.base, "http://") {
				proxied++
			}
			var e api.Entity
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			v, _ := clean.Entity(code, asOf, true)
			if got, want := fromAnswer(e), fromView(v); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s differs from a clean replay:\n got %+v\nwant %+v", code, got, want)
			}
		}
	}
	checkEntities(a)
	if proxied == 0 || proxied == len(codes) {
		t.Fatalf("%d of %d answers came from the other member", proxied, len(codes))
	}
	sameAsClean(t, b.base, b.tokens[api.RoleRegulator], partitionExports(t, clean, codes))

	// Province-wide tier stats from either member equal the clean replay's,
	// and are the very document local mode answers for the same events.
	want, err := clean.TierStats(context.Background(), asOf, "")
	if err != nil {
		t.Fatal(err)
	}
	local := startService(t, t.TempDir())
	local.postEvents(api.RoleSource, joinLines(lines))
	for _, q := range []string{"?as_of=" + asOf.Format(time.RFC3339), "?as_of=2025-06-30T16:00:00Z&region_prefix=37"} {
		var resp *http.Response
		var body []byte
		waitUntil(t, "province-wide stats", 30*time.Second, func() bool {
			resp, body = b.do("GET", "/v1/stats/tiers"+q, api.RoleRegulator, nil)
			return resp.StatusCode != http.StatusServiceUnavailable
		})
		_, localBody := local.do("GET", "/v1/stats/tiers"+q, api.RoleRegulator, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, localBody) {
			t.Fatalf("stats%s: Kafka mode %d\n%s\nlocal mode\n%s", q, resp.StatusCode, body, localBody)
		}
	}
	var ts api.TierStatsDoc
	_, statsBody := a.do("GET", "/v1/stats/tiers?as_of="+asOf.Format(time.RFC3339), api.RoleRegulator, nil)
	if err := json.Unmarshal(statsBody, &ts); err != nil {
		t.Fatal(err)
	}
	if ts.Entities != want.Entities || len(ts.Tiers) != len(want.Tiers) {
		t.Fatalf("stats: %d entities, want %d", ts.Entities, want.Entities)
	}
	adverse := 0
	for i, tier := range want.Tiers {
		got := ts.Tiers[i]
		adverse += got.Adverse
		if got.Entities != tier.Entities || got.Inspections != tier.Inspections || got.ProblemsFound != tier.Found ||
			got.Adverse != tier.Adverse || (got.Inspections > 0) != (got.AdverseRateBP != nil) {
			t.Fatalf("tier %s: %+v, want %+v", tier.Tier, got, tier)
		}
	}
	if adverse == 0 {
		t.Fatal("no adverse inspections: the comparison proves nothing")
	}

	// A draw needs the whole province.
	resp, body := a.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(`{}`))
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("draw on a partial member: %d %s", resp.StatusCode, body)
	}

	// Dead letters: every bad line, with its original bytes and position.
	letters := readAll(t, brokers, kf.DefaultDeadLetterTopic)
	bad := 0
	var dec event.Decoder
	for _, l := range lines {
		var ev event.Event
		if dec.Decode(l, &ev) != nil {
			bad++
		}
	}
	if bad == 0 || len(letters) < bad {
		t.Fatalf("%d dead letters for %d undecodable lines", len(letters), bad)
	}
	for _, m := range letters {
		var l deadletter.Letter
		if err := json.Unmarshal(m.Value, &l); err != nil || !strings.HasPrefix(l.Source, "kafka:credit.events/") || l.Reason == "" {
			t.Fatalf("dead letter %s: %v", m.Value, err)
		}
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if hs["creditd.source.offset"] == "" || hs["creditd.reason"] != l.Reason {
			t.Fatalf("dead letter headers %v", hs)
		}
	}

	// Tier changes (not first tiers): keyed by USCC, on the key's partition.
	tiers := readAll(t, brokers, kf.DefaultTiersTopic)
	if len(tiers) == 0 || len(tiers) > len(lines) {
		t.Fatalf("%d tier changes for %d events", len(tiers), len(lines))
	}
	for _, m := range tiers {
		var tc struct {
			USCC    string  `json:"uscc"`
			OldTier *string `json:"old_tier"`
			NewTier *string `json:"new_tier"`
			At      string  `json:"at"`
			Cause   string  `json:"cause"`
		}
		if err := json.Unmarshal(m.Value, &tc); err != nil || tc.USCC != string(m.Key) || tc.OldTier == nil ||
			tc.Cause == "" || tc.At == "" || !codes[mustParse(t, tc.USCC)] {
			t.Fatalf("tier change %s: %v", m.Value, err)
		}
		if (kf.CRC32{}).Partition(m.Key, kafkaTestParts) != m.Partition {
			t.Fatalf("tier change for %s on partition %d", m.Key, m.Partition)
		}
	}

	// POST /v1/events produces to the topic; the owners apply.
	more := genLines(t, 60, 30, 99, 0)
	body2 := append(joinLines(more), []byte("{not json}\n")...)
	resp, body = b.do("POST", "/v1/events", api.RoleSource, bytes.NewReader(body2))
	var acc struct {
		Accepted int                `json:"accepted"`
		Rejected []ingest.Rejection `json:"rejected"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &acc) != nil || acc.Accepted != len(more) || len(acc.Rejected) != 1 {
		t.Fatalf("POST /v1/events: %d %s", resp.StatusCode, body)
	}
	lines = append(lines, more...)
	ends = endOffsets(t, brokers, kf.DefaultTopic, kafkaTestParts)
	waitUntil(t, "the posted events applied", 60*time.Second, func() bool { return caughtUpTo(ends, a.base, b.base) })

	// Metrics.
	_, mb := a.do("GET", "/metrics", api.RolePublic, nil)
	for _, name := range []string{"creditd_kafka_consumer_lag", "creditd_kafka_restore_progress", "creditd_kafka_partition_phase"} {
		if !bytes.Contains(mb, []byte(name)) {
			t.Errorf("metrics lack %s", name)
		}
	}

	// a leaves gracefully: it snapshots, commits, and b takes over from the
	// snapshots.
	a.stop()
	waitUntil(t, "b took over", 60*time.Second, func() bool { return caughtUpTo(ends, b.base) })
	clean, codes = cleanReplay(t, lines)
	sameAsClean(t, b.base, b.tokens[api.RoleRegulator], partitionExports(t, clean, codes))
	st, _ := kafkaStatus(b.base)
	fromSnap := 0
	for _, p := range st.Held {
		if p.RestoreBytesTotal > 0 {
			fromSnap++
		}
	}
	if fromSnap < 6 {
		t.Errorf("%d partitions restored from a snapshot after a graceful hand-over, want 6", fromSnap)
	}
	// The whole province is here now: draws run.
	resp, body = b.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(`{}`))
	if resp.StatusCode == http.StatusConflict {
		t.Fatalf("draw on the only member: %d %s", resp.StatusCode, body)
	}
}

// Two creditd processes share the partitions; one is killed with SIGKILL
// in the middle of the stream; the other takes its partitions over; the
// state then equals a clean single-instance replay: no event lost, none
// applied twice. KAFKA_KILL_LOOPS sets the number of rounds (default 2).
func TestKafkaKillTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	loops := 2
	if v := os.Getenv("KAFKA_KILL_LOOPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KAFKA_KILL_LOOPS=%q", v)
		}
		loops = n
	}
	bin := buildCreditd(t)
	lines := genLines(t, 1500, 365, 41, 0.01)
	var ok int
	var total time.Duration
	for i := range loops {
		t0 := time.Now()
		if !t.Run(fmt.Sprintf("round%02d", i+1), func(t *testing.T) { killRound(t, bin, lines, uint64(i)) }) {
			break
		}
		ok++
		total += time.Since(t0)
	}
	t.Logf("%d of %d kill rounds passed, %.1fs per round", ok, loops, total.Seconds()/float64(max(ok, 1)))
}

func killRound(t *testing.T, bin string, lines [][]byte, seed uint64) {
	c := newKafkaCluster(t)
	brokers := c.ListenAddrs()
	dataA, dataB := t.TempDir(), t.TempDir()
	sharedTokens(t, dataA, dataB)
	a := startProc(t, bin, dataA, kafkaArgs(c, dataA, "--snapshot-events", "100")...)
	b := startProc(t, bin, dataB, kafkaArgs(c, dataB, "--snapshot-events", "100")...)
	waitUntil(t, "the partitions split", 60*time.Second, func() bool {
		sa, err1 := kafkaStatus(a.base)
		sb, err2 := kafkaStatus(b.base)
		return err1 == nil && err2 == nil && sa.Ready && sb.Ready && len(sa.Held)+len(sb.Held) == kafkaTestParts &&
			len(sa.Held) > 0 && len(sb.Held) > 0
	})
	// Produce in chunks; kill b at a random point in the middle.
	r := rand.New(rand.NewPCG(seed, 7))
	const chunks = 20
	killAt := 6 + r.IntN(8)
	size := (len(lines) + chunks - 1) / chunks
	bHeld := map[int]kf.PartitionStatus{} // b's partitions just before the kill
	for i := 0; i < chunks; i++ {
		produceLines(t, brokers, lines[i*size:min((i+1)*size, len(lines))])
		if i == killAt {
			time.Sleep(time.Duration(r.IntN(300)) * time.Millisecond)
			st, err := kafkaStatus(b.base)
			if err != nil {
				t.Fatalf("b's status before the kill: %v", err)
			}
			var committed, snapshots int
			for _, p := range st.Held {
				bHeld[p.Partition] = p
				if p.Committed > 0 {
					committed++
				}
				if p.SnapshotOffset > 0 {
					snapshots++
				}
			}
			t.Logf("b before the kill: %d partitions, %d with commits, %d with snapshots", len(st.Held), committed, snapshots)
			b.kill()
		}
		time.Sleep(100 * time.Millisecond)
	}
	ends := endOffsets(t, brokers, kf.DefaultTopic, kafkaTestParts)
	t0 := time.Now()
	waitUntil(t, "a took over every partition", 90*time.Second, func() bool { return caughtUpTo(ends, a.base) })
	st, err := kafkaStatus(a.base)
	if err != nil {
		t.Fatal(err)
	}
	// The replay path: every partition a took over from b was restored
	// from b's newest commit (its snapshot when it had one, at or after
	// the one b reported before the kill) and replayed from there; the
	// messages produced after the kill must have been replayed by a.
	restored, replayed := 0, int64(0)
	for _, p := range st.Held {
		was, fromB := bHeld[p.Partition]
		if !fromB {
			continue
		}
		if p.Position != ends[p.Partition] {
			t.Errorf("partition %d: position %d, want the end %d", p.Partition, p.Position, ends[p.Partition])
		}
		if p.ReplayFrom > p.ReplayTo || p.ReplayTo > ends[p.Partition] {
			t.Errorf("partition %d: replay %d..%d outside 0..%d", p.Partition, p.ReplayFrom, p.ReplayTo, ends[p.Partition])
		}
		if was.SnapshotOffset > 0 {
			if p.RestoreBytesTotal == 0 || p.SnapshotOffset < was.SnapshotOffset || p.ReplayFrom < was.SnapshotOffset {
				t.Errorf("partition %d: b had a snapshot at %d, a restored %d bytes from a snapshot at %d and replayed from %d",
					p.Partition, was.SnapshotOffset, p.RestoreBytesTotal, p.SnapshotOffset, p.ReplayFrom)
			}
		}
		if p.RestoreBytesTotal > 0 {
			restored++
		}
		replayed += p.ReplayTo - p.ReplayFrom
	}
	if len(bHeld) == 0 {
		t.Fatal("b held no partition before the kill")
	}
	if replayed == 0 {
		t.Errorf("a replayed no message of b's %d partitions, though chunks %d..%d were produced after the kill", len(bHeld), killAt+1, chunks-1)
	}
	t.Logf("killed b after chunk %d; a caught up %.1fs later; %d partitions restored from snapshots, %d messages replayed",
		killAt, time.Since(t0).Seconds(), restored, replayed)
	clean, codes := cleanReplay(t, lines)
	sameAsClean(t, a.base, readTokens(t, filepath.Join(dataA, "tokens"))[api.RoleRegulator], partitionExports(t, clean, codes))
}

// kcat (librdkafka) produces events that creditd applies, and consumes the
// tier changes creditd writes.
func TestKafkaKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		testenv.MissingTool(t, "kcat", "not on PATH: apt-get install -y kcat (CI installs the Debian package)")
	}
	c := newKafkaCluster(t)
	brokers := strings.Join(c.ListenAddrs(), ",")
	data := t.TempDir()
	sharedTokens(t, data)
	s := startService(t, data, kafkaArgs(c, data)...)
	lines := genLines(t, 200, 100, 51, 0)
	var in bytes.Buffer
	for _, l := range lines {
		in.Write(keyOf(l))
		in.WriteByte('\t')
		in.Write(l)
		in.WriteByte('\n')
	}
	// kcat's default partitioner for keyed messages is librdkafka's
	// consistent_random: CRC32 of the key, creditd's default.
	cmd := exec.Command(kcat, "-b", brokers, "-t", kf.DefaultTopic, "-P", "-K", "\t", "-z", "lz4")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	ends := endOffsets(t, c.ListenAddrs(), kf.DefaultTopic, kafkaTestParts)
	n := int64(0)
	for _, e := range ends {
		n += e
	}
	if n != int64(len(lines)) {
		t.Fatalf("%d records in the topic, want %d", n, len(lines))
	}
	waitUntil(t, "kcat's events applied", 60*time.Second, func() bool { return caughtUpTo(ends, s.base) })
	st, _ := kafkaStatus(s.base)
	var applied, rejected int64
	for _, p := range st.Held {
		applied += p.Applied
		rejected += p.Rejected
	}
	if rejected != 0 || applied != int64(len(lines)) {
		t.Fatalf("applied %d, rejected %d of %d events produced by kcat", applied, rejected, len(lines))
	}
	clean, codes := cleanReplay(t, lines)
	sameAsClean(t, s.base, s.tokens[api.RoleRegulator], partitionExports(t, clean, codes))

	// kcat reads the tier changes: one line per record, key TAB value.
	out, err := exec.Command(kcat, "-b", brokers, "-t", kf.DefaultTiersTopic, "-C", "-e", "-q", "-o", "beginning",
		"-f", "%k\t%p\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	recs := strings.Split(strings.TrimSpace(string(out)), "\n")
	if n := len(readAll(t, c.ListenAddrs(), kf.DefaultTiersTopic)); len(recs) != n || n == 0 {
		t.Fatalf("kcat read %d tier changes, kafka-go %d", len(recs), n)
	}
	for _, rec := range recs {
		f := strings.SplitN(rec, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("kcat line %q", rec)
		}
		var tc struct {
			USCC    string  `json:"uscc"`
			OldTier *string `json:"old_tier"`
			NewTier *string `json:"new_tier"`
		}
		if err := json.Unmarshal([]byte(f[2]), &tc); err != nil || tc.USCC != f[0] || tc.OldTier == nil {
			t.Fatalf("tier change %q: %v", rec, err)
		}
		if p, _ := strconv.Atoi(f[1]); p != (kf.CRC32{}).Partition([]byte(f[0]), kafkaTestParts) {
			t.Fatalf("tier change for %s on partition %s", f[0], f[1])
		}
	}
}
