package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// handleSignInForm shows the token sign-in.
func (c *Console) handleSignInForm(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("signin.title")
	c.render(w, v, http.StatusOK, "signin", map[string]string{"Next": safeNext(r.URL.Query().Get("next"))})
}

// handleSignIn checks a bearer token once (the tokens file's roles) and,
// for a regulator's, starts a new session (a new id: no fixation) holding
// the token server-side.
func (c *Console) handleSignIn(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("signin.title")
	tok := strings.TrimSpace(r.FormValue("token"))
	next := safeNext(r.FormValue("next"))
	probe, _ := http.NewRequest(http.MethodGet, "/", nil)
	probe.Header.Set("Authorization", "Bearer "+tok)
	role, err := c.o.Tokens.RoleOf(probe)
	if tok == "" || err != nil || role != api.RoleRegulator {
		key := "signin.bad"
		if err == nil && role != api.RoleRegulator && tok != "" {
			key = "signin.notreg"
		}
		c.o.Logger.Warn("console sign-in refused", "role", string(role))
		c.render(w, v, http.StatusUnauthorized, "signin", map[string]string{"Next": next, "Error": v.T(key)})
		return
	}
	c.sessions.end(w, r, v.Session)
	c.sessions.create(w, r, role, tok)
	c.o.Logger.Info("console sign-in", "role", string(role))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut ends the session.
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request, v *View) {
	c.sessions.end(w, r, v.Session)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// tierStats is the part of GET /v1/stats/tiers the dashboard shows.
type tierStats struct {
	AsOf         string `json:"as_of"`
	TierScheme   string `json:"tier_scheme"`
	RegionPrefix string `json:"region_prefix"`
	Entities     int    `json:"entities"`
	Tiers        []struct {
		Tier          string `json:"tier"`
		Entities      int    `json:"entities"`
		Inspections   int    `json:"inspections"`
		ProblemsFound int    `json:"problems_found"`
	} `json:"tiers"`
}

// dashboard is the regulator dashboard's data.
type dashboard struct {
	Prefix   string
	Error    string
	Now      tierStats
	Dist     chart
	Hits     chart
	HitRows  []hitRow
	Months   []monthRow
	Trend    chart
	Labels   []string
	History  bool // ClickHouse history is configured
	AsOfText string
	// Models is the model monitoring card (models.go).
	Models *modelsCard
}

type hitRow struct {
	Tier               string
	Inspections, Found int
	Rate, Low, High    string
	HasRate            bool
}

type monthRow struct {
	AsOf   string
	Counts []int
	Total  int
}

// monthsBack is how many month ends the trend shows.
const monthsBack = 6

// handleDashboard shows the tier distribution for a region prefix now
// and at the last month ends, and the hit rates by tier with 95% Wilson
// intervals (charts with the numbers in tables).
func (c *Console) handleDashboard(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("dash.title")
	prefix := strings.TrimSpace(r.URL.Query().Get("region_prefix"))
	d := dashboard{Prefix: prefix}
	q := "?region_prefix=" + urlQueryEscape(prefix)
	if _, err := c.getJSON(r.Context(), "/v1/stats/tiers"+q, v.token(), &d.Now); err != nil {
		d.Error = err.Error()
		c.render(w, v, http.StatusBadRequest, "dashboard", d)
		return
	}
	d.AsOfText = d.Now.AsOf
	var bars []bar
	for _, t := range d.Now.Tiers {
		d.Labels = append(d.Labels, t.Tier)
		bars = append(bars, bar{Label: t.Tier, Value: float64(t.Entities), Text: fmt.Sprint(t.Entities)})
		row := hitRow{Tier: t.Tier, Inspections: t.Inspections, Found: t.ProblemsFound}
		if t.Inspections > 0 {
			p, lo, hi := wilson(t.ProblemsFound, t.Inspections)
			row.Rate, row.Low, row.High, row.HasRate = pct(p), pct(lo), pct(hi), true
		}
		d.HitRows = append(d.HitRows, row)
	}
	d.Dist = barChart(v.T("dash.dist"), bars)
	d.Hits = intervalChart(v.T("dash.hits"), d.HitRows)
	// the trend: the same statistics as of each of the last month ends
	now := c.o.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var series [][]int
	for i := monthsBack; i >= 1; i-- {
		end := first.AddDate(0, -i+1, 0).Add(-time.Second)
		var st tierStats
		if _, err := c.getJSON(r.Context(), "/v1/stats/tiers"+q+"&as_of="+urlQueryEscape(end.Format(time.RFC3339)), v.token(), &st); err != nil {
			continue
		}
		m := monthRow{AsOf: end.Format("2006-01")}
		for _, t := range st.Tiers {
			m.Counts = append(m.Counts, t.Entities)
			m.Total += t.Entities
		}
		d.Months = append(d.Months, m)
		series = append(series, m.Counts)
	}
	var xs []string
	for _, m := range d.Months {
		xs = append(xs, m.AsOf)
	}
	d.Trend = stackedChart(v.T("dash.trend"), xs, d.Labels, series)
	d.History = c.call(r.Context(), http.MethodGet, "/v1/stats/tiers/history", v.token(), nil).Status == http.StatusOK
	d.Models = c.modelsSummary(r.Context(), v)
	c.render(w, v, http.StatusOK, "dashboard", d)
}

// handleEntity is the drill-down: score, tier, reasons, records timeline.
// Joint measures (workflows) add a section here when merged.
func (c *Console) handleEntity(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("entity.title")
	code := normUSCC(r.URL.Query().Get("uscc"))
	data := map[string]any{"USCC": code}
	if code != "" {
		var e api.Entity
		if _, err := c.getJSON(r.Context(), "/v1/entities/"+urlPathEscape(code)+"?records=1", v.token(), &e); err != nil {
			data["Error"] = err.Error()
		} else {
			data["E"] = e
			v.Title = e.Name + " · " + v.T("entity.title")
		}
	}
	c.render(w, v, http.StatusOK, "entity", data)
}
