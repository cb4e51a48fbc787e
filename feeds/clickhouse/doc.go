// Package clickhouse keeps the full history of the credit service in
// ClickHouse: applied and rejected events, tier changes, draws and their
// selections, inspection outcomes, and the model monitoring scans (score
// bands, a challenger's agreement and tiers: monitoring.go); and answers
// the regulators' analytics over it (tier distribution and score drift
// over time, inspection hit rates per tier, tier changes and their
// causes).
//
// The Sink is built so that scoring never waits on ClickHouse: Add* only
// appends to an in-memory batch; background goroutines insert large batches
// over the native protocol, and spool batches to local disk when ClickHouse
// is slow, down or memory is full, replaying them in order when it is back
// and after a restart. Re-inserted rows leave no visible duplicates: every
// table is a ReplacingMergeTree keyed by the row's identity, and the queries
// read with FINAL or aggregate to latest values.
//
// The schema is versioned (schema_migrations) and uses only types that
// Debian's clickhouse-server 18.16 and current ClickHouse both accept; see
// schema.go. The driver is github.com/ClickHouse/clickhouse-go/v2, native
// protocol only (its HTTP mode does not work with 18.16).
package clickhouse
