package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func appliedRow(i int) AppliedEvent {
	return AppliedEvent{
		EventID:    fmt.Sprintf("EV-%08d", i),
		USCC:       fmt.Sprintf("91370200MA%08d", i%5000),
		Type:       []string{"penalty", "inspection", "annual_report", "repair"}[i%4],
		OccurredAt: t0.Add(time.Duration(i) * 1237 * time.Millisecond),
		Authority:  "SAMR-370200",
		Region:     "370200",
		Attrs:      fmt.Sprintf(`{"n":%d,"s":"it's \"quoted\""}`, i),
		AppliedAt:  t0.Add(time.Duration(i)*1237*time.Millisecond + 3*time.Second),
		Source:     fmt.Sprintf("kafka:credit.events/%d@%d", i%12, i),
		Seq:        uint64(i + 1),
	}
}

var tiers4 = []string{"A", "B", "C", "D"}

func tierRow(i int) TierChange {
	return TierChange{
		USCC:    fmt.Sprintf("91370200MA%08d", i),
		Region:  "370200",
		At:      t0.Add(time.Duration(i) * 777 * time.Millisecond),
		OldTier: "",
		NewTier: tiers4[(i*7)%4],
		Scheme:  "national-4",
		Score:   int32(i % 1000),
		Cause:   fmt.Sprintf("EV-%08d", i),
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	q, err := OpenQuerier(Options{Addr: addr, Database: db, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	v, err := q.Migrate(ctx)
	if err != nil || len(v) != len(migrations) || v[len(v)-1] != SchemaVersion() {
		t.Fatalf("first Migrate: %v, %v", v, err)
	}
	v, err = q.Migrate(ctx)
	if err != nil || len(v) != 0 {
		t.Fatalf("second Migrate applied %v, %v; want nothing", v, err)
	}
	if got := count(t, q, "SELECT count() FROM {db}.schema_migrations"); got != uint64(len(migrations)) {
		t.Fatalf("schema_migrations has %d rows, want %d", got, len(migrations))
	}
	tables := count(t, q, "SELECT count() FROM system.tables WHERE database = '"+db+"'")
	if tables != uint64(numTables)+1 {
		t.Fatalf("%d tables, want %d", tables, numTables+1)
	}

	// A migration interrupted after some statements (version not recorded)
	// re-runs cleanly.
	db2 := testDB(t)
	q2, _ := OpenQuerier(Options{Addr: addr, Database: db2, Logger: discard})
	defer q2.Close()
	if err := q2.conn.Exec(ctx, "CREATE DATABASE "+db2); err != nil {
		t.Fatal(err)
	}
	if err := q2.conn.Exec(ctx, q2.sql(migrations[0].Statements[0])); err != nil {
		t.Fatal(err)
	}
	if v, err := q2.Migrate(ctx); err != nil || len(v) != len(migrations) {
		t.Fatalf("Migrate after a partial run: %v, %v", v, err)
	}
	if got, _ := q2.AppliedMigrations(ctx); len(got) != len(migrations) {
		t.Fatalf("applied %v", got)
	}
}

func TestQuoteLiteral(t *testing.T) {
	addr := chAddr(t)
	q, err := OpenQuerier(Options{Addr: addr, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, s := range []string{"", "plain", "it's", `back\slash`, `\'`, "nul\x00byte", "line\nbreak\r\ttab", "中文 ü", "%_", "'; DROP DATABASE x; --", "\xff\xfe"} {
		var got string
		if err := q.conn.QueryRow(context.Background(), "SELECT "+quote(s)).Scan(&got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got != s {
			t.Fatalf("literal %s came back as %q, want %q", quote(s), got, s)
		}
	}
}

// TestStreamLandsCompletely sends every kind of row from concurrent
// producers and checks that exactly what was sent is in ClickHouse.
func TestStreamLandsCompletely(t *testing.T) {
	for _, mode := range []string{"default", "spool-always", "no-compression"} {
		t.Run(mode, func(t *testing.T) {
			addr, db := chAddr(t), testDB(t)
			o := testOptions(t, addr, db)
			o.SpoolAlways = mode == "spool-always"
			o.NoCompression = mode == "no-compression"
			// Producers here do nothing but Add (millions of rows/s, far
			// beyond any scorer); the memory bound is set so none is refused.
			o.HardMaxMemRows = 1 << 20
			s := newSink(t, o)
			reg := prometheus.NewRegistry()
			if err := s.Register(reg); err != nil {
				t.Fatal(err)
			}

			const nApplied, nTiers, nInsp, nRej = 6_000, 3_000, 1_500, 300
			var wg sync.WaitGroup
			errc := make(chan error, 8)
			producer := func(from, to int) {
				defer wg.Done()
				for i := from; i < to; i++ {
					if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
						errc <- err
						return
					}
					if i < nTiers {
						if err := s.AddTierChange(tierRow(i)); err != nil {
							errc <- err
							return
						}
					}
					if i < nInsp {
						if err := s.AddInspection(Inspection{EventID: fmt.Sprintf("EV-%08d", i), USCC: "91370200MA00000001", Region: "370200",
							At: t0.Add(time.Duration(i) * time.Minute), PlanID: "P1", Result: ResultNoProblem, TierAtInspection: "A", Scheme: "national-4"}); err != nil {
							errc <- err
							return
						}
					}
					if i < nRej {
						if err := s.AddRejectedEvent(RejectedEvent{Source: fmt.Sprintf("file:in.ndjson:%d", i), Reason: "invalid_uscc",
							Detail: "check character", Original: fmt.Sprintf(`{"id":"X-%d","uscc":"bad"}`, i)}); err != nil {
							errc <- err
							return
						}
					}
				}
			}
			for k := range 4 {
				wg.Add(1)
				go producer(k*nApplied/4, (k+1)*nApplied/4)
			}
			draw := Draw{DrawID: "D-1", PlanID: "P1", AsOf: t0, Scheme: "national-4", PopulationDigest: strings.Repeat("ab", 32), Eligible: 1000, Selected: 3, RecordJSON: `{"format":"draw/v1"}`}
			if err := s.AddDraw(draw); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.AddDrawSelection(DrawSelection{DrawID: "D-1", PlanID: "P1", AsOf: t0, USCC: fmt.Sprintf("91370200MA%08d", i), Region: "370200",
					Tier: tiers4[i], Priority: fmt.Sprintf("%064x", i), Inspectors: []string{"I-1", "I-2"}[:i], Unassigned: 2 - i}); err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatal(err)
			}
			flush(t, s)

			q := s.Querier()
			for table, want := range map[string]uint64{"applied_events": nApplied, "tier_changes": nTiers, "inspections": nInsp,
				"rejected_events": nRej, "draws": 1, "draw_selections": 3} {
				if got := count(t, q, "SELECT count() FROM {db}."+table+" FINAL"); got != want {
					t.Errorf("%s: %d rows, want %d", table, got, want)
				}
				if got := s.Stats().Inserted[table]; got != want {
					t.Errorf("%s: Stats().Inserted %d, want %d", table, got, want)
				}
			}
			if got := count(t, q, "SELECT uniqExact(event_id) FROM {db}.applied_events"); got != nApplied {
				t.Errorf("distinct event ids %d, want %d", got, nApplied)
			}
			// Per-tier counts equal what was sent.
			want := map[string]uint64{}
			for i := range nTiers {
				want[tierRow(i).NewTier]++
			}
			for _, tier := range tiers4 {
				if got := count(t, q, "SELECT count() FROM {db}.tier_changes FINAL WHERE new_tier = '"+tier+"'"); got != want[tier] {
					t.Errorf("tier %s: %d, want %d", tier, got, want[tier])
				}
			}
			// Every field round-trips (a sample row).
			ctx := context.Background()
			var r AppliedEvent
			var occMS, appMS uint16
			e := appliedRow(4321)
			if err := q.conn.QueryRow(ctx, q.sql(`SELECT event_id, uscc, type, occurred_at, occurred_ms, authority, region, attrs, applied_at, applied_ms, source, seq
				FROM {db}.applied_events FINAL WHERE uscc = ? AND event_id = ?`), e.USCC, e.EventID).Scan(
				&r.EventID, &r.USCC, &r.Type, &r.OccurredAt, &occMS, &r.Authority, &r.Region, &r.Attrs, &r.AppliedAt, &appMS, &r.Source, &r.Seq); err != nil {
				t.Fatal(err)
			}
			r.OccurredAt = r.OccurredAt.Add(time.Duration(occMS) * time.Millisecond)
			r.AppliedAt = r.AppliedAt.Add(time.Duration(appMS) * time.Millisecond)
			if !r.OccurredAt.Equal(e.OccurredAt) || !r.AppliedAt.Equal(e.AppliedAt) {
				t.Errorf("times %v %v, want %v %v", r.OccurredAt, r.AppliedAt, e.OccurredAt, e.AppliedAt)
			}
			r.OccurredAt, r.AppliedAt, e.OccurredAt, e.AppliedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if r != e {
				t.Errorf("row %+v, want %+v", r, e)
			}
			var insp []string
			var un uint32
			if err := q.conn.QueryRow(ctx, q.sql("SELECT inspectors, unassigned FROM {db}.draw_selections FINAL WHERE uscc = '91370200MA00000002'")).Scan(&insp, &un); err != nil {
				t.Fatal(err)
			}
			if strings.Join(insp, ",") != "I-1,I-2" || un != 0 {
				t.Errorf("selection inspectors %v unassigned %d", insp, un)
			}
			// Metrics agree.
			if got := metricValue(t, reg, "creditd_clickhouse_rows_inserted_total", "applied_events"); got != nApplied {
				t.Errorf("rows_inserted_total{applied_events} = %v, want %d", got, nApplied)
			}
			if st := s.Stats(); st.MemRows != 0 || st.SpoolRows != 0 || st.Lag != 0 || !st.Up {
				t.Errorf("stats after flush: %+v", st)
			}
		})
	}
}

// metricValue sums the counters or gauges named name in reg that have a
// label with value label ("" for all).
func metricValue(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetValue() == label }) {
				continue
			}
			sum += value(m)
			found = true
		}
	}
	if !found {
		t.Fatalf("metric %s{%s} not found", name, label)
	}
	return sum
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// TestOutageLosesNothingDuplicatesNothing cuts the connection to ClickHouse
// mid-stream (a proxy that resets every connection), then stalls it (bytes
// stop flowing), then restores it; every row lands exactly once.
func TestOutageLosesNothingDuplicatesNothing(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	p := startProxy(t, addr)
	o := testOptions(t, p.addr(), db)
	o.ReadTimeout = time.Second
	o.InsertTimeout = 2 * time.Second
	o.SpoolAfter = 200 * time.Millisecond
	s := newSink(t, o)
	reg := prometheus.NewRegistry()
	s.Register(reg)

	const n = 40_000
	var added sync.WaitGroup
	progress := make(chan int, n)
	added.Add(1)
	go func() {
		defer added.Done()
		for i := range n {
			if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := s.AddTierChange(tierRow(i)); err != nil {
					t.Error(err)
					return
				}
			}
			progress <- i
			if i%200 == 0 {
				time.Sleep(2 * time.Millisecond) // a steady stream, not one burst
			}
		}
	}()
	waitRows := func(k int) {
		for i := range progress {
			if i >= k {
				return
			}
		}
	}
	waitRows(n / 4)
	p.set(proxyDown)
	waitFor(t, "the sink to notice the outage and spool", 10*time.Second, func() bool {
		st := s.Stats()
		return !st.Up && st.SpoolRows > 0
	})
	waitRows(n / 2)
	p.set(proxyUp)
	waitFor(t, "recovery", 10*time.Second, func() bool { return s.Stats().Up })
	waitRows(3 * n / 4)
	p.set(proxyHang)
	waitFor(t, "the sink to time out on the stalled server", 10*time.Second, func() bool { return !s.Stats().Up })
	p.set(proxyUp)
	added.Wait()
	for range progress {
		if len(progress) == 0 {
			break
		}
	}
	flush(t, s)

	q := s.Querier()
	if got := count(t, q, "SELECT count() FROM {db}.applied_events FINAL"); got != n {
		t.Fatalf("applied_events: %d visible rows, want %d", got, n)
	}
	if got := count(t, q, "SELECT uniqExact(event_id) FROM {db}.applied_events"); got != n {
		t.Fatalf("applied_events: %d distinct ids, want %d", got, n)
	}
	if got := count(t, q, "SELECT count() FROM {db}.tier_changes FINAL"); got != n/2 {
		t.Fatalf("tier_changes: %d visible rows, want %d", got, n/2)
	}
	raw := count(t, q, "SELECT count() FROM {db}.applied_events")
	st := s.Stats()
	errs := metricValue(t, reg, "creditd_clickhouse_insert_errors_total", "applied_events")
	t.Logf("raw rows %d (re-inserts not yet merged away: %d); inserted %v; spooled rows %v; failed inserts of applied_events %v",
		raw, raw-n, st.Inserted, metricValue(t, reg, "creditd_clickhouse_rows_spooled_total", "applied_events"), errs)
	if metricValue(t, reg, "creditd_clickhouse_rows_spooled_total", "applied_events") == 0 {
		t.Errorf("nothing was spooled during the outage")
	}
	if st.SpoolRows != 0 || st.MemRows != 0 || st.Dropped != 0 || st.Quarantined != 0 {
		t.Fatalf("stats after recovery: %+v", st)
	}
}

// TestCrashReplaysSpoolOnce: rows spooled while ClickHouse is down survive a
// crash (no Close), are inserted by the next sink on the same spool, and a
// second replay of the same records (a crash after the insert but before the
// cursor moved) adds no visible duplicates.
func TestCrashReplaysSpoolOnce(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	p := startProxy(t, addr)
	p.set(proxyDown)
	o := testOptions(t, p.addr(), db)
	ctx := context.Background()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 7_500
	for i := range n {
		if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTierChange(tierRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every row to be spooled", 10*time.Second, func() bool { return s.Stats().SpoolRows == 2*n })
	s.abandon() // crash: no flush, no close

	// Keep a copy of the spool to replay it a second time later.
	backup := t.TempDir()
	copyDir(t, o.SpoolDir, backup)

	p.set(proxyUp)
	s2 := newSink(t, o)
	if st := s2.Stats(); st.SpoolRows != 2*n {
		t.Fatalf("reopened spool holds %d rows, want %d", st.SpoolRows, 2*n)
	}
	flush(t, s2)
	q := s2.Querier()
	check := func(when string) {
		t.Helper()
		for _, table := range []string{"applied_events", "tier_changes"} {
			if got := count(t, q, "SELECT count() FROM {db}."+table+" FINAL"); got != n {
				t.Fatalf("%s: %s: %d visible rows, want %d", when, table, got, n)
			}
		}
	}
	check("after replay")
	if segs, _ := filepath.Glob(filepath.Join(o.SpoolDir, "*.seg")); len(segs) != 0 {
		t.Fatalf("spool segments left after replay: %v", segs)
	}

	// Replay the same records again, as after a crash between insert and
	// cursor update.
	o3 := o
	o3.SpoolDir = backup
	s3 := newSink(t, o3)
	flush(t, s3)
	check("after a second replay of the same spool")
	if raw := count(t, q, "SELECT count() FROM {db}.applied_events"); raw < n {
		t.Fatalf("raw rows %d < %d", raw, n)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefusedBatchIsQuarantined: a batch ClickHouse cannot take (here: a
// table whose column type does not match) goes to quarantine, and the other
// tables keep flowing.
func TestRefusedBatchIsQuarantined(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	q, _ := OpenQuerier(Options{Addr: addr, Database: db, Logger: discard})
	defer q.Close()
	ctx := context.Background()
	if err := q.conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(migrations[0].Statements[0], "seq         UInt64", "seq         Date", 1)
	if bad == migrations[0].Statements[0] {
		t.Fatal("test setup: column not found in DDL")
	}
	if err := q.conn.Exec(ctx, q.sql(bad)); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, addr, db)
	s := newSink(t, o)
	for i := range 10 {
		s.AddAppliedEvent(appliedRow(i))
		s.AddTierChange(tierRow(i))
	}
	flush(t, s)
	if st := s.Stats(); st.Quarantined != 10 || st.Inserted["tier_changes"] != 10 {
		t.Fatalf("stats %+v: want 10 quarantined applied events and 10 tier changes inserted", st)
	}
	files, _ := filepath.Glob(filepath.Join(o.SpoolDir, "quarantine", "*-applied_events.rec"))
	if len(files) != 1 {
		t.Fatalf("quarantine files %v", files)
	}
	// The quarantined record decodes back to the rows.
	raw, _ := os.ReadFile(files[0])
	b, err := decodePayload(raw[frameHeader:])
	if err != nil || b.len() != 10 || b.applied[3] != appliedRowUTC(3) {
		t.Fatalf("quarantined record: %v, %d rows", err, b.len())
	}
}

// TestPoisonBatchIsQuarantined: a batch the server keeps refusing with an
// error the sink does not know (here a DEFAULT expression that throws for
// one row) is retried a few times, then quarantined; later batches land.
func TestPoisonBatchIsQuarantined(t *testing.T) {
	addr, db := chAddr(t), testDB(t)
	q, _ := OpenQuerier(Options{Addr: addr, Database: db, Logger: discard})
	defer q.Close()
	ctx := context.Background()
	if err := q.conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	poisoned := strings.Replace(migrations[0].Statements[0], "seq         UInt64", "seq         UInt64,\n\t\t\t\tpoison UInt8 DEFAULT throwIf(seq = 13)", 1)
	if err := q.conn.Exec(ctx, q.sql(poisoned)); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, addr, db)
	o.BatchRows = 10
	s := newSink(t, o)
	for i := range 30 { // seqs 1..30: the second batch holds seq 13
		if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, s)
	// Normally the second batch of 10 is quarantined; a slow machine may
	// seal a partial batch on the flush timer, so check the invariants.
	st := s.Stats()
	ins := st.Inserted["applied_events"]
	if st.Quarantined == 0 || st.Quarantined > 10 || ins+st.Quarantined != 30 {
		t.Fatalf("stats %+v: want the batch with seq 13 (≤ 10 rows) quarantined, the rest inserted", st)
	}
	if got := count(t, q, "SELECT count() FROM {db}.applied_events"); got != ins {
		t.Fatalf("%d rows in the table, want %d", got, ins)
	}
	if got := count(t, q, "SELECT count() FROM {db}.applied_events WHERE seq = 13"); got != 0 {
		t.Fatal("the poisoned row was inserted")
	}
}

func appliedRowUTC(i int) AppliedEvent {
	r := appliedRow(i)
	r.OccurredAt, r.AppliedAt = r.OccurredAt.UTC(), r.AppliedAt.UTC()
	return r
}

// TestAddNeverWaitsOnDeadServer: with nothing listening, Add* keeps
// accepting, rows go to the spool, and Close leaves them there.
func TestAddNeverWaitsOnDeadServer(t *testing.T) {
	dead := deadAddr(t)
	o := testOptions(t, dead, "creditd_nowhere")
	o.BatchRows = 5000
	o.MaxMemRows = 10_000
	ctx := context.Background()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	for i := range n {
		if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if st := s.Stats(); st.Up {
		t.Fatalf("stats %+v: want down", st)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAppliedEvent(appliedRow(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	sp, err := openSpool(o.SpoolDir, o.SegmentBytes, discard, (&seqGen{}).next)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if st := sp.stats(); st.rows != n {
		t.Fatalf("spool holds %d rows, want %d", st.rows, n)
	}
}

// TestOverloadWithoutSpool: memory-only sink, server down: Add refuses rows
// beyond HardMaxMemRows (never blocks), counts them, and Close reports the
// rows it could not keep.
func TestOverloadWithoutSpool(t *testing.T) {
	dead := deadAddr(t)
	o := testOptions(t, dead, "creditd_nowhere")
	o.DisableSpool = true
	o.MaxMemRows, o.HardMaxMemRows = 1000, 5000
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var refused int
	for i := range 6000 {
		if err := s.AddAppliedEvent(appliedRow(i)); errors.Is(err, ErrOverloaded) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused != 1000 || s.Stats().Dropped != 1000 {
		t.Fatalf("refused %d, dropped %d; want 1000", refused, s.Stats().Dropped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil || !strings.Contains(err.Error(), "5000 rows") {
		t.Fatalf("Close: %v, want 5000 rows lost", err)
	}
}

// deadAddr returns an address that accepts connections and closes them at
// once: a server that is down.
func deadAddr(t *testing.T) string {
	t.Helper()
	p := startProxy(t, "127.0.0.1:1")
	p.set(proxyDown)
	return p.addr()
}

func TestRejectsInvalidRows(t *testing.T) {
	dead := deadAddr(t)
	o := testOptions(t, dead, "creditd_nowhere")
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.abandon()
	if err := s.AddAppliedEvent(AppliedEvent{EventID: "x"}); !errors.Is(err, ErrInvalidRow) {
		t.Fatalf("got %v", err)
	}
	if err := s.AddTierChange(TierChange{USCC: "u", At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.Is(err, ErrInvalidRow) {
		t.Fatalf("got %v", err)
	}
	if st := s.Stats(); st.MemRows != 0 {
		t.Fatalf("invalid rows were kept: %+v", st)
	}
}

func TestOptionsDefaults(t *testing.T) {
	var o Options
	if err := o.EnsureDefaults(); err != nil {
		t.Fatal(err)
	}
	if o.Addr != "127.0.0.1:9000" || o.Database != "creditd" || o.BatchRows != 50_000 || o.FlushInterval != time.Second ||
		o.MaxMemRows != 200_000 || o.HardMaxMemRows != 800_000 || o.ReadTimeout != 30*time.Second || o.SpoolDir == "" {
		t.Fatalf("defaults: %+v", o)
	}
	bad := Options{Database: "x; DROP"}
	if err := bad.EnsureDefaults(); err == nil {
		t.Fatal("accepted a bad database name")
	}
	d := Options{DSN: "clickhouse://u:pw@db.example:9440/hist"}
	if err := d.EnsureDefaults(); err != nil || d.Addr != "db.example:9440" || d.Username != "u" || d.Password != "pw" || d.Database != "hist" {
		t.Fatalf("DSN: %v %+v", err, d)
	}
}

func TestBackoffBounded(t *testing.T) {
	o := Options{RetryMin: 10 * time.Millisecond, RetryMax: 400 * time.Millisecond}
	prevHi := time.Duration(0)
	for a := range 200 {
		d := backoffDelay(o, a)
		hi := min(o.RetryMin<<min(a, 16), o.RetryMax)
		if d < hi/2 || d > hi {
			t.Fatalf("attempt %d: %v outside [%v, %v]", a, d, hi/2, hi)
		}
		if hi < prevHi {
			t.Fatalf("attempt %d: bound fell", a)
		}
		prevHi = hi
	}
}

func TestClassify(t *testing.T) {
	exc := func(code int32) error { return fmt.Errorf("insert: %w", &ch.Exception{Code: code, Message: "x"}) }
	for _, tc := range []struct {
		name string
		err  error
		want errClass
	}{
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, classTransient},
		{"deadline", context.DeadlineExceeded, classTransient},
		{"client conversion", &permanentError{errors.New("converting []uint64 to Date is unsupported")}, classPermanent},
		{"unknown table", exc(60), classSchema},
		{"unknown database", exc(81), classSchema},
		{"type mismatch", exc(53), classPermanent},
		{"too many parts", exc(252), classTransient},
		{"memory limit", exc(241), classTransient},
		{"something else", exc(48), classServer},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
	}
}
