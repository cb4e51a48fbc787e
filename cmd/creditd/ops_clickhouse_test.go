package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
)

// ddlTable is what must agree between the single-node schema and the
// cluster DDL: columns with types, the version column, PARTITION BY,
// ORDER BY and settings.
type ddlTable struct{ columns, version, partition, order, settings string }

var (
	ddlCreate = regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS (\S+?)(?: ON CLUSTER \S+)? \(([^;]*?)\)\s*ENGINE = (\w+)(?:\(([^;]*?)\))?\s*PARTITION BY ([^;]*?)\s+ORDER BY ([^;]*?)\s+(SETTINGS [^;]*?)\s*(?:;|$)`)
	ddlDist   = regexp.MustCompile(`CREATE TABLE IF NOT EXISTS creditd\.(\w+) ON CLUSTER (\w+) AS creditd\.(\w+)\s+ENGINE = Distributed\((\w+), creditd, (\w+), (.+?)\);`)
	spaces    = regexp.MustCompile(`\s+`)
)

func ddlTables(t *testing.T, sql string) map[string]ddlTable {
	t.Helper()
	norm := func(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }
	out := map[string]ddlTable{}
	for _, m := range ddlCreate.FindAllStringSubmatch(sql, -1) {
		name := m[1][strings.LastIndexByte(m[1], '.')+1:]
		args := strings.Split(m[4], ",")
		version := ""
		switch m[3] {
		case "ReplacingMergeTree":
			version = norm(m[4])
		case "ReplicatedReplacingMergeTree":
			if len(args) < 2 || !strings.HasPrefix(strings.TrimSpace(args[0]), "'/clickhouse/tables/{shard}/creditd/") {
				t.Errorf("%s: replication path %q is not per shard", name, m[4])
			}
			if len(args) == 3 {
				version = norm(args[2])
			}
		default:
			t.Errorf("%s: engine %s", name, m[3])
		}
		out[strings.TrimSuffix(name, "_local")] = ddlTable{norm(m[2]), version, norm(m[5]), norm(m[6]), norm(m[7])}
	}
	return out
}

// docs/ops/clickhouse-cluster.sql must keep the single-node schema's
// tables (feeds/clickhouse/schema.go): same columns and types, version
// column, partitioning, sorting key and settings, each behind a
// Distributed table of the sink's table name.
func TestClickHouseClusterDDLMatchesSchema(t *testing.T) {
	raw, err := os.ReadFile("../../docs/ops/clickhouse-cluster.sql")
	if err != nil {
		t.Fatal(err)
	}
	sql := string(raw)
	migs := chsink.Migrations()
	if chsink.SchemaVersion() != 2 || len(migs) != 2 {
		t.Fatalf("schema version %d: add the new migration's tables to docs/ops/clickhouse-cluster.sql and this test", chsink.SchemaVersion())
	}
	var stmts []string
	for _, m := range migs {
		stmts = append(stmts, m.Statements...)
	}
	want := ddlTables(t, strings.Join(stmts, ";\n")+";")
	got := ddlTables(t, sql)
	if len(want) != 9 {
		t.Fatalf("parsed %d tables of schema.go, want 9", len(want))
	}
	dists := map[string]bool{}
	for _, m := range ddlDist.FindAllStringSubmatch(sql, -1) {
		if m[3] != m[1]+"_local" || m[5] != m[1]+"_local" || m[2] != m[4] {
			t.Errorf("Distributed table %s: %q", m[1], m[0])
		}
		dists[m[1]] = true
		// The sharding key must be a function of the row's identity (its
		// sorting key), so a re-inserted duplicate reaches the same shard
		// and FINAL, run per shard, removes it.
		key, ok := strings.CutPrefix(m[6], "cityHash64(")
		order := "," + strings.Trim(want[m[1]].order, "()") + ","
		for _, c := range strings.Split(strings.TrimSuffix(key, ")"), ",") {
			if !ok || !strings.Contains(strings.ReplaceAll(order, " ", ""), ","+strings.TrimSpace(c)+",") {
				t.Errorf("Distributed table %s: sharding key %s is not cityHash64 of sorting-key columns %s", m[1], m[6], want[m[1]].order)
				break
			}
		}
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s_local missing from the cluster DDL", name)
			continue
		}
		if g != w {
			t.Errorf("%s differs:\n cluster %+v\n  schema %+v", name, g, w)
		}
		if !dists[name] {
			t.Errorf("no Distributed table %s over %s_local", name, name)
		}
	}
}
