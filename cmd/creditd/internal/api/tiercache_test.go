package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler/samplertest"
	"github.com/creditrisk/creditd/scoring"
)

// cacheCode is a valid USCC numbered i in division 370102 (i even) or
// 370103 (i odd).
func cacheCode(i int) uscc.Code {
	return samplertest.USCC(uint64(i), '1', [6]byte{'3', '7', '0', '1', '0', byte('2' + i%2)})
}

// cacheNow is the engine's clock in these tests.
var cacheNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func registration(i int, on civil.Date) *event.Event {
	c := cacheCode(i)
	return &event.Event{ID: fmt.Sprintf("REG-%d", i), USCC: c, Type: event.TypeRegistered, OccurredAt: cacheNow.Add(-time.Hour),
		Name: "济南某某商贸有限公司", Region: c.Division(), RegisteredOn: on}
}

func cacheServer(t testing.TB, n int) (*Server, *scoring.Engine) {
	t.Helper()
	eng, err := scoring.New(scoring.Options{Now: func() time.Time { return cacheNow }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := eng.ApplyAt(registration(i, civil.MakeDate(2020, 1, 1)), cacheNow, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(Options{Config: testConfig(), Engine: eng, Metrics: metrics.New(), Tokens: loadTestTokens(t, t.TempDir()),
		Logger: slog.New(slog.DiscardHandler), DrawDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	return srv, eng
}

// tierStatsAt is GET /v1/stats/tiers as of at for prefix, as a regulator.
func tierStatsAt(t testing.TB, srv http.Handler, at time.Time, prefix string) TierStatsDoc {
	t.Helper()
	q := "/v1/stats/tiers?region_prefix=" + prefix
	if !at.IsZero() {
		q += "&as_of=" + at.Format(time.RFC3339)
	}
	req := httptest.NewRequest("GET", q, nil)
	req.Header.Set("Authorization", "Bearer "+testTokens[RoleRegulator])
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var d TierStatsDoc
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &d) != nil {
		t.Fatalf("GET %s: %d %s", q, rec.Code, rec.Body)
	}
	return d
}

// A past month end's statistics are kept, and a late event — a
// registration dated before that month end, applied now — shows at once:
// the engine's change count moved, so the next request recomputes. A
// duplicate or rejected event changes nothing and counts nothing; a
// snapshot load is a change. Each
// answer equals the engine's uncached pass; prefixes are kept apart.
func TestTierStatsCacheLateEvent(t *testing.T) {
	srv, eng := cacheServer(t, 10)
	monthEnd := time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)
	check := func(prefix string, want int) {
		t.Helper()
		got := tierStatsAt(t, srv, monthEnd, prefix)
		live, err := eng.TierStats(t.Context(), monthEnd, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if got.Entities != want || live.Entities != want {
			t.Errorf("prefix %q at %s: %d entities served, %d live, want %d", prefix, monthEnd, got.Entities, live.Entities, want)
		}
	}
	check("37", 10)
	check("370102", 5) // even numbers: 370102, odd: 370103
	c0 := eng.Changes()
	check("37", 10)       // from the cache: nothing changed
	var snap bytes.Buffer // the state of 10 entities, read back below
	if err := eng.WriteSnapshot(&snap, 1); err != nil {
		t.Fatal(err)
	}
	// a duplicate and a rejected event do not change the state
	if res, err := eng.ApplyAt(registration(3, civil.MakeDate(2020, 1, 1)), cacheNow, true, nil); err != nil || res.Outcome != scoring.Duplicate {
		t.Fatalf("duplicate: %v %v", res.Outcome, err)
	}
	bad := registration(4, civil.MakeDate(2020, 1, 1))
	bad.ID = "REG-again"
	if _, err := eng.ApplyAt(bad, cacheNow, true, nil); err == nil {
		t.Fatal("a second registration was accepted")
	}
	if eng.Changes() != c0 {
		t.Errorf("Changes moved from %d to %d without a change", c0, eng.Changes())
	}
	// the late event: registered 2026-05-01, applied after the month end
	if _, err := eng.ApplyAt(registration(10, civil.MakeDate(2026, 5, 1)), cacheNow, true, nil); err != nil {
		t.Fatal(err)
	}
	if eng.Changes() != c0+1 {
		t.Errorf("Changes %d after one event, want %d", eng.Changes(), c0+1)
	}
	check("37", 11)
	check("370102", 6)
	check("370103", 5)
	// a registration dated after the month end is not counted there
	if _, err := eng.ApplyAt(registration(12, civil.MakeDate(2026, 11, 2)), cacheNow, true, nil); err != nil {
		t.Fatal(err)
	}
	check("37", 11)
	if d := tierStatsAt(t, srv, time.Time{}, "37"); d.Entities != 12 {
		t.Errorf("now: %d entities, want 12", d.Entities)
	}
	// loading the earlier snapshot takes the state back: so do the answers
	if _, err := eng.ReadSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	check("37", 10)
}
