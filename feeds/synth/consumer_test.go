package synth

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestConsumerComplaintsLeaveOthers: switching consumer complaints on adds
// complaint lines with 12315 ids and changes no other line, byte for byte,
// nor the truth (their own random stream and id source, emitted after the
// day's other events). The golden pins the whole histories of the first
// three entities with a consumer complaint, checked by check_events.py.
func TestConsumerComplaintsLeaveOthers(t *testing.T) {
	opts := Options{Entities: 3000, Days: 1095, Seed: 2026, End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	off, truthOff, _ := run(t, opts)
	opts.ConsumerComplaints = true
	on, truthOn, _ := run(t, opts)
	var rest [][]byte
	picked := map[string]bool{}
	for _, l := range on {
		if !bytes.Contains(l, []byte(`"id":"12315-`)) {
			rest = append(rest, l)
		} else if len(picked) < 3 {
			picked[usccOf(l)] = true
		}
	}
	if len(rest) == len(on) {
		t.Fatal("no consumer complaint")
	}
	if len(rest) != len(off) {
		t.Fatalf("%d other lines with consumer complaints, %d without", len(rest), len(off))
	}
	for k := range off {
		if !bytes.Equal(rest[k], off[k]) {
			t.Fatalf("line %d changed:\nwith    %s\nwithout %s", k+1, rest[k], off[k])
		}
	}
	for code, tr := range truthOff {
		if truthOn[code] != tr {
			t.Fatalf("truth of %s changed", code)
		}
	}
	var hist [][]byte
	for _, l := range on {
		if picked[usccOf(l)] {
			hist = append(hist, l)
		}
	}
	golden(t, "consumer.ndjson", hist)
	t.Logf("%d consumer complaints added to %d lines", len(on)-len(off), len(off))
}

// TestConsumerComplaints checks the consumer-complaint process against
// params.go "Consumer complaints", with expectations worked out by hand:
//   - per entity-year alive in the stream: 5 % for enterprises and
//     individual businesses (the kind's mean whatever its industry mix,
//     E[ρ] = 1), within 10 %;
//   - consumer-facing industries (×2) against the others (×0.5): 4× within
//     a kind;
//   - the substantiated share among complaints: the rate ∝ ρ_c = e^{z_c − ½}
//     tilts z_c ~ N(0,1) to N(1,1), so E[logistic(−1 + 0.9·N(1,1))] = 0.479
//     (numerical integral), within 0.03;
//   - the rate rises with the latent risk, through the channel's loading
//     0.4 only: about e^{0.4·2.8} = 3.1× from the lowest quintile of z
//     (mean −1.4) to the highest (+1.4); at least 2×, at most 5×;
//   - only after the registration day and never on or after the
//     deregistration day; ids from the 12315 source, on complaints only.
func TestConsumerComplaints(t *testing.T) {
	opts := Options{Entities: 40_000, Days: 1095, Seed: 7, End: testEnd, ConsumerComplaints: true}
	lines, truth, _ := run(t, opts)
	opts.EnsureDefaults()
	start, end := opts.Start, opts.Start.AddDate(0, 0, opts.Days)
	count := map[string]float64{}
	var n, subst float64
	for _, l := range lines {
		var ev struct {
			ID, USCC, Type string
			At             time.Time `json:"occurred_at"`
			Attrs          struct{ Substantiated bool }
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.ID, "12315-") {
			continue
		}
		tr := truth[ev.USCC]
		day := ev.At.Truncate(24 * time.Hour)
		switch {
		case ev.Type != "complaint":
			t.Fatalf("12315 id on a %s: %s", ev.Type, l)
		case !day.After(tr.RegisteredOn):
			t.Fatalf("complaint on or before the registration day %v: %s", tr.RegisteredOn, l)
		case !tr.DeregisteredOn.IsZero() && !day.Before(tr.DeregisteredOn):
			t.Fatalf("complaint on or after the deregistration day %v: %s", tr.DeregisteredOn, l)
		}
		count[ev.USCC]++
		n++
		if ev.Attrs.Substantiated {
			subst++
		}
	}
	type acc struct{ events, years float64 }
	var byKind = map[string]*acc{}
	var facing, other [2]acc // enterprises, individual businesses
	var byQ [5]acc
	for code, tr := range truth {
		from := tr.RegisteredOn.AddDate(0, 0, 1)
		if from.Before(start) {
			from = start
		}
		until := end
		if !tr.DeregisteredOn.IsZero() {
			until = tr.DeregisteredOn
		}
		if !until.After(from) {
			continue
		}
		years := until.Sub(from).Hours() / 24 / 365
		a := byKind[tr.Kind]
		if a == nil {
			a = &acc{}
			byKind[tr.Kind] = a
		}
		c := count[code]
		a.events, a.years = a.events+c, a.years+years
		q := &byQ[min(4, int(tr.Percentile*5))]
		q.events, q.years = q.events+c, q.years+years
		k := 0
		switch tr.Kind {
		case "farmers_cooperative":
			continue
		case "individual_business":
			k = 1
		}
		switch tr.Industry {
		case "F52", "H61", "H62", "O80", "O81", "P83", "Q84", "K70", "R89", "R90":
			facing[k].events, facing[k].years = facing[k].events+c, facing[k].years+years
		default:
			other[k].events, other[k].years = other[k].events+c, other[k].years+years
		}
	}
	for _, kind := range []string{"enterprise", "individual_business"} {
		a := byKind[kind]
		if r := a.events / a.years; r < 0.045 || r > 0.055 {
			t.Errorf("%s: %.4f consumer complaints per entity-year (%v in %.0f years), want 0.05 ± 10 %%", kind, r, a.events, a.years)
		}
	}
	var ratio [2]float64
	for k := range ratio {
		ratio[k] = (facing[k].events / facing[k].years) / (other[k].events / other[k].years)
		if ratio[k] < 3.2 || ratio[k] > 5 {
			t.Errorf("kind %d: consumer-facing industries %.2f× the others, want 4×", k, ratio[k])
		}
	}
	if s := subst / n; s < 0.449 || s > 0.509 {
		t.Errorf("substantiated share %.3f of %v, want 0.479 ± 0.03", s, n)
	}
	lo, hi := byQ[0].events/byQ[0].years, byQ[4].events/byQ[4].years
	if hi < 2*lo || hi > 5*lo {
		t.Errorf("rate by quintile of z: lowest %.4f, highest %.4f: want about 3×", lo, hi)
	}
	t.Logf("%v consumer complaints, %.1f %% substantiated; enterprises %.4f, individual businesses %.4f a year; consumer-facing / other %.2f× and %.2f×; quintiles of z %.4f … %.4f",
		n, 100*subst/n, byKind["enterprise"].events/byKind["enterprise"].years,
		byKind["individual_business"].events/byKind["individual_business"].years,
		ratio[0], ratio[1], lo, hi)
}
