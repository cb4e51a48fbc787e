package scoring

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// testNow is the engine clock in tests: later than every scripted event.
var testNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

type timeline struct {
	Description string            `json:"description"`
	Events      []json.RawMessage `json:"events"`
	Rejected    map[string]string `json:"rejected"`
	Duplicates  []string          `json:"duplicates"`
	Checks      []struct {
		At      time.Time         `json:"at"`
		Score   int               `json:"score"`
		Tiers   map[string]string `json:"-"`
		Reasons []struct {
			Code    string   `json:"code"`
			Points  int      `json:"points"`
			Records []string `json:"records"`
		} `json:"reasons"`
		Records *struct {
			Active   int `json:"active"`
			Repaired int `json:"repaired"`
		} `json:"records"`
		National string `json:"national-4"`
		Shandong string `json:"shandong-5"`
	} `json:"checks"`
}

func newTestEngine(t testing.TB, scheme string) *Engine {
	t.Helper()
	m := rulesModel(t, scheme) // fixture_test.go
	e, err := New(Options{Model: m, Now: func() time.Time { return testNow }, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestGoldenTimelines replays the scripted timelines of testdata/timelines
// (expected values worked out by hand, see each file's description) under
// both tier schemes.
func TestGoldenTimelines(t *testing.T) {
	files, _ := filepath.Glob("testdata/timelines/*.json")
	if len(files) == 0 {
		t.Fatal("no timelines")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tl timeline
		if err := json.Unmarshal(raw, &tl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, scheme := range []string{"national-4", "shandong-5"} {
			t.Run(filepath.Base(f)+"/"+scheme, func(t *testing.T) {
				e := newTestEngine(t, scheme)
				var d event.Decoder
				var code uscc.Code
				dups := 0
				for _, line := range tl.Events {
					var ev event.Event
					if err := d.Decode(line, &ev); err != nil {
						t.Fatalf("decode %s: %v", line, err)
					}
					code = ev.USCC
					res, err := e.Apply(&ev, nil)
					want, shouldReject := tl.Rejected[ev.ID]
					var re *event.RejectError
					switch {
					case shouldReject && !errors.As(err, &re):
						t.Errorf("%s: applied (%v), want rejection %s", ev.ID, res.Outcome, want)
					case shouldReject && re.Reason != want:
						t.Errorf("%s: rejected %s (%s), want %s", ev.ID, re.Reason, re.Detail, want)
					case !shouldReject && err != nil:
						t.Errorf("%s: %v", ev.ID, err)
					case res.Outcome == Duplicate:
						dups++
					}
					if re != nil && re.Reason == event.ReasonRepairEarly && re.PossibleFrom == civil.NoDate {
						t.Errorf("%s: early repair without a possible-from date", ev.ID)
					}
				}
				if dups != len(tl.Duplicates) {
					t.Errorf("%d duplicates, want %d", dups, len(tl.Duplicates))
				}
				for _, c := range tl.Checks {
					v, ok := e.Entity(code, c.At, false)
					if !ok {
						t.Fatalf("entity %s unknown", code)
					}
					wantTier := c.National
					if scheme == "shandong-5" {
						wantTier = c.Shandong
					}
					if v.Score != c.Score || v.TierLabel != wantTier {
						t.Errorf("at %s: score %d tier %s, want %d %s", c.At.Format(time.RFC3339), v.Score, v.TierLabel, c.Score, wantTier)
					}
					if len(v.Reasons) != len(c.Reasons) {
						t.Errorf("at %s: reasons %+v, want %+v", c.At.Format(time.RFC3339), v.Reasons, c.Reasons)
						continue
					}
					for i, r := range c.Reasons {
						g := v.Reasons[i]
						if g.Code != r.Code || g.Points != r.Points || !equalStrings(g.Records, r.Records) || g.Text == "" {
							t.Errorf("at %s: reason %d = %+v, want %+v", c.At.Format(time.RFC3339), i, g, r)
						}
					}
					if c.Records != nil && (v.Active != c.Records.Active || v.Repaired != c.Records.Repaired) {
						t.Errorf("at %s: records active %d repaired %d, want %+v", c.At.Format(time.RFC3339), v.Active, v.Repaired, *c.Records)
					}
				}
			})
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
