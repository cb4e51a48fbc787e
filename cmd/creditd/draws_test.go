package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
)

func drawRequest(plan, seed string, asOf time.Time, excludeDays int) string {
	return fmt.Sprintf(`{"plan_id":%q,"as_of":%q,"population":{"region_prefix":"37"},
 "exclude_selected_within_days":%d,"max_inspections_per_year":2,
 "allocation":{"ratios":{"A":0.02,"B":0.05,"C":0.2,"D":0.5}},
 "inspectors":{"pool":[{"id":"I-1"},{"id":"I-2"},{"id":"I-3","regions":["3701"]},{"id":"I-4"}],"per_entity":2,"max_load":10000},
 "seed":%q}`, plan, asOf.UTC().Format(time.RFC3339), excludeDays, seed)
}

// commitSeed registers the seed's SHA-256 for plan and returns it.
func commitSeed(t *testing.T, s *service, plan, seed string) string {
	t.Helper()
	sb, _ := hex.DecodeString(seed)
	sum := sha256.Sum256(sb)
	commit := hex.EncodeToString(sum[:])
	if resp, b := s.do("POST", "/v1/draws/commitments", api.RoleRegulator, strings.NewReader(`{"plan_id":"`+plan+`","seed_commitment":"`+commit+`"}`)); resp.StatusCode != 201 {
		t.Fatalf("commit: %d %s", resp.StatusCode, b)
	}
	return commit
}

// nextSecond waits for the next whole second and returns it: an as_of
// after every commitment made so far.
func nextSecond() time.Time {
	asOf := time.Now().Add(time.Second).Truncate(time.Second)
	time.Sleep(time.Until(asOf) + 10*time.Millisecond)
	return asOf
}

// publicMembers is the allow-list of the public edition (spec draw/v2,
// "Editions"): nothing per entity carries a tier, a priority or a score.
var publicMembers = map[string]bool{"format": true, "edition": true, "draw_id": true, "request": true, "tier_scheme": true,
	"seed_committed_at": true, "key_commitment": true, "population_digest": true, "population_size": true, "sample_size": true,
	"strata": true, "selected": true, "register_conflicts": true, "warnings": true}

var publicSelectedMembers = map[string]bool{"uscc": true, "region": true, "inspectors": true, "unassigned": true, "reason": true}

// checkPublicDraw asserts the allow-lists on a public edition.
func checkPublicDraw(t *testing.T, b []byte) {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		if !publicMembers[k] {
			t.Errorf("public edition has member %q", k)
		}
	}
	var sel []map[string]json.RawMessage
	json.Unmarshal(doc["selected"], &sel)
	for _, e := range sel {
		for k := range e {
			if !publicSelectedMembers[k] {
				t.Errorf("public selected entity has member %q", k)
			}
		}
	}
	var strata map[string]map[string]json.RawMessage
	json.Unmarshal(doc["strata"], &strata)
	for l, st := range strata {
		if len(st) != 3 || st["N"] == nil || st["n"] == nil || st["pi"] == nil {
			t.Errorf("public stratum %s: %v", l, st)
		}
	}
	for _, bad := range []string{`"tier"`, `"priority"`, `"score"`, `"blind_key"`, `"tiers"`, `"tier_strata"`} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("public edition contains %s", bad)
		}
	}
}

// A draw over the live state, draw/v2: commitment, draw, publication;
// anonymous callers get nothing a tier follows from (allow-lists; a
// brute force over the tier alphabet with every key the public data
// offers fails), and the public and auditor verifications both pass;
// seed shopping is refused; a recusal amendment verifies; a stored v1
// record still verifies but is no longer public; a restart keeps the draw
// and honours its selections.
func TestDrawOverHTTP(t *testing.T) {
	data := t.TempDir()
	// an existing draw/v1 record from before the upgrade
	{
		store, err := sampler.OpenStore(filepath.Join(data, "draws", "store"))
		if err != nil {
			t.Fatal(err)
		}
		units := []sampler.Unit{}
		for i := range 50 {
			c := samplertestUSCC(i)
			units = append(units, sampler.Unit{USCC: c, Region: [6]byte([]byte("370102")), Tier: tier.Tier(i % 4)})
		}
		v1req, err := draw.ParseRequest([]byte(drawRequest("37-V1", "0f"+strings.Repeat("1e", 15), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 0)))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sampler.New(store, sampler.Options{}).Run(context.Background(), v1req, &sampler.MemSource{Units: units}); err != nil {
			t.Fatal(err)
		}
	}
	s := startService(t, data)
	lines := genLines(t, 3000, 400, 41, 0)
	for i := 0; i < len(lines); i += 2000 {
		if res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	seed := "00112233445566778899aabbccddeeff"
	commit := commitSeed(t, s, "37-T-1", seed)
	asOf := nextSecond()
	// A seed other than the committed one is refused.
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", "ff"+seed[2:], asOf, 0))); resp.StatusCode != http.StatusConflict {
		t.Fatalf("uncommitted seed: %d", resp.StatusCode)
	}
	// The preview (regulators only) computes what the draw then draws,
	// without the seed: a placeholder stands in for it.
	if resp, _ := s.do("POST", "/v1/draws/preview", api.RolePublic, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0))); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous preview: %d", resp.StatusCode)
	}
	resp, pb := s.do("POST", "/v1/draws/preview", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", strings.Repeat("0", 32), asOf, 0)))
	var pv sampler.Preview
	if resp.StatusCode != 200 || json.Unmarshal(pb, &pv) != nil {
		t.Fatalf("preview: %d %s", resp.StatusCode, pb)
	}
	resp, rb := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0)))
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), "/v1/draws/") {
		t.Fatalf("draw: %d %s", resp.StatusCode, rb)
	}
	rec, err := draw.ParseV2(rb)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Population != rec.PopulationSize || pv.Sample != rec.SampleSize || len(pv.Strata) != len(rec.TierStrata) {
		t.Errorf("preview %d of %d, draw %d of %d", pv.Sample, pv.Population, rec.SampleSize, rec.PopulationSize)
	}
	for _, st := range pv.Strata {
		if d := rec.TierStrata[st.Tier]; d.N != st.N || d.N2 != st.N2 || d.Pi != st.Pi {
			t.Errorf("tier %s: preview %+v, draw %+v", st.Tier, st, d)
		}
	}
	if len(rec.Selected) == 0 || rec.Request.SeedCommitment != commit || rec.Edition != report.EditionRegulatory {
		t.Fatalf("record: %d selected, commitment %q, edition %s", len(rec.Selected), rec.Request.SeedCommitment, rec.Edition)
	}
	id := rec.DrawID
	// Not public before publication; regulators see it.
	if resp, _ := s.do("GET", "/v1/draws/"+id, api.RolePublic, nil); resp.StatusCode != 404 {
		t.Errorf("unpublished draw visible to the public: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/v1/draws/"+id, api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Errorf("regulator: %d", resp.StatusCode)
	}
	if resp, _ := s.do("POST", "/v1/draws/"+id+"/publish", api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	// A recusal after the draw: the first entity's first inspector.
	first := rec.Selected[0]
	resp, ab := s.do("POST", "/v1/draws/"+id+"/recusals", api.RoleRegulator, strings.NewReader(fmt.Sprintf(`{"uscc":%q,"inspector":%q,"reason":"relative of the legal representative"}`, first.USCC, first.Inspectors[0])))
	if resp.StatusCode != 201 {
		t.Fatalf("recusal: %d %s", resp.StatusCode, ab)
	}
	var am draw.Amendment
	json.Unmarshal(ab, &am)
	if am.Replacement == "" || am.Replacement == first.Inspectors[0] || am.Replacement == first.Inspectors[1] {
		t.Fatalf("replacement %q for %v", am.Replacement, first.Inspectors)
	}
	if resp, _ := s.do("POST", "/v1/draws/"+id+"/recusals", api.RolePeer, strings.NewReader(`{}`)); resp.StatusCode != 403 {
		t.Errorf("recusal by a peer: %d", resp.StatusCode)
	}

	// Everything an anonymous caller can fetch about the draw.
	_, pub := s.do("GET", "/v1/draws/"+id, api.RolePublic, nil)
	_, pop := s.do("GET", "/v1/draws/"+id+"/population", api.RolePublic, nil)
	_, amends := s.do("GET", "/v1/draws/"+id+"/amendments", api.RolePublic, nil)
	_, listing := s.do("GET", "/v1/draws?plan_id=37-T-1", api.RolePublic, nil)
	checkPublicDraw(t, pub)
	if resp, _ := s.do("GET", "/v1/draws/"+id+"?edition=regulatory", api.RolePublic, nil); resp.StatusCode != 403 {
		t.Errorf("regulatory edition for the public: %d", resp.StatusCode)
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(pop, []byte("\n")), []byte("\n")) {
		if len(l) != 21 || l[18] != ',' || strings.Trim(string(l[19:]), "0123456789abcdef") != "" {
			t.Fatalf("population line %d %q is not USCC,XX", i+1, l)
		}
	}
	var list struct {
		Commitments []map[string]any `json:"commitments"`
		Draws       []map[string]any `json:"draws"`
	}
	json.Unmarshal(listing, &list)
	if len(list.Commitments) != 1 || list.Commitments[0]["key_commitment"] != rec.KeyCommitment || len(list.Draws) != 1 || list.Draws[0]["draw_id"] != id {
		t.Fatalf("listing %s", listing)
	}
	for _, c := range list.Commitments {
		for k := range c {
			if !map[string]bool{"plan_id": true, "commitment": true, "key_commitment": true, "committed_at": true, "used": true}[k] {
				t.Errorf("listing member %q", k)
			}
		}
	}
	for _, doc := range [][]byte{pop, amends, listing} {
		if bytes.Contains(doc, []byte(rec.BlindKey)) {
			t.Fatalf("the blinding key is public")
		}
	}
	ctx := context.Background()
	sum, err := sampler.VerifyV2(ctx, pub, bytes.NewReader(pop), amends)
	if err != nil || sum.Amendments != 1 || len(sum.Skipped) == 0 {
		t.Fatalf("public verification: %v %+v", err, sum)
	}
	// The auditor's edition (a peer) verifies fully.
	_, regb := s.do("GET", "/v1/draws/"+id+"?edition=regulatory", api.RolePeer, nil)
	sum, err = sampler.VerifyV2(ctx, regb, bytes.NewReader(pop), amends)
	if err != nil || len(sum.Skipped) != 0 {
		t.Fatalf("auditor verification: %v %+v", err, sum)
	}
	// Changed bytes of the files fetched over HTTP (every 61st byte of each;
	// every byte is covered by sampler's TestDrawV2EveryByteChangeRejected)
	for _, f := range []struct {
		name        string
		rec, p, amd []byte
		which       int
	}{{"public record", pub, pop, amends, 0}, {"regulatory record", regb, pop, amends, 0},
		{"population (public)", pub, pop, amends, 1}, {"population (regulatory)", regb, pop, amends, 1},
		{"amendments", regb, pop, amends, 2}} {
		target := [][]byte{f.rec, f.p, f.amd}[f.which]
		for i := 0; i < len(target); i += 61 {
			c := [][]byte{f.rec, f.p, f.amd}
			c[f.which] = bytes.Clone(target)
			c[f.which][i] ^= 1
			if _, err := sampler.VerifyV2(ctx, c[0], bytes.NewReader(c[1]), c[2]); err == nil {
				t.Fatalf("%s: byte %d changed, still verifies", f.name, i)
			}
		}
	}
	// Brute force over the tier alphabet: with every key derivable from
	// public data, the blinded tiers decode no better than chance (1/256 a
	// line); with the regulatory key they all decode to the true tiers.
	regRec, _ := draw.ParseV2(regb)
	key, _ := hex.DecodeString(regRec.BlindKey)
	seedB, _ := hex.DecodeString(seed)
	kc, _ := hex.DecodeString(rec.KeyCommitment)
	dg, _ := hex.DecodeString(rec.PopulationDigest)
	sha := func(b ...[]byte) []byte { h := sha256.Sum256(bytes.Join(b, nil)); return h[:] }
	decode := func(k []byte) []int {
		var out []int
		for i, l := range bytes.Split(bytes.TrimSuffix(pop, []byte("\n")), []byte("\n")) {
			var x [1]byte
			hex.Decode(x[:], l[19:21])
			var j [8]byte
			for b := range 8 {
				j[7-b] = byte(uint64(i/32) >> (8 * b))
			}
			m := sha([]byte("draw/v2/mask\x00"), k, j[:])[i%32]
			out = append(out, int(x[0]^m))
		}
		return out
	}
	truth := decode(key)
	for i, tier := range truth {
		if tier > 3 {
			t.Fatalf("line %d decodes to %d with the real key", i, tier)
		}
	}
	for name, k := range map[string][]byte{"seed": seedB, "sha(seed)": sha(seedB), "key commitment": kc, "digest": dg,
		"assign key": sha([]byte("draw/v2/assign\x00"), seedB), "zero": make([]byte, 32)} {
		hits := 0
		for i, v := range decode(k) {
			if v == truth[i] {
				hits++
			}
		}
		if rate := float64(hits) / float64(len(truth)); rate > 0.03 {
			t.Errorf("key %s recovers %.3f of the tiers", name, rate)
		}
	}

	// One commitment, one draw: another committed seed for the same plan is refused.
	seed2 := "aa" + seed[2:]
	commitSeed(t, s, "37-T-1", seed2)
	asOfB := nextSecond()
	if resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed2, asOfB, 0))); resp.StatusCode != http.StatusConflict {
		t.Fatalf("seed shopping: %d %s", resp.StatusCode, b)
	}
	// The same request again returns the stored record.
	if resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0))); resp.StatusCode != 200 || !bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(rb)) {
		t.Errorf("replayed draw: %d", resp.StatusCode)
	}
	// Bad requests: a ratio falling as risk rises; one inspector per entity.
	bad := strings.Replace(drawRequest("37-T-2", "ab"+seed[2:], asOf, 0), `"D":0.5`, `"D":0.1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("decreasing ratios: %d", resp.StatusCode)
	}
	bad = strings.Replace(drawRequest("37-T-2", "ab"+seed[2:], asOf, 0), `"per_entity":2`, `"per_entity":1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("one inspector: %d", resp.StatusCode)
	}
	_, metrics := s.do("GET", "/metrics", api.RolePublic, nil)
	if !bytes.Contains(metrics, []byte("creditd_draws_total 1")) || !bytes.Contains(metrics, []byte(fmt.Sprintf("creditd_draw_selected_total %d", len(rec.Selected)))) {
		t.Error("draw metrics missing")
	}
	// The v1 record: published, it is still not public (it carries tiers);
	// peers fetch it and it verifies by the v1 rules.
	v1 := ""
	_, l1 := s.do("GET", "/v1/draws?plan_id=37-V1", api.RoleRegulator, nil)
	var list1 struct {
		Draws []struct {
			DrawID string `json:"draw_id"`
		} `json:"draws"`
	}
	json.Unmarshal(l1, &list1)
	if len(list1.Draws) == 1 {
		v1 = list1.Draws[0].DrawID
	}
	if resp, b := s.do("POST", "/v1/draws/"+v1+"/publish", api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Fatalf("publish v1 %q: %d %s", v1, resp.StatusCode, b)
	}
	for _, suffix := range []string{"", "/population"} {
		if resp, _ := s.do("GET", "/v1/draws/"+v1+suffix, api.RolePublic, nil); resp.StatusCode != 404 {
			t.Errorf("v1 record%s public: %d", suffix, resp.StatusCode)
		}
	}
	_, v1rec := s.do("GET", "/v1/draws/"+v1, api.RolePeer, nil)
	_, v1pop := s.do("GET", "/v1/draws/"+v1+"/population", api.RolePeer, nil)
	prec, err := draw.ParseRecord(v1rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sampler.Verify(ctx, prec, bytes.NewReader(v1pop)); err != nil {
		t.Fatalf("the v1 record does not verify: %v", err)
	}
	// After a restart, a second draw excluding entities selected in the
	// last 30 days selects none of the first draw's entities.
	s.stop()
	s = startService(t, data)
	commitSeed(t, s, "37-T-3", "bb"+seed[2:])
	asOf2 := nextSecond()
	resp, rb2 := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-3", "bb"+seed[2:], asOf2, 30)))
	if resp.StatusCode != 201 {
		t.Fatalf("second draw: %d %s", resp.StatusCode, rb2)
	}
	rec2, _ := draw.ParseV2(rb2)
	firsts := map[string]bool{}
	for _, sel := range rec.Selected {
		firsts[sel.USCC] = true
	}
	for _, sel := range rec2.Selected {
		if firsts[sel.USCC] {
			t.Fatalf("%s selected again within the exclusion window", sel.USCC)
		}
	}
}

// samplertestUSCC is a valid code for test entity i.
func samplertestUSCC(i int) uscc.Code {
	c, err := uscc.ParseFormat(fmt.Sprintf("91370102%09dX", i))
	if err != nil {
		panic(err)
	}
	return c
}

// drawRequestPool is a draw of the 37 province with a pool of n
// inspectors (no regions) and k per entity.
func drawRequestPool(plan, seed string, asOf time.Time, n, k int) string {
	var pool strings.Builder
	for i := range n {
		if i > 0 {
			pool.WriteByte(',')
		}
		fmt.Fprintf(&pool, `{"id":"INS-%04d"}`, i)
	}
	return fmt.Sprintf(`{"plan_id":%q,"as_of":%q,"population":{"region_prefix":"37"},
 "allocation":{"ratios":{"A":0.02,"B":0.05,"C":0.2,"D":0.5}},
 "inspectors":{"pool":[%s],"per_entity":%d},"seed":%q}`, plan, asOf.UTC().Format(time.RFC3339), pool.String(), k, seed)
}

// drawTempFiles lists temporary files left in the draw store.
func drawTempFiles(t *testing.T, data string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(data, "draws", "store", "*", "*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func problemOf(t *testing.T, resp *http.Response, b []byte) api.Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d with Content-Type %q, want application/problem+json: %.300s", resp.StatusCode, ct, b)
	}
	var p api.Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Hardening over HTTP: per_entity on both sides of the old int8 overflow
// (60) and of the spec's maximum (100); a draw above --draw-max-work is 422
// problem+json before anything is drawn; no temporary file remains; and
// every draw route × role × published state (unpublished draws are for
// regulators only, and look exactly like missing ones to everyone else).
func TestDrawHardeningOverHTTP(t *testing.T) {
	data := t.TempDir()
	// the draws below rank at most ~300 selected × 130 inspectors = 39,000
	// hashes; the refused one 300 × 1,000
	s := startService(t, data, "--draw-max-work", "100000")
	s.tokens["bogus"] = "not-a-known-token-at-all"
	lines := genLines(t, 3000, 400, 43, 0)
	for i := 0; i < len(lines); i += 2000 {
		if res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	for i, k := range []int{59, 60, 100, 101} {
		commitSeed(t, s, fmt.Sprintf("37-K-%d", k), fmt.Sprintf("%032x", 0x5100+i))
	}
	commitSeed(t, s, "37-BIG", fmt.Sprintf("%032x", 0x5200))
	asOf := nextSecond()
	ids := map[int]string{}
	for i, tc := range []struct {
		k, want int
	}{{59, 201}, {60, 201}, {100, 201}, {101, 400}} {
		seed := fmt.Sprintf("%032x", 0x5100+i)
		resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequestPool(fmt.Sprintf("37-K-%d", tc.k), seed, asOf, 130, tc.k)))
		if resp.StatusCode != tc.want {
			t.Fatalf("per_entity %d: %d %s, want %d", tc.k, resp.StatusCode, b, tc.want)
		}
		if tc.want != 201 {
			if p := problemOf(t, resp, b); !strings.Contains(p.Detail, "per_entity") {
				t.Errorf("per_entity %d: detail %q", tc.k, p.Detail)
			}
			continue
		}
		rec, err := draw.ParseV2(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, sel := range rec.Selected {
			if len(sel.Inspectors)+sel.Unassigned != tc.k {
				t.Fatalf("per_entity %d: %s has %d + %d unassigned", tc.k, sel.USCC, len(sel.Inspectors), sel.Unassigned)
			}
		}
		ids[tc.k] = rec.DrawID
	}
	// above --draw-max-work: 422 problem+json, nothing stored
	records := func() int {
		es, err := os.ReadDir(filepath.Join(data, "draws", "store", "records"))
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := records()
	resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequestPool("37-BIG", fmt.Sprintf("%032x", 0x5200), asOf, 1000, 2)))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("draw above the limit: %d %.300s, want 422", resp.StatusCode, b)
	}
	if p := problemOf(t, resp, b); !strings.Contains(p.Detail, "1000 candidate inspectors") || !strings.Contains(p.Detail, "limit of 100000") {
		t.Errorf("detail %q", p.Detail)
	}
	if after := records(); after != before {
		t.Errorf("%d records before, %d after a refused draw", before, after)
	}
	if left := drawTempFiles(t, data); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// authorisation: every draw route × role × published state
	unpub, pub := ids[59], ids[60]
	if resp, b := s.do("POST", "/v1/draws/"+pub+"/publish", api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
	_, missing := s.do("GET", "/v1/draws/37-NOPE-20260101T000000Z-000000000000", api.RolePublic, nil)
	missingDetail := problemOf(t, &http.Response{Header: http.Header{"Content-Type": {"application/problem+json"}}}, missing).Detail
	roles := []api.Role{api.RolePublic, "bogus", api.RolePeer, api.RoleSource, api.RoleRegulator}
	for _, id := range []string{unpub, pub} {
		published := id == pub
		for _, suffix := range []string{"", "/population"} {
			for _, role := range roles {
				path := "/v1/draws/" + id + suffix
				resp, b := s.do("GET", path, role, nil)
				switch {
				case role == "bogus":
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("GET %s with an unknown token: %d, want 401", path, resp.StatusCode)
					}
				case published || role == api.RoleRegulator:
					if resp.StatusCode != 200 || !bytes.Contains(b, []byte("37")) {
						t.Errorf("GET %s as %s (published %v): %d, want 200", path, role, published, resp.StatusCode)
					}
				default:
					// unpublished, not a regulator: the same 404 as a missing draw
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("GET %s as %s, unpublished: %d %s, want 404", path, role, resp.StatusCode, b)
						continue
					}
					if p := problemOf(t, resp, b); p.Detail != missingDetail {
						t.Errorf("GET %s as %s: detail %q differs from a missing draw's %q", path, role, p.Detail, missingDetail)
					}
				}
			}
		}
		// publishing is for regulators only; a refused publish publishes nothing
		for _, role := range roles[:4] {
			resp, _ := s.do("POST", "/v1/draws/"+id+"/publish", role, nil)
			if want := map[api.Role]int{api.RolePublic: 401, "bogus": 401}[role]; want == 0 && resp.StatusCode != 403 || want != 0 && resp.StatusCode != want {
				t.Errorf("publish %s as %s: %d", id, role, resp.StatusCode)
			}
		}
		if resp, _ := s.do("GET", "/v1/draws/"+unpub, api.RolePublic, nil); resp.StatusCode != 404 {
			t.Fatalf("a refused publish made %s public: %d", unpub, resp.StatusCode)
		}
	}
	if left := drawTempFiles(t, data); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// The population filters over HTTP: industry (from the registered event's
// industry attribute, through the engine's scan) and exclude.
func TestDrawFiltersOverHTTP(t *testing.T) {
	s := startService(t, t.TempDir())
	lines := genLines(t, 2000, 200, 44, 0)
	industry := map[string]string{}
	for _, l := range lines {
		var ev struct {
			USCC  string `json:"uscc"`
			Type  string `json:"type"`
			Attrs struct {
				Industry string `json:"industry"`
			} `json:"attrs"`
		}
		if json.Unmarshal(l, &ev) == nil && ev.Type == "registered" {
			industry[ev.USCC] = ev.Attrs.Industry
		}
	}
	for i := 0; i < len(lines); i += 2000 {
		if res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	seed := "0123456789abcdef0123456789abcdef"
	commitSeed(t, s, "37-IND", seed)
	asOf := nextSecond()
	req := strings.Replace(drawRequest("37-IND", seed, asOf, 0), `"population":{"region_prefix":"37"}`, `"population":{"region_prefix":"37","industries":["F"]}`, 1)
	req = strings.Replace(req, `"ratios":{"A":0.02,"B":0.05,"C":0.2,"D":0.5}`, `"ratios":{"A":1,"B":1,"C":1,"D":1}`, 1)
	resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(req))
	if resp.StatusCode != 201 {
		t.Fatalf("draw: %d %s", resp.StatusCode, b)
	}
	rec, err := draw.ParseV2(b)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, ind := range industry {
		if strings.HasPrefix(ind, "F") {
			want++
		}
	}
	if len(rec.Selected) == 0 || len(rec.Selected) > want {
		t.Fatalf("%d selected, %d registered entities in industry F", len(rec.Selected), want)
	}
	for _, sel := range rec.Selected {
		if !strings.HasPrefix(industry[sel.USCC], "F") {
			t.Fatalf("%s (industry %q) selected by an industry F draw", sel.USCC, industry[sel.USCC])
		}
	}
}
