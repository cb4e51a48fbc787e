package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/sampler"
)

// The draw wizard (docs/spec/draw.md v2): the plan's filters and
// allocation → a preview of per-tier N, n and π (POST /v1/draws/preview,
// the sampler's own counting, nothing drawn) → a seed made in the browser
// (crypto.getRandomValues) and its SHA-256 commitment (SubtleCrypto)
// registered → the draw with that seed → review → publish. The seed never
// reaches the server before the draw; the page offers it for safekeeping.

// drawForm is the wizard's form, kept across its steps.
type drawForm struct {
	PlanID, RegionPrefix, EntityTypes, Industries, Department string
	Mode                                                      string // "ratios" or "budget"
	Ratios, Weights                                           map[string]string
	Budget, Inspectors                                        string
	PerEntity, MaxLoad, ExcludeDays, MaxPerYear               string
	ExemptLowest                                              bool
}

// wizard is the wizard page's data.
type wizard struct {
	Step       string // "plan", "preview", "run"
	Form       drawForm
	Labels     []string
	Preview    *sampler.Preview
	Request    string // the request without seed (JSON), carried between steps
	Commitment string
	Committed  string
	Error      string
}

func (c *Console) tierLabels(r *http.Request, v *View) []string {
	var st tierStats
	if _, err := c.getJSON(r.Context(), "/v1/stats/tiers", v.token(), &st); err != nil {
		return nil
	}
	var out []string
	for _, t := range st.Tiers {
		out = append(out, t.Tier)
	}
	return out
}

// handleDrawNew is the wizard's first step.
func (c *Console) handleDrawNew(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("draw.title")
	labels := c.tierLabels(r, v)
	f := drawForm{PlanID: "plan-" + c.o.Now().UTC().Format("20060102-150405"), Mode: "ratios", Ratios: map[string]string{},
		Weights: map[string]string{}, PerEntity: "2", Inspectors: "I-01\nI-02\nI-03\nI-04"}
	defaults := []string{"2", "5", "20", "50", "80"}
	for i, l := range labels {
		f.Ratios[l] = defaults[min(i, len(defaults)-1)]
		f.Weights[l] = strconv.Itoa(1 << i)
	}
	c.render(w, v, http.StatusOK, "draw", wizard{Step: "plan", Form: f, Labels: labels})
}

// readForm reads the wizard's form.
func readForm(r *http.Request, labels []string) drawForm {
	f := drawForm{PlanID: strings.TrimSpace(r.FormValue("plan_id")), RegionPrefix: strings.TrimSpace(r.FormValue("region_prefix")),
		EntityTypes: r.FormValue("entity_types"), Industries: r.FormValue("industries"), Department: strings.TrimSpace(r.FormValue("department")),
		Mode: r.FormValue("mode"), Ratios: map[string]string{}, Weights: map[string]string{}, Budget: strings.TrimSpace(r.FormValue("budget")),
		Inspectors: r.FormValue("inspectors"), PerEntity: strings.TrimSpace(r.FormValue("per_entity")), MaxLoad: strings.TrimSpace(r.FormValue("max_load")),
		ExcludeDays: strings.TrimSpace(r.FormValue("exclude_days")), MaxPerYear: strings.TrimSpace(r.FormValue("max_per_year")),
		ExemptLowest: r.FormValue("exempt_lowest") == "on"}
	for _, l := range labels {
		f.Ratios[l] = strings.TrimSpace(r.FormValue("ratio_" + l))
		f.Weights[l] = strings.TrimSpace(r.FormValue("weight_" + l))
	}
	return f
}

func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '，' || r == '\n' || r == '\r' })
}

func atoiOr(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

// request builds the draw request (without as_of and seed) from the form;
// the API checks every value.
func (f *drawForm) request(labels []string) (map[string]any, error) {
	pop := map[string]any{}
	if f.RegionPrefix != "" {
		pop["region_prefix"] = f.RegionPrefix
	}
	if l := list(f.EntityTypes); l != nil {
		pop["entity_types"] = l
	}
	if l := list(f.Industries); l != nil {
		pop["industries"] = l
	}
	alloc := map[string]any{}
	if f.Mode == "budget" {
		b, err := strconv.ParseInt(f.Budget, 10, 64)
		if err != nil {
			return nil, errors.New("budget: a whole number")
		}
		ws := map[string]json.Number{}
		for _, l := range labels {
			if _, err := strconv.ParseFloat(f.Weights[l], 64); err != nil {
				return nil, fmt.Errorf("weight %s: a number", l)
			}
			ws[l] = json.Number(f.Weights[l])
		}
		alloc["budget"], alloc["weights"] = b, ws
	} else {
		rs := map[string]json.Number{}
		for _, l := range labels {
			p, err := strconv.ParseFloat(f.Ratios[l], 64)
			if err != nil || p < 0 || p > 100 {
				return nil, fmt.Errorf("ratio %s: a percentage from 0 to 100", l)
			}
			rs[l] = json.Number(strconv.FormatFloat(p/100, 'f', -1, 64))
		}
		alloc["ratios"] = rs
	}
	var pool []map[string]any
	for _, line := range strings.Split(f.Inspectors, "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		in := map[string]any{"id": fs[0]}
		if len(fs) > 1 {
			in["regions"] = list(strings.Join(fs[1:], ","))
		}
		pool = append(pool, in)
	}
	per, err := atoiOr(f.PerEntity, 2)
	if err != nil {
		return nil, errors.New("per_entity: a whole number")
	}
	insp := map[string]any{"pool": pool, "per_entity": per}
	if f.MaxLoad != "" {
		ml, err := strconv.Atoi(f.MaxLoad)
		if err != nil {
			return nil, errors.New("max_load: a whole number")
		}
		insp["max_load"] = ml
	}
	req := map[string]any{"plan_id": f.PlanID, "population": pop, "allocation": alloc, "inspectors": insp}
	if f.Department != "" {
		req["department"] = f.Department
	}
	if n, err := atoiOr(f.ExcludeDays, 0); err != nil {
		return nil, errors.New("exclude_selected_within_days: a whole number")
	} else if n > 0 {
		req["exclude_selected_within_days"] = n
	}
	if n, err := atoiOr(f.MaxPerYear, 0); err != nil {
		return nil, errors.New("max_inspections_per_year: a whole number")
	} else if n > 0 {
		req["max_inspections_per_year"] = n
	}
	if f.ExemptLowest {
		req["exempt_lowest_tier"] = true
	}
	return req, nil
}

// placeholderSeed stands in for the seed in a preview (which does not
// use it): the real seed is made in the browser after the preview.
var placeholderSeed = strings.Repeat("0", 32)

// asOfNow is a draw's as_of: the next whole second, so that it follows
// the seed commitment registered before it (draw.md: the commitment
// precedes the population).
func asOfNow(now time.Time) string {
	return now.UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339)
}

func withSeed(req map[string]any, asOf, seed string) []byte {
	out := map[string]any{}
	for k, v := range req {
		out[k] = v
	}
	out["as_of"], out["seed"] = asOf, seed
	b, _ := json.Marshal(out)
	return b
}

// handleDrawPreview is the preview step.
func (c *Console) handleDrawPreview(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("draw.title")
	labels := c.tierLabels(r, v)
	wz := wizard{Step: "plan", Form: readForm(r, labels), Labels: labels}
	req, err := wz.Form.request(labels)
	if err != nil {
		wz.Error = err.Error()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	a := c.call(r.Context(), http.MethodPost, "/v1/draws/preview", v.token(), withSeed(req, asOfNow(c.o.Now()), placeholderSeed))
	if a.Status != http.StatusOK {
		wz.Error = a.problem()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	var pv sampler.Preview
	if err := json.Unmarshal(a.Body, &pv); err != nil {
		wz.Error = err.Error()
		c.render(w, v, http.StatusInternalServerError, "draw", wz)
		return
	}
	b, _ := json.Marshal(req)
	wz.Step, wz.Preview, wz.Request = "preview", &pv, string(b)
	c.render(w, v, http.StatusOK, "draw", wz)
}

// carried reads the request carried between steps.
func carried(r *http.Request) (map[string]any, string, error) {
	var req map[string]any
	d := json.NewDecoder(strings.NewReader(r.FormValue("request")))
	d.UseNumber()
	if err := d.Decode(&req); err != nil {
		return nil, "", errors.New("the plan was lost between the steps; start again")
	}
	plan, _ := req["plan_id"].(string)
	return req, plan, nil
}

// handleDrawCommit registers the browser's seed commitment for the plan.
func (c *Console) handleDrawCommit(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("draw.title")
	_, plan, err := carried(r)
	commitment := strings.ToLower(strings.TrimSpace(r.FormValue("commitment")))
	wz := wizard{Step: "preview", Request: r.FormValue("request"), Commitment: commitment}
	if err != nil {
		wz.Error = err.Error()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	body, _ := json.Marshal(map[string]string{"plan_id": plan, "seed_commitment": commitment})
	a := c.call(r.Context(), http.MethodPost, "/v1/draws/commitments", v.token(), body)
	if a.Status != http.StatusCreated {
		wz.Step, wz.Error = "commit-failed", a.problem()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	var cm struct {
		CommittedAt string `json:"committed_at"`
	}
	_ = json.Unmarshal(a.Body, &cm)
	wz.Step, wz.Committed = "run", cm.CommittedAt
	c.render(w, v, http.StatusOK, "draw", wz)
}

// handleDrawRun draws with the seed the browser kept.
func (c *Console) handleDrawRun(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("draw.title")
	req, _, err := carried(r)
	seed := strings.ToLower(strings.TrimSpace(r.FormValue("seed")))
	wz := wizard{Step: "run", Request: r.FormValue("request"), Commitment: r.FormValue("commitment")}
	if err != nil {
		wz.Error = err.Error()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	a := c.call(r.Context(), http.MethodPost, "/v1/draws", v.token(), withSeed(req, asOfNow(c.o.Now()), seed))
	if a.Status != http.StatusCreated && a.Status != http.StatusOK {
		wz.Error = a.problem()
		c.render(w, v, http.StatusBadRequest, "draw", wz)
		return
	}
	var rec struct {
		DrawID string `json:"draw_id"`
	}
	_ = json.Unmarshal(a.Body, &rec)
	http.Redirect(w, r, Prefix+"reg/draws/view?id="+urlQueryEscape(rec.DrawID), http.StatusSeeOther)
}

// drawReview is the review page's data.
type drawReview struct {
	ID        string
	Rec       *draw.V2
	Strata    []strataRow
	Selected  []draw.V2Selected
	More      int
	Published bool
	Error     string
}

type strataRow struct {
	Tier string
	draw.V2Stratum
}

// maxListed bounds the selected entities a page lists.
const maxListed = 500

// handleDrawView is the review: the regulatory edition (strata by tier,
// selection, assignment) and the publish button.
func (c *Console) handleDrawView(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("review.title")
	id := r.URL.Query().Get("id")
	a := c.call(r.Context(), http.MethodGet, "/v1/draws/"+urlPathEscape(id)+"?edition=regulatory", v.token(), nil)
	if a.Status != http.StatusOK {
		c.fail(w, r, v, http.StatusNotFound, "err.nodraw", a.problem())
		return
	}
	rec, err := draw.ParseV2(bytes.TrimSpace(a.Body))
	if err != nil {
		c.fail(w, r, v, http.StatusNotFound, "err.nodraw", err.Error())
		return
	}
	d := drawReview{ID: rec.DrawID, Rec: rec, Selected: rec.Selected}
	if len(d.Selected) > maxListed {
		d.More, d.Selected = len(d.Selected)-maxListed, d.Selected[:maxListed]
	}
	for _, l := range c.tierLabels(r, v) {
		if s, ok := rec.TierStrata[l]; ok {
			d.Strata = append(d.Strata, strataRow{l, s})
		}
	}
	var listing struct {
		Draws []struct {
			DrawID    string `json:"draw_id"`
			Published bool   `json:"published"`
		} `json:"draws"`
	}
	if _, err := c.getJSON(r.Context(), "/v1/draws?plan_id="+urlQueryEscape(rec.Request.PlanID), v.token(), &listing); err == nil {
		for _, x := range listing.Draws {
			d.Published = d.Published || x.DrawID == rec.DrawID && x.Published
		}
	}
	c.render(w, v, http.StatusOK, "review", d)
}

// handleDrawPublish publishes a draw (一公开).
func (c *Console) handleDrawPublish(w http.ResponseWriter, r *http.Request, v *View) {
	id := r.FormValue("id")
	a := c.call(r.Context(), http.MethodPost, "/v1/draws/"+urlPathEscape(id)+"/publish", v.token(), nil)
	if a.Status != http.StatusOK {
		c.fail(w, r, v, a.Status, "err.nodraw", a.problem())
		return
	}
	http.Redirect(w, r, Prefix+"reg/draws/view?id="+urlQueryEscape(id), http.StatusSeeOther)
}

// drawCheck is the public verification page's data.
type drawCheck struct {
	ID       string
	Rec      *draw.V2
	Selected []draw.V2Selected
	More     int
	Summary  *sampler.VerifyV2Summary
	Error    string
	Failed   string
}

// handleDrawVerify verifies a published draw as anyone can: the public
// edition, its population file and amendments, fetched anonymously and
// checked by sampler.VerifyV2 (every check that needs no tier).
func (c *Console) handleDrawVerify(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("dverify.title")
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	d := drawCheck{ID: id}
	if id == "" {
		c.render(w, v, http.StatusOK, "drawverify", d)
		return
	}
	base := "/v1/draws/" + urlPathEscape(id)
	rec := c.call(r.Context(), http.MethodGet, base, "", nil)
	if rec.Status != http.StatusOK {
		d.Error = v.T("err.nodraw")
		c.render(w, v, http.StatusNotFound, "drawverify", d)
		return
	}
	pop := c.call(r.Context(), http.MethodGet, base+"/population", "", nil)
	am := c.call(r.Context(), http.MethodGet, base+"/amendments", "", nil)
	var amendments []byte
	if am.Status == http.StatusOK {
		amendments = am.Body
	}
	parsed, err := draw.ParseV2(bytes.TrimSpace(rec.Body))
	if err != nil {
		d.Error = err.Error()
		c.render(w, v, http.StatusOK, "drawverify", d)
		return
	}
	d.Rec, d.Selected = parsed, parsed.Selected
	if len(d.Selected) > maxListed {
		d.More, d.Selected = len(d.Selected)-maxListed, d.Selected[:maxListed]
	}
	sum, err := sampler.VerifyV2(r.Context(), bytes.TrimSpace(rec.Body), bytes.NewReader(pop.Body), amendments)
	if err != nil {
		d.Failed = err.Error()
	}
	d.Summary = sum
	c.render(w, v, http.StatusOK, "drawverify", d)
}
