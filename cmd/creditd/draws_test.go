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
		if res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	seed := "00112233445566778899aabbccddeeff"
	sb, _ := hex.DecodeString(seed)
	sum := sha256.Sum256(sb)
	commit := hex.EncodeToString(sum[:])
	if resp, b := s.do("POST", "/v1/draws/commitments", api.RoleRegulator, strings.NewReader(`{"plan_id":"37-T-1","seed_commitment":"`+commit+`"}`)); resp.StatusCode != 201 {
		t.Fatalf("commit: %d %s", resp.StatusCode, b)
	}
	asOf := time.Now().Add(time.Second).Truncate(time.Second)
	time.Sleep(time.Until(asOf) + 10*time.Millisecond)
	// A seed other than the committed one is refused.
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", "ff"+seed[2:], asOf, 0))); resp.StatusCode != http.StatusConflict {
		t.Fatalf("uncommitted seed: %d", resp.StatusCode)
	}
	resp, rb := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0)))
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
	if resp, _ := s.do("GET", "/v1/draws/"+id, api.RolePublic, nil); resp.StatusCode != 404 {
		t.Errorf("unpublished draw visible to the public: %d", resp.StatusCode)
	}
	if resp, _ := s.do("GET", "/v1/draws/"+id, api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Errorf("regulator: %d", resp.StatusCode)
	}
	if resp, _ := s.do("POST", "/v1/draws/"+id+"/publish", api.RoleRegulator, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	_, pub := s.do("GET", "/v1/draws/"+id, api.RolePublic, nil)
	_, pop := s.do("GET", "/v1/draws/"+id+"/population", api.RolePublic, nil)
	prec, err := models.ParseDrawRecord(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sampler.Verify(context.Background(), prec, bytes.NewReader(pop)); err != nil {
		t.Fatalf("published draw does not verify: %v", err)
	}
	// The same request again returns the stored record.
	if resp, b := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-1", seed, asOf, 0))); resp.StatusCode != 200 || !bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(rb)) {
		t.Errorf("replayed draw: %d", resp.StatusCode)
	}
	// Bad requests: a ratio falling as risk rises; one inspector per entity.
	bad := strings.Replace(drawRequest("37-T-2", "aa"+seed[2:], asOf, 0), `"D":0.5`, `"D":0.1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("decreasing ratios: %d", resp.StatusCode)
	}
	bad = strings.Replace(drawRequest("37-T-2", "aa"+seed[2:], asOf, 0), `"per_entity":2`, `"per_entity":1`, 1)
	if resp, _ := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(bad)); resp.StatusCode != 400 {
		t.Errorf("one inspector: %d", resp.StatusCode)
	}
	_, metrics := s.do("GET", "/metrics", api.RolePublic, nil)
	if !bytes.Contains(metrics, []byte("creditd_draws_total 1")) || !bytes.Contains(metrics, []byte(fmt.Sprintf("creditd_draw_selected_total %d", len(rec.Selected)))) {
		t.Error("draw metrics missing")
	}
	// After a restart, a second draw excluding entities selected in the
	// last 30 days selects none of the first draw's entities.
	s.stop()
	s = startService(t, data)
	asOf2 := time.Now().Truncate(time.Second)
	resp, rb2 := s.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader(drawRequest("37-T-3", "bb"+seed[2:], asOf2, 30)))
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
	asOf := time.Now().Truncate(time.Second)
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
		rec, err := models.ParseDrawRecord(b)
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

// TestShutdownCancelsRunningDraw: a draw still running at shutdown is
// cancelled (503, nothing stored, no temporary file) instead of holding the
// shutdown for its whole run, even with a long --shutdown-timeout.
func TestShutdownCancelsRunningDraw(t *testing.T) {
	data := t.TempDir()
	s := startService(t, data, "--shutdown-timeout", "10m")
	lines := genLines(t, 3000, 400, 43, 0)
	for i := 0; i < len(lines); i += 2000 {
		if res, code := s.postEvents(api.RoleSource, joinLines(lines[i:min(i+2000, len(lines))])); code != 200 || len(res.Rejected) != 0 {
			t.Fatalf("post: %d %+v", code, res)
		}
	}
	// Every entity drawn, 10^5 inspectors: about 3·10^8 rank hashes (under
	// the default --draw-max-work), tens of seconds of work, minutes under
	// the race detector.
	req := strings.Replace(drawRequestPool("37-SHUT", fmt.Sprintf("%032x", 0x5300), time.Now().Truncate(time.Second), 100_000, 100),
		`{"A":0.02,"B":0.05,"C":0.2,"D":0.5}`, `{"A":1,"B":1,"C":1,"D":1}`, 1)
	got := make(chan int, 1)
	go func() {
		hr, _ := http.NewRequest("POST", s.base+"/v1/draws", strings.NewReader(req))
		hr.Header.Set("Authorization", "Bearer "+s.tokens[api.RoleRegulator])
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	// Give the draw time to start (if it has not, it is refused at
	// shutdown all the same; the check below is on the outcome).
	time.Sleep(2 * time.Second)
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Minute):
		t.Fatal("shutdown waited for the running draw")
	}
	if code := <-got; code == http.StatusCreated {
		t.Fatal("the draw finished before the shutdown: make it larger")
	} else if code != http.StatusServiceUnavailable && code != -1 {
		t.Errorf("draw answered %d at shutdown, want 503 (or the connection closed)", code)
	}
	if left := drawTempFiles(t, data); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
