package kafka

import (
	"sort"
	"time"
)

// PartitionStatus describes one held partition.
type PartitionStatus struct {
	Partition int    `json:"partition"`
	Phase     string `json:"phase"`
	// Position is the next offset to apply; Committed the group's committed
	// offset (-1: none); HighWatermark the partition's end when last
	// fetched; Lag = HighWatermark - Position.
	Position      int64 `json:"position"`
	Durable       int64 `json:"durable"`
	Committed     int64 `json:"committed"`
	HighWatermark int64 `json:"high_watermark"`
	LogStart      int64 `json:"log_start"`
	Lag           int64 `json:"lag"`
	// SnapshotOffset is the source offset of the snapshot the commit names
	// (-1: none).
	SnapshotOffset int64 `json:"snapshot_offset"`
	// Restore progress: snapshot bytes read of total, then the replay from
	// ReplayFrom to ReplayTo (Position is where it is).
	RestoreBytes      int64   `json:"restore_bytes"`
	RestoreBytesTotal int64   `json:"restore_bytes_total"`
	ReplayFrom        int64   `json:"replay_from"`
	ReplayTo          int64   `json:"replay_to"`
	RestoreSeconds    float64 `json:"restore_seconds"`
	// Progress is the restore's progress in [0, 1] (1 once live): the
	// snapshot counts for half when there is one.
	Progress   float64 `json:"progress"`
	Entities   int     `json:"entities"`
	Applied    int64   `json:"applied"`
	Duplicates int64   `json:"duplicates"`
	Rejected   int64   `json:"rejected"`
}

// Status describes the member.
type Status struct {
	Group      string `json:"group"`
	Topic      string `json:"topic"`
	Member     string `json:"member"`
	Generation int    `json:"generation"`
	Joined     bool   `json:"joined"`
	// Ready: joined, and every held partition is live.
	Ready      bool              `json:"ready"`
	Partitions int               `json:"partitions"`
	Held       []PartitionStatus `json:"held"`
	Members    []Member          `json:"members"`
	// OwnersAge is how old the partition-to-member map is.
	OwnersAge        time.Duration `json:"owners_age_ns"`
	Rebalances       int64         `json:"rebalances"`
	Snapshots        int64         `json:"snapshots"`
	SnapshotBytes    int64         `json:"snapshot_bytes"`
	SnapshotFailures int64         `json:"snapshot_failures"`
	SnapshotSeconds  float64       `json:"last_snapshot_seconds"`
	Outputs          int64         `json:"outputs"`
	OutputErrors     int64         `json:"output_errors"`
	Commits          int64         `json:"commits"`
	CommitErrors     int64         `json:"commit_errors"`
	RestoreGaps      int64         `json:"restore_gaps"`
	Produced         int64         `json:"produced"`
}

// Status returns the member's status (cheap: atomics and a map copy).
func (m *Manager) Status() Status {
	st := Status{Group: m.opts.Group, Topic: m.opts.Topic, Joined: m.joined.Load(), Partitions: m.Partitions(),
		Rebalances: m.rebalances.Load(), Snapshots: m.snapshots.Load(), SnapshotBytes: m.snapshotBytes.Load(),
		SnapshotFailures: m.snapshotFailures.Load(), SnapshotSeconds: time.Duration(m.snapshotSeconds.Load()).Seconds(),
		Outputs: m.outputs.Load(), OutputErrors: m.outputErrors.Load(), Commits: m.commits.Load(),
		CommitErrors: m.commitErrors.Load(), RestoreGaps: m.restoreGaps.Load(), Produced: m.produced.Load()}
	m.mu.Lock()
	if m.gen != nil {
		st.Member, st.Generation = m.gen.MemberID, int(m.gen.ID)
	}
	m.mu.Unlock()
	om := m.owners.Load()
	st.Members = om.members
	if !om.at.IsZero() {
		st.OwnersAge = time.Since(om.at)
	}
	st.Ready = st.Joined
	for p, part := range *m.view.Load() {
		ph := Phase(part.phase.Load())
		ps := PartitionStatus{Partition: p, Phase: ph.String(), Position: part.pos.Load(), Durable: part.durable.Load(),
			Committed: part.committed.Load(), HighWatermark: part.hwm.Load(), LogStart: part.logStart.Load(),
			SnapshotOffset: -1, RestoreBytes: part.restoreBytes.Load(), RestoreBytesTotal: part.restoreBytesTotal.Load(),
			ReplayFrom: part.replayFrom.Load(), ReplayTo: part.replayTo.Load(),
			RestoreSeconds: time.Duration(part.restoreNanos.Load()).Seconds(),
			Applied:        part.applied.Load(), Duplicates: part.duplicates.Load(), Rejected: part.rejected.Load()}
		if ps.HighWatermark > ps.Position && ps.Position >= 0 {
			ps.Lag = ps.HighWatermark - ps.Position
		}
		part.mu.Lock()
		if part.snapCommitted != nil {
			ps.SnapshotOffset = part.snapCommitted.Offset
		}
		part.mu.Unlock()
		if ph == PhaseLive || ph == PhaseRetained {
			ps.Entities = part.state.Entities()
		}
		ps.Progress = 1
		if ph == PhaseRestoring {
			ps.Progress = restoreProgress(ps)
			st.Ready = false
		}
		st.Held = append(st.Held, ps)
	}
	sort.Slice(st.Held, func(i, j int) bool { return st.Held[i].Partition < st.Held[j].Partition })
	return st
}

func restoreProgress(ps PartitionStatus) float64 {
	replay := 1.0
	if span := ps.ReplayTo - ps.ReplayFrom; span > 0 {
		done := ps.Position - ps.ReplayFrom
		replay = min(max(float64(done)/float64(span), 0), 1)
	}
	if ps.RestoreBytesTotal <= 0 {
		return replay * 0.999
	}
	snap := min(float64(ps.RestoreBytes)/float64(ps.RestoreBytesTotal), 1)
	return (snap*0.5 + replay*0.5) * 0.999
}
