-- creditd history on a ClickHouse cluster (docs/deploy.md, "ClickHouse as a cluster").
--
-- Derived from the single-node schema in feeds/clickhouse/schema.go
-- (migration 1): the same databases, tables, columns, partitioning, sorting
-- keys and settings, with two differences per table:
--   * the data lives in <table>_local, a ReplicatedReplacingMergeTree on
--     every replica of every shard (the same version column: seq for
--     applied_events, none elsewhere);
--   * <table> itself, the name creditd inserts into and queries, is a
--     Distributed table over <table>_local, sharded by a hash of the row's
--     identity (uscc for entity rows, draw_id for draws), so a row and its
--     re-inserted duplicate always land on the same shard and FINAL (run on
--     each shard) removes it.
-- cmd/creditd/ops_clickhouse_test.go checks that every table here has the
-- columns, types, ORDER BY and PARTITION BY of schema.go.
--
-- Run once, before the first creditd start against the cluster (creditd's
-- own migration then finds the tables and only records its version):
--   clickhouse-client --multiquery < docs/ops/clickhouse-cluster.sql
-- Assumes: a cluster named creditd_cluster in remote_servers with
-- <internal_replication>true</internal_replication>, macros {shard} and
-- {replica} on every server, ZooKeeper or ClickHouse Keeper, and the
-- database name creditd (replace "creditd." and the paths to use another).
-- Works on Debian's 18.16 and on current ClickHouse (no DateTime64,
-- LowCardinality, {uuid} or Replicated database engine).

CREATE DATABASE IF NOT EXISTS creditd ON CLUSTER creditd_cluster;

-- schema_migrations: one shard, replicated to every server, so each creditd
-- sees the same applied versions whichever server it connects to.
CREATE TABLE IF NOT EXISTS creditd.schema_migrations ON CLUSTER creditd_cluster (
    version    UInt32,
    name       String,
    applied_at DateTime('UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/creditd/schema_migrations', '{replica}')
ORDER BY version;

CREATE TABLE IF NOT EXISTS creditd.applied_events_local ON CLUSTER creditd_cluster (
    event_id    String,
    uscc        String,
    type        String,
    occurred_at DateTime('UTC'),
    occurred_ms UInt16,
    authority   String,
    region      String,
    attrs       String,
    applied_at  DateTime('UTC'),
    applied_ms  UInt16,
    source      String,
    seq         UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/applied_events', '{replica}', seq)
PARTITION BY toYear(occurred_at)
ORDER BY (uscc, event_id) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.applied_events ON CLUSTER creditd_cluster AS creditd.applied_events_local
ENGINE = Distributed(creditd_cluster, creditd, applied_events_local, cityHash64(uscc));

CREATE TABLE IF NOT EXISTS creditd.rejected_events_local ON CLUSTER creditd_cluster (
    at            DateTime('UTC'),
    at_ms         UInt16,
    source        String,
    reason        String,
    detail        String,
    event_id      String,
    original      String,
    original_hash UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/rejected_events', '{replica}')
PARTITION BY toYear(at)
ORDER BY (at, at_ms, source, reason, event_id, original_hash) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.rejected_events ON CLUSTER creditd_cluster AS creditd.rejected_events_local
ENGINE = Distributed(creditd_cluster, creditd, rejected_events_local, cityHash64(source, original_hash));

CREATE TABLE IF NOT EXISTS creditd.tier_changes_local ON CLUSTER creditd_cluster (
    uscc     String,
    region   String,
    at       DateTime('UTC'),
    at_ms    UInt16,
    old_tier String,
    new_tier String,
    scheme   String,
    score    Int32,
    cause    String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/tier_changes', '{replica}')
PARTITION BY toYear(at)
ORDER BY (uscc, at, at_ms, cause) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.tier_changes ON CLUSTER creditd_cluster AS creditd.tier_changes_local
ENGINE = Distributed(creditd_cluster, creditd, tier_changes_local, cityHash64(uscc));

CREATE TABLE IF NOT EXISTS creditd.draws_local ON CLUSTER creditd_cluster (
    draw_id           String,
    plan_id           String,
    as_of             DateTime('UTC'),
    as_of_ms          UInt16,
    scheme            String,
    population_digest String,
    eligible          UInt64,
    selected          UInt64,
    record_json       String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/draws', '{replica}')
PARTITION BY toYear(as_of)
ORDER BY draw_id SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.draws ON CLUSTER creditd_cluster AS creditd.draws_local
ENGINE = Distributed(creditd_cluster, creditd, draws_local, cityHash64(draw_id));

CREATE TABLE IF NOT EXISTS creditd.draw_selections_local ON CLUSTER creditd_cluster (
    draw_id    String,
    plan_id    String,
    as_of      DateTime('UTC'),
    as_of_ms   UInt16,
    uscc       String,
    region     String,
    tier       String,
    priority   String,
    inspectors Array(String),
    unassigned UInt32
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/draw_selections', '{replica}')
PARTITION BY toYear(as_of)
ORDER BY (draw_id, uscc) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.draw_selections ON CLUSTER creditd_cluster AS creditd.draw_selections_local
ENGINE = Distributed(creditd_cluster, creditd, draw_selections_local, cityHash64(uscc));

CREATE TABLE IF NOT EXISTS creditd.inspections_local ON CLUSTER creditd_cluster (
    event_id           String,
    uscc               String,
    region             String,
    at                 DateTime('UTC'),
    at_ms              UInt16,
    plan_id            String,
    result             String,
    tier_at_inspection String,
    scheme             String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/inspections', '{replica}')
PARTITION BY toYear(at)
ORDER BY (uscc, event_id) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.inspections ON CLUSTER creditd_cluster AS creditd.inspections_local
ENGINE = Distributed(creditd_cluster, creditd, inspections_local, cityHash64(uscc));

-- Migration 2: model monitoring (score drift, challenger in shadow). Rows
-- are sharded by the scanned part, so a part's rows and their re-inserted
-- duplicates share a shard.

CREATE TABLE IF NOT EXISTS creditd.score_bands_local ON CLUSTER creditd_cluster (
    scanned_at DateTime('UTC'),
    scanned_ms UInt16,
    part       String,
    role       String,
    model      String,
    band       UInt32,
    entities   UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/score_bands', '{replica}')
PARTITION BY toYear(scanned_at)
ORDER BY (model, role, part, scanned_at, scanned_ms, band) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.score_bands ON CLUSTER creditd_cluster AS creditd.score_bands_local
ENGINE = Distributed(creditd_cluster, creditd, score_bands_local, cityHash64(part));

CREATE TABLE IF NOT EXISTS creditd.challenger_agreement_local ON CLUSTER creditd_cluster (
    scanned_at       DateTime('UTC'),
    scanned_ms       UInt16,
    part             String,
    champion_model   String,
    challenger_model String,
    champion_tier    String,
    challenger_tier  String,
    entities         UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/challenger_agreement', '{replica}')
PARTITION BY toYear(scanned_at)
ORDER BY (challenger_model, part, scanned_at, scanned_ms, champion_tier, challenger_tier) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.challenger_agreement ON CLUSTER creditd_cluster AS creditd.challenger_agreement_local
ENGINE = Distributed(creditd_cluster, creditd, challenger_agreement_local, cityHash64(part));

CREATE TABLE IF NOT EXISTS creditd.challenger_tiers_local ON CLUSTER creditd_cluster (
    scanned_at       DateTime('UTC'),
    scanned_ms       UInt16,
    part             String,
    challenger_model String,
    tier             String,
    entities         UInt64,
    inspections      UInt64,
    problems_found   UInt64,
    adverse          UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/creditd/challenger_tiers', '{replica}')
PARTITION BY toYear(scanned_at)
ORDER BY (challenger_model, part, scanned_at, scanned_ms, tier) SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS creditd.challenger_tiers ON CLUSTER creditd_cluster AS creditd.challenger_tiers_local
ENGINE = Distributed(creditd_cluster, creditd, challenger_tiers_local, cityHash64(part));

-- Settings for the ClickHouse user creditd connects as (users.xml profile,
-- or SET in a settings profile on current versions); see docs/deploy.md:
--   insert_distributed_sync = 1        an acknowledged INSERT is on the shards,
--                                      not only queued on the node creditd reached
--   distributed_product_mode = 'global'  the analytics' IN (SELECT ... FROM
--                                      tier_changes / draws) subqueries over
--                                      Distributed tables
