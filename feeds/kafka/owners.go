package kafka

import (
	"context"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Owners design.
//
// Every member puts its HTTP address in its JoinGroup metadata (the
// assignor's user data). DescribeGroups returns, for a stable group, each
// member's metadata and assignment, so any member can map a partition to
// the address of its owner and proxy a query there. The map is refreshed
// after each rebalance (until the group is stable and every partition has
// an owner), every 15 seconds, and on request when a proxied call fails.

// Member is a group member as the group describes it.
type Member struct {
	ID   string `json:"id"`
	Addr string `json:"addr"` // its advertised HTTP address ("" if it gave none)
	Self bool   `json:"self"` // this Manager
}

// ownerMap maps partitions to members.
type ownerMap struct {
	generation string // the members' IDs, to tell maps apart
	byPart     map[int]Member
	members    []Member
	at         time.Time
	stable     bool
}

// Owner returns the member that owns partition p according to the
// group's last described assignment.
func (m *Manager) Owner(p int) (Member, bool) {
	om := m.owners.Load()
	mb, ok := om.byPart[p]
	return mb, ok
}

// Members returns the group's members from the last description.
func (m *Manager) Members() []Member { return m.owners.Load().members }

// RefreshOwners asks for the assignment to be described again soon (a
// proxied request found its target gone).
func (m *Manager) RefreshOwners() { m.requestRefresh() }

func (m *Manager) requestRefresh() {
	select {
	case m.refreshReq <- struct{}{}:
	default:
	}
}

// ownerLoop keeps the owner map fresh until ctx ends.
func (m *Manager) ownerLoop(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.refreshReq:
		}
		// After a rebalance the group needs a moment to become stable:
		// retry briefly until the map covers every partition.
		deadline := time.Now().Add(m.opts.RebalanceTimeout)
		for ctx.Err() == nil {
			ok := m.describe(ctx)
			if ok || time.Now().After(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		// Rate limit: at most one description per 500ms.
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// describe reads the group's assignment; it reports whether the group was
// stable with every partition owned.
func (m *Manager) describe(ctx context.Context) bool {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := m.cl.DescribeGroups(dctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{m.opts.Group}})
	if err != nil {
		m.log.Debug("describing the group failed", "err", err)
		return false
	}
	self := ""
	m.mu.Lock()
	if m.gen != nil {
		self = m.gen.MemberID
	}
	m.mu.Unlock()
	for _, g := range res.Groups {
		if g.GroupID != m.opts.Group || g.Error != nil {
			continue
		}
		om := &ownerMap{byPart: map[int]Member{}, at: time.Now(), stable: g.GroupState == "Stable"}
		for _, mem := range g.Members {
			meta := parseMemberMeta(mem.MemberMetadata.UserData)
			mb := Member{ID: mem.MemberID, Addr: meta.Addr, Self: mem.MemberID == self}
			om.members = append(om.members, mb)
			om.generation += mem.MemberID + ","
			for _, t := range mem.MemberAssignments.Topics {
				if t.Topic != m.opts.Topic {
					continue
				}
				for _, p := range t.Partitions {
					om.byPart[p] = mb
				}
			}
		}
		if !om.stable {
			return false
		}
		m.owners.Store(om)
		return len(om.byPart) >= m.Partitions()
	}
	return false
}
