package scoring

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// challengerModel is the built-in national-4 model at a PDO of 27
// instead of 40 (every feature's points scaled by 40/27, as the artifact
// requires) and another id: a model that disagrees with the built-in one
// on some entities.
func challengerModel(t testing.TB) *Model {
	t.Helper()
	m, err := DefaultModel("national-4")
	if err != nil {
		t.Fatal(err)
	}
	m.ID = "national-4-challenger"
	m.Scaling.PDO = 27
	for i := range m.Features {
		f := &m.Features[i]
		f.Points = int(math.Round(-f.LogOdds * 27 / math.Ln2))
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func engineWith(t testing.TB, m *Model) *Engine {
	t.Helper()
	e, err := New(Options{Model: m, Now: func() time.Time { return testNow }, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// tierStatsCounts returns TierStats' per-tier entity, inspection, found
// and adverse counts.
func tierStatsCounts(t *testing.T, e *Engine, at time.Time) (ents, insp, found, adverse []int64) {
	t.Helper()
	st, err := e.TierStats(context.Background(), at, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st.Tiers {
		ents, insp = append(ents, int64(l.Entities)), append(insp, int64(l.Inspections))
		found, adverse = append(found, int64(l.Found)), append(adverse, int64(l.Adverse))
	}
	return
}

// The challenger scored in shadow over the champion's records counts
// exactly what an engine running the challenger as its model counts
// (tiers, inspection hit rates under the tier just before each
// inspection), and what such an engine restored from the champion's
// snapshot counts: promoting the challenger is a restart with it as the
// model (domain.md §8).
func TestMonitorChallengerEqualsChallengerEngine(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	const n = 400
	evs := genEvents(r, n)
	champ, _ := DefaultModel("national-4")
	chall := challengerModel(t)
	a := engineWith(t, champ)
	applyAll(t, a, evs)
	b := engineWith(t, chall)
	applyAll(t, b, evs)
	sh, err := NewShadow(chall)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Name() != b.ModelName() || sh.Scheme().ID != "national-4" {
		t.Fatalf("shadow identity %s %s", sh.Name(), sh.Scheme().ID)
	}
	var snap bytes.Buffer
	if err := a.WriteSnapshot(&snap, 7); err != nil {
		t.Fatal(err)
	}
	promoted := engineWith(t, chall)
	if _, err := promoted.ReadSnapshot(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	disagree := 0
	for _, at := range checkInstants {
		mon, err := a.Monitor(context.Background(), at, sh)
		if err != nil {
			t.Fatal(err)
		}
		aEnts, _, _, _ := tierStatsCounts(t, a, at)
		if !reflect.DeepEqual(mon.ChampionTiers, aEnts) {
			t.Errorf("%v: champion tiers %v, TierStats %v", at, mon.ChampionTiers, aEnts)
		}
		for _, eng := range []*Engine{b, promoted} {
			ents, insp, found, adv := tierStatsCounts(t, eng, at)
			if !reflect.DeepEqual(mon.ChallengerTiers, ents) || !reflect.DeepEqual(mon.Inspections, insp) ||
				!reflect.DeepEqual(mon.Found, found) || !reflect.DeepEqual(mon.Adverse, adv) {
				t.Errorf("%v: shadow %v %v %v %v, challenger engine %v %v %v %v", at, mon.ChallengerTiers, mon.Inspections,
					mon.Found, mon.Adverse, ents, insp, found, adv)
			}
		}
		// The agreement matrix: rows sum to the champion's tiers, columns
		// to the challenger's, and each cell is the entities with that
		// pair of tiers (counted entity by entity here).
		want := make([][]int64, 4)
		for i := range want {
			want[i] = make([]int64, 4)
		}
		var total int64
		for i := 0; i < n; i++ {
			va, ok := a.Entity(testCode(i), at, false)
			if !ok || !inPopulationView(va) {
				continue
			}
			vb, _ := b.Entity(testCode(i), at, false)
			want[va.Tier][vb.Tier]++
			total++
			if va.Tier != vb.Tier {
				disagree++
			}
		}
		if !reflect.DeepEqual(mon.Agreement, want) || mon.Entities != total {
			t.Errorf("%v: agreement %v (%d entities), want %v (%d)", at, mon.Agreement, mon.Entities, want, total)
		}
	}
	if disagree == 0 {
		t.Fatal("the challenger never disagrees: the test cannot tell the models apart")
	}
}

// inPopulationView says whether an entity view is in the registered, not
// deregistered population.
func inPopulationView(v EntityView) bool {
	return v.Registered && !v.Deregistered
}

// Without a challenger only the champion is counted; the score bands of a
// model with a reference count every entity of the population in the band
// of its score (checked against Scan), and a model without a reference
// has no bands.
func TestMonitorBands(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	const n = 300
	evs := genEvents(r, n)
	m, _ := DefaultModel("national-4")
	m.Reference = nil // an artifact fitted before references (the built-in ones carry one)
	e := engineWith(t, m)
	applyAll(t, e, evs)
	mon, err := e.Monitor(context.Background(), testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mon.ChampionBands != nil || mon.ChallengerTiers != nil || mon.Agreement != nil || mon.Inspections != nil {
		t.Fatalf("no reference, no challenger: %+v", mon)
	}
	m2, _ := DefaultModel("national-4")
	m2.Reference = &ScoreReference{AsOf: "2026-01-01", Entities: 100, Edges: []int32{550, 600, 650}, Shares: []float64{0.1, 0.2, 0.3, 0.4}}
	e2 := engineWith(t, m2)
	applyAll(t, e2, evs)
	mon2, err := e2.Monitor(context.Background(), testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, 4)
	for part := range e2.Shards() {
		_ = e2.Scan(context.Background(), part, testNow, ScanOptions{}, func(at *EntityAt) error {
			if at.Registered && !at.Deregistered {
				switch s := at.Score; {
				case s < 550:
					want[0]++
				case s < 600:
					want[1]++
				case s < 650:
					want[2]++
				default:
					want[3]++
				}
			}
			return nil
		})
	}
	if !reflect.DeepEqual(mon2.ChampionBands, want) {
		t.Fatalf("bands %v, want %v", mon2.ChampionBands, want)
	}
	if want[0]+want[1]+want[2]+want[3] != mon2.Entities || mon2.Entities == 0 {
		t.Fatalf("bands do not cover the %d entities", mon2.Entities)
	}
	// A cancelled scan stops with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e2.Monitor(ctx, testNow, nil); err == nil {
		t.Fatal("cancelled scan succeeded")
	}
}

// Scans run while events are applied (the race detector watches the
// released and retaken read locks); once the applies are done a scan
// counts exactly what TierStats counts.
func TestMonitorConcurrentApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 3))
	evs := genEvents(r, 6000) // more than 4096 entities in the one shard: the lock is released mid-scan
	e, err := New(Options{Now: func() time.Time { return testNow }, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := NewShadow(challengerModel(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, ev := range evs {
			_, _ = e.Apply(ev, nil) // the generator's rare invalid event is refused, as it should be
		}
	}()
	scans := 0
	for running := true; running; scans++ {
		select {
		case <-done:
			running = false
		default:
		}
		if _, err := e.Monitor(context.Background(), testNow, sh); err != nil {
			t.Fatal(err)
		}
	}
	mon, _ := e.Monitor(context.Background(), testNow, sh)
	ents, _, _, _ := tierStatsCounts(t, e, testNow)
	if !reflect.DeepEqual(mon.ChampionTiers, ents) || mon.Entities <= 4096 {
		t.Fatalf("after %d concurrent scans: %v, TierStats %v", scans, mon.ChampionTiers, ents)
	}
}
