// Package samplertest builds synthetic populations and inspector pools for
// tests, benchmarks and demos of the sampler. Everything is deterministic
// for a given seed.
package samplertest

import (
	"fmt"
	"math/rand/v2"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
)

// Province describes a synthetic province.
type Province struct {
	// Entities is the number of units. Default 10,000.
	Entities int
	// Seed makes the province reproducible.
	Seed uint64
	// Scheme is the tier scheme. Default tier.National4.
	Scheme *tier.Scheme
	// TierMix are the tier shares in permille, lowest risk first. Default
	// A 300 B 550 C 120 D 30 (national-4) or A 250 B 350 C 250 D 110 E 40
	// (shandong-5).
	TierMix []int
	// Province is the 2-digit province code. Default "37" (Shandong).
	Province string
	// Cities and CountiesPerCity shape the division codes. Defaults 16, 9.
	Cities, CountiesPerCity int
	// AsOf is the unix time everything is generated relative to.
	AsOf int64
	// MovedPermille is the share of entities whose region differs from the
	// division in their USCC (moved within their city). Default 20.
	MovedPermille int
	// DeregisteredPermille and FuturePermille are the shares deregistered
	// before AsOf and registered after it. Defaults 50 and 0.
	DeregisteredPermille, FuturePermille int
	// InspectedPermille is the share with one or two past inspections in
	// the last two years. Default 0.
	InspectedPermille int
}

func (p *Province) defaults() {
	if p.Entities <= 0 {
		p.Entities = 10_000
	}
	if p.Scheme == nil {
		p.Scheme = tier.National4
	}
	if p.TierMix == nil {
		if p.Scheme.Len() == 5 {
			p.TierMix = []int{250, 350, 250, 110, 40}
		} else {
			p.TierMix = []int{300, 550, 120, 30}
		}
	}
	if p.Province == "" {
		p.Province = "37"
	}
	if p.Cities <= 0 {
		p.Cities = 16
	}
	if p.CountiesPerCity <= 0 {
		p.CountiesPerCity = 9
	}
	if p.MovedPermille == 0 {
		p.MovedPermille = 20
	}
	if p.DeregisteredPermille == 0 {
		p.DeregisteredPermille = 50
	}
}

// Counties returns the province's county division codes.
func (p *Province) Counties() [][6]byte {
	p.defaults()
	var out [][6]byte
	for c := 1; c <= p.Cities; c++ {
		for k := 1; k <= p.CountiesPerCity; k++ {
			var d [6]byte
			copy(d[:], fmt.Sprintf("%s%02d%02d", p.Province, c, k))
			out = append(out, d)
		}
	}
	return out
}

// bodySpace is 31^8, the number of 8-character organisation-code bodies.
const bodySpace = 852_891_037_441

// USCC returns the i-th synthetic code of the province in the given
// division: valid check characters, distinct for distinct i < 31^8.
func USCC(i uint64, entityType byte, division [6]byte) uscc.Code {
	var c uscc.Code
	c[0], c[1] = '9', entityType
	copy(c[2:8], division[:])
	// an affine bijection of [0, 31^8) spreads consecutive i
	x := (i*735_898_091 + 12_345_678) % bodySpace
	for j := 15; j >= 8; j-- {
		c[j] = uscc.Alphabet[x%31]
		x /= 31
	}
	c[16] = uscc.OrgCheckCharacter(c[8:16])
	c[17] = uscc.CheckCharacter(c[:17])
	return c
}

// Units generates the province's units.
func (p *Province) Units() []sampler.Unit {
	p.defaults()
	rng := rand.New(rand.NewPCG(p.Seed, 0x5eed))
	counties := p.Counties()
	// cumulative tier mix
	var cum []int
	s := 0
	for _, m := range p.TierMix {
		s += m
		cum = append(cum, s)
	}
	units := make([]sampler.Unit, p.Entities)
	for i := range units {
		u := &units[i]
		// county sizes vary: a Zipf-like weight by index within the city
		ci := rng.IntN(len(counties))
		if rng.IntN(3) == 0 {
			ci -= ci % p.CountiesPerCity // the city's first district is busiest
		}
		div := counties[ci]
		et := byte('2')
		switch r := rng.IntN(100); {
		case r < 35:
			et = '1'
		case r < 40:
			et = '3'
		}
		u.USCC = USCC(uint64(i)+p.Seed*7919, et, div)
		u.Region = div
		if rng.IntN(1000) < p.MovedPermille {
			other := counties[ci-ci%p.CountiesPerCity+rng.IntN(p.CountiesPerCity)]
			u.Region = other
		}
		r := rng.IntN(s)
		for t, c := range cum {
			if r < c {
				u.Tier = tier.Tier(t)
				break
			}
		}
		u.RegisteredAt = p.AsOf - int64(rng.IntN(20*365*86400)) - 1
		if rng.IntN(1000) < p.FuturePermille {
			u.RegisteredAt = p.AsOf + int64(rng.IntN(86400*30)) + 1
		}
		if rng.IntN(1000) < p.DeregisteredPermille {
			u.DeregisteredAt = u.RegisteredAt + (p.AsOf-u.RegisteredAt)/2
		}
		if rng.IntN(1000) < p.InspectedPermille {
			n := 1 + rng.IntN(2)
			for j := range n {
				u.Inspections = append(u.Inspections, sampler.Inspection{
					At:     p.AsOf - int64(j+1)*int64(rng.IntN(300*86400)+86400),
					PlanID: fmt.Sprintf("plan-%d", rng.IntN(3)),
				})
			}
		}
	}
	return units
}

// Pool returns n inspectors spread over the province's counties in
// proportion to the given units (each covers its county; one in twenty
// covers its whole city), every tenth also working for department "食品".
func (p *Province) Pool(n int, units []sampler.Unit) []draw.Inspector {
	p.defaults()
	counties := p.Counties()
	weight := map[[6]byte]int{}
	for i := range units {
		weight[units[i].Region]++
	}
	total := len(units)
	pool := make([]draw.Inspector, 0, n)
	for ci, c := range counties {
		share := 1
		if total > 0 {
			share = max(1, n*weight[c]/total)
		}
		for j := 0; j < share && len(pool) < n; j++ {
			in := draw.Inspector{ID: fmt.Sprintf("%s-%04d", c[:], j)}
			in.Regions = []string{string(c[:])}
			if j%20 == 19 {
				in.Regions = []string{string(c[:4])}
			}
			in.Departments = []string{"市场监管"}
			if j%10 == 3 {
				in.Departments = append(in.Departments, "食品")
			}
			pool = append(pool, in)
		}
		_ = ci
	}
	for i := 0; len(pool) < n; i++ {
		c := counties[i%len(counties)]
		pool = append(pool, draw.Inspector{ID: fmt.Sprintf("%s-x%04d", c[:], i), Regions: []string{string(c[:])}, Departments: []string{"市场监管"}})
	}
	return pool
}
