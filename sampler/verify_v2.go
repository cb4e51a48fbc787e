package sampler

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
)

// VerifyV2Summary describes a v2 record that verified, and which checks
// its edition allowed (spec "Verification, item by item").
type VerifyV2Summary struct {
	DrawID     string
	Edition    string
	Eligible   int64
	Selected   int
	Amendments int
	// Checks are the checks made, in order; Skipped those the edition does
	// not allow (they need the tiers and the blinding key).
	Checks, Skipped []string
}

// VerifyV2 verifies a draw/v2 record of either edition (its bytes) against
// its population file and, when amendments is not nil, its amendments
// document. The public edition gets every check that needs no tier; the
// regulatory edition also gets the key commitment, each line's tier, the
// strata and the selection itself. The first difference is a *VerifyError.
func VerifyV2(ctx context.Context, record []byte, population io.Reader, amendments []byte) (*VerifyV2Summary, error) {
	rec, err := draw.ParseV2(record)
	if err != nil {
		return nil, verr("record", "", "%v", err)
	}
	req := rec.Request
	reg := rec.Edition == report.EditionRegulatory
	sum := &VerifyV2Summary{DrawID: rec.DrawID, Edition: rec.Edition}
	check := func(name string) { sum.Checks = append(sum.Checks, name) }
	scheme, err := tier.LookupScheme(rec.TierScheme)
	if err != nil {
		return nil, verr("tier_scheme", "", "%v", err)
	}
	vals, err := req.Allocation.Resolve(scheme)
	if err != nil {
		return nil, verr("request.allocation", "", "%v", err)
	}
	if vals[0] == 0 && !(req.ExemptLowestTier && draw.SchemeExempts(scheme)) {
		return nil, verr("request.allocation", "", "tier %s has rate 0 without an exemption the scheme permits", scheme.Labels[0])
	}
	if req.Inspectors.PerEntity < draw.DefaultPerEntity {
		return nil, verr("request.inspectors.per_entity", "", "is %d; at least 2 (行政处罚法 Art. 42)", req.Inspectors.PerEntity)
	}

	// draw id over the public bytes
	pub, err := draw.PublicBytes(record)
	if err != nil {
		return nil, verr("record", "", "%v", err)
	}
	id, err := draw.V2ID(pub, req.PlanID, req.AsOf)
	if err != nil || id != rec.DrawID {
		return nil, verr("draw_id", "", "is %q, the public edition's content gives %q", rec.DrawID, id)
	}
	check("draw_id binds the public edition")

	// seed commitment
	seed := req.SeedBytes()
	if draw.SeedDigest(seed) != req.SeedCommitment {
		return nil, verr("request.seed_commitment", "", "is not SHA-256 of the seed")
	}
	committed, _ := time.Parse(time.RFC3339Nano, rec.CommittedAt)
	if committed.After(req.AsOf) {
		return nil, verr("seed_committed_at", "", "%s is after as_of %s", rec.CommittedAt, req.AsOf.Format(time.RFC3339))
	}
	check("seed matches its commitment, registered before as_of (compare with the plan's listing)")

	var blind [32]byte
	if reg {
		b, _ := hex.DecodeString(rec.BlindKey)
		copy(blind[:], b)
		if draw.KeyCommitment(blind) != rec.KeyCommitment {
			return nil, verr("blind_key", "", "does not match key_commitment")
		}
		check("blinding key matches key_commitment")
	} else {
		sum.Skipped = append(sum.Skipped, "blinding key", "tiers of the population", "strata sizes from the tiers", "selection (smallest priorities per stratum)")
	}

	// selected entities, in the service order
	selIdx := make(map[uscc.Code]int, len(rec.Selected))
	ka := assignKeyV2(seed)
	var prevS0 [32]byte
	for i := range rec.Selected {
		s := &rec.Selected[i]
		f := fmt.Sprintf("selected[%d]", i)
		c, err := uscc.ParseFormat(s.USCC)
		if err != nil || c.String() != s.USCC {
			return nil, verr(f+".uscc", s.USCC, "not an uppercase unified social credit code")
		}
		if len(s.Region) != 6 || !regionDigits((*[6]byte)([]byte(s.Region))) {
			return nil, verr(f+".region", s.USCC, "%q is not a 6-digit division code", s.Region)
		}
		if _, dup := selIdx[c]; dup {
			return nil, verr(f, s.USCC, "selected twice")
		}
		selIdx[c] = i
		s0 := streamBlock(&ka, &c, 0)
		if i > 0 && bytes.Compare(s0[:], prevS0[:]) <= 0 {
			return nil, verr(f, s.USCC, "out of the service order (ascending S_0)")
		}
		prevS0 = s0
	}
	check("selected entities in the service order")

	// population file
	labels := scheme.Labels
	var (
		Nt      = make([]int64, len(labels))
		found   = make([]bool, len(rec.Selected))
		lines   int64
		prev    []byte
		mask    [32]byte
		heaps   []*bottomN
		nt      []int64
		ks      [32]byte
		buf     [50]byte
		tierOf  = make([]tier.Tier, len(rec.Selected))
		strataN map[string]draw.V2Stratum
	)
	if reg {
		strataN = rec.TierStrata
		nt = make([]int64, len(labels))
		for t, l := range labels {
			nt[t] = strataN[l].N2
			heaps = append(heaps, &bottomN{n: int(nt[t])})
		}
		ks = selectKeyV2(blind, seed)
		copy(buf[:32], ks[:])
	}
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(population, h), 64<<10) // the digest covers every byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, verr("population", "", "%v", err)
		}
		lines++
		if lines%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if len(line) != 22 || line[18] != ',' || line[21] != '\n' {
			return nil, verr(lineField(lines), "", "%q is not USCC,XX", bytes.TrimSuffix(line, []byte("\n")))
		}
		var c uscc.Code
		copy(c[:], line[:18])
		if !lineUSCC(&c) {
			return nil, verr(lineField(lines), string(line[:18]), "not an uppercase unified social credit code")
		}
		if prev != nil && bytes.Compare(prev, line[:18]) >= 0 {
			return nil, verr(lineField(lines), c.String(), "not after the previous line (lines are sorted by USCC, without duplicates)")
		}
		prev = append(prev[:0], line[:18]...)
		var x [1]byte
		if _, err := hex.Decode(x[:], line[19:21]); err != nil || line[19] >= 'A' && line[19] <= 'F' || line[20] >= 'A' && line[20] <= 'F' {
			return nil, verr(lineField(lines), c.String(), "%q is not two lowercase hex digits", line[19:21])
		}
		i, sel := selIdx[c]
		if sel {
			found[i] = true
		}
		if !reg {
			continue
		}
		idx := lines - 1
		if idx%32 == 0 {
			mask = maskBlock(&blind, uint64(idx/32))
		}
		t := int(x[0] ^ mask[idx%32])
		if t >= len(labels) {
			return nil, verr(lineField(lines), c.String(), "decodes to tier index %d, outside scheme %s", t, scheme.ID)
		}
		Nt[t]++
		if sel {
			tierOf[i] = tier.Tier(t)
		}
		var p [4]uint64
		priority(&buf, &c, &p)
		if hp := heaps[t]; hp.n > 0 && hp.wants(&p) {
			hp.add(&cand{prio: p, uscc: c, tier: tier.Tier(t)})
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != rec.PopulationDigest {
		return nil, verr("population_digest", "", "is %s, the population file's SHA-256 is %s", rec.PopulationDigest, got)
	}
	check("population file: sorted, well formed, digest")
	if lines != rec.PopulationSize {
		return nil, verr("population_size", "", "is %d, the file has %d lines", rec.PopulationSize, lines)
	}
	if int64(len(rec.Selected)) != rec.SampleSize {
		return nil, verr("sample_size", "", "is %d, %d entities are selected", rec.SampleSize, len(rec.Selected))
	}
	for i, ok := range found {
		if !ok {
			return nil, verr(fmt.Sprintf("selected[%d]", i), rec.Selected[i].USCC, "is not in the committed population")
		}
	}
	check("every selected entity is in the committed population")

	// strata
	checkStrata := func(name string, st map[string]draw.V2Stratum, N []int64) error {
		if len(st) != len(labels) {
			return verr(name, "", "has %d tiers, scheme %s has %d", len(st), scheme.ID, len(labels))
		}
		if N == nil {
			N = make([]int64, len(labels))
			for t, l := range labels {
				N[t] = st[l].N
			}
		}
		n, _ := SampleSizesV2(&req.Allocation, vals, N, scheme)
		var sN, sn int64
		for t, l := range labels {
			s, ok := st[l]
			if !ok || s.N != N[t] || s.N2 != n[t] || s.Pi != draw.PiString(n[t], N[t]) {
				return verr(name+"."+l, "", "is %+v, want N %d n %d pi %s", s, N[t], n[t], draw.PiString(n[t], N[t]))
			}
			sN += N[t]
			sn += n[t]
		}
		if sN != rec.PopulationSize || sn != rec.SampleSize {
			return verr(name, "", "totals N %d n %d, record says %d and %d", sN, sn, rec.PopulationSize, rec.SampleSize)
		}
		return nil
	}
	if rec.Strata != nil {
		if err := checkStrata("strata", rec.Strata, nil); err != nil {
			return nil, err
		}
		check("per-stratum totals add up and follow the allocation")
	} else if !reg {
		sum.Skipped = append(sum.Skipped, "per-stratum totals (suppressed: small or targeted population)")
	}
	if reg {
		if err := checkStrata("tier_strata", rec.TierStrata, Nt); err != nil {
			return nil, err
		}
		want := draw.PublicStrata(&req.Population, rec.TierStrata, nil)
		if (want == nil) != (rec.Strata == nil) {
			return nil, verr("strata", "", "suppression does not follow the rule (include list or 0 < N_t < %d)", draw.MinPublicStratum)
		}
		check("tier of every population line (decoded with the key); N_t, n_t from the tiers")
		// selection
		inSel := map[uscc.Code]tier.Tier{}
		for t, hp := range heaps {
			if int64(len(hp.h)) != nt[t] {
				return nil, verr("tier_strata."+labels[t], "", "stratum has fewer entities than n")
			}
			for _, c := range hp.h {
				inSel[c.uscc] = tier.Tier(t)
			}
		}
		for i := range rec.Selected {
			s, tr := &rec.Selected[i], &rec.Tiers[i]
			c := uscc.Code([]byte(s.USCC))
			t, ok := inSel[c]
			if !ok {
				return nil, verr(fmt.Sprintf("selected[%d]", i), s.USCC, "is not among the n_t smallest priorities of its stratum")
			}
			if tr.USCC != s.USCC || tr.Tier != labels[t] || t != tierOf[i] {
				return nil, verr(fmt.Sprintf("tiers[%d]", i), s.USCC, "is %s/%s, the population gives tier %s", tr.USCC, tr.Tier, labels[t])
			}
			copy(buf[32:], c[:])
			ph := sha256.Sum256(buf[:])
			if tr.Priority != hex.EncodeToString(ph[:]) {
				return nil, verr(fmt.Sprintf("tiers[%d].priority", i), s.USCC, "is not SHA-256(KS || USCC)")
			}
		}
		if len(inSel) != len(rec.Selected) {
			return nil, verr("selected", "", "has %d entities, the strata's smallest priorities are %d", len(rec.Selected), len(inSel))
		}
		check("selection: each stratum's n_t smallest priorities")
	}

	// assignment
	if err := verifyAssignmentV2(ctx, rec); err != nil {
		return nil, err
	}
	check("inspector assignment and unassigned entities")
	if amendments != nil {
		doc, err := draw.ParseAmendments(amendments)
		if err != nil {
			return nil, verr("amendments", "", "%v", err)
		}
		if doc.DrawID != rec.DrawID {
			return nil, verr("amendments.draw_id", "", "is %q, not this draw", doc.DrawID)
		}
		st, err := newAmendState(rec)
		if err != nil {
			return nil, verr("selected", "", "%v", err)
		}
		for i, a := range doc.Amendments {
			got, err := st.apply(a.USCC, a.Recused)
			if err != nil {
				return nil, verr(fmt.Sprintf("amendments[%d]", i), a.USCC, "%v", err)
			}
			if got != a.Replacement {
				return nil, verr(fmt.Sprintf("amendments[%d].replacement", i), a.USCC, "is %q, the entity's permutation gives %q", a.Replacement, got)
			}
		}
		sum.Amendments = len(doc.Amendments)
		check("recusal amendments: id chain and replacements")
	}
	sum.Eligible, sum.Selected = rec.PopulationSize, len(rec.Selected)
	return sum, nil
}

// verifyAssignmentV2 replays the permutation walk of every selected
// entity in the record's order.
func verifyAssignmentV2(ctx context.Context, rec *draw.V2) error {
	req := rec.Request
	for i := 1; i < len(rec.RegisterConflicts); i++ {
		a, b := rec.RegisterConflicts[i-1], rec.RegisterConflicts[i]
		if a.USCC > b.USCC || a.USCC == b.USCC && a.Inspector >= b.Inspector {
			return verr(fmt.Sprintf("register_conflicts[%d]", i), b.USCC, "not sorted by USCC, then inspector")
		}
	}
	a := newPermAssigner(req, rec.RegisterConflicts)
	k, cap := req.Inspectors.PerEntity, loadCap(req, len(rec.Selected))
	for i := range rec.Selected {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s := &rec.Selected[i]
		c := uscc.Code([]byte(s.USCC))
		var region [6]byte
		copy(region[:], s.Region)
		w := a.newWalk(c, region, nil)
		res := w.run(k, cap, nil)
		ids := make([]string, len(res.chosen))
		for j, x := range res.chosen {
			ids[j] = req.Inspectors.Pool[x].ID
		}
		f := fmt.Sprintf("selected[%d]", i)
		if !slices.Equal(ids, s.Inspectors) {
			return verr(f+".inspectors", s.USCC, "are %q, the permutation walk gives %q", s.Inspectors, ids)
		}
		wantU, wantR := 0, ""
		if len(ids) < k {
			wantU = k - len(ids)
			wantR = unassignedReason(len(ids), k, len(w.c), a.base.deptCount, a.base.dept, region, res.conflicted, res.atCap, cap)
		}
		if s.Unassigned != wantU || s.Reason != wantR {
			return verr(f+".unassigned", s.USCC, "is %d %q, want %d %q", s.Unassigned, s.Reason, wantU, wantR)
		}
	}
	return nil
}

// lineField names population line n (1-based) in an error.
func lineField(n int64) string { return fmt.Sprintf("population line %d", n) }

// lineUSCC checks a population line's code: the USCC alphabet, uppercase,
// digits in the division code (positions 3–8).
func lineUSCC(c *uscc.Code) bool {
	var bad byte
	for i, b := range c {
		bad |= usccVal[b]
		if i >= 2 && i < 8 && (b < '0' || b > '9') {
			bad = 0xff
		}
	}
	return bad&0x80 == 0
}
