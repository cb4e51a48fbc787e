package sampler

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

// Options configure draws. The zero value is usable after EnsureDefaults.
type Options struct {
	// Scheme is the tier scheme of the units' tiers when the Source does
	// not name one (SchemeSource). Default tier.National4.
	Scheme *tier.Scheme
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
	// passes (the slow path; the single pass cannot disagree with itself)
	// when the Source yields a different population in the two passes
	// before failing with ErrPopulationChanged. Default 3.
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
	// MaxRankHashes bounds a draw's dominant, request-driven cost: the
	// inspector rank hashes g, Σ n_t × the most inspectors that could serve
	// one entity (the department's inspectors without regions plus those
	// listing the prefixes of one division code). A draw above it fails
	// with ErrTooLarge after one scan of the Source (the counting pass, or
	// the single pass, whose kept candidates are bounded by
	// MaxAssignments), before assignment or any allocation that grows
	// with the sample. Default DefaultMaxRankHashes.
	MaxRankHashes int64
	// MaxAssignments bounds Σ n_t × per_entity, the inspector slots of the
	// record (its memory: about 50 bytes each while drawing). Above it a
	// draw fails with ErrTooLarge at the same point. Default
	// DefaultMaxAssignments.
	MaxAssignments int64
	// Arena, when set, keeps a draw's working memory for the next draw
	// (no page faults for memory the last draw already touched). A
	// Sampler sets its own. Default nil: every draw allocates afresh.
	Arena *Arena
}

// Default work limits. Rank hashes run at about 10.5M/s on the project's
// two-core VM (bench/RESULTS.md: 19.6M in 1.87 s), so DefaultMaxRankHashes
// is about 50 s of assignment; the benchmark province's draw (253k
// selected from 14M with county and city pools of 5,000 inspectors) needs
// under 10^8, while the same draw over one flat pool (1.3·10^9, minutes)
// is refused. DefaultMaxAssignments allows a sample of five million
// entities with two inspectors each.
const (
	DefaultMaxRankHashes  = 500_000_000
	DefaultMaxAssignments = 10_000_000
)

// ErrTooLarge: the draw's work exceeds Options.MaxRankHashes or
// Options.MaxAssignments. Nothing was selected, assigned or stored.
var ErrTooLarge = errors.New("sampler: draw too large")

// checkWork refuses a draw whose sample sizes nt, with up to perEntity
// candidate inspectors to rank and k to assign per selected entity, exceed
// the Options' limits. Products are computed so that they cannot overflow:
// Σ n_t ≤ 16 × 2^40 and the factors are at most draw.MaxPoolSize.
func checkWork(nt []int64, perEntity, k int64, o *Options) error {
	var n int64
	for _, v := range nt {
		n += v
	}
	if n > 0 && perEntity > o.MaxRankHashes/n {
		return fmt.Errorf("%w: %d selected entities × up to %d candidate inspectors each is more inspector rankings than this service's limit of %d; draw fewer entities per request (by region or tier) or name a department or regions to narrow the pool",
			ErrTooLarge, n, perEntity, o.MaxRankHashes)
	}
	if n > 0 && k > o.MaxAssignments/n {
		return fmt.Errorf("%w: %d selected entities × per_entity %d is more inspector assignments than this service's limit of %d; draw fewer entities per request",
			ErrTooLarge, n, k, o.MaxAssignments)
	}
	return nil
}

// EnsureDefaults fills unset fields with their documented defaults.
func (o *Options) EnsureDefaults() {
	if o.Scheme == nil {
		o.Scheme = tier.National4
	}
	if o.MinPerEntity <= 0 {
		o.MinPerEntity = draw.DefaultPerEntity
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
	if o.MaxRankHashes <= 0 {
		o.MaxRankHashes = DefaultMaxRankHashes
	}
	if o.MaxAssignments <= 0 {
		o.MaxAssignments = DefaultMaxAssignments
	}
}
