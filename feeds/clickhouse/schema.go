package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Schema rules (they keep one schema valid on Debian's clickhouse-server
// 18.16 and on current ClickHouse):
//   - types: String, integers, DateTime('UTC') with a UInt16 milliseconds
//     column beside it, Array(String). No DateTime64, LowCardinality, Map,
//     Bool, JSON, CODEC or TTL. Labels, results and event types are String,
//     not Enum8, so a value the schema did not foresee can never make a
//     whole batch fail.
//   - every table is a ReplacingMergeTree whose sorting key identifies a
//     row, so re-inserting a batch (spool replay, log replay) leaves no
//     visible duplicates for queries that read with FINAL; applied_events
//     keeps the highest seq. ReplacingMergeTree deduplicates within a
//     partition only: each table is partitioned by the year of a time that
//     is part of the row's identity, so a row and its duplicate always
//     share a partition.
//   - yearly partitions, index_granularity 1024: the fastest inserts and
//     point lookups measured on 18.16 (services/README.md); drop a year
//     with ALTER TABLE … DROP PARTITION instead of TTL.
//
// Migrations are ordered and never edited once released; each statement is
// idempotent (IF NOT EXISTS) so a migration interrupted half-way re-runs
// cleanly. {db} is replaced by the database name. schema_migrations records
// each applied version (a ReplacingMergeTree, so concurrent migrators that
// both record a version leave one visible row).

// Migration is one schema step.
type Migration struct {
	// Version orders migrations; versions are 1, 2, 3, … without gaps.
	Version uint32
	// Name says what it does.
	Name string
	// Statements run in order; each must be idempotent.
	Statements []string
}

const tableSettings = `SETTINGS index_granularity = 1024`

var migrations = []Migration{
	{
		Version:    1,
		Name:       "history tables: applied_events, rejected_events, tier_changes, draws, draw_selections, inspections",
		Statements: createStatements(tblApplied, tblScoreBands),
	},
	{
		Version:    2,
		Name:       "model monitoring tables: score_bands, challenger_agreement, challenger_tiers",
		Statements: createStatements(tblScoreBands, numTables),
	},
}

// createStatements returns the CREATE TABLE statements of the tables
// [from, to), in table order, generated from the declarations in
// tables.go. Migration 1 creates the first six tables, migration 2 the
// model monitoring tables; their statements are as released
// (TestMigration1Unchanged compares migration 1 with the released text): a
// later change to a declaration must come with a new migration (ALTER
// TABLE … ADD COLUMN IF NOT EXISTS …), and the migration that created the
// table then keeps the released text as a literal.
func createStatements(from, to table) []string {
	out := make([]string, 0, to-from)
	for t := from; t < to; t++ {
		out = append(out, tableDefs[t].createStatement())
	}
	return out
}

// Migrations returns the schema migrations in order (a copy).
func Migrations() []Migration {
	out := make([]Migration, len(migrations))
	for i, m := range migrations {
		out[i] = m
		out[i].Statements = append([]string(nil), m.Statements...)
	}
	return out
}

// SchemaVersion is the version the sink's code expects.
func SchemaVersion() uint32 { return migrations[len(migrations)-1].Version }

func (q *Querier) sql(stmt string) string { return strings.ReplaceAll(stmt, "{db}", q.db) }

// Migrate creates the database and brings its schema to SchemaVersion,
// running only the migrations schema_migrations does not list. It returns
// the versions it applied (none when the schema is current). Running it
// again, or from two processes at once, is harmless.
func (q *Querier) Migrate(ctx context.Context) ([]uint32, error) {
	if err := q.conn.Exec(ctx, q.sql("CREATE DATABASE IF NOT EXISTS {db}")); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: create database %s: %w", q.db, err)
	}
	if err := q.conn.Exec(ctx, q.sql(`CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
		version    UInt32,
		name       String,
		applied_at DateTime('UTC')
	) ENGINE = ReplacingMergeTree ORDER BY version`)); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: schema_migrations: %w", err)
	}
	done, err := q.AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	have := map[uint32]bool{}
	for _, v := range done {
		have[v] = true
	}
	var applied []uint32
	for _, m := range migrations {
		if have[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if err := q.conn.Exec(ctx, q.sql(stmt)); err != nil {
				return applied, fmt.Errorf("clickhouse migrate: version %d (%s), statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		b, err := q.conn.PrepareBatch(ctx, q.sql("INSERT INTO {db}.schema_migrations (version, name, applied_at)"))
		if err != nil {
			return applied, fmt.Errorf("clickhouse migrate: record version %d: %w", m.Version, err)
		}
		if err := b.Append(m.Version, m.Name, time.Now().UTC().Truncate(time.Second)); err != nil {
			_ = b.Abort()
			return applied, fmt.Errorf("clickhouse migrate: record version %d: %w", m.Version, err)
		}
		if err := b.Send(); err != nil {
			return applied, fmt.Errorf("clickhouse migrate: record version %d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// AppliedMigrations lists the versions recorded in schema_migrations,
// ascending.
func (q *Querier) AppliedMigrations(ctx context.Context) ([]uint32, error) {
	rows, err := q.conn.Query(ctx, q.sql("SELECT DISTINCT version FROM {db}.schema_migrations ORDER BY version"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("clickhouse migrate: read schema_migrations: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse migrate: read schema_migrations: %w", err)
	}
	return out, nil
}
