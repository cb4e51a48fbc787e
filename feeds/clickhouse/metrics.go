package clickhouse

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the sink's Prometheus collectors. Nothing is registered
// globally: Collectors or Register hands them to the caller's registry.
type metrics struct {
	inserted    *prometheus.CounterVec
	insertDur   *prometheus.HistogramVec
	insertErrs  *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	quarantined *prometheus.CounterVec
	spooled     *prometheus.CounterVec
	state       *stateCollector
}

func newMetrics(s *Sink) *metrics {
	m := &metrics{
		inserted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditd_clickhouse_rows_inserted_total",
			Help: "Rows inserted into ClickHouse, by table (re-inserts after a spool replay included).",
		}, []string{"table"}),
		insertDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "creditd_clickhouse_insert_duration_seconds",
			Help:    "Duration of one batch insert into ClickHouse (successful or not), by table.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"table"}),
		insertErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditd_clickhouse_insert_errors_total",
			Help: "Failed batch inserts, by table and kind (transient: retried; schema: retried after migrating; server: other server error, retried a few times; permanent: quarantined).",
		}, []string{"table", "kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditd_clickhouse_rows_dropped_total",
			Help: "Rows the sink refused or lost, by table and reason (overload: memory bound reached with the spool unavailable; close: not inserted or spooled at Close).",
		}, []string{"table", "reason"}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditd_clickhouse_rows_quarantined_total",
			Help: "Rows set aside under SpoolDir/quarantine because ClickHouse refused their batch or its spool record was corrupt, by table.",
		}, []string{"table"}),
		spooled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditd_clickhouse_rows_spooled_total",
			Help: "Rows written to the local spool, by table.",
		}, []string{"table"}),
		state: &stateCollector{s: s},
	}
	for _, t := range tableNames {
		m.inserted.WithLabelValues(t)
		m.insertDur.WithLabelValues(t)
		m.quarantined.WithLabelValues(t)
		m.spooled.WithLabelValues(t)
		for _, k := range []string{"transient", "schema", "server", "permanent"} {
			m.insertErrs.WithLabelValues(t, k)
		}
		for _, r := range []string{"overload", "close"} {
			m.dropped.WithLabelValues(t, r)
		}
	}
	return m
}

var (
	descLag = prometheus.NewDesc("creditd_clickhouse_sink_lag_seconds",
		"Age of the oldest row added to the sink and not yet inserted into ClickHouse (0 when none).", nil, nil)
	descMemRows = prometheus.NewDesc("creditd_clickhouse_sink_memory_rows",
		"Rows held in memory (open and sealed batches, including one being inserted).", nil, nil)
	descSpoolBytes = prometheus.NewDesc("creditd_clickhouse_spool_bytes",
		"Bytes of spool segment files on disk.", nil, nil)
	descSpoolFiles = prometheus.NewDesc("creditd_clickhouse_spool_files",
		"Spool segment files on disk.", nil, nil)
	descSpoolRows = prometheus.NewDesc("creditd_clickhouse_spool_rows",
		"Rows in the spool waiting to be inserted.", nil, nil)
	descUp = prometheus.NewDesc("creditd_clickhouse_up",
		"1 when the last insert or migration succeeded, 0 while ClickHouse is failing.", nil, nil)
)

// stateCollector reports gauges from one consistent snapshot of the sink.
type stateCollector struct{ s *Sink }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLag, descMemRows, descSpoolBytes, descSpoolFiles, descSpoolRows, descUp} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	up := 1.0
	if !st.Up {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(descMemRows, prometheus.GaugeValue, float64(st.MemRows))
	ch <- prometheus.MustNewConstMetric(descSpoolBytes, prometheus.GaugeValue, float64(st.SpoolBytes))
	ch <- prometheus.MustNewConstMetric(descSpoolFiles, prometheus.GaugeValue, float64(st.SpoolFiles))
	ch <- prometheus.MustNewConstMetric(descSpoolRows, prometheus.GaugeValue, float64(st.SpoolRows))
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}

// Collectors returns the sink's Prometheus collectors, for the caller to
// register (the sink never touches the global registry).
func (s *Sink) Collectors() []prometheus.Collector {
	m := s.m
	return []prometheus.Collector{m.inserted, m.insertDur, m.insertErrs, m.dropped, m.quarantined, m.spooled, m.state}
}

// Register registers the sink's collectors with r.
func (s *Sink) Register(r prometheus.Registerer) error {
	for _, c := range s.Collectors() {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
