package sampler

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
)

var updateGoldenV2 = flag.Bool("update-v2", false, "rewrite testdata/golden_v2 from the current draw code")

// goldenV2Case is one golden v2 draw: how it is made.
type goldenV2Case struct {
	name   string
	scheme *tier.Scheme
	edit   func(req *draw.Request, units []Unit)
	recuse int // recusals of the first selected entities
}

var goldenV2Cases = []goldenV2Case{
	{name: "national_conflicts_cap", scheme: tier.National4, recuse: 3, edit: func(req *draw.Request, _ []Unit) {
		req.Inspectors.MaxLoad = 9
	}},
	{name: "shandong_budget_department", scheme: tier.Shandong5, edit: func(req *draw.Request, _ []Unit) {
		req.Allocation = weights(40, 1, 2, 5, 10, 30)
		req.Department = "食品"
		for i := range req.Inspectors.Pool {
			if i%3 != 0 {
				req.Inspectors.Pool[i].Departments = []string{"食品"}
			}
		}
	}},
	{name: "targeted_include", scheme: tier.National4, edit: func(req *draw.Request, units []Unit) {
		for _, u := range units[40:52] {
			req.Population.Include = append(req.Population.Include, u.USCC)
		}
		req.Allocation = ratios(300000, 500000, 800000, 1000000)
	}},
	{name: "round_up_exempt", scheme: tier.National4, recuse: 1, edit: func(req *draw.Request, _ []Unit) {
		req.ExemptLowestTier = true
		req.Allocation = ratios(0, 1000, 2000, 300000)
	}},
}

// goldenV2Files draws a case and returns its files.
func goldenV2Files(t *testing.T, c goldenV2Case) map[string][]byte {
	t.Helper()
	units := testUnits(31, 600, []int{30, 55, 12, 3, 0}[:c.scheme.Len()], false)
	if c.scheme == tier.Shandong5 {
		units = testUnits(31, 600, []int{25, 35, 25, 11, 4}, false)
	}
	req := v2Request(units, 0)
	req.Allocation = ratios(20000, 50000, 100000, 300000)
	if c.scheme == tier.Shandong5 {
		req.Allocation = ratios(20000, 50000, 100000, 300000, 500000)
	}
	c.edit(req, units)
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	committed := testAsOf.Add(-48 * time.Hour)
	s := New(store, Options{Scheme: c.scheme, Now: func() time.Time { return committed }})
	cm, err := s.Commit(req.PlanID, draw.SeedDigest(req.SeedBytes()))
	if err != nil {
		t.Fatal(err)
	}
	// a fixed key, so that the golden files are reproducible
	cm.key = testBlind
	store.mu.Lock()
	store.commitments[cm.Commitment] = cm
	store.mu.Unlock()
	ctx := context.Background()
	rec, _, err := s.RunV2(ctx, req, &MemSource{Units: units, Parts: 2, Scheme: c.scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range rec.Selected[:c.recuse] {
		if len(sel.Inspectors) == 0 {
			continue
		}
		if _, err := s.Amend(ctx, rec.DrawID, sel.USCC, sel.Inspectors[0], "declared: former employee", testAsOf.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	doc, _ := store.Amendments(rec.DrawID)
	pop, _ := os.ReadFile(store.populationPath(rec.DrawID))
	return map[string][]byte{
		"regulatory.json": append(draw.EncodeV2(rec), '\n'),
		"public.json":     append(draw.EncodeV2(rec.Public()), '\n'),
		"population.txt":  pop,
		"amendments.json": append(draw.EncodeAmendments(doc), '\n'),
	}
}

// The golden v2 records are reproduced by the draw code, verify in Go and
// in the independent Python reference (testdata/reference_verify_v2.py),
// and both reject the same tampered copies.
func TestGoldenV2(t *testing.T) {
	py, pyErr := exec.LookPath("python3")
	for _, c := range goldenV2Cases {
		t.Run(c.name, func(t *testing.T) {
			files := goldenV2Files(t, c)
			dir := filepath.Join("testdata", "golden_v2", c.name)
			if *updateGoldenV2 {
				os.MkdirAll(dir, 0o755)
				for name, b := range files {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			for name, b := range files {
				g, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatalf("%v (run with -update-v2 to create)", err)
				}
				if !bytes.Equal(g, b) {
					t.Fatalf("%s/%s differs from the draw code's output", c.name, name)
				}
			}
			type input struct{ name, record, pop, amend string }
			var inputs []input
			for _, ed := range []string{"public.json", "regulatory.json"} {
				inputs = append(inputs, input{ed, filepath.Join(dir, ed), filepath.Join(dir, "population.txt"), filepath.Join(dir, "amendments.json")})
			}
			// tampered copies: one changed byte at spread offsets of each file
			tmp := t.TempDir()
			for _, f := range []string{"public.json", "regulatory.json", "population.txt", "amendments.json"} {
				b := files[f]
				for _, off := range []int{0, len(b) / 7, len(b) / 3, len(b) / 2, 2 * len(b) / 3, len(b) - 2} {
					c := bytes.Clone(b)
					c[off] ^= 1
					p := filepath.Join(tmp, fmt.Sprintf("%d-%s", off, f))
					os.WriteFile(p, c, 0o644)
					in := input{fmt.Sprintf("%s byte %d", f, off), filepath.Join(dir, "regulatory.json"), filepath.Join(dir, "population.txt"), filepath.Join(dir, "amendments.json")}
					switch f {
					case "public.json", "regulatory.json":
						in.record = p
					case "population.txt":
						in.pop = p
					default:
						in.amend = p
					}
					inputs = append(inputs, in)
				}
			}
			// forged copies: content changed and the draw id recomputed, so
			// that only the draw's rules can catch them
			reg, err := draw.ParseV2(files["regulatory.json"])
			if err != nil {
				t.Fatal(err)
			}
			forge := func(name string, edit func(r *draw.V2)) {
				r, _ := draw.ParseV2(files["regulatory.json"])
				edit(r)
				r.DrawID = ""
				pub, _ := draw.PublicBytes(draw.EncodeV2(r.Public()))
				r.DrawID, _ = draw.V2ID(pub, r.Request.PlanID, r.Request.AsOf)
				for _, ed := range []*draw.V2{r, r.Public()} {
					p := filepath.Join(tmp, name+"-"+ed.Edition+".json")
					os.WriteFile(p, draw.EncodeV2(ed), 0o644)
					inputs = append(inputs, input{"forged " + name + " (" + ed.Edition + ")", p, filepath.Join(dir, "population.txt"), ""})
				}
			}
			if len(reg.Selected) > 1 && len(reg.Selected[0].Inspectors) > 0 {
				forge("inspector", func(r *draw.V2) {
					r.Selected[0].Inspectors[0] = r.Request.Inspectors.Pool[(slices.IndexFunc(r.Request.Inspectors.Pool, func(in draw.Inspector) bool { return in.ID == r.Selected[0].Inspectors[0] })+1)%len(r.Request.Inspectors.Pool)].ID
				})
				forge("order", func(r *draw.V2) {
					r.Selected[0], r.Selected[1] = r.Selected[1], r.Selected[0]
					r.Tiers[0], r.Tiers[1] = r.Tiers[1], r.Tiers[0]
				})
			}
			forge("seed", func(r *draw.V2) { r.Request.Seed = strings.Repeat("ab", 20) })
			var jobs strings.Builder
			goOK := make([]bool, len(inputs))
			for i, in := range inputs {
				rb, _ := os.ReadFile(in.record)
				pb, _ := os.ReadFile(in.pop)
				ab, _ := os.ReadFile(in.amend)
				if in.amend == "" {
					ab = nil
				}
				_, goErr := VerifyV2(context.Background(), rb, bytes.NewReader(pb), ab)
				if i < 2 && goErr != nil {
					t.Fatalf("%s: Go verifier: %v", in.name, goErr)
				}
				if i >= 2 && goErr == nil {
					t.Fatalf("%s: Go verifier accepts a changed byte", in.name)
				}
				goOK[i] = goErr == nil
				fmt.Fprintf(&jobs, "%s %s %s\n", in.record, in.pop, in.amend) // no amendments: two fields
			}
			if pyErr != nil {
				t.Skip("python3 not found: the reference verifier was not run")
			}
			cmd := exec.Command(py, "testdata/reference_verify_v2.py", "--batch")
			cmd.Stdin = strings.NewReader(jobs.String())
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("reference verifier: %v", err)
			}
			verdicts := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(verdicts) != len(inputs) {
				t.Fatalf("reference verifier gave %d verdicts for %d inputs", len(verdicts), len(inputs))
			}
			for i, v := range verdicts {
				if strings.HasPrefix(v, "ok ") != goOK[i] {
					t.Fatalf("%s: Python says %q, Go says ok=%v", inputs[i].name, v, goOK[i])
				}
			}
		})
	}
}
