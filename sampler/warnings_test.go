package sampler

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// The warnings of real draws (v1 and v2) are of the forms draw.Warning
// owns: each parses back to a known code and formats back to its text,
// and together the draws below show all five forms.
func TestWarningsOfRealDraws(t *testing.T) {
	var all []string
	// v1, 200 units with 2 untiered; 1% of each tier (N_A 52, N_B 120):
	// A 0.52 → 1, B 1.2 → 1 (1/120 below A's 1/52), C → 0 (below B's):
	// order, floor (2 of 198), untiered
	units := testUnits(8, 200, []int{30, 55, 12, 3}, false)
	units[0].Tier, units[1].Tier = tier.None, tier.None
	req := testRequest(ratios(10000, 10000, 10000, 10000), "00112233445566778899aabbccddeeff00112233")
	rec, _, err := Draw(context.Background(), req, &MemSource{Units: units}, nil, &bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, rec.Warnings...)
	// v1 over nothing: empty
	rec, _, err = Draw(context.Background(), req, &MemSource{}, nil, &bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, rec.Warnings...)
	// v2, A at 0.1% of 166: round-up (不免抽)
	v2units, v2req := roundUpDraw()
	v2, _ := drawV2(t, v2units, v2req, nil)
	all = append(all, v2.Warnings...)

	seen := map[draw.WarningCode]int{}
	for _, s := range all {
		w, ok := draw.ParseWarning(s)
		if !ok || w.String() != s {
			t.Errorf("%q: parses %v as %+v", s, ok, w)
		}
		seen[w.Code]++
	}
	for _, c := range []draw.WarningCode{draw.WarnEmpty, draw.WarnFloor, draw.WarnOrder, draw.WarnRoundUp, draw.WarnUntiered} {
		if seen[c] == 0 {
			t.Errorf("no %s warning among %q", c, all)
		}
	}
}

// A public edition without strata keeps only the warnings that name no
// tier: the order and round-up warnings go, by their code.
func TestPublicWarnings(t *testing.T) {
	ws := []draw.Warning{
		draw.FloorWarning(1, 400, 3), draw.OrderWarning("B", 0, 3, "A", 1, 10),
		draw.RoundUpWarning("C", false, 1000, 5), draw.EmptyWarning(), draw.UntieredWarning(2),
	}
	want := []draw.Warning{ws[0], ws[3], ws[4]}
	if got := publicWarnings(ws); !slices.Equal(got, want) {
		t.Errorf("public warnings %+v, want %+v", got, want)
	}
	// a targeted draw (strata suppressed) whose strata round up: its record
	// shows no round-up although the sizes are rounded up
	units := testUnits(27, 1000, []int{30, 55, 12, 3}, false)
	req := v2Request(units, 0)
	req.Population.Include = []uscc.Code{units[0].USCC, units[1].USCC, units[2].USCC, units[4].USCC}
	req.Allocation = ratios(1000, 1000, 1000, 1000)
	rec, _ := drawV2(t, units, req, nil)
	if rec.SampleSize == 0 || rec.Strata != nil {
		t.Fatalf("sample %d, strata %v: want a targeted draw that rounds up", rec.SampleSize, rec.Strata)
	}
	for _, s := range rec.Warnings {
		if w, ok := draw.ParseWarning(s); !ok || w.NamesTier() {
			t.Errorf("the targeted record warns %q", s)
		}
	}
}
