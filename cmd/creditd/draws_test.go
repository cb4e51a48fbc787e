package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models"
	"github.com/creditrisk/creditd/sampler"
)

func drawRequest(plan, seed string, asOf time.Time, excludeDays int) string {
	return fmt.Sprintf(`{"plan_id":%q,"as_of":%q,"population":{"region_prefix":"37"},
 "exclude_selected_within_days":%d,"max_inspections_per_year":2,
 "allocation":{"ratios":{"A":0.02,"B":0.05,"C":0.2,"D":0.5}},
 "inspectors":{"pool":[{"id":"I-1"},{"id":"I-2"},{"id":"I-3","regions":["3701"]},{"id":"I-4"}],"per_entity":2},
 "seed":%q}`, plan, asOf.UTC().Format(time.RFC3339), excludeDays, seed)
}

// A draw over the live state: commitment, draw, publication, public
// access, verification from the published files, idempotence, metrics,
// and a restart that keeps the draw and honours its selections.
func TestDrawOverHTTP(t *testing.T) {
	data := t.TempDir()
	s := startService(t, data)
	lines := genLines(t, 3000, 400, 41, 0)
	for i := 0; i < len(lines); i += 2000 {
		if res, code := s.postEvents(RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	seed := "00112233445566778899aabbccddeeff"
	sb, _ := hex.DecodeString(seed)
	sum := sha256.Sum256(sb)
	commit := hex.EncodeToString(sum[:])
	if resp, b := s.do("POST", "/v1/draws/commitments", RoleRegulator, strings.NewReader(`{"plan_id":"37-T-1","seed_commitment":"`+commit+`"}`)); resp.StatusCode != 201 {
		t.Fatalf("commit: %d %s", resp.StatusCode, b)
	}
	asOf := time.Now().Add(time.Second).Truncate(time.Second)
	time.Sleep(time.Until(asOf) + 10*time.Millisecond)
	// A seed other than the committed one is refused.
	if resp, _ := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(drawRequest("37-T-1", "ff"+seed[2:], asOf, 0))); resp.StatusCode != http.StatusConflict {
		t.Fatalf("uncommitted seed: %d", resp.StatusCode)
	}
	resp, rb := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0)))
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), "/v1/draws/") {
		t.Fatalf("draw: %d %s", resp.StatusCode, rb)
	}
	rec, err := models.ParseDrawRecord(rb)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Selected) == 0 || rec.Request.SeedCommitment != commit {
		t.Fatalf("record: %d selected, commitment %q", len(rec.Selected), rec.Request.SeedCommitment)
	}
	id := rec.DrawID
	// Not public before publication; regulators see it.
	if resp, _ := s.do("GET", "/v1/draws/"+id, RolePublic, nil); resp.StatusCode != 404 {
		t.Errorf("unpublished draw visible to the public: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/v1/draws/"+id, RoleRegulator, nil); resp.StatusCode != 200 {
		t.Errorf("regulator: %d", resp.StatusCode)
	}
	if resp, _ := s.do("POST", "/v1/draws/"+id+"/publish", RoleRegulator, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	_, pub := s.do("GET", "/v1/draws/"+id, RolePublic, nil)
	_, pop := s.do("GET", "/v1/draws/"+id+"/population", RolePublic, nil)
	prec, err := models.ParseDrawRecord(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sampler.Verify(context.Background(), prec, bytes.NewReader(pop)); err != nil {
		t.Fatalf("published draw does not verify: %v", err)
	}
	// The same request again returns the stored record.
	if resp, b := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0))); resp.StatusCode != 200 || !bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(rb)) {
		t.Errorf("replayed draw: %d", resp.StatusCode)
	}
	// Bad requests: a ratio falling as risk rises; one inspector per entity.
	bad := strings.Replace(drawRequest("37-T-2", "aa"+seed[2:], asOf, 0), `"D":0.5`, `"D":0.1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("decreasing ratios: %d", resp.StatusCode)
	}
	bad = strings.Replace(drawRequest("37-T-2", "aa"+seed[2:], asOf, 0), `"per_entity":2`, `"per_entity":1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("one inspector: %d", resp.StatusCode)
	}
	_, metrics := s.do("GET", "/metrics", RolePublic, nil)
	if !bytes.Contains(metrics, []byte("creditd_draws_total 1")) || !bytes.Contains(metrics, []byte(fmt.Sprintf("creditd_draw_selected_total %d", len(rec.Selected)))) {
		t.Error("draw metrics missing")
	}
	// After a restart, a second draw excluding entities selected in the
	// last 30 days selects none of the first draw's entities.
	s.stop()
	s = startService(t, data)
	asOf2 := time.Now().Truncate(time.Second)
	resp, rb2 := s.do("POST", "/v1/draws", RoleRegulator, strings.NewReader(drawRequest("37-T-3", "bb"+seed[2:], asOf2, 30)))
	if resp.StatusCode != 201 {
		t.Fatalf("second draw: %d %s", resp.StatusCode, rb2)
	}
	rec2, _ := models.ParseDrawRecord(rb2)
	first := map[models.USCC]bool{}
	for _, sel := range rec.Selected {
		first[sel.USCC] = true
	}
	for _, sel := range rec2.Selected {
		if first[sel.USCC] {
			t.Fatalf("%s selected again within the exclusion window", sel.USCC)
		}
	}
}
