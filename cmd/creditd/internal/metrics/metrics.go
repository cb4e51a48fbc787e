// Package metrics holds creditd's Prometheus metrics, shared by the
// ingester, the HTTP API, draws and Kafka mode, on a registry of their own.
package metrics

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/scoring"
)

// Set is the service's Prometheus metrics, on a registry of its own.
type Set struct {
	Registry *prometheus.Registry

	Events       *prometheus.CounterVec   // by outcome (applied, duplicate, rejected) and reason
	ApplySeconds prometheus.Histogram     // per event, engine apply including the log append
	BatchSeconds prometheus.Histogram     // per ingest batch, including the fsync
	WALSync      prometheus.Histogram     // fsync latency of the durable log
	WALBytes     prometheus.Counter       // bytes appended to the log
	Snapshot     prometheus.Histogram     // snapshot write duration
	SnapshotPos  prometheus.Gauge         // log position of the newest snapshot
	SnapshotSize prometheus.Gauge         // its size in bytes
	Recovery     prometheus.Gauge         // seconds the last start-up recovery took
	Ready        prometheus.Gauge         // 1 once the state is recovered
	Entities     prometheus.Gauge         // registered, not deregistered; refreshed by the sweep (no tier: /metrics is public)
	TierChanges  *prometheus.CounterVec   // by cause kind (event, time)
	Swept        prometheus.Counter       // entities re-evaluated by the time sweep
	HTTP         *prometheus.CounterVec   // by route and code
	HTTPSeconds  *prometheus.HistogramVec // by route
	Draws        prometheus.Counter       // draws run
	DrawSelected prometheus.Counter       // entities selected by draws
	DrawSeconds  prometheus.Histogram     // draw duration
	Reports      *prometheus.CounterVec   // reports issued by edition and format
}

// New creates and registers the metrics.
func New() *Set {
	r := prometheus.NewRegistry()
	m := &Set{Registry: r}
	m.Events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_events_total",
		Help: "Credit events by outcome (applied, duplicate, rejected) and rejection reason."}, []string{"outcome", "reason"})
	m.ApplySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_apply_seconds",
		Help: "Time to apply one event to the state (validation, log append, evaluation).", Buckets: prometheus.ExponentialBuckets(250e-9, 2, 16)})
	m.BatchSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_ingest_batch_seconds",
		Help: "Time to apply and durably log one ingest batch.", Buckets: prometheus.ExponentialBuckets(1e-4, 2, 16)})
	m.WALSync = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_log_sync_seconds",
		Help: "fsync latency of the durable event log.", Buckets: prometheus.ExponentialBuckets(1e-5, 2, 18)})
	m.WALBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "creditd_log_appended_bytes_total", Help: "Bytes appended to the durable event log."})
	m.Snapshot = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_snapshot_seconds",
		Help: "Time to write a state snapshot.", Buckets: prometheus.ExponentialBuckets(1e-3, 2, 16)})
	m.SnapshotPos = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_snapshot_position", Help: "Log position of the newest snapshot."})
	m.SnapshotSize = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_snapshot_bytes", Help: "Size of the newest snapshot."})
	m.Recovery = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_recovery_seconds", Help: "Duration of the last start-up recovery (snapshot restore and log replay)."})
	m.Ready = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_ready", Help: "1 once the state is recovered and the service answers."})
	// No per-tier counts here: /metrics is public and tiers are internal
	// (per-tier counts are GET /v1/stats/tiers, for regulators).
	m.Entities = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_entities",
		Help: "Registered, not deregistered entities (refreshed by the sweep)."})
	m.TierChanges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_tier_changes_total",
		Help: "Tier changes by cause kind: event or time rule."}, []string{"cause"})
	m.Swept = prometheus.NewCounter(prometheus.CounterOpts{Name: "creditd_sweep_reevaluated_total", Help: "Entities re-evaluated by the time-rule sweep."})
	m.HTTP = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.HTTPSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "creditd_http_request_seconds",
		Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(5e-5, 2, 18)}, []string{"route"})
	m.Draws = prometheus.NewCounter(prometheus.CounterOpts{Name: "creditd_draws_total", Help: "Inspection draws run."})
	m.DrawSelected = prometheus.NewCounter(prometheus.CounterOpts{Name: "creditd_draw_selected_total", Help: "Entities selected by draws."})
	m.DrawSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_draw_seconds",
		Help: "Time to run a draw.", Buckets: prometheus.ExponentialBuckets(1e-3, 2, 16)})
	m.Reports = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_reports_total",
		Help: "Credit reports issued by edition and format."}, []string{"edition", "format"})
	r.MustRegister(m.Events, m.ApplySeconds, m.BatchSeconds, m.WALSync, m.WALBytes, m.Snapshot, m.SnapshotPos,
		m.SnapshotSize, m.Recovery, m.Ready, m.Entities, m.TierChanges, m.Swept, m.HTTP, m.HTTPSeconds,
		m.Draws, m.DrawSelected, m.DrawSeconds, m.Reports,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var (
	descSnapshotTime = prometheus.NewDesc("creditd_snapshot_timestamp_seconds",
		"Modification time (Unix seconds) of the newest snapshot file in the data directory; 0 when there is none.", nil, nil)
	descUnsnapshotted = prometheus.NewDesc("creditd_log_unsnapshotted_records",
		"Durable-log records after the newest snapshot's position: what a restart would replay.", nil, nil)
)

// snapshotCollector reads the newest snapshot from the snapshot directory
// at scrape time, so its age survives restarts (a gauge set when this
// process writes a snapshot would read 0 after a restart until the next
// one). Snapshots are written only after events were applied, so an idle
// service's snapshot grows old without anything being wrong: alerts pair
// the age with creditd_log_unsnapshotted_records or the ingest rate.
type snapshotCollector struct {
	dir string
	log *wal.Log
}

// WatchSnapshots registers the local mode's snapshot age and coverage,
// read from dir (the snapshot directory) and log at each scrape.
func (m *Set) WatchSnapshots(dir string, log *wal.Log) {
	m.Registry.MustRegister(&snapshotCollector{dir: dir, log: log})
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSnapshotTime
	ch <- descUnsnapshotted
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	names, poss, err := scoring.SnapshotFiles(c.dir)
	if err != nil {
		return // the directory is unreadable: no sample rather than a wrong one
	}
	var at float64
	var pos uint64
	if len(names) > 0 {
		fi, err := os.Stat(names[0])
		if err != nil {
			return // removed between the listing and the stat: next scrape
		}
		at = float64(fi.ModTime().UnixNano()) / 1e9
		pos = poss[0]
	}
	next := uint64(c.log.Next())
	ch <- prometheus.MustNewConstMetric(descSnapshotTime, prometheus.GaugeValue, at)
	ch <- prometheus.MustNewConstMetric(descUnsnapshotted, prometheus.GaugeValue, float64(next-min(pos, next)))
}
