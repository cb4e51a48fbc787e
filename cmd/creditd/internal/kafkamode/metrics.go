package kafkamode

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	kf "github.com/creditrisk/creditd/feeds/kafka"
)

// kafkaMetrics are Kafka mode's metrics; the per-partition gauges are read
// from the manager's status at scrape time.
type kafkaMetrics struct {
	applied, duplicate prometheus.Counter
	rejected           *prometheus.CounterVec // curried: outcome=rejected
	tierEvent          prometheus.Counter
	tierTime           prometheus.Counter
	proxied            *prometheus.CounterVec // by result
}

func newKafkaMetrics(m *metrics.Set, mgr *kf.Manager) *kafkaMetrics {
	km := &kafkaMetrics{
		applied:   m.Events.WithLabelValues("applied", ""),
		duplicate: m.Events.WithLabelValues("duplicate", ""),
		rejected:  m.Events.MustCurryWith(prometheus.Labels{"outcome": "rejected"}),
		tierEvent: m.TierChanges.WithLabelValues("event"),
		tierTime:  m.TierChanges.WithLabelValues("time"),
		proxied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditd_kafka_proxied_requests_total",
			Help: "Requests for entities of partitions held by another member, by result (proxied, unavailable)."}, []string{"result"}),
	}
	m.Registry.MustRegister(km.proxied, &kafkaCollector{mgr: mgr})
	return km
}

// kafkaCollector exports the manager's status.
type kafkaCollector struct{ mgr *kf.Manager }

var (
	kdPhase = prometheus.NewDesc("creditd_kafka_partition_phase",
		"Held partitions by phase (1 for the partition's current phase: restoring, live, retained).", []string{"partition", "phase"}, nil)
	kdLag = prometheus.NewDesc("creditd_kafka_consumer_lag",
		"Messages between a held partition's position and its high watermark when last fetched.", []string{"partition"}, nil)
	kdPos = prometheus.NewDesc("creditd_kafka_position",
		"Next offset to apply, per held partition.", []string{"partition"}, nil)
	kdCommitted = prometheus.NewDesc("creditd_kafka_committed_offset",
		"Committed offset per held partition (-1: none).", []string{"partition"}, nil)
	kdProgress = prometheus.NewDesc("creditd_kafka_restore_progress",
		"Restore progress of a held partition in [0, 1]; 1 once live.", []string{"partition"}, nil)
	kdRestoreBytes = prometheus.NewDesc("creditd_kafka_restore_snapshot_bytes",
		"Snapshot bytes read by the current or last restore of a partition.", []string{"partition"}, nil)
	kdReplayLeft = prometheus.NewDesc("creditd_kafka_restore_replay_remaining",
		"Messages left to replay before a restoring partition is live.", []string{"partition"}, nil)
	kdRestoreSecs = prometheus.NewDesc("creditd_kafka_restore_seconds",
		"Duration of a partition's last completed restore.", []string{"partition"}, nil)
	kdSnapOffset = prometheus.NewDesc("creditd_kafka_snapshot_offset",
		"Source offset of the snapshot the partition's commit names (-1: none).", []string{"partition"}, nil)
	kdEntities = prometheus.NewDesc("creditd_kafka_partition_entities",
		"Entities in a held partition's state.", []string{"partition"}, nil)
	kdReady = prometheus.NewDesc("creditd_kafka_ready",
		"1 when this member has joined its group and every partition it holds is live.", nil, nil)
	kdGeneration = prometheus.NewDesc("creditd_kafka_generation", "Consumer group generation.", nil, nil)
	kdMembers    = prometheus.NewDesc("creditd_kafka_group_members", "Members of the consumer group.", nil, nil)
	kdCounters   = map[string]*prometheus.Desc{}
)

var kafkaCounterNames = []struct{ name, help string }{
	{"rebalances", "Consumer group generations joined."},
	{"snapshots", "Partition snapshots written to the snapshot topic."},
	{"snapshot_bytes", "Bytes of partition snapshots written."},
	{"snapshot_failures", "Partition snapshots that failed."},
	{"outputs", "Records written to the dead-letter and tier-change topics."},
	{"output_errors", "Failed (and retried) output writes."},
	{"commits", "Partition offsets committed."},
	{"commit_errors", "Failed offset commits."},
	{"restore_gaps", "Restores that found source records deleted before they were applied."},
	{"produced", "Events produced to the source topic by POST /v1/events."},
}

func init() {
	for _, c := range kafkaCounterNames {
		kdCounters[c.name] = prometheus.NewDesc("creditd_kafka_"+c.name+"_total", c.help, nil, nil)
	}
}

func (c *kafkaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{kdPhase, kdLag, kdPos, kdCommitted, kdProgress, kdRestoreBytes, kdReplayLeft,
		kdRestoreSecs, kdSnapOffset, kdEntities, kdReady, kdGeneration, kdMembers} {
		ch <- d
	}
	for _, d := range kdCounters {
		ch <- d
	}
}

func (c *kafkaCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.mgr.Status()
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	for _, p := range st.Held {
		ps := strconv.Itoa(p.Partition)
		g(kdPhase, 1, ps, p.Phase)
		g(kdLag, float64(p.Lag), ps)
		g(kdPos, float64(p.Position), ps)
		g(kdCommitted, float64(p.Committed), ps)
		g(kdProgress, p.Progress, ps)
		g(kdRestoreBytes, float64(p.RestoreBytes), ps)
		left := int64(0)
		if p.Phase == "restoring" && p.ReplayTo > p.Position {
			left = p.ReplayTo - max(p.Position, p.ReplayFrom)
		}
		g(kdReplayLeft, float64(left), ps)
		g(kdRestoreSecs, p.RestoreSeconds, ps)
		g(kdSnapOffset, float64(p.SnapshotOffset), ps)
		g(kdEntities, float64(p.Entities), ps)
	}
	ready := 0.0
	if st.Ready {
		ready = 1
	}
	g(kdReady, ready)
	g(kdGeneration, float64(st.Generation))
	g(kdMembers, float64(len(st.Members)))
	vals := map[string]int64{"rebalances": st.Rebalances, "snapshots": st.Snapshots, "snapshot_bytes": st.SnapshotBytes,
		"snapshot_failures": st.SnapshotFailures, "outputs": st.Outputs, "output_errors": st.OutputErrors,
		"commits": st.Commits, "commit_errors": st.CommitErrors, "restore_gaps": st.RestoreGaps, "produced": st.Produced}
	for name, d := range kdCounters {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(vals[name]))
	}
}
