// Package monitor is creditd's model monitoring (domain.md §8): a
// periodic scan of the state that measures the champion's score drift
// (PSI against the reference in its artifact) and scores a challenger
// model (--challenger) in shadow. The champion alone sets tiers, reports
// and draws; the challenger's tiers, its agreement with the champion and
// its inspection hit rates go to regulators (GET /v1/stats/challenger),
// to a regulator-only metrics page and to ClickHouse.
//
// Design: the challenger is evaluated by scoring.Engine.Monitor over the
// records the engine already holds, once per --monitor-interval, not on
// every event: the ingest hot path costs the same with or without a
// challenger, and the scan's cost (BenchmarkMonitor: about 1.2 µs per
// entity with records, 12 s of one core for 10M such entities; 11 ns per
// entity for the champion's drift alone) is paid once per interval,
// shard by shard under read locks.
package monitor

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/scoring"
)

// Part is one engine this instance serves, with its Kafka partition (-1
// in local mode).
type Part struct {
	Partition int
	Engine    *scoring.Engine
}

// Options configure a Monitor.
type Options struct {
	// Champion is the model that sets tiers (--model).
	Champion *scoring.Model
	// Challenger is scored in shadow; nil: none.
	Challenger *scoring.Shadow
	// Interval between scans (--monitor-interval). Default (zero):
	// DefaultInterval.
	Interval time.Duration
	// Parts returns the engines to scan.
	Parts   func() []Part
	Metrics *metrics.Set
	Logger  *slog.Logger
	// Export receives each scanned part's counts (ClickHouse): part is
	// "local" or "p<N>" for Kafka partition N; nil: none.
	Export func(at time.Time, part string, d *Doc)
}

// Monitor runs the scans and keeps the latest.
type Monitor struct {
	o           Options
	champName   string
	champLabels []string
	empty       *scoring.Engine // an engine without entities, for a member holding no partition
	trigger     chan struct{}

	mu     sync.Mutex
	latest *Doc

	// Public metrics (no tier).
	psi      *prometheus.GaugeVec
	scanSecs prometheus.Histogram
	scanTime prometheus.Gauge
	// Regulator-only metrics (tier labels): Registry.
	reg         *prometheus.Registry
	challEnts   *prometheus.GaugeVec
	agreement   *prometheus.GaugeVec
	challInsp   *prometheus.GaugeVec
	challFound  *prometheus.GaugeVec
	challRate   *prometheus.GaugeVec
	challengers *prometheus.GaugeVec
}

// New returns a Monitor and registers its public metrics on o.Metrics:
// creditd_score_psi{model} (only for a model whose artifact has a
// reference), creditd_monitor_scan_seconds and
// creditd_monitor_scan_timestamp_seconds.
func New(o Options) (*Monitor, error) {
	probe, err := scoring.New(scoring.Options{Model: o.Champion, Shards: 1})
	if err != nil {
		return nil, err
	}
	m := &Monitor{o: o, champName: probe.ModelName(), champLabels: probe.Scheme().Labels, empty: probe, trigger: make(chan struct{}, 1),
		reg: prometheus.NewRegistry()}
	m.psi = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "creditd_score_psi",
		Help: "Population stability index of the score distribution against the model artifact's reference (model: champion or challenger); " +
			"absent for a model without a reference. Thresholds: 0.1 watch, 0.25 alert (scoring.PSIWatch, scoring.PSIAlert)."},
		[]string{"model"})
	m.scanSecs = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditd_monitor_scan_seconds",
		Help: "Duration of a model monitoring scan (drift, challenger in shadow).", Buckets: prometheus.ExponentialBuckets(1e-3, 2, 18)})
	m.scanTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "creditd_monitor_scan_timestamp_seconds",
		Help: "Unix time of the latest finished model monitoring scan."})
	if err := registerAll(o.Metrics.Registry, m.psi, m.scanSecs, m.scanTime); err != nil {
		return nil, err
	}
	gv := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.challengers = gv("creditd_challenger_info", "1 for the champion and challenger models of the latest scan.", "champion", "challenger")
	m.challEnts = gv("creditd_challenger_entities", "Entities per challenger tier at the latest scan.", "challenger_tier")
	m.agreement = gv("creditd_challenger_agreement_entities", "Entities per champion tier and challenger tier at the latest scan.",
		"champion_tier", "challenger_tier")
	m.challInsp = gv("creditd_challenger_inspections", "Inspections per challenger tier just before each, at the latest scan.", "challenger_tier")
	m.challFound = gv("creditd_challenger_problems_found", "Inspections that found problems (problem_found, corrected) per challenger tier.", "challenger_tier")
	m.challRate = gv("creditd_challenger_hit_rate", "Hit rate (findings: every result but no_problem, models/event.Finding) per challenger tier with its Wilson 95% interval (bound: estimate, low, high).",
		"challenger_tier", "bound")
	return m, nil
}

func registerAll(r *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Registry holds the regulator-only metrics (tier-labelled: the tier is
// internal, so they are not on the public /metrics).
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// HasChallenger says whether a challenger is scored.
func (m *Monitor) HasChallenger() bool { return m.o.Challenger != nil }

// Latest returns the latest scan's Doc (finished), nil before the first.
func (m *Monitor) Latest() *Doc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest
}

// Trigger asks for a scan now (after the inputs are loaded); it never
// blocks.
func (m *Monitor) Trigger() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

// DefaultInterval is the scan interval when Options.Interval is unset.
const DefaultInterval = 5 * time.Minute

// Run scans on Trigger and every Interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	iv := m.o.Interval
	if iv <= 0 {
		iv = DefaultInterval
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.trigger:
		}
		if _, err := m.Scan(ctx); err != nil && ctx.Err() == nil {
			m.o.Logger.Warn("model monitoring scan failed", "err", err)
		}
	}
}

// Scan scans every part now, keeps the result as Latest, updates the
// metrics and exports it.
func (m *Monitor) Scan(ctx context.Context) (*Doc, error) {
	t0 := time.Now()
	at := t0
	var doc *Doc
	for _, p := range m.o.Parts() {
		mon, err := p.Engine.Monitor(ctx, at, m.o.Challenger)
		if err != nil {
			return nil, err
		}
		part := newDoc(mon, m.o.Champion, m.champName, m.o.Challenger, m.champLabels)
		name := "local"
		if p.Partition >= 0 {
			part.Partitions = []int{p.Partition}
			name = "p" + strconv.Itoa(p.Partition)
		}
		if m.o.Export != nil {
			m.o.Export(mon.AsOf, name, part)
		}
		if doc == nil {
			doc = part
		} else if err := doc.Add(part); err != nil {
			return nil, err
		}
	}
	if doc == nil { // a Kafka member holding no partition: an empty part
		mon, err := m.empty.Monitor(ctx, at, m.o.Challenger)
		if err != nil {
			return nil, err
		}
		doc = newDoc(mon, m.o.Champion, m.champName, m.o.Challenger, m.champLabels)
		doc.Partitions = []int{}
	}
	slices.Sort(doc.Partitions)
	doc.Finish()
	m.scanSecs.Observe(time.Since(t0).Seconds())
	m.scanTime.Set(float64(time.Now().UnixNano()) / 1e9)
	m.publish(doc)
	m.mu.Lock()
	m.latest = doc
	m.mu.Unlock()
	return doc, nil
}

// publish sets the metrics from a finished Doc.
func (m *Monitor) publish(d *Doc) {
	setPSI := func(role string, md *ModelDoc) {
		if md == nil || md.Drift.PSI == nil {
			m.psi.DeleteLabelValues(role)
			return
		}
		m.psi.WithLabelValues(role).Set(*md.Drift.PSI)
	}
	setPSI("champion", &d.Champion)
	setPSI("challenger", d.Challenger)
	c := d.Challenger
	if c == nil {
		return
	}
	m.challengers.Reset()
	m.challengers.WithLabelValues(d.Champion.Model, c.Model).Set(1)
	for _, t := range c.Tiers {
		m.challEnts.WithLabelValues(t.Tier).Set(float64(t.Entities))
		m.challInsp.WithLabelValues(t.Tier).Set(float64(*t.Inspections))
		m.challFound.WithLabelValues(t.Tier).Set(float64(*t.ProblemsFound))
		for _, b := range []struct {
			bound string
			v     *float64
		}{{"estimate", t.HitRate}, {"low", t.HitRateLow}, {"high", t.HitRateHigh}} {
			if b.v == nil { // no inspections (any more): no rate, not a stale one
				m.challRate.DeleteLabelValues(t.Tier, b.bound)
			} else {
				m.challRate.WithLabelValues(t.Tier, b.bound).Set(*b.v)
			}
		}
	}
	a := d.Agreement
	for i, row := range a.Counts {
		for j, n := range row {
			m.agreement.WithLabelValues(a.ChampionTiers[i], a.ChallengerTiers[j]).Set(float64(n))
		}
	}
}
