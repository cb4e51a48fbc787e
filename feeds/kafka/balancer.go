package kafka

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"

	kafkago "github.com/segmentio/kafka-go"
)

// protocolName is the group protocol (assignor) of creditd members. Every
// member must offer it; a member of another version offers its own and the
// coordinator refuses the mix (InconsistentGroupProtocol) rather than
// letting two assignors disagree.
const protocolName = "creditd-sticky-v1"

// memberMeta is what a member tells the group when it joins (the JoinGroup
// metadata's user data): where it answers HTTP, and which partitions it
// holds state for.
type memberMeta struct {
	V     int    `json:"v"`
	Addr  string `json:"addr,omitempty"`
	Owned []int  `json:"owned,omitempty"`
}

func parseMemberMeta(b []byte) memberMeta {
	var m memberMeta
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m) // a foreign or damaged blob is an empty one
	}
	return m
}

// stickyBalancer assigns partitions evenly and keeps each partition where
// its state already is whenever the balance allows, so that a member
// joining or leaving moves only the partitions it must (the idea of Kafka's
// StickyAssignor). kafka-go's consumer group is eager (every rebalance
// revokes every partition), so stickiness is what lets a member keep the
// states of partitions it is given back instead of restoring them.
type stickyBalancer struct {
	mu   sync.Mutex
	meta memberMeta
}

func (b *stickyBalancer) set(addr string, owned []int) {
	b.mu.Lock()
	b.meta = memberMeta{V: 1, Addr: addr, Owned: slices.Clone(owned)}
	b.mu.Unlock()
}

// ProtocolName implements kafkago.GroupBalancer.
func (b *stickyBalancer) ProtocolName() string { return protocolName }

// UserData implements kafkago.GroupBalancer: called on every join.
func (b *stickyBalancer) UserData() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.meta
	m.V = 1
	return json.Marshal(m)
}

// AssignGroups implements kafkago.GroupBalancer (run by the group leader).
func (b *stickyBalancer) AssignGroups(members []kafkago.GroupMember, partitions []kafkago.Partition) kafkago.GroupMemberAssignments {
	out := kafkago.GroupMemberAssignments{}
	byTopic := map[string][]int{}
	for _, p := range partitions {
		byTopic[p.Topic] = append(byTopic[p.Topic], p.ID)
	}
	for topic, parts := range byTopic {
		var ms []string
		owned := map[string][]int{}
		for _, m := range members {
			if slices.Contains(m.Topics, topic) {
				ms = append(ms, m.ID)
				owned[m.ID] = parseMemberMeta(m.UserData).Owned
			}
		}
		for id, ps := range stickyAssign(ms, parts, owned) {
			if out[id] == nil {
				out[id] = map[string][]int{}
			}
			out[id][topic] = ps
		}
	}
	return out
}

// stickyAssign gives every member floor(P/M) or ceil(P/M) partitions,
// keeping previously owned partitions in place as far as those quotas
// allow. Members with the most partitions to keep get the larger quotas.
// It is deterministic in its inputs.
func stickyAssign(members []string, parts []int, owned map[string][]int) map[string][]int {
	out := map[string][]int{}
	if len(members) == 0 {
		return out
	}
	members = slices.Clone(members)
	sort.Strings(members)
	parts = slices.Clone(parts)
	sort.Ints(parts)
	exists := map[int]bool{}
	for _, p := range parts {
		exists[p] = true
	}
	// A partition claimed by two members (a stale claim) stays with the
	// first in member order; claims of unknown partitions are ignored.
	claimed := map[int]string{}
	keep := map[string][]int{}
	for _, m := range members {
		ps := slices.Clone(owned[m])
		sort.Ints(ps)
		for _, p := range ps {
			if exists[p] && claimed[p] == "" {
				claimed[p] = m
				keep[m] = append(keep[m], p)
			}
		}
	}
	order := slices.Clone(members)
	sort.SliceStable(order, func(i, j int) bool { return len(keep[order[i]]) > len(keep[order[j]]) })
	base, extra := len(parts)/len(members), len(parts)%len(members)
	quota := map[string]int{}
	for i, m := range order {
		quota[m] = base
		if i < extra {
			quota[m]++
		}
	}
	assigned := map[int]bool{}
	for _, m := range members {
		k := keep[m]
		if len(k) > quota[m] {
			k = k[:quota[m]]
		}
		out[m] = slices.Clone(k)
		for _, p := range k {
			assigned[p] = true
		}
	}
	i := 0
	for _, p := range parts {
		if assigned[p] {
			continue
		}
		for len(out[members[i]]) >= quota[members[i]] {
			i++
		}
		out[members[i]] = append(out[members[i]], p)
	}
	for _, m := range members {
		sort.Ints(out[m])
	}
	return out
}
