package synth

import (
	"math"
	"math/bits"
)

// rng is a splitmix64 generator. The generator never keeps random state per
// entity: every draw comes from a fresh rng keyed by (seed, stream, entity,
// day), so an entity's history depends only on the seed and the options,
// never on the order in which entities are visited, and no per-entity RNG
// state takes memory.
type rng struct{ s uint64 }

// Streams keep independent draws apart.
const (
	streamStatic    uint64 = iota + 1 // kind, division, industry, latent risk
	streamName                        // registered name
	streamStep                        // an entity's draws on one day
	streamAR                          // the annual-report plan for one year
	streamBad                         // bad-line injection
	streamPerm                        // organisation-code permutations
	streamCal                         // per-division calendars (listing days, rating days)
	streamChannel                     // per-entity noise of the observation channels
	streamPenalty                     // a penalty decision's attributes
	streamObjection                   // objections to records
	streamComplaint                   // consumer complaints (consumer.go)
)

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// hash3 mixes a seed, a stream and two keys into one well-spread word.
func hash3(seed, stream, a, b uint64) uint64 {
	h := mix64(seed ^ stream*0x9e3779b97f4a7c15)
	h = mix64(h ^ a*0xd1b54a32d192ed03)
	return mix64(h ^ b*0x8cb92ba72f3d8dd7)
}

func newRNG(seed, stream, a, b uint64) rng { return rng{s: hash3(seed, stream, a, b)} }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform draw in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) * 0x1p-53 }

// intn returns a uniform draw in [0, n) for 0 < n < 2^32 (Lemire's
// multiply-shift; the bias is below 2^-32).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// exp returns an Exp(1) draw.
func (r *rng) exp() float64 { return -math.Log(1 - r.float()) }

// normal returns a standard normal draw (inverse CDF, so one uniform gives
// one normal and the mapping is monotone).
func (r *rng) normal() float64 {
	u := r.float()
	if u == 0 {
		u = 0x1p-53
	}
	return math.Sqrt2 * math.Erfinv(2*u-1)
}

// pick returns the index i of the first cum[i] > u for a uniform u: a draw
// from a cumulative weight table.
func (r *rng) pick(cum []float64) int {
	u := r.float()
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// phi is the standard normal CDF.
func phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// perm is a keyed bijection on [0, m): a four-round Feistel network on the
// smallest even number of bits covering m, with cycle walking. It turns
// entity numbers into organisation codes that look random yet never collide.
type perm struct {
	m    uint64
	half uint
	mask uint64
	keys [4]uint64
}

func newPerm(m, seed, salt uint64) perm {
	n := uint(bits.Len64(m - 1))
	if n%2 == 1 {
		n++
	}
	p := perm{m: m, half: n / 2, mask: 1<<(n/2) - 1}
	for i := range p.keys {
		p.keys[i] = hash3(seed, streamPerm, salt, uint64(i))
	}
	return p
}

// apply maps x < m to a distinct value < m.
func (p *perm) apply(x uint64) uint64 {
	for {
		l, r := x>>p.half, x&p.mask
		for _, k := range p.keys {
			l, r = r, l^(mix64(r^k)&p.mask)
		}
		x = l<<p.half | r
		if x < p.m {
			return x
		}
	}
}
