package sampler

import (
	"runtime"
	"time"

	"github.com/creditrisk/creditd/models"
)

// Options configure draws. The zero value is usable after EnsureDefaults.
type Options struct {
	// Scheme is the tier scheme of the units' tiers when the Source does
	// not name one (SchemeSource). Default models.National4.
	Scheme *models.TierScheme
	// AllowZeroLowestTier lets the lowest-risk tier have ratio or weight 0
	// (Shanghai 2022: tier A may be exempt). Default false: every tier must
	// have a positive ratio or weight (Shandong 2020: 不免抽, no entity is
	// exempt from spot checks). Because ratios and weights may not fall as
	// risk rises, only the lowest tier can be the first to be 0.
	AllowZeroLowestTier bool
	// MinPerEntity is the smallest inspectors.per_entity accepted. Default
	// 2: at least two law-enforcement officers per inspection (行政处罚法
	// Art. 42). Set it to 1 only where a law provides otherwise.
	MinPerEntity int
	// Workers is the number of goroutines that scan, hash, sort and assign.
	// Default runtime.GOMAXPROCS(0).
	Workers int
	// MaxPasses is how many times a draw repeats its counting and selection
	// passes when the Source yields a different population in the two
	// passes before failing with ErrPopulationChanged. Default 3.
	MaxPasses int
	// RequireCommitment makes Sampler.Run refuse draws whose seed was not
	// committed in the Store (Store.Commit) before the draw's as_of.
	// Default false: a commitment in the request is checked against the
	// seed, and one registered in the Store is enforced, but none is needed.
	RequireCommitment bool
	// AllowSeedReuse lets Sampler.Run use a seed that an earlier stored draw
	// used. Default false: reusing a seed makes draws correlated (the same
	// entities get the same priorities), so it is refused.
	AllowSeedReuse bool
	// Now is the clock used to time-stamp commitments. Default time.Now.
	Now func() time.Time
}

// EnsureDefaults fills unset fields with their documented defaults.
func (o *Options) EnsureDefaults() {
	if o.Scheme == nil {
		o.Scheme = models.National4
	}
	if o.MinPerEntity <= 0 {
		o.MinPerEntity = models.DefaultPerEntity
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxPasses <= 0 {
		o.MaxPasses = 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
