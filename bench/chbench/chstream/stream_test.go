package chstream

import (
	"context"
	"testing"

	"github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/models/uscc"
)

type countingSink struct {
	events, inspections int
	changes             map[string][]clickhouse.TierChange
}

func (c *countingSink) AddInspection(clickhouse.Inspection) error { c.inspections++; return nil }

func (c *countingSink) AddAppliedEvent(clickhouse.AppliedEvent) error { c.events++; return nil }
func (c *countingSink) AddTierChange(t clickhouse.TierChange) error {
	c.changes[t.USCC] = append(c.changes[t.USCC], t)
	return nil
}

func TestStreamIsConsistent(t *testing.T) {
	st := New(Options{Entities: 500, Seed: 7})
	sink := &countingSink{changes: map[string][]clickhouse.TierChange{}}
	res, err := Drive(context.Background(), sink, st, 20_000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 20_000 || sink.events != 20_000 {
		t.Fatalf("events %d/%d", res.Events, sink.events)
	}
	n := 0
	for code, cs := range sink.changes {
		if _, err := uscc.Parse(code); err != nil {
			t.Fatalf("generated USCC %s: %v", code, err)
		}
		// Each entity's chain is consistent: old tier = previous new tier.
		prev := ""
		for _, c := range cs {
			if c.OldTier != prev || c.NewTier == "" || c.NewTier == c.OldTier {
				t.Fatalf("%s: change %+v after %q", code, c, prev)
			}
			prev = c.NewTier
			n++
		}
	}
	if n != res.TierChanges || n < 20_000/5 {
		t.Fatalf("%d tier changes (result %d)", n, res.TierChanges)
	}
	if sink.inspections != res.Inspections || res.Inspections < 20_000/20 {
		t.Fatalf("%d inspections (result %d)", sink.inspections, res.Inspections)
	}
	// Deterministic.
	a, b := New(Options{Seed: 3, Entities: 10}), New(Options{Seed: 3, Entities: 10})
	for range 100 {
		if a.Next() != b.Next() {
			t.Fatal("streams with one seed differ")
		}
	}
}
