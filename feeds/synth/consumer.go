package synth

import "math"

// Consumer complaints (params.go "Consumer complaints"): a Poisson process
// per entity on its own observation channel, kept apart from the entity
// struct and from the random events of records.go so that adding it left
// every other event of a stream byte for byte as it was: its draws come
// from their own stream (streamComplaint), its events are queued after the
// day's other events (ties in time keep their order) and numbered from
// their own id source ("12315-…"), and it changes no entity state. It
// costs 4 bytes an entity (the queue link).

// consumerRates gives, by kind and industry, the daily complaint rate at
// ρ = 1.
func consumerRates() (t [numKinds][]float64) {
	for k := range numKinds {
		var s, sf float64
		for _, ind := range industries {
			s += ind.w[k]
			sf += ind.w[k] * consumerSector(ind.code)
		}
		t[k] = make([]float64, len(industries))
		for j, ind := range industries {
			// Normalised: the kind's mean rate is consumerBase[k].
			t[k][j] = consumerBase[k] / 365 * consumerSector(ind.code) * s / sf
		}
	}
	return t
}

// planComplaint links entity i into the complaint queue on the day of its
// next consumer complaint after day 'after' (absolute), if inside the
// stream.
func (g *Generator) planComplaint(i int32, e *entity, after int32, r *rng) {
	rate := g.cmpRate[e.kind][e.ind] * math.Exp(consumerExp*logRisk(g.channelZ(i, e, chConsumer)))
	k := r.exp() / rate
	if float64(after)+1+k >= float64(g.end) {
		return
	}
	d := after + 1 + int32(k) - g.start
	g.cmpNext[i] = g.cmpHead[d]
	g.cmpHead[d] = i
}

// fireComplaints emits the consumer complaints of day offset d, after the
// entities' own events of the day: an entity that deregistered, today or
// before, receives none.
func (g *Generator) fireComplaints(d int) {
	i := g.cmpHead[d]
	g.cmpHead[d] = -1
	today := g.start + int32(d)
	for i >= 0 {
		next := g.cmpNext[i]
		e := &g.ents[i]
		if e.dereg == none {
			r := newRNG(g.seed, streamComplaint, uint64(i), uint64(uint32(today)))
			var sub uint8
			if r.float() < logistic(-1+0.9*float64(g.channelZ(i, e, chConsumer))) {
				sub = 1
			}
			g.add(pev{ent: i, typ: tComplaint, sub: sub, aux: 1}, onlineSecond(&r))
			g.planComplaint(i, e, today, &r)
		}
		i = next
	}
}
