package kafka

import (
	"context"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Restore: a partition's State from its newest committed snapshot, and
// where to replay the source topic from and to (see snapshot.go).

// restore loads a partition's newest committed snapshot and sets where to
// replay from and to. It returns false if ctx ended first.
func (m *Manager) restore(ctx context.Context, part *partition) bool {
	part.mu.Lock()
	part.restoreT0 = time.Now()
	part.mu.Unlock()
	backoff := 200 * time.Millisecond
	for {
		err := m.tryRestore(ctx, part)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		m.log.Warn("restoring partition failed; retrying", "partition", part.id, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (m *Manager) tryRestore(ctx context.Context, part *partition) error {
	p := part.id
	st, err := m.newState(p)
	if err != nil {
		return err
	}
	res, err := m.cl.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: m.opts.Group, Topics: map[string][]int{m.opts.Topic: {p}}})
	if err != nil {
		return fmt.Errorf("fetching the committed offset: %w", err)
	}
	if res.Error != nil {
		return fmt.Errorf("fetching the committed offset: %w", res.Error)
	}
	committed, meta := int64(-1), ""
	for _, po := range res.Topics[m.opts.Topic] {
		if po.Partition == p && po.Error == nil {
			committed, meta = po.CommittedOffset, po.Metadata
		}
	}
	first, last, err := m.offsetRange(ctx, m.opts.Topic, p)
	if err != nil {
		return fmt.Errorf("listing offsets: %w", err)
	}
	// The snapshot: the one the commit names, else the newest complete one
	// in the snapshot partition.
	var ptr *snapPointer
	snapOffset := int64(-1)
	progress := func(n int64) { part.restoreBytes.Store(n) }
	if cm, ok := parseCommitMeta(meta); ok && cm.Snap != nil {
		part.restoreBytesTotal.Store(cm.Snap.Bytes)
		off, err := m.snaps.load(ctx, p, cm.Snap, st, progress)
		if err == nil {
			ptr, snapOffset = cm.Snap, off
		} else if ctx.Err() != nil {
			return err
		} else {
			m.log.Warn("the committed snapshot cannot be read; scanning for another", "partition", p, "snapshot", cm.Snap.ID, "err", err)
			if st, err = m.newState(p); err != nil {
				return err
			}
		}
	}
	if ptr == nil {
		sf, sl, err := m.offsetRange(ctx, m.opts.SnapshotTopic, p)
		if err != nil {
			return fmt.Errorf("listing snapshot offsets: %w", err)
		}
		if sl > sf {
			cands, err := m.snaps.scan(ctx, p, sf, sl)
			if err != nil {
				return fmt.Errorf("scanning snapshots: %w", err)
			}
			for _, c := range cands {
				if committed >= 0 && c.Offset > committed {
					// Its outputs may not have been written; a newer owner
					// may also have diverged. Take an older one.
					continue
				}
				part.restoreBytesTotal.Store(c.Bytes)
				off, err := m.snaps.load(ctx, p, c, st, progress)
				if err == nil {
					ptr, snapOffset = c, off
					break
				}
				if ctx.Err() != nil {
					return err
				}
				m.log.Warn("skipping a snapshot that cannot be read", "partition", p, "snapshot", c.ID, "err", err)
				if st, err = m.newState(p); err != nil {
					return err
				}
			}
		}
	}
	start := snapOffset
	if start < 0 {
		start = first
		if committed > first && first > 0 {
			m.restoreGaps.Add(1)
			m.log.Error("no snapshot, and the source no longer starts at 0: the events before its start are missing from the state",
				"partition", p, "log_start", first, "committed", committed)
		}
	} else if start < first {
		m.restoreGaps.Add(1)
		m.log.Error("the snapshot is older than the source's retention: events between them are missing from the state",
			"partition", p, "snapshot_offset", start, "log_start", first)
		start = first
	}
	replayUntil := max(committed, start)
	if replayUntil > last {
		m.log.Error("the committed offset is beyond the source's end (topic recreated?); replaying to the end", "partition", p,
			"committed", committed, "end", last)
		replayUntil = last
	}
	part.state = st
	part.next, part.replayUntil = start, replayUntil
	part.pos.Store(start)
	part.durable.Store(start)
	part.committed.Store(committed)
	part.replayFrom.Store(start)
	part.replayTo.Store(replayUntil)
	part.sinceSnap = replayUntil - start
	part.lastSnap, part.lastTick = m.opts.Now(), time.Time{}
	part.mu.Lock()
	part.snapCommitted, part.snapPending = ptr, nil
	part.mu.Unlock()
	m.log.Info("partition restoring", "partition", p, "snapshot_offset", snapOffset, "entities", st.Entities(),
		"replay_from", start, "replay_to", replayUntil, "end", last)
	if start >= replayUntil {
		part.restoreNanos.Store(int64(time.Since(part.restoreStart())))
		part.phase.Store(int32(PhaseLive))
		m.log.Info("partition restored", "partition", p, "offset", start, "entities", st.Entities(),
			"seconds", time.Duration(part.restoreNanos.Load()).Seconds())
	}
	return nil
}

func (p *partition) restoreStart() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restoreT0
}

// offsetRange returns a partition's log start and end offsets.
func (m *Manager) offsetRange(ctx context.Context, topic string, p int) (int64, int64, error) {
	res, err := m.cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{
		topic: {kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p)}}})
	if err != nil {
		return 0, 0, err
	}
	for _, po := range res.Topics[topic] {
		if po.Partition == p {
			if po.Error != nil {
				return 0, 0, po.Error
			}
			return po.FirstOffset, po.LastOffset, nil
		}
	}
	return 0, 0, fmt.Errorf("no offsets for %s/%d", topic, p)
}
