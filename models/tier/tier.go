package tier

import "fmt"

// Tier is a risk tier as an index into its scheme's labels: 0 is the lowest
// risk (A). Tiers of different schemes must not be compared.
type Tier uint8

// None marks an entity without a tier (for example one not yet registered).
const None Tier = 0xff

// Scheme is an ordered set of risk tiers, lowest risk first.
type Scheme struct {
	// ID names the scheme in documents ("national-4", "shandong-5").
	ID string
	// Labels are the tier labels from lowest to highest risk.
	Labels []string
	// Names are the tiers' descriptions, index-aligned with Labels.
	Names []string
	// ToNational maps each tier to the national four-tier scheme, for
	// exchange with other provinces; nil for the national scheme itself.
	ToNational []Tier
}

// National4 is the national four-tier scheme of SAMR's 2022 opinion
// (国市监信发〔2022〕6号): A low, B general, C higher, D high risk.
var National4 = &Scheme{
	ID:     "national-4",
	Labels: []string{"A", "B", "C", "D"},
	Names:  []string{"信用风险低 low risk", "信用风险一般 general risk", "信用风险较高 higher risk", "信用风险高 high risk"},
}

// Shandong5 is Shandong's five-tier scheme (2020; domain.md §2.2): A lowest
// to E highest risk. Its mapping to the national scheme is explicit and
// documented (no official mapping was found, domain.md §2.2):
//
//	A → A   lowest risk stays lowest
//	B → B
//	C → B   the middle tier is "ordinary": normal inspection rate, like national B
//	D → C   raised attention
//	E → D   the tier that serious dishonesty puts an entity into directly
var Shandong5 = &Scheme{
	ID:         "shandong-5",
	Labels:     []string{"A", "B", "C", "D", "E"},
	Names:      []string{"风险低 low", "风险较低 lower", "风险一般 general", "风险较高 higher", "风险高 high"},
	ToNational: []Tier{0, 1, 1, 2, 3},
}

// Schemes lists the built-in schemes by ID.
var Schemes = map[string]*Scheme{National4.ID: National4, Shandong5.ID: Shandong5}

// LookupScheme returns the built-in scheme with the given ID.
func LookupScheme(id string) (*Scheme, error) {
	if s, ok := Schemes[id]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown tier scheme %q (known: national-4, shandong-5)", id)
}

// Len is the number of tiers.
func (s *Scheme) Len() int { return len(s.Labels) }

// Highest is the highest-risk tier.
func (s *Scheme) Highest() Tier { return Tier(len(s.Labels) - 1) }

// Label returns t's label, or "" for None or an out-of-range tier.
func (s *Scheme) Label(t Tier) string {
	if int(t) < len(s.Labels) {
		return s.Labels[t]
	}
	return ""
}

// Parse returns the tier with the given label.
func (s *Scheme) Parse(label string) (Tier, error) {
	for i, l := range s.Labels {
		if l == label {
			return Tier(i), nil
		}
	}
	return None, fmt.Errorf("tier %q is not in scheme %s (%v)", label, s.ID, s.Labels)
}

// National maps t to the national four-tier scheme.
func (s *Scheme) National(t Tier) Tier {
	if s.ToNational == nil || int(t) >= len(s.ToNational) {
		return t
	}
	return s.ToNational[t]
}

// Validate checks that the scheme is well formed: at least two tiers,
// distinct labels, names aligned, and a monotone mapping to the national
// scheme that covers its lowest and highest tiers.
func (s *Scheme) Validate() error {
	if s.ID == "" || len(s.Labels) < 2 || len(s.Labels) > 16 {
		return fmt.Errorf("tier scheme %q: needs an id and 2–16 tiers", s.ID)
	}
	seen := map[string]bool{}
	for _, l := range s.Labels {
		if l == "" || seen[l] {
			return fmt.Errorf("tier scheme %s: empty or repeated label %q", s.ID, l)
		}
		seen[l] = true
	}
	if len(s.Names) != len(s.Labels) {
		return fmt.Errorf("tier scheme %s: %d names for %d labels", s.ID, len(s.Names), len(s.Labels))
	}
	if s.ToNational != nil {
		if len(s.ToNational) != len(s.Labels) {
			return fmt.Errorf("tier scheme %s: national mapping has %d entries for %d tiers", s.ID, len(s.ToNational), len(s.Labels))
		}
		for i, t := range s.ToNational {
			if int(t) >= National4.Len() || (i > 0 && t < s.ToNational[i-1]) {
				return fmt.Errorf("tier scheme %s: national mapping must be non-decreasing within A–D", s.ID)
			}
		}
		if s.ToNational[0] != 0 || s.ToNational[len(s.ToNational)-1] != National4.Highest() {
			return fmt.Errorf("tier scheme %s: national mapping must map lowest to A and highest to D", s.ID)
		}
	}
	return nil
}
