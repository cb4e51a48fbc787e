package kafka

import (
	"bytes"
	"context"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Checkpoints: snapshots of a partition's State written when due, and the
// commit of each partition's durable position with its snapshot pointer.

// maybeSnapshot serializes the partition's state when due and uploads it
// in the background.
func (m *Manager) maybeSnapshot(part *partition, now time.Time) {
	o := &m.opts
	age := now.Sub(part.lastSnap)
	due := (o.SnapshotEvents > 0 && part.sinceSnap >= o.SnapshotEvents) ||
		(o.SnapshotInterval > 0 && part.sinceSnap > 0 && part.sinceSnap >= o.SnapshotEvents/100 && age >= o.SnapshotInterval) ||
		(part.sinceSnap > 0 && age >= o.SnapshotMaxAge)
	if !due || Phase(part.phase.Load()) != PhaseLive || part.snapBusy.Load() {
		return
	}
	select {
	case m.snapSem <- struct{}{}:
	default:
		return // enough snapshots in flight; try after the next batch
	}
	data, err := m.serialize(part)
	if err != nil {
		<-m.snapSem
		m.snapshotFailures.Add(1)
		m.log.Error("serializing a snapshot failed", "partition", part.id, "err", err)
		part.lastSnap = now
		return
	}
	part.sinceSnap, part.lastSnap = 0, now
	part.snapBusy.Store(true)
	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		defer func() { <-m.snapSem; part.snapBusy.Store(false) }()
		m.upload(m.bg, part, data)
	}()
}

type snapData struct {
	b      []byte
	offset int64
	t0     time.Time
}

func (m *Manager) serialize(part *partition) (snapData, error) {
	t0 := time.Now()
	var b []byte
	select {
	case b = <-m.snapBufs:
	default:
	}
	buf := bytes.NewBuffer(b[:0])
	if err := part.state.WriteSnapshot(buf, part.next); err != nil {
		m.releaseBuf(buf.Bytes())
		return snapData{}, err
	}
	return snapData{b: buf.Bytes(), offset: part.next, t0: t0}, nil
}

// releaseBuf keeps a serialization buffer for the next snapshot.
func (m *Manager) releaseBuf(b []byte) {
	select {
	case m.snapBufs <- b[:0]:
	default:
	}
}

func (m *Manager) upload(ctx context.Context, part *partition, d snapData) {
	entities := part.state.Entities()
	ptr, err := m.snaps.upload(ctx, part.id, d.b, d.offset, entities)
	m.releaseBuf(d.b)
	if err != nil {
		m.snapshotFailures.Add(1)
		m.log.Error("uploading a snapshot failed", "partition", part.id, "err", err)
		return
	}
	m.snapshots.Add(1)
	m.snapshotBytes.Add(int64(len(d.b)))
	m.snapshotSeconds.Store(int64(time.Since(d.t0)))
	m.log.Info("snapshot written", "partition", part.id, "offset", d.offset, "bytes", len(d.b), "entities", entities,
		"seconds", time.Since(d.t0).Seconds())
	part.mu.Lock()
	part.snapPending = append(part.snapPending, ptr)
	part.mu.Unlock()
	if Phase(part.phase.Load()) == PhaseNone {
		// The partition moved away meanwhile: nobody will name it.
		m.dropSnapshots(part.id, ptr)
	}
}

// finalSnapshots snapshots, at shutdown, every live partition that applied
// anything since its last snapshot, and waits for the uploads.
func (m *Manager) finalSnapshots(ctx context.Context, parts []*partition) {
	var wg sync.WaitGroup
	for _, part := range parts {
		if Phase(part.phase.Load()) != PhaseLive || part.sinceSnap == 0 || part.durable.Load() != part.pos.Load() {
			continue
		}
		select {
		case m.snapSem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		for part.snapBusy.Load() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		data, err := m.serialize(part)
		if err != nil {
			<-m.snapSem
			m.log.Error("serializing a snapshot failed", "partition", part.id, "err", err)
			continue
		}
		part.sinceSnap = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-m.snapSem }()
			m.upload(ctx, part, data)
		}()
	}
	wg.Wait()
	// Uploads started earlier may still be running.
	for _, part := range parts {
		for part.snapBusy.Load() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// commit commits the durable position of each partition with a pointer to
// its newest snapshot at or below it.
func (m *Manager) commit(ctx context.Context, gen *kafkago.Generation, parts []*partition) {
	type change struct {
		part *partition
		off  int64
		ptr  *snapPointer
	}
	if m.crash.Load() {
		return
	}
	var changes []change
	var req []kafkago.OffsetCommit
	for _, part := range parts {
		ph := Phase(part.phase.Load())
		if ph != PhaseLive && ph != PhaseRestoring {
			continue
		}
		x := part.durable.Load()
		if x < 0 {
			continue
		}
		part.mu.Lock()
		ptr := part.snapCommitted
		for _, c := range part.snapPending {
			if c.Offset <= x && (ptr == nil || newer(c, ptr)) {
				ptr = c
			}
		}
		changed := ptr != part.snapCommitted
		part.mu.Unlock()
		if x <= part.committed.Load() && !changed {
			continue
		}
		if x < part.committed.Load() {
			x = part.committed.Load() // never move a commit back (only the pointer changes)
		}
		changes = append(changes, change{part, x, ptr})
		req = append(req, kafkago.OffsetCommit{Partition: part.id, Offset: x, Metadata: commitMeta{V: 1, Snap: ptr}.String()})
	}
	if len(req) == 0 {
		return
	}
	res, err := m.cl.OffsetCommit(ctx, &kafkago.OffsetCommitRequest{GroupID: m.opts.Group, GenerationID: int(gen.ID),
		MemberID: gen.MemberID, Topics: map[string][]kafkago.OffsetCommit{m.opts.Topic: req}})
	if err != nil {
		m.commitErrors.Add(1)
		m.log.Warn("committing offsets failed", "err", err)
		return
	}
	failed := map[int]error{}
	for _, pr := range res.Topics[m.opts.Topic] {
		if pr.Error != nil {
			failed[pr.Partition] = pr.Error
		}
	}
	for _, c := range changes {
		if e := failed[c.part.id]; e != nil {
			m.commitErrors.Add(1)
			m.log.Warn("committing an offset failed", "partition", c.part.id, "err", e)
			continue
		}
		m.commits.Add(1)
		c.part.committed.Store(c.off)
		c.part.mu.Lock()
		old := c.part.snapCommitted
		var drop []*snapPointer
		if c.ptr != old {
			if old != nil {
				drop = append(drop, old)
			}
			var keep []*snapPointer
			for _, s := range c.part.snapPending {
				switch {
				case s == c.ptr:
				case newer(s, c.ptr):
					keep = append(keep, s)
				default:
					drop = append(drop, s)
				}
			}
			c.part.snapCommitted, c.part.snapPending = c.ptr, keep
		}
		c.part.mu.Unlock()
		if len(drop) > 0 {
			m.dropSnapshots(c.part.id, drop...)
		}
	}
}

// dropSnapshots tombstones snapshots no commit names any more.
func (m *Manager) dropSnapshots(p int, ptrs ...*snapPointer) {
	m.bgWG.Add(1)
	go func() {
		defer m.bgWG.Done()
		ctx, cancel := context.WithTimeout(m.bg, time.Minute)
		defer cancel()
		for _, ptr := range ptrs {
			if err := m.snaps.tombstone(ctx, p, ptr); err != nil {
				m.log.Warn("deleting an old snapshot failed (compaction will not reclaim it)", "partition", p, "snapshot", ptr.ID, "err", err)
			}
		}
	}()
}
