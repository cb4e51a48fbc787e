package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/testenv"
	"github.com/creditrisk/creditd/models/uscc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testEnd = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// run generates a stream and returns its lines (without newlines) and the
// truth by USCC.
func run(t testing.TB, opts Options) ([][]byte, map[string]Truth, Stats) {
	t.Helper()
	truth := map[string]Truth{}
	opts.Truth = func(tr *Truth) error {
		truth[tr.USCC.String()] = *tr
		return nil
	}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	err = g.Run(context.Background(), func(line []byte) error {
		lines = append(lines, bytes.Clone(line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines, truth, g.Stats()
}

// checkObjection checks an objection event against events.md: a filing
// names an earlier record (not a referencing event) of its entity that has
// no open objection and was not withdrawn, with the entity's USCC in its
// id; an answer names an open objection, is referred at most once, and an
// upheld answer withdraws the record.
func checkObjection(t *testing.T, w *wire, byID map[string]*wire) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: %s: %s\n%s", w.line, w.Type, fmt.Sprintf(format, args...), w.raw)
	}
	ref := w.attrsS["ref"]
	r := byID[ref]
	switch {
	case refProblem(w, r, ref) != "":
		fail("%s", refProblem(w, r, ref))
	case w.ID[4:22] != w.USCC:
		fail("the id does not name the entity")
	}
	if w.Type == "objection_filed" {
		if !recordTypes[r.Type] || r.objected || r.withdrawn {
			fail("ref %s (%s) is no record, has an objection or was withdrawn", ref, r.Type)
		}
		if len(w.ID) != 4+18+1+16 {
			fail("id %s is not OBJ-<USCC>-<16 characters>", w.ID)
		}
		r.objected = true
		return
	}
	if r.Type != "objection_filed" || r.ended || !strings.HasPrefix(w.ID, ref+"-") {
		fail("ref %s is not an open objection, or the id does not extend it", ref)
	}
	switch w.attrsS["outcome"] {
	case "referred":
		if r.referred {
			fail("referred twice")
		}
		r.referred = true
	case "upheld":
		r.ended = true
		target := byID[r.attrsS["ref"]]
		target.withdrawn = true
	default:
		r.ended = true
	}
}

func TestStreamValid(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"shandong-2y", Options{Entities: 8_000, Days: 730, Seed: 1, End: testEnd}},
		{"shandong-2y-consumer-complaints", Options{Entities: 8_000, Days: 730, Seed: 1, End: testEnd, ConsumerComplaints: true}},
		{"shandong-8y-start-june", Options{Entities: 3_000, Days: 2922, Seed: 5, Start: time.Date(2018, 6, 15, 0, 0, 0, 0, time.UTC)}},
		{"guangdong-synthetic", Options{Entities: 4_000, Days: 400, Seed: 9, Region: "44", End: testEnd}},
		{"one-entity", Options{Entities: 1, Days: 3000, Seed: 3, End: testEnd}},
		{"old-stream", Options{Entities: 3_000, Days: 500, Seed: 11, End: time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, truth, st := run(t, c.opts)
			ws := validate(t, lines, c.opts)
			if len(truth) != c.opts.Entities {
				t.Fatalf("truth has %d entities, want %d (USCC collision?)", len(truth), c.opts.Entities)
			}
			types := map[string]int{}
			for _, w := range ws {
				types[w.Type]++
				if _, ok := truth[w.USCC]; !ok {
					t.Fatalf("line %d: USCC %s not in the truth", w.line, w.USCC)
				}
			}
			if types["registered"] != c.opts.Entities {
				t.Fatalf("%d registrations, want %d", types["registered"], c.opts.Entities)
			}
			if st.Events != int64(len(lines)) {
				t.Fatalf("stats count %d events, stream has %d", st.Events, len(lines))
			}
			for name, n := range st.ByType() {
				if types[name] != int(n) {
					t.Fatalf("stats count %d %s, stream has %d", n, name, types[name])
				}
			}
			if c.opts.Days > 2000 && c.opts.Entities >= 1000 {
				// Years of history exercise every type, even removals
				// from the dishonest list after 3 years.
				for name := range specs {
					if types[name] == 0 {
						t.Errorf("no %s events", name)
					}
				}
			}
			t.Logf("%d lines: %v", len(lines), types)
		})
	}
}

func TestDeterminism(t *testing.T) {
	opts := Options{Entities: 3000, Days: 400, Seed: 42, End: testEnd}
	a, _, _ := run(t, opts)
	b, _, _ := run(t, opts)
	if !equalLines(a, b) {
		t.Fatal("same options gave different output")
	}
	opts.Seed = 43
	c, _, _ := run(t, opts)
	if equalLines(a, c) {
		t.Fatal("different seeds gave the same output")
	}
	// Bad lines are inserted without disturbing the good ones.
	opts.Seed = 42
	opts.BadRate = 0.05
	d, _, _ := run(t, opts)
	var good [][]byte
	for _, l := range d {
		if !bytes.Contains(l, []byte(`"id":"BAD-`)) {
			good = append(good, l)
		}
	}
	if len(good) == len(d) || !equalLines(a, good) {
		t.Fatal("bad lines changed the good stream")
	}
}

func equalLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestHitRateByLatentRisk: the inspection hit rate rises with latent risk
// and the overall rate sits in domain.md §8's baselines.
func TestHitRateByLatentRisk(t *testing.T) {
	type insp struct {
		uscc string
		hit  bool
	}
	var inspections []insp
	truth := map[string]float64{}
	opts := Options{Entities: 40_000, Days: 1095, Seed: 7, End: testEnd,
		Truth: func(tr *Truth) error { truth[tr.USCC.String()] = tr.Percentile; return nil }}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	err = g.Run(context.Background(), func(l []byte) error {
		if !bytes.Contains(l, []byte(`"type":"inspection"`)) {
			return nil
		}
		var ev struct {
			USCC  string
			Attrs struct{ Result string }
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			return err
		}
		inspections = append(inspections, insp{ev.USCC, ev.Attrs.Result != "no_problem"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := g.Stats()
	var n, hits [5]float64
	for _, in := range inspections {
		p, ok := truth[in.uscc]
		if !ok {
			t.Fatalf("inspection of unknown %s", in.uscc)
		}
		q := min(4, int(p*5))
		n[q]++
		if in.hit {
			hits[q]++
		}
	}
	var rates [5]float64
	var total, totalHits float64
	for q := range n {
		if n[q] < 300 {
			t.Fatalf("quintile %d: only %v inspections", q, n[q])
		}
		rates[q] = hits[q] / n[q]
		total += n[q]
		totalHits += hits[q]
		if int64(n[q]) != st.Inspections[q] || int64(hits[q]) != st.Hits[q] {
			t.Fatalf("quintile %d: stats %d/%d, stream %v/%v", q, st.Hits[q], st.Inspections[q], hits[q], n[q])
		}
	}
	overall := totalHits / total
	t.Logf("hit rate by latent-risk quintile %.3f, overall %.3f over %v inspections", rates, overall, total)
	if overall < 0.08 || overall > 0.20 {
		t.Errorf("overall hit rate %.3f outside the 8–20%% baselines of domain.md §8", overall)
	}
	for q := 1; q < 5; q++ {
		// Rising, allowing two standard errors of noise.
		se := math.Sqrt(rates[q]*(1-rates[q])/n[q] + rates[q-1]*(1-rates[q-1])/n[q-1])
		if rates[q] < rates[q-1]-2*se {
			t.Errorf("hit rate falls from quintile %d (%.3f) to %d (%.3f)", q-1, rates[q-1], q, rates[q])
		}
	}
	if rates[4] < 5*rates[0] || rates[4]-rates[0] < 0.2 {
		t.Errorf("hit rate rises too little: %.3f to %.3f", rates[0], rates[4])
	}
}

// TestRiskDrivesEvents: negative records concentrate on high latent risk,
// honours on low.
func TestRiskDrivesEvents(t *testing.T) {
	lines, truth, _ := run(t, Options{Entities: 15_000, Days: 730, Seed: 2, End: testEnd})
	var per [5]map[string]float64
	for q := range per {
		per[q] = map[string]float64{}
	}
	for _, l := range lines {
		var ev struct{ USCC, Type string }
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatal(err)
		}
		per[min(4, int(truth[ev.USCC].Percentile*5))][ev.Type]++
	}
	// Since issue 13 the events follow the conduct and filing propensities
	// (params.go "Observation channels", loading 0.6 and 0.5), not z
	// itself: a rate ∝ ρ_c^k rises by about exp(σ·k·λ·2.8) between the
	// mean z of the lowest and highest quintiles (−1.4, +1.4), 3.2× for
	// complaints (k = 0.7, the weakest), more for the others; 2× leaves room
	// for noise and still fails if events stop following the latent risk.
	for _, typ := range []string{"penalty", "abnormal_listed", "complaint", "court_debtor_listed", "commitment_breached"} {
		if lo, hi := per[0][typ], per[4][typ]; hi < 2*lo || hi < 20 {
			t.Errorf("%s: lowest quintile %v, highest %v: want a strong rise", typ, lo, hi)
		}
	}
	if lo, hi := per[0]["honor"], per[4]["honor"]; lo < 3*hi || lo < 20 {
		t.Errorf("honor: lowest quintile %v, highest %v: want honours for low risk", lo, hi)
	}
}

// TestBadLines: each injected bad line is identifiable by its id and is
// really invalid in the way its class says.
func TestBadLines(t *testing.T) {
	opts := Options{Entities: 5000, Days: 500, Seed: 4, End: testEnd, BadRate: 0.03}
	lines, _, st := run(t, opts)
	opts.EnsureDefaults()
	ids := map[string]*wire{}
	counts := map[string]int64{}
	idRE := regexp.MustCompile(`"id":"BAD-([a-z_]+)-(\d{6})"`)
	for n, l := range lines {
		m := idRE.FindSubmatch(l)
		if m == nil {
			w := decode(t, n+1, l)
			ids[w.ID] = w
			continue
		}
		class := string(m[1])
		counts[class]++
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d (%s): %s\n%s", n+1, class, fmt.Sprintf(format, args...), l)
		}
		if class == "not_json" {
			if json.Valid(l) {
				fail("valid JSON")
			}
			continue
		}
		var ev struct {
			ID, USCC, Type, Authority string
			OccurredAt                *string `json:"occurred_at"`
			Attrs                     map[string]any
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			fail("%v", err)
		}
		_, usccErr := uscc.Parse(ev.USCC)
		if (usccErr != nil) != (class == "invalid_uscc") {
			fail("USCC check: %v", usccErr)
		}
		if (ev.OccurredAt == nil) != (class == "missing_field") {
			fail("occurred_at presence")
		}
		if _, known := specs[ev.Type]; known == (class == "unknown_type") {
			fail("type %q", ev.Type)
		}
		switch class {
		case "invalid_attrs":
			if _, isBool := ev.Attrs["substantiated"].(bool); isBool {
				fail("attrs are well formed")
			}
		case "future":
			at, err := time.Parse(time.RFC3339, *ev.OccurredAt)
			if err != nil || at.Before(opts.End.AddDate(5, 0, 0)) {
				fail("occurred_at %v is not far in the future", *ev.OccurredAt)
			}
		case "unknown_ref":
			if ref, _ := ev.Attrs["ref"].(string); ids[ref] != nil || ref == "" {
				fail("ref %q exists", ref)
			}
		case "early_repair":
			ref, _ := ev.Attrs["ref"].(string)
			target := ids[ref]
			if target == nil || target.USCC != ev.USCC || target.Type != "penalty" || target.attrsS["severity"] == "minor" {
				fail("ref %q is not a general or serious penalty of the entity", ref)
			}
			decided, _ := time.Parse(time.DateOnly, ev.Attrs["decided_on"].(string))
			if !decided.Before(target.At.AddDate(0, 3, 0)) {
				fail("the repair is not early")
			}
		}
	}
	for k, class := range BadClasses {
		if counts[class] != st.Bad[k] {
			t.Errorf("%s: %d lines, stats say %d", class, counts[class], st.Bad[k])
		}
		if counts[class] == 0 {
			t.Errorf("no %s lines", class)
		}
	}
	t.Logf("bad lines: %v of %d", counts, len(lines))
}

// TestGolden pins the beginning of a tiny stream byte for byte, and the
// whole histories of a few entities of a larger one chosen for what they
// show (a penalty repaired in the SAMR channel, a breached commitment
// repaired, objections referred, upheld and rejected). Run with -update
// after an intended change of the generator.
func TestGolden(t *testing.T) {
	lines, _, _ := run(t, Options{Entities: 12, Days: 900, Seed: 2026, End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)})
	if len(lines) > 40 {
		lines = lines[:40]
	}
	golden(t, "tiny.ndjson", lines)
	lines, _, _ = run(t, Options{Entities: 4000, Days: 1461, Seed: 2026, End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)})
	golden(t, "histories.ndjson", histories(t, lines))
}

// histories returns the events of the first entity of lines showing each
// of a few features, in stream order.
func histories(t *testing.T, lines [][]byte) [][]byte {
	t.Helper()
	features := []string{`"channel":"samr"`, `"ref":"APPR-`, `"outcome":"referred"`, `"outcome":"upheld"`, `"outcome":"rejected"`}
	pick := map[string]bool{}
	for _, f := range features {
		for _, l := range lines {
			if bytes.Contains(l, []byte(f)) && (f != `"ref":"APPR-` || bytes.Contains(l, []byte(`"type":"repair"`))) {
				pick[usccOf(l)] = true
				break
			}
		}
	}
	if len(pick) < 3 {
		t.Fatalf("only %d entities show the features %v", len(pick), features)
	}
	var out [][]byte
	for _, l := range lines {
		if pick[usccOf(l)] {
			out = append(out, l)
		}
	}
	return out
}

// usccOf returns the uscc member of a generated line.
func usccOf(l []byte) string {
	_, rest, _ := bytes.Cut(l, []byte(`"uscc":"`))
	return string(rest[:min(18, len(rest))])
}

// golden compares lines with testdata/name (rewritten with -update) after
// an independent check of the file itself, written from the event spec
// (USCC check characters, types, attrs, references, objection ids), so
// that a golden rewritten by -update from a wrong generator fails.
func golden(t *testing.T, name string, lines [][]byte) {
	t.Helper()
	got := append(bytes.Join(lines, []byte("\n")), '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	testenv.Python(t, "testdata", "check_events.py", name)
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs from %s:\ngot  %s\nwant %s", i+1, path, gl[i], wl[i])
			}
		}
		t.Fatalf("output differs from %s in length", path)
	}
}

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.Entities != 10_000 || o.Days != 365 || o.Region != "37" || !o.End.Equal(DefaultEnd) ||
		!o.Start.Equal(DefaultEnd.AddDate(0, 0, -365)) || o.BadRate != 0 {
		t.Fatalf("defaults: %+v", o)
	}
	o = Options{Days: 10, End: time.Date(2026, 3, 5, 17, 30, 0, 0, time.FixedZone("CST", 8*3600))}
	o.EnsureDefaults()
	if want := time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC); !o.Start.Equal(want) || !o.End.Equal(want.AddDate(0, 0, 10)) {
		t.Fatalf("from End: start %v end %v", o.Start, o.End)
	}
	o = Options{Days: 10, Start: time.Date(2026, 3, 5, 23, 0, 0, 0, time.UTC), End: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.EnsureDefaults()
	if want := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !o.Start.Equal(want) || !o.End.Equal(want.AddDate(0, 0, 10)) {
		t.Fatalf("Start wins over End: start %v end %v", o.Start, o.End)
	}
	bad := []Options{
		{Entities: -1}, {Entities: MaxEntities + 1}, {Days: -5}, {Days: MaxDays + 1}, {Region: "99"}, {Region: "3"},
		{BadRate: 1.5}, {BadRate: -0.1}, {BadRate: math.NaN()}, {Start: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, o := range bad {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestRunErrors(t *testing.T) {
	g, err := New(Options{Entities: 500, Days: 100})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	n := 0
	if err := g.Run(context.Background(), func([]byte) error {
		if n++; n == 100 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("emit error: got %v", err)
	}
	if err := g.Run(context.Background(), func([]byte) error { return nil }); err == nil {
		t.Fatal("second Run accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = Generate(ctx, Options{Entities: 2000, Days: 300}, func([]byte) error {
		if n++; n == 2100 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: got %v", err)
	}
	stop := errors.New("stop")
	err = Generate(context.Background(), Options{Entities: 50, Days: 10, Truth: func(*Truth) error { return stop }},
		func([]byte) error { return nil })
	if !errors.Is(err, stop) {
		t.Fatalf("truth error: got %v", err)
	}
}

func TestTruth(t *testing.T) {
	_, truth, _ := run(t, Options{Entities: 5000, Days: 365, Seed: 8, End: testEnd})
	header := strings.Split(TruthCSVHeader, ",")
	var tiers [4]int
	for u, tr := range truth {
		fields := strings.Split(string(tr.AppendCSV(nil)), ",")
		if len(fields) != len(header) || fields[0] != u {
			t.Fatalf("CSV line %v does not match the header %v", fields, header)
		}
		if got := math.Exp(riskSigma*tr.Z - riskSigma*riskSigma/2); math.Abs(got-tr.Risk) > 1e-9*got {
			t.Fatalf("%s: risk %v, want %v", u, tr.Risk, got)
		}
		if tr.Tier4 != tierOf(tr.Percentile, truthCuts4) || tr.Tier5 != tierOf(tr.Percentile, truthCuts5) {
			t.Fatalf("%s: tiers %d/%d for percentile %v", u, tr.Tier4, tr.Tier5, tr.Percentile)
		}
		if tr.HitProb <= 0 || tr.HitProb >= 1 || tr.Region != u[2:8] || tr.RegisteredOn.IsZero() {
			t.Fatalf("%s: %+v", u, tr)
		}
		tiers[tr.Tier4]++
	}
	// The cut points give A 30 %, B 50 %, C 15 %, D 5 %.
	for k, want := range []float64{0.30, 0.50, 0.15, 0.05} {
		if got := float64(tiers[k]) / float64(len(truth)); math.Abs(got-want) > 0.03 {
			t.Errorf("tier %d share %.3f, want %.2f", k, got, want)
		}
	}
}

// TestPopulationMix: kinds follow domain.md §7 and divisions the weights.
func TestPopulationMix(t *testing.T) {
	g, err := New(Options{Entities: 100_000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var kinds [numKinds]float64
	cities := map[int]float64{}
	legacy := 0
	for i := range g.ents {
		e := &g.ents[i]
		kinds[e.kind]++
		cities[g.reg.divs[e.div].city]++
		if u := g.uscc(int32(i), e); u[8] != 'M' {
			legacy++
			if e.kind == kindIndividual || e.reg >= maCodesFrom {
				t.Fatalf("entity %d: legacy code %s", i, u)
			}
		}
	}
	for k, want := range []float64{0.313, 0.675, 0.012} {
		if got := kinds[k] / 1e5; math.Abs(got-want) > 0.01 {
			t.Errorf("kind %d share %.3f, want %.3f", k, got, want)
		}
	}
	// Linyi (1101.8) is the largest city, Dongying (219.4) the smallest.
	if cities[11] < 4*cities[4] {
		t.Errorf("Linyi %v vs Dongying %v entities", cities[11], cities[4])
	}
	if legacy == 0 {
		t.Error("no legacy organisation codes")
	}
}

func TestRegions(t *testing.T) {
	r, err := loadRegion("37")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.cities) != 16 || len(r.divs) != 16+136 {
		t.Fatalf("Shandong: %d cities, %d divisions; want 16 and 152", len(r.cities), len(r.divs))
	}
	seen := map[string]bool{}
	for _, d := range r.divs {
		if len(d.code) != 6 || d.code[:2] != "37" || seen[d.code] || d.code[:4] != r.cities[d.city].code[:4] {
			t.Fatalf("bad division %+v", d)
		}
		seen[d.code] = true
	}
	for k := range numKinds {
		if c := r.cum[k]; c[len(c)-1] != 1 {
			t.Fatalf("kind %d weights end at %v", k, c[len(c)-1])
		}
	}
	if _, err := loadRegion("00"); err == nil {
		t.Fatal("region 00 accepted")
	}
	for _, p := range provinces {
		if _, err := loadRegion(p.code); err != nil {
			t.Fatalf("%s: %v", p.code, err)
		}
	}
}

func TestCalendar(t *testing.T) {
	for n := daysFromCivil(1900, 1, 1); n < daysFromCivil(2200, 1, 1); n += 7 {
		tm := time.Unix(int64(n)*86400, 0).UTC()
		y, m, d := ymd(n)
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() || daysFromCivil(y, m, d) != n {
			t.Fatalf("day %d: civil %d-%d-%d, time %v", n, y, m, d, tm)
		}
		if weekday(n) != int(tm.Weekday()) {
			t.Fatalf("day %d: weekday %d, want %d", n, weekday(n), tm.Weekday())
		}
		for _, k := range []int{1, 6, 12, 24, 36, -3} {
			if got, want := addMonths(n, k), tm.AddDate(0, k, 0); got != int32(want.Unix()/86400) {
				t.Fatalf("addMonths(%v, %d) = %d, want %v", tm, k, got, want)
			}
		}
	}
	if got := string(appendDate(nil, daysFromCivil(2026, 5, 9))); got != "2026-05-09" {
		t.Fatal(got)
	}
	if got := string(appendClock(nil, 3723)); got != "01:02:03" {
		t.Fatal(got)
	}
}

func TestPerm(t *testing.T) {
	for _, m := range []uint64{1, 2, 1000, 31 * 31 * 31} {
		p := newPerm(m, 99, 1)
		seen := make(map[uint64]bool, m)
		for x := range m {
			y := p.apply(x)
			if y >= m || seen[y] {
				t.Fatalf("m=%d: %d → %d repeats or is out of range", m, x, y)
			}
			seen[y] = true
		}
	}
}

func TestEntityCompact(t *testing.T) {
	// 10 million entities must fit in well under a gigabyte.
	if s := unsafe.Sizeof(entity{}); s > 72 {
		t.Fatalf("entity is %d bytes, budget 72", s)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "济南鑫达商贸有限公司", "q\"b\\s\n\r\t\x01\x7f", "bad\xffutf8", "\u2028"} {
		b := jsontext.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q → %s → %q", s, b, back)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "济南", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := jsontext.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q → %s → %q", s, b, back)
		}
	})
}
