package clickhouse

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// These tests pin what must never change under a refactoring: the text of
// released migration 1 (an existing database ran exactly these statements),
// the INSERT column lists, and the spool file format (a spool left by an
// older creditd must replay with a newer one).

var updateSpoolGolden = flag.Bool("update-spool-golden", false, "rewrite testdata/spool-v1/ with the current encoder")

// ms returns a UTC instant at millisecond precision, as the spool keeps it.
func ms(y int, mo time.Month, d, h, mi, s, milli int) time.Time {
	return time.Date(y, mo, d, h, mi, s, milli*int(time.Millisecond), time.UTC)
}

// goldenSpoolBatches are the records of testdata/spool-v1, one or more per
// table, with boundary values: empty and multi-byte strings, a string
// longer than 127 bytes (two-byte length), the first and last storable
// instants, extreme integers and negative counts, nil and empty-string
// inspectors.
func goldenSpoolBatches() []*batch {
	long := strings.Repeat("长", 50) // 150 bytes
	first, last := ms(1970, 1, 1, 0, 0, 0, 0), maxTime.Add(-time.Millisecond)
	return []*batch{
		{tbl: tblApplied, firstAdded: 1767225600123456789, applied: []AppliedEvent{
			{EventID: "EV-1", USCC: "91370200MA3C4XYZ2K", Type: "penalty", OccurredAt: ms(2026, 3, 1, 12, 0, 0, 7),
				Authority: "SAMR-370200", Region: "370200", Attrs: `{"severity":"general","amount_yuan":20000}`,
				AppliedAt: ms(2026, 3, 1, 12, 0, 3, 999), Source: "kafka:credit.events/3@42", Seq: 1},
			{EventID: "", USCC: "", Type: "", OccurredAt: first, Authority: "", Region: "", Attrs: long,
				AppliedAt: last, Source: "file:/data/事件.ndjson:7", Seq: ^uint64(0)},
		}},
		{tbl: tblRejected, firstAdded: 0, rejected: []RejectedEvent{
			{At: ms(2026, 6, 1, 2, 0, 0, 500), Source: "http", Reason: "invalid_uscc", Detail: "check character 18 is Y, want 5",
				EventID: "EV-BAD", Original: "{\"id\":\"EV-BAD\"}\n"},
			{At: first, Original: long},
		}},
		{tbl: tblTierChanges, firstAdded: -1, tiers: []TierChange{
			{USCC: "91370200MA3C4XYZ2K", Region: "370200", At: ms(2026, 3, 1, 12, 0, 0, 7), OldTier: "", NewTier: "B",
				Scheme: "national-4", Score: -1 << 31, Cause: "EV-1"},
			{USCC: "u", At: last, OldTier: "E", NewTier: "", Scheme: "shandong-5", Score: 1<<31 - 1, Cause: "time:publicity_end"},
			{USCC: "v", At: first, Score: 0},
		}},
		{tbl: tblDraws, firstAdded: 1 << 62, draws: []Draw{
			{DrawID: "37-2026-12-01", PlanID: "37-2026-12", AsOf: ms(2026, 12, 1, 0, 0, 0, 0), Scheme: "national-4",
				PopulationDigest: strings.Repeat("ab", 32), Eligible: 1<<31 - 1, Selected: 0, RecordJSON: `{"draw":"v1"}`},
			{DrawID: "d", AsOf: last, Eligible: -5, Selected: -1 << 31, RecordJSON: long},
		}},
		{tbl: tblDrawSelections, firstAdded: 42, selections: []DrawSelection{
			{DrawID: "37-2026-12-01", PlanID: "37-2026-12", AsOf: ms(2026, 12, 1, 0, 0, 0, 0), USCC: "91370200MA3C4XYZ2K",
				Region: "370202", Tier: "C", Priority: strings.Repeat("0f", 32), Inspectors: []string{"INS-001", "", "检查员-3"}, Unassigned: 0},
			{DrawID: "d", USCC: "u", AsOf: first, Inspectors: nil, Unassigned: 2},
			{DrawID: "d", USCC: "w", AsOf: last, Inspectors: []string{long}, Unassigned: -1},
		}},
		{tbl: tblInspections, firstAdded: 7, inspects: []Inspection{
			{EventID: "EV-9", USCC: "91370200MA3C4XYZ2K", Region: "370200", At: ms(2026, 4, 2, 8, 30, 0, 250), PlanID: "37-2026-04",
				Result: ResultProblemFound, TierAtInspection: "B", Scheme: "national-4"},
			{EventID: "e", USCC: "u", At: last},
		}},
		{tbl: tblApplied, firstAdded: 1767225600999999999, applied: []AppliedEvent{
			{EventID: "EV-2", USCC: "91370200MA3C4XYZ2K", Type: "repair", OccurredAt: ms(2026, 7, 1, 2, 0, 0, 0),
				Attrs: `{}`, AppliedAt: ms(2026, 7, 1, 2, 0, 0, 1), Source: "http", Seq: 128},
		}},
	}
}

const goldenSpoolDir = "testdata/spool-v1"

// writeSpool appends bs to a fresh spool in dir and closes it.
func writeSpool(t *testing.T, dir string, bs []*batch) {
	t.Helper()
	s := openTestSpool(t, dir, 1<<20, &seqGen{})
	for _, b := range bs {
		if err := s.append(b); err != nil {
			t.Fatal(err)
		}
	}
	s.close()
}

// TestSpoolFormatGolden replays a spool segment written by the code of the
// first spool format (testdata/spool-v1, regenerate only for a new format
// version with -update-spool-golden): every record decodes to the rows it
// was written from, and today's encoder writes the same bytes again.
func TestSpoolFormatGolden(t *testing.T) {
	golden := filepath.Join(goldenSpoolDir, segName(0))
	want := goldenSpoolBatches()
	if *updateSpoolGolden {
		dir := t.TempDir()
		writeSpool(t, dir, want)
		raw, err := os.ReadFile(filepath.Join(dir, segName(0)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(goldenSpoolDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	// Replay a copy: draining a spool deletes its segments.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segName(0)), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTestSpool(t, dir, 1<<20, &seqGen{})
	got := drain(t, s)
	s.close()
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i, b := range got {
		b.seq = 0
		if !reflect.DeepEqual(b, want[i]) {
			t.Errorf("record %d (%s):\n got %+v\nwant %+v", i, want[i].tbl, b, want[i])
		}
	}
	dir = t.TempDir()
	writeSpool(t, dir, got)
	again, err := os.ReadFile(filepath.Join(dir, segName(0)))
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Fatalf("re-encoding the golden spool gives different bytes (%d, golden %d)", len(again), len(raw))
	}
}

// migration1 is the text of migration 1 as released. Existing databases
// ran exactly these statements; the generated DDL must not drift from it.
var migration1 = []string{
	`CREATE TABLE IF NOT EXISTS {db}.applied_events (
				event_id    String,
				uscc        String,
				type        String,
				occurred_at DateTime('UTC'),
				occurred_ms UInt16,
				authority   String,
				region      String,
				attrs       String,
				applied_at  DateTime('UTC'),
				applied_ms  UInt16,
				source      String,
				seq         UInt64
			) ENGINE = ReplacingMergeTree(seq)
			PARTITION BY toYear(occurred_at)
			ORDER BY (uscc, event_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE IF NOT EXISTS {db}.rejected_events (
				at            DateTime('UTC'),
				at_ms         UInt16,
				source        String,
				reason        String,
				detail        String,
				event_id      String,
				original      String,
				original_hash UInt64
			) ENGINE = ReplacingMergeTree
			PARTITION BY toYear(at)
			ORDER BY (at, at_ms, source, reason, event_id, original_hash) SETTINGS index_granularity = 1024`,
	`CREATE TABLE IF NOT EXISTS {db}.tier_changes (
				uscc     String,
				region   String,
				at       DateTime('UTC'),
				at_ms    UInt16,
				old_tier String,
				new_tier String,
				scheme   String,
				score    Int32,
				cause    String
			) ENGINE = ReplacingMergeTree
			PARTITION BY toYear(at)
			ORDER BY (uscc, at, at_ms, cause) SETTINGS index_granularity = 1024`,
	`CREATE TABLE IF NOT EXISTS {db}.draws (
				draw_id           String,
				plan_id           String,
				as_of             DateTime('UTC'),
				as_of_ms          UInt16,
				scheme            String,
				population_digest String,
				eligible          UInt64,
				selected          UInt64,
				record_json       String
			) ENGINE = ReplacingMergeTree
			PARTITION BY toYear(as_of)
			ORDER BY draw_id SETTINGS index_granularity = 1024`,
	`CREATE TABLE IF NOT EXISTS {db}.draw_selections (
				draw_id    String,
				plan_id    String,
				as_of      DateTime('UTC'),
				as_of_ms   UInt16,
				uscc       String,
				region     String,
				tier       String,
				priority   String,
				inspectors Array(String),
				unassigned UInt32
			) ENGINE = ReplacingMergeTree
			PARTITION BY toYear(as_of)
			ORDER BY (draw_id, uscc) SETTINGS index_granularity = 1024`,
	`CREATE TABLE IF NOT EXISTS {db}.inspections (
				event_id           String,
				uscc               String,
				region             String,
				at                 DateTime('UTC'),
				at_ms              UInt16,
				plan_id            String,
				result             String,
				tier_at_inspection String,
				scheme             String
			) ENGINE = ReplacingMergeTree
			PARTITION BY toYear(at)
			ORDER BY (uscc, event_id) SETTINGS index_granularity = 1024`,
}

func TestMigration1Unchanged(t *testing.T) {
	ms := Migrations()
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("first migration %+v", ms)
	}
	got := ms[0].Statements
	if len(got) != len(migration1) {
		t.Fatalf("%d statements, want %d", len(got), len(migration1))
	}
	for i := range got {
		if got[i] != migration1[i] {
			t.Errorf("statement %d differs from the released text:\n got %q\nwant %q", i+1, got[i], migration1[i])
		}
	}
}

// TestInsertColumns pins each table's INSERT column list (the order the
// columns are appended in).
func TestInsertColumns(t *testing.T) {
	want := map[string]string{
		"applied_events":       "event_id, uscc, type, occurred_at, occurred_ms, authority, region, attrs, applied_at, applied_ms, source, seq",
		"rejected_events":      "at, at_ms, source, reason, detail, event_id, original, original_hash",
		"tier_changes":         "uscc, region, at, at_ms, old_tier, new_tier, scheme, score, cause",
		"draws":                "draw_id, plan_id, as_of, as_of_ms, scheme, population_digest, eligible, selected, record_json",
		"draw_selections":      "draw_id, plan_id, as_of, as_of_ms, uscc, region, tier, priority, inspectors, unassigned",
		"inspections":          "event_id, uscc, region, at, at_ms, plan_id, result, tier_at_inspection, scheme",
		"score_bands":          "scanned_at, scanned_ms, part, role, model, band, entities",
		"challenger_agreement": "scanned_at, scanned_ms, part, champion_model, challenger_model, champion_tier, challenger_tier, entities",
		"challenger_tiers":     "scanned_at, scanned_ms, part, challenger_model, tier, entities, inspections, problems_found, adverse",
	}
	for tb := range numTables {
		if got := tableDefs[tb].insertColumns(); got != want[tb.String()] {
			t.Errorf("%s: insert columns\n got %q\nwant %q", tb, got, want[tb.String()])
		}
	}
}

// TestColumnsOf checks the INSERT column slices against values worked out
// by hand: times split into UTC seconds and milliseconds, negative counts
// stored as 0, a nil inspector list as [], the original's FNV-1a hash.
func TestColumnsOf(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 999_000_000, time.FixedZone("CST", 8*3600))
	sec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sel := &batch{tbl: tblDrawSelections, selections: []DrawSelection{
		{DrawID: "d1", PlanID: "p", AsOf: at, USCC: "u1", Region: "370202", Tier: "C", Priority: "0f", Inspectors: []string{"I1", "I2"}, Unassigned: 1},
		{DrawID: "d1", AsOf: at, USCC: "u2", Inspectors: nil, Unassigned: -3},
	}}
	wantSel := []any{
		[]string{"d1", "d1"}, []string{"p", ""}, []time.Time{sec, sec}, []uint16{999, 999},
		[]string{"u1", "u2"}, []string{"370202", ""}, []string{"C", ""}, []string{"0f", ""},
		[][]string{{"I1", "I2"}, {}}, []uint32{1, 0},
	}
	if got := columnsOf(sel); !reflect.DeepEqual(got, wantSel) {
		t.Errorf("draw_selections columns\n got %#v\nwant %#v", got, wantSel)
	}
	dr := &batch{tbl: tblDraws, draws: []Draw{{DrawID: "d", AsOf: sec, Eligible: 1<<31 - 1, Selected: -1, RecordJSON: "{}"}}}
	wantDr := []any{[]string{"d"}, []string{""}, []time.Time{sec}, []uint16{0}, []string{""}, []string{""},
		[]uint64{1<<31 - 1}, []uint64{0}, []string{"{}"}}
	if got := columnsOf(dr); !reflect.DeepEqual(got, wantDr) {
		t.Errorf("draws columns\n got %#v\nwant %#v", got, wantDr)
	}
	// FNV-1a 64 of "" is the offset basis; of "a" it is 0xaf63dc4c8601ec8c.
	rj := &batch{tbl: tblRejected, rejected: []RejectedEvent{{At: sec, Original: ""}, {At: sec, Reason: "not_json", Original: "a"}}}
	wantRj := []any{[]time.Time{sec, sec}, []uint16{0, 0}, []string{"", ""}, []string{"", "not_json"}, []string{"", ""},
		[]string{"", ""}, []string{"", "a"}, []uint64{0xcbf29ce484222325, 0xaf63dc4c8601ec8c}}
	if got := columnsOf(rj); !reflect.DeepEqual(got, wantRj) {
		t.Errorf("rejected_events columns\n got %#v\nwant %#v", got, wantRj)
	}
	// Every table: one slice per INSERT column, one value per row.
	for _, b := range goldenSpoolBatches() {
		cols := columnsOf(b)
		if names := strings.Split(tableDefs[b.tbl].insertColumns(), ", "); len(cols) != len(names) {
			t.Errorf("%s: %d column slices for %d columns", b.tbl, len(cols), len(names))
		}
		for i, c := range cols {
			if n := reflect.ValueOf(c).Len(); n != b.len() {
				t.Errorf("%s: column %d has %d values for %d rows", b.tbl, i, n, b.len())
			}
		}
	}
}
