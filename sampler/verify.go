package sampler

// The verifier re-derives a published draw from its record and population
// lines only, as any third party would (spec "Verification"). It shares no
// code with the selection path: it streams the lines once, checks each
// selected entity's priority and each stratum's threshold (every entity not
// selected must have a larger priority than every selected one of its
// stratum, which with the counts is "the n_t smallest"), and replays the
// inspector assignment with a plain loop. It reports the first difference.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// VerifyError is the first difference between a record and what its
// population lines and the spec give.
type VerifyError struct {
	// Field names the record member or population line, e.g.
	// "strata.B.n", "selected[3].inspectors", "population line 17".
	Field string
	// Entity is the USCC concerned, if any.
	Entity string
	// Msg says what differs.
	Msg string
}

func (e *VerifyError) Error() string {
	if e.Entity != "" {
		return fmt.Sprintf("%s (%s): %s", e.Field, e.Entity, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

func verr(field, entity, format string, args ...any) *VerifyError {
	return &VerifyError{Field: field, Entity: entity, Msg: fmt.Sprintf(format, args...)}
}

// VerifySummary describes a record that verified.
type VerifySummary struct {
	DrawID   string
	Eligible int64
	Selected int
	Lines    int64
}

// Verify checks rec against its population lines and returns nil error
// when everything the spec defines is reproduced exactly: the commitment,
// the digest, every N_t and n_t and pi, each stratum's sample being its
// n_t smallest priorities, and every inspector assignment; and finally that
// the draw id matches the record's content (draw.Record.ComputeID),
// which catches changes to members nothing else can recompute (exclusion
// settings, warnings, a selected entity's region). Any difference is a
// *VerifyError naming the first field or entity that differs.
func Verify(ctx context.Context, rec *draw.Record, population io.Reader) (*VerifySummary, error) {
	req := &rec.Request
	if err := req.Validate(); err != nil {
		return nil, verr("request", "", "%v", err)
	}
	scheme := rec.Scheme
	if scheme == nil {
		return nil, verr("tier_scheme", "", "missing")
	}
	vals, err := req.Allocation.Resolve(scheme)
	if err != nil {
		return nil, verr("request", "", "%v", err)
	}
	if len(rec.Strata) != scheme.Len() {
		return nil, verr("strata", "", "has %d strata, scheme %s has %d tiers", len(rec.Strata), scheme.ID, scheme.Len())
	}
	seed := req.SeedBytes()
	if req.SeedCommitment != "" {
		if got := hex.EncodeToString(sha256Sum(seed)); got != req.SeedCommitment {
			return nil, verr("request.seed_commitment", "", "is %s but SHA-256 of the seed is %s", req.SeedCommitment, got)
		}
	}
	k := sha256.Sum256(append([]byte("draw/v1\x00"), seed...))

	// the record's selection, per entity, and in USCC order for a merge
	// walk along the sorted population lines
	type selInfo struct {
		idx      int
		seen     bool
		lineTier tier.Tier
		prio     [32]byte
	}
	sel := make(map[uscc.Code]*selInfo, len(rec.Selected))
	var maxSel = make([][32]byte, scheme.Len()) // largest selected priority per stratum
	var hasSel = make([]bool, scheme.Len())
	byCode := make([]*selInfo, 0, len(rec.Selected))
	for i := range rec.Selected {
		s := &rec.Selected[i]
		if o, dup := sel[s.USCC]; dup {
			return nil, verr(fmt.Sprintf("selected[%d]", i), s.USCC.String(), "listed twice (also selected[%d])", o.idx)
		}
		if int(s.Tier) >= scheme.Len() {
			return nil, verr(fmt.Sprintf("selected[%d].tier", i), s.USCC.String(), "tier %d is not in scheme %s", s.Tier, scheme.ID)
		}
		si := &selInfo{idx: i}
		sel[s.USCC] = si
		byCode = append(byCode, si)
		if !hasSel[s.Tier] || bytes.Compare(s.Priority[:], maxSel[s.Tier][:]) > 0 {
			maxSel[s.Tier], hasSel[s.Tier] = s.Priority, true
		}
	}
	slices.SortFunc(byCode, func(a, b *selInfo) int {
		return bytes.Compare(rec.Selected[a.idx].USCC[:], rec.Selected[b.idx].USCC[:])
	})
	labels := make(map[string]tier.Tier, scheme.Len())
	for t, l := range scheme.Labels {
		labels[l] = tier.Tier(t)
	}

	// stream the population lines: read in large chunks, hash each chunk's
	// complete lines at once, check line by line without allocating
	digest := sha256.New()
	N := make([]int64, scheme.Len())
	var (
		lineNo   int64
		prev     uscc.Code
		hbuf     [50]byte
		firstBad *VerifyError // first entity-level difference found while streaming
		next     int          // next entry of byCode
		carry    int
		eof      bool
	)
	copy(hbuf[:32], k[:])
	buf := make([]byte, 1<<20)
	for !eof || carry > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := 0
		if !eof {
			var rerr error
			n, rerr = io.ReadFull(population, buf[carry:])
			switch {
			case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
				eof = true
			case rerr != nil:
				return nil, verr(fmt.Sprintf("population line %d", lineNo+1), "", "read: %v", rerr)
			}
		}
		data := buf[:carry+n]
		end := bytes.LastIndexByte(data, '\n') + 1
		if end == 0 {
			if !eof {
				return nil, verr(fmt.Sprintf("population line %d", lineNo+1), "", "line too long")
			}
			if len(data) > 0 {
				return nil, verr(fmt.Sprintf("population line %d", lineNo+1), "", "does not end with a newline")
			}
			break
		}
		digest.Write(data[:end])
		for rest := data[:end]; len(rest) > 0; {
			nl := bytes.IndexByte(rest, '\n')
			line := rest[:nl+1]
			rest = rest[nl+1:]
			lineNo++
			c, t, ferr := parsePopulationLine(line, labels, scheme)
			if ferr != nil {
				ferr.Field = fmt.Sprintf("population line %d", lineNo)
				return nil, ferr
			}
			if lineNo > 1 && bytes.Compare(c[:], prev[:]) <= 0 {
				return nil, verr(fmt.Sprintf("population line %d", lineNo), c.String(), "not after %s: lines must be sorted by USCC without repeats", prev)
			}
			prev = c
			if !matchCode(req.Population.RegistrationAuthorities, c[0]) {
				return nil, verr(fmt.Sprintf("population line %d", lineNo), c.String(), "registration authority %q is outside the request's population filter", c[0])
			}
			if !matchCode(req.Population.EntityTypes, c[1]) {
				return nil, verr(fmt.Sprintf("population line %d", lineNo), c.String(), "entity type %q is outside the request's population filter", c[1])
			}
			N[t]++
			copy(hbuf[32:], c[:])
			h := sha256.Sum256(hbuf[:])
			for next < len(byCode) && bytes.Compare(rec.Selected[byCode[next].idx].USCC[:], c[:]) < 0 {
				next++ // a selected entity that is not in the population (reported below)
			}
			if next < len(byCode) && rec.Selected[byCode[next].idx].USCC == c {
				si := byCode[next]
				si.seen, si.lineTier, si.prio = true, t, h
				next++
			} else if firstBad == nil && hasSel[t] && bytes.Compare(h[:], maxSel[t][:]) < 0 {
				firstBad = verr("selected", c.String(), "not selected, but its priority %x is below that of selected entities of stratum %s (up to %x): it is among the n smallest",
					h, scheme.Labels[t], maxSel[t])
			}
		}
		carry = copy(buf, data[end:])
	}
	if got := digest.Sum(nil); !bytes.Equal(got, rec.PopulationDigest[:]) {
		msg := fmt.Sprintf("the %d population lines hash to %x, the record says %x", lineNo, got, rec.PopulationDigest)
		for t, s := range rec.Strata {
			if t < len(N) && s.N != N[t] {
				msg += fmt.Sprintf("; the lines have %d of tier %s, strata.%s.N is %d", N[t], s.Label, s.Label, s.N)
			}
		}
		if firstBad != nil {
			msg += "; first inconsistent entity: " + firstBad.Entity + ": " + firstBad.Msg
		}
		return nil, verr("population_digest", "", "%s", msg)
	}
	for t, s := range rec.Strata {
		if s.Label != scheme.Labels[t] {
			return nil, verr("strata", "", "stratum %d is %q, scheme %s has %q", t, s.Label, scheme.ID, scheme.Labels[t])
		}
		if s.N != N[t] {
			return nil, verr("strata."+s.Label+".N", "", "is %d, the population has %d lines of tier %s", s.N, N[t], s.Label)
		}
	}
	n := verifySampleSizes(&req.Allocation, vals, N)
	var total int64
	for t, s := range rec.Strata {
		if s.Sample != n[t] {
			return nil, verr("strata."+s.Label+".n", "", "is %d, the allocation gives %d for N = %d", s.Sample, n[t], N[t])
		}
		if want := draw.PiString(n[t], N[t]); s.Pi != want {
			return nil, verr("strata."+s.Label+".pi", "", "is %q, n/N = %d/%d gives %q", s.Pi, n[t], N[t], want)
		}
		total += n[t]
	}
	// the selected list, in its order
	perTier := make([]int64, scheme.Len())
	for i := range rec.Selected {
		s := &rec.Selected[i]
		field := fmt.Sprintf("selected[%d]", i)
		si := sel[s.USCC]
		if !si.seen {
			return nil, verr(field+".uscc", s.USCC.String(), "not in the population")
		}
		if si.lineTier != s.Tier {
			return nil, verr(field+".tier", s.USCC.String(), "is %s, the population line says %s", scheme.Labels[s.Tier], scheme.Labels[si.lineTier])
		}
		if si.prio != s.Priority {
			return nil, verr(field+".priority", s.USCC.String(), "is %x, SHA-256(K || USCC) with the record's seed is %x", s.Priority, si.prio)
		}
		if i > 0 && bytes.Compare(rec.Selected[i-1].Priority[:], s.Priority[:]) >= 0 {
			return nil, verr(field+".priority", s.USCC.String(), "not above selected[%d]'s: the list must be in ascending priority order", i-1)
		}
		if p := req.Population.RegionPrefix; string(s.Region[:len(p)]) != p {
			return nil, verr(field+".region", s.USCC.String(), "%s is outside the request's region_prefix %q", s.Region[:], p)
		}
		perTier[s.Tier]++
	}
	for t, s := range rec.Strata {
		if perTier[t] != s.Sample {
			return nil, verr("selected", "", "lists %d entities of stratum %s, n is %d", perTier[t], s.Label, s.Sample)
		}
	}
	if firstBad != nil {
		return nil, firstBad
	}
	if err := verifyAssignment(rec, total, seed); err != nil {
		return nil, err
	}
	if pre := draw.IDPrefix(req.PlanID, req.AsOf) + "-"; !strings.HasPrefix(rec.DrawID, pre) {
		return nil, verr("draw_id", "", "%q does not start with %q, which request.plan_id and request.as_of give", rec.DrawID, pre)
	}
	if want := rec.ComputeID(); rec.DrawID != want {
		return nil, verr("draw_id", "", "is %q but the record's content gives %q: the record was changed after the draw "+
			"(in a member the checks above cannot recompute, e.g. request.exclude_selected_within_days, request.max_inspections_per_year, "+
			"request.population.region_prefix, warnings, or a selected entity's region)", rec.DrawID, want)
	}
	return &VerifySummary{DrawID: rec.DrawID, Eligible: sumInts(N), Selected: len(rec.Selected), Lines: lineNo}, nil
}

// parsePopulationLine reads "USCC,TIER\n" without allocating (except to
// describe an error).
func parsePopulationLine(line []byte, labels map[string]tier.Tier, scheme *tier.Scheme) (uscc.Code, tier.Tier, *VerifyError) {
	var c uscc.Code
	if len(line) < 21 || line[18] != ',' {
		return c, 0, &VerifyError{Msg: fmt.Sprintf("%q is not USCC,TIER", bytes.TrimSuffix(line, []byte("\n")))}
	}
	copy(c[:], line[:18])
	var bad byte
	for i, b := range c {
		bad |= usccVal[b]
		if i >= 2 && i < 8 && (b < '0' || b > '9') {
			bad = 0xff
		}
	}
	if bad&0x80 != 0 {
		_, err := uscc.ParseFormat(string(c[:]))
		if err == nil {
			err = errors.New("lowercase")
		}
		return c, 0, &VerifyError{Entity: string(c[:]), Msg: fmt.Sprintf("not an uppercase unified social credit code: %v", err)}
	}
	t, ok := labels[string(line[19:len(line)-1])]
	if !ok {
		_, err := scheme.Parse(string(line[19 : len(line)-1]))
		return c, 0, &VerifyError{Entity: c.String(), Msg: err.Error()}
	}
	return c, t, nil
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func sumInts(a []int64) (s int64) {
	for _, v := range a {
		s += v
	}
	return s
}

func matchCode(list []string, b byte) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if s[0] == b {
			return true
		}
	}
	return false
}

// verifySampleSizes recomputes n_t; the ratio rule is restated here, the
// budget rule (which needs exact fractions) is shared with the sampler and
// cross-checked against the independent Python reference in the tests.
func verifySampleSizes(a *draw.Allocation, vals, N []int64) []int64 {
	if a.IsBudget() {
		return budgetSizes(a.Budget, vals, N)
	}
	n := make([]int64, len(N))
	for t := range N {
		x := (vals[t]*N[t] + 500_000) / 1_000_000
		if x > N[t] {
			x = N[t]
		}
		n[t] = x
	}
	return n
}

// verifyAssignment replays the assignment rule literally: for each
// selected entity in order, every inspector that could serve it is tested
// (department, region, conflict, load), the eligible ones are ranked by g,
// the first k taken.
func verifyAssignment(rec *draw.Record, total int64, seed []byte) error {
	req := &rec.Request
	pool := req.Inspectors.Pool
	k := req.Inspectors.PerEntity
	limit := req.Inspectors.MaxLoad
	if limit == 0 {
		limit = (int64(k)*total + int64(len(pool)) - 1) / int64(len(pool))
	}
	k2 := sha256.Sum256(append([]byte("assign/v1\x00"), seed...))
	index := make(map[string]int, len(pool))
	for j := range pool {
		index[pool[j].ID] = j
	}
	conflict := map[uscc.Code][]int{}
	for _, c := range req.Conflicts {
		conflict[c.USCC] = append(conflict[c.USCC], index[c.Inspector])
	}
	deptOK := make([]bool, len(pool))
	deptCount := 0
	for j := range pool {
		deptOK[j] = pool[j].ServesDepartment(req.Department)
		if deptOK[j] {
			deptCount++
		}
	}
	// inspectors by the regions they list, so that each entity only tests
	// the inspectors that can cover it (plus those covering everywhere)
	everywhere := []int{}
	byRegion := map[string][]int{}
	for j := range pool {
		if len(pool[j].Regions) == 0 {
			everywhere = append(everywhere, j)
		}
		for _, r := range pool[j].Regions {
			byRegion[r] = append(byRegion[r], j)
		}
	}
	load := make([]int64, len(pool))
	tested := make([]int, len(pool)) // entity index+1 that last tested the inspector
	type rankedID struct {
		g [32]byte
		j int
	}
	var (
		eligible []rankedID
		msg      []byte
		want     []string
	)
	for i := range rec.Selected {
		s := &rec.Selected[i]
		field := fmt.Sprintf("selected[%d]", i)
		eligible = eligible[:0]
		covering, conflicted, atCap := 0, 0, 0
		test := func(j int) {
			if tested[j] == i+1 {
				return
			}
			tested[j] = i + 1
			in := &pool[j]
			if !deptOK[j] || !in.Covers(s.Region) {
				return
			}
			covering++
			if slices.Contains(conflict[s.USCC], j) {
				conflicted++
				return
			}
			if load[j] >= limit {
				atCap++
				return
			}
			msg = append(append(append(append(msg[:0], k2[:]...), s.USCC[:]...), 0), in.ID...)
			eligible = append(eligible, rankedID{sha256.Sum256(msg), j})
		}
		for _, j := range everywhere {
			test(j)
		}
		for l := 1; l <= 6; l++ {
			for _, j := range byRegion[string(s.Region[:l])] {
				test(j)
			}
		}
		slices.SortFunc(eligible, func(a, b rankedID) int { return bytes.Compare(a.g[:], b.g[:]) })
		want = want[:0]
		for _, e := range eligible[:min(k, len(eligible))] {
			want = append(want, pool[e.j].ID)
			load[e.j]++
		}
		if !slices.Equal(s.Inspectors, want) {
			return verr(field+".inspectors", s.USCC.String(), "are %q, the assignment rule gives %q", s.Inspectors, want)
		}
		wantUn, wantReason := k-len(want), ""
		if wantUn > 0 {
			wantReason = unassignedReason(len(want), k, covering, deptCount, req.Department, s.Region, conflicted, atCap, limit)
		}
		if s.Unassigned != wantUn {
			return verr(field+".unassigned", s.USCC.String(), "is %d, the assignment rule leaves %d of %d unassigned", s.Unassigned, wantUn, k)
		}
		if s.Reason != wantReason {
			return verr(field+".reason", s.USCC.String(), "is %q, want %q", s.Reason, wantReason)
		}
	}
	return nil
}
