package scoring

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// testCode returns a valid USCC numbered i.
func testCode(i int) uscc.Code {
	body := []byte(fmt.Sprintf("9137%04d%08d", i%10000, i))
	body = body[:16]
	body = append(body, uscc.OrgCheckCharacter(body[8:16]))
	body = append(body, uscc.CheckCharacter(body))
	c, err := uscc.Parse(string(body))
	if err != nil {
		panic(err)
	}
	return c
}

// genEvents returns a random but valid event history for n entities:
// every ref points to an earlier record of the same entity, at most one
// event ends each record, repairs respect the minimum periods.
func genEvents(r *rand.Rand, n int) []*event.Event {
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(testNow.Sub(start) / time.Second)
	var out []*event.Event
	for i := 0; i < n; i++ {
		code := testCode(i)
		seq := 0
		id := func() string { seq++; return fmt.Sprintf("E%d-%d", i, seq) }
		at := func(min time.Time) time.Time {
			lo := min.Unix() - start.Unix()
			if lo < 0 {
				lo = 0
			}
			if lo >= span {
				return min
			}
			return start.Add(time.Duration(lo+r.Int64N(span-lo)) * time.Second)
		}
		if r.IntN(10) > 0 {
			out = append(out, &event.Event{ID: id(), USCC: code, Type: event.TypeRegistered, OccurredAt: start.Add(-time.Hour),
				Name: "企业" + fmt.Sprint(i), Region: "370102", RegisteredOn: civil.MakeDate(2020, 1, 1)})
		}
		k := r.IntN(8)
		for j := 0; j < k; j++ {
			ev := &event.Event{ID: id(), USCC: code, Authority: "A", OccurredAt: at(start)}
			switch r.IntN(9) {
			case 0:
				ev.Type, ev.Sub = event.TypePenalty, uint8(1+r.IntN(3))
			case 1:
				ev.Type, ev.Sub = event.TypeAbnormalListed, uint8(1+r.IntN(4))
			case 2:
				ev.Type = event.TypeDishonestListed
			case 3:
				ev.Type = event.TypeCourtDebtorListed
			case 4:
				ev.Type, ev.Sub = event.TypeInspection, uint8(1+r.IntN(5))
			case 5:
				ev.Type, ev.Year, ev.OnTime = event.TypeAnnualReport, 2020+r.IntN(6), r.IntN(3) > 0
			case 6:
				ev.Type, ev.Year, ev.Sub = event.TypeTaxRating, 2020+r.IntN(6), uint8(1+r.IntN(5))
			case 7:
				ev.Type, ev.Sub = event.TypeHonor, uint8(1+r.IntN(3))
			default:
				ev.Type, ev.Substantiated = event.TypeComplaint, r.IntN(2) == 0
			}
			out = append(out, ev)
			// Maybe end it.
			if r.IntN(2) == 0 {
				continue
			}
			day := civil.DateOf(ev.OccurredAt)
			switch ev.Type {
			case event.TypeAbnormalListed, event.TypeDishonestListed, event.TypeCourtDebtorListed:
				rm := &event.Event{ID: id(), USCC: code, Authority: "A", Ref: ev.ID, OccurredAt: at(ev.OccurredAt)}
				rm.Type = map[event.Type]event.Type{event.TypeAbnormalListed: event.TypeAbnormalRemoved,
					event.TypeDishonestListed: event.TypeDishonestRemoved, event.TypeCourtDebtorListed: event.TypeCourtDebtorRemoved}[ev.Type]
				if ev.Type != event.TypeCourtDebtorListed && r.IntN(2) == 0 {
					rule := record.RuleFor(ev.Type, ev.Sub, day)
					d := rule.RepairFrom + civil.Date(r.IntN(200))
					if rule.RepairUntil != civil.NoDate && d > rule.RepairUntil {
						d = rule.RepairFrom
					}
					occ := d.Time().Add(time.Hour).UTC()
					if occ.Before(ev.OccurredAt) {
						occ = ev.OccurredAt.Add(time.Hour)
					}
					rm = &event.Event{ID: rm.ID, USCC: code, Authority: "A", Type: event.TypeRepair, Ref: ev.ID, DecidedOn: d,
						OccurredAt: occ}
				}
				if rm.OccurredAt.Before(testNow) {
					out = append(out, rm)
				}
			case event.TypePenalty:
				rule := record.RuleFor(ev.Type, ev.Sub, day)
				if rule.Repairable {
					d := rule.RepairFrom + civil.Date(r.IntN(60))
					if d <= rule.Until && d.Time().Before(testNow) {
						out = append(out, &event.Event{ID: id(), USCC: code, Authority: "A", Type: event.TypeRepair, Ref: ev.ID,
							DecidedOn: d, OccurredAt: d.Time().Add(time.Hour).UTC()})
					}
				}
			}
		}
		if r.IntN(20) == 0 {
			out = append(out, &event.Event{ID: id(), USCC: code, Type: event.TypeDeregistered, Authority: "A", OccurredAt: at(start)})
		}
	}
	return out
}

// shuffleTopo returns a random order in which every referencing event
// comes after its target.
func shuffleTopo(r *rand.Rand, evs []*event.Event) []*event.Event {
	out := append([]*event.Event(nil), evs...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	pos := map[string]int{}
	for i, e := range out {
		pos[e.ID] = i
	}
	// Move every ref after its target (repeat until stable).
	for changed := true; changed; {
		changed = false
		for i, e := range out {
			if e.Ref == "" {
				continue
			}
			if t := pos[e.Ref]; t > i {
				out[i], out[t] = out[t], out[i]
				pos[out[i].ID], pos[out[t].ID] = i, t
				changed = true
			}
		}
	}
	return out
}

func applyAll(t testing.TB, e *Engine, evs []*event.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := e.Apply(ev, nil); err != nil {
			t.Fatalf("%s %s: %v", ev.ID, ev.Type, err)
		}
	}
}

var checkInstants = []time.Time{
	time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2023, 9, 9, 9, 9, 9, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), testNow,
}

// stateOf renders every entity's view at the check instants.
func stateOf(e *Engine, n int) []EntityView {
	var out []EntityView
	for i := 0; i < n; i++ {
		for _, at := range checkInstants {
			v, ok := e.Entity(testCode(i), at, true)
			if ok {
				out = append(out, v)
			}
		}
	}
	return out
}

func TestPropertyOrderAndReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const n = 150
	evs := genEvents(r, n)
	base := newTestEngine(t, "national-4")
	applyAll(t, base, evs)
	want := stateOf(base, n)
	if len(want) == 0 {
		t.Fatal("no state")
	}
	for trial := 0; trial < 5; trial++ {
		e := newTestEngine(t, "national-4")
		applyAll(t, e, shuffleTopo(r, evs))
		if got := stateOf(e, n); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: state differs with another arrival order", trial)
		}
	}
	// Replaying twice changes nothing: every event is a duplicate.
	for _, ev := range evs {
		res, err := base.Apply(ev, nil)
		if err != nil || res.Outcome != Duplicate || res.NChanges != 0 {
			t.Fatalf("replay of %s: %v %v", ev.ID, res.Outcome, err)
		}
	}
	if got := stateOf(base, n); !reflect.DeepEqual(got, want) {
		t.Fatal("state changed by a replay")
	}
}

func TestPropertyMonotone(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const n = 120
	evs := genEvents(r, n)
	for _, scheme := range []string{"national-4", "shandong-5"} {
		base := newTestEngine(t, scheme)
		applyAll(t, base, evs)
		before := stateOf(base, n)
		negative := []func(ev *event.Event){
			func(ev *event.Event) { ev.Type, ev.Sub = event.TypePenalty, uint8(1+r.IntN(3)) },
			func(ev *event.Event) { ev.Type, ev.Sub = event.TypeAbnormalListed, 1 },
			func(ev *event.Event) { ev.Type = event.TypeDishonestListed },
			func(ev *event.Event) { ev.Type = event.TypeCourtDebtorListed },
			func(ev *event.Event) { ev.Type, ev.Sub = event.TypeInspection, uint8(2+r.IntN(4)) },
			func(ev *event.Event) { ev.Type, ev.Substantiated = event.TypeComplaint, true },
		}
		positive := []func(ev *event.Event){
			func(ev *event.Event) { ev.Type, ev.Sub = event.TypeHonor, uint8(1+r.IntN(3)) },
		}
		check := func(kind string, muts []func(*event.Event), worse bool) {
			for trial := 0; trial < 200; trial++ {
				i := r.IntN(n)
				e := newTestEngine(t, scheme)
				applyAll(t, e, evs)
				ev := &event.Event{ID: fmt.Sprintf("X-%d", trial), USCC: testCode(i), Authority: "A",
					OccurredAt: time.Date(2021+r.IntN(5), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)}
				muts[r.IntN(len(muts))](ev)
				if _, err := e.Apply(ev, nil); err != nil {
					t.Fatal(err)
				}
				for _, at := range checkInstants {
					b, ok := base.Entity(testCode(i), at, false)
					a, _ := e.Entity(testCode(i), at, false)
					if !ok {
						continue
					}
					if worse && (a.Tier < b.Tier || a.Score > b.Score) {
						t.Fatalf("%s %s: a %s event raised the score/lowered the tier at %s: %d%s -> %d%s", scheme, kind, ev.Type, at, b.Score, b.TierLabel, a.Score, a.TierLabel)
					}
					if !worse && (a.Tier > b.Tier || a.Score < b.Score) {
						t.Fatalf("%s %s: a %s event raised risk at %s: %d%s -> %d%s", scheme, kind, ev.Type, at, b.Score, b.TierLabel, a.Score, a.TierLabel)
					}
				}
			}
		}
		check("negative", negative, true)
		check("honour", positive, false)
		// Every repair of the history, removed one at a time, may only
		// raise risk when removed: i.e. adding it never raised risk.
		for _, rep := range evs {
			if rep.Type != event.TypeRepair {
				continue
			}
			var without []*event.Event
			for _, ev := range evs {
				if ev != rep {
					without = append(without, ev)
				}
			}
			e := newTestEngine(t, scheme)
			applyAll(t, e, without)
			for _, at := range checkInstants {
				a, _ := base.Entity(rep.USCC, at, false)
				b, _ := e.Entity(rep.USCC, at, false)
				if a.Tier > b.Tier || a.Score < b.Score {
					t.Fatalf("%s: repair %s raised risk at %s: %d%s -> %d%s", scheme, rep.ID, at, b.Score, b.TierLabel, a.Score, a.TierLabel)
				}
			}
		}
		_ = before
	}
}

func TestSnapshotRestoreIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n = 300
	evs := genEvents(r, n)
	e := newTestEngine(t, "shandong-5")
	applyAll(t, e, evs)
	e.Advance(testNow, nil)
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf, 12345); err != nil {
		t.Fatal(err)
	}
	img := buf.Bytes()
	e2 := newTestEngine(t, "shandong-5")
	pos, err := e2.ReadSnapshot(bytes.NewReader(img))
	if err != nil || pos != 12345 {
		t.Fatalf("restore: %v pos %d", err, pos)
	}
	if !reflect.DeepEqual(stateOf(e, n), stateOf(e2, n)) {
		t.Fatal("restored state answers differently")
	}
	// The restored engine snapshots to the same bytes.
	var buf2 bytes.Buffer
	if err := e2.WriteSnapshot(&buf2, 12345); err != nil {
		t.Fatal(err)
	}
	a, b := img[:96], buf2.Bytes()[:96]
	if !bytes.Equal(a, b) || !bytes.Equal(img[104:len(img)-12], buf2.Bytes()[104:buf2.Len()-12]) {
		t.Fatal("snapshot of the restored state differs")
	}
	// Continuing to apply after restore works and dedupes.
	applyAllDup(t, e2, evs)
	// A snapshot with any flipped byte is refused.
	for _, off := range []int{0, 9, 30, 200, len(img) / 2, len(img) - 5} {
		bad := append([]byte(nil), img...)
		bad[off] ^= 0x40
		e3 := newTestEngine(t, "shandong-5")
		if _, err := e3.ReadSnapshot(bytes.NewReader(bad)); err == nil {
			t.Errorf("flipped byte %d accepted", off)
		}
	}
	// Restoring into an engine with another model recomputes scores.
	e4 := newTestEngine(t, "national-4")
	if _, err := e4.ReadSnapshot(bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	e5 := newTestEngine(t, "national-4")
	applyAll(t, e5, evs)
	if !reflect.DeepEqual(stateOf(e4, n), stateOf(e5, n)) {
		t.Fatal("restore under another model differs from a replay under it")
	}
}

func applyAllDup(t *testing.T, e *Engine, evs []*event.Event) {
	for _, ev := range evs {
		res, err := e.Apply(ev, nil)
		if err != nil || res.Outcome != Duplicate {
			t.Fatalf("after restore, %s: %v %v", ev.ID, res.Outcome, err)
		}
	}
}

// The sweep re-evaluates only entities whose next change has come, and
// after it every cached tier equals a fresh evaluation.
func TestAdvanceAndScanFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 200
	now := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	m, _ := DefaultModel("national-4")
	e, _ := New(Options{Model: m, Now: func() time.Time { return clock }, Shards: 4})
	var evs []*event.Event
	for _, ev := range genEvents(r, n) {
		if ev.OccurredAt.Before(now) {
			evs = append(evs, ev)
		}
	}
	for _, ev := range shuffleTopo(r, evs) {
		if _, err := e.Apply(ev, nil); err != nil {
			var re *event.RejectError
			_ = re
		}
	}
	for _, step := range []time.Duration{24 * time.Hour, 90 * 24 * time.Hour, 400 * 24 * time.Hour, 1000 * 24 * time.Hour} {
		clock = now.Add(step)
		e.Advance(clock, nil)
		for p := 0; p < e.Shards(); p++ {
			s := e.shards[p]
			for i := uint32(0); i < s.nent; i++ {
				ent := s.ent(i)
				if !cacheValid(ent, clock.Unix()) {
					t.Fatalf("after Advance(%s), an entity's cache does not cover now", clock)
				}
				ev := &evaluator{m: e.model}
				if got := ev.eval(s, ent, clock.Unix(), false); got.tier != tier.Tier(ent.tier) || got.score != ent.score {
					t.Fatalf("cached %d/%d, fresh %d/%d", ent.score, ent.tier, got.score, got.tier)
				}
			}
		}
	}
}

// Exporting every entity's events and applying them to an empty engine
// rebuilds the same state (the changelog path of Kafka scale-out).
func TestEntityEventsRebuild(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	const n = 200
	evs := genEvents(r, n)
	for _, ev := range evs {
		ev.RawAttrs = attrsOf(ev)
	}
	e := newTestEngine(t, "national-4")
	applyAll(t, e, evs)
	e2 := newTestEngine(t, "national-4")
	var d event.Decoder
	for i := 0; i < n; i++ {
		lines, ok := e.EntityEvents(testCode(i))
		if !ok {
			continue
		}
		for _, l := range lines {
			var ev event.Event
			if err := d.Decode(l, &ev); err != nil {
				t.Fatalf("exported line %s: %v", l, err)
			}
			if _, err := e2.ApplyAt(&ev, testNow, false, nil); err != nil {
				t.Fatalf("re-applying %s: %v", l, err)
			}
		}
	}
	a, b := stateOf(e, n), stateOf(e2, n)
	for i := range a {
		// The registration's own id and authority survive; nothing else may differ.
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("entity %s differs after rebuild:\n%+v\n%+v", a[i].USCC, a[i], b[i])
		}
	}
}

// attrsOf encodes an event's attributes as its attrs object, with one
// unknown member that must survive the round trip.
func attrsOf(ev *event.Event) []byte {
	sub := event.SubName(ev.Type, ev.Sub)
	var a string
	switch ev.Type {
	case event.TypePenalty:
		a = fmt.Sprintf(`"severity":%q,"decision_no":"D-1"`, sub)
	case event.TypeAbnormalListed:
		a = fmt.Sprintf(`"reason":%q`, sub)
	case event.TypeDishonestListed:
		a = `"reason":"r"`
	case event.TypeCourtDebtorListed:
		a = `"case_no":"c"`
	case event.TypeInspection:
		a = fmt.Sprintf(`"plan_id":"P","result":%q`, sub)
	case event.TypeAnnualReport:
		a = fmt.Sprintf(`"year":%d,"on_time":%v`, ev.Year, ev.OnTime)
	case event.TypeTaxRating:
		a = fmt.Sprintf(`"year":%d,"level":%q`, ev.Year, sub)
	case event.TypeHonor:
		a = fmt.Sprintf(`"title":"t","level":%q`, sub)
	case event.TypeComplaint:
		a = fmt.Sprintf(`"substantiated":%v`, ev.Substantiated)
	case event.TypeRepair:
		a = fmt.Sprintf(`"ref":%q,"decided_on":%q`, ev.Ref, ev.DecidedOn)
	case event.TypeAbnormalRemoved, event.TypeDishonestRemoved, event.TypeCourtDebtorRemoved:
		a = fmt.Sprintf(`"ref":%q`, ev.Ref)
	case event.TypeRegistered, event.TypeDeregistered:
		return nil
	}
	return []byte("{" + a + `,"x":[1,{"y":null}]}`)
}

// Large attrs get dedicated arena blocks, survive snapshots and are read back.
func TestLargeAttrsAndSnapshot(t *testing.T) {
	e := newTestEngine(t, "national-4")
	big := []byte(`{"severity":"general","decision_no":"` + string(bytes.Repeat([]byte("x"), 200_000)) + `"}`)
	for i := 0; i < 3; i++ {
		ev := &event.Event{ID: fmt.Sprintf("BIG-%d", i), USCC: testCode(i), Type: event.TypePenalty, Sub: event.SeverityGeneral,
			Authority: "A", OccurredAt: testNow.Add(-time.Hour), RawAttrs: big}
		if _, err := e.Apply(ev, nil); err != nil {
			t.Fatal(err)
		}
		small := &event.Event{ID: fmt.Sprintf("S-%d", i), USCC: testCode(i), Type: event.TypeHonor, Sub: event.HonorNational,
			Authority: "A", OccurredAt: testNow.Add(-time.Hour), RawAttrs: []byte(`{"title":"t","level":"national"}`)}
		if _, err := e.Apply(small, nil); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf, 1); err != nil {
		t.Fatal(err)
	}
	e2 := newTestEngine(t, "national-4")
	if _, err := e2.ReadSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		v, _ := e2.Entity(testCode(i), testNow, true)
		if len(v.Records) != 2 || !bytes.Equal(v.Records[0].Attrs, big) && !bytes.Equal(v.Records[1].Attrs, big) {
			t.Fatalf("entity %d records after restore: %d", i, len(v.Records))
		}
	}
}
