package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/models/testenv"
)

// clickhouseAddr returns a reachable ClickHouse, skipping the test when
// none answers locally and failing it under CI (where .ci/run starts one).
func clickhouseAddr(t *testing.T) string {
	addr := os.Getenv("CLICKHOUSE_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9000"
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		msg := fmt.Sprintf("ClickHouse not reachable at %s (%v); start one with `bash .ci/clickhouse.sh` or set CLICKHOUSE_ADDR", addr, err)
		testenv.MissingTool(t, "ClickHouse", msg, "CLICKHOUSE_REQUIRED")
	}
	c.Close()
	return addr
}

// A generated stream posted to the service lands completely in ClickHouse:
// applied-event rows equal the events applied, the current tier
// distribution from tier changes equals the in-memory one, and the hit
// rates equal those computed from the same state in memory.
func TestHistoryLandsInClickHouse(t *testing.T) {
	addr := clickhouseAddr(t)
	db := fmt.Sprintf("creditd_svc_%d", time.Now().UnixNano())
	dsn := "clickhouse://" + addr + "/" + db
	s := startService(t, t.TempDir(), "--clickhouse-dsn", dsn)
	lines := genLines(t, 1500, 365, 31, 0)
	applied := 0
	for i := 0; i < len(lines); i += 500 {
		res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+500, len(lines))]))
		if code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res.Rejected)
		}
		applied += res.Applied
	}
	// In-memory answers.
	resp, b := s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stats: %d %s", resp.StatusCode, b)
	}
	var mem struct {
		Tiers []struct {
			Tier        string `json:"tier"`
			Entities    int    `json:"entities"`
			Inspections int    `json:"inspections"`
			Found       int    `json:"problems_found"`
		} `json:"tiers"`
	}
	if err := json.Unmarshal(b, &mem); err != nil {
		t.Fatal(err)
	}
	// Stop the service: the sink flushes what it buffered on close.
	s.stop()

	q, err := chsink.OpenQuerier(chsink.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	th, err := q.TierHistory(ctx, chsink.TierHistoryQuery{From: time.Now().UTC(), To: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Series) != 1 || len(th.Series[0].Months) != 1 {
		t.Fatalf("tier history: %+v", th)
	}
	counts := th.Series[0].Months[0].Counts
	for _, tr := range mem.Tiers {
		if int(counts[tr.Tier]) != tr.Entities {
			t.Errorf("tier %s: %d entities in ClickHouse, %d in memory", tr.Tier, counts[tr.Tier], tr.Entities)
		}
	}
	hr, err := q.HitRates(ctx, chsink.HitRateQuery{From: time.Now().UTC().AddDate(-15, 0, 0), To: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	insp, found := map[string]int{}, map[string]int{}
	for _, r := range hr.Rows {
		insp[r.Tier] += int(r.Inspections)
		found[r.Tier] += int(r.Found)
	}
	for _, tr := range mem.Tiers {
		if insp[tr.Tier] != tr.Inspections || found[tr.Tier] != tr.Found {
			t.Errorf("tier %s: ClickHouse %d inspections / %d found, memory %d / %d", tr.Tier, insp[tr.Tier], found[tr.Tier], tr.Inspections, tr.Found)
		}
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+db+".applied_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != applied {
		t.Errorf("%d distinct applied-event rows, %d events applied", n, applied)
	}
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
}
