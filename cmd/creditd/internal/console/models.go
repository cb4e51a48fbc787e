package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	"github.com/creditrisk/creditd/scoring"
)

// Model monitoring for regulators (domain.md §8): the champion's score
// drift (PSI against the reference in its artifact, read with the
// thresholds scoring.PSIWatch and scoring.PSIAlert) and, when creditd runs
// with --challenger, the challenger scored in shadow: its tiers, its
// agreement with the champion and its inspection hit rates next to the
// champion's. Everything comes from the API as the signed-in regulator
// calls it: GET /v1/stats/challenger (the latest monitoring scan, whose
// numbers GET /v1/stats/challenger/metrics also exports), GET
// /v1/stats/tiers (the champion's hit rates) and, with ClickHouse, GET
// /v1/stats/tiers/history (the PSI at each month's last scan).

// modelsPage is the model monitoring page's data.
type modelsPage struct {
	// Unavailable is the message key when there is no scan to show
	// (monitoring not running, first scan not finished), Detail the API's
	// words.
	Unavailable, Detail string
	Doc                 *monitor.Doc
	Champion            driftView
	Challenger          *driftView
	// Agreement is the champion tier × challenger tier matrix.
	Agreement               []agreeRow
	ChallTiers              []string
	AgreementRate           string
	Agreeing                int64
	ChallDist               chart
	ChallRows               []distRow
	HitsChampion, HitsChall chart
	HitRows                 []hitPair
	// Months is the PSI at each month's last scan (ClickHouse history);
	// MonthsNote explains an absent series.
	Months []psiMonth
	// MonthsKey is the message key of why there is no monthly PSI,
	// MonthsNote the API's words.
	MonthsKey, MonthsNote string
	MonthsPSI             chart
	History               bool
}

// driftView is one model's drift: PSI, its level and the bands.
type driftView struct {
	Model, Scheme string
	HasPSI        bool
	PSI           string
	// Level is the API's level (stable, watch, alert), LevelKey its
	// message key.
	Level, LevelKey string
	Note            string
	RefAsOf         string
	RefEntities     int
	Bands           []bandRow
	Chart           chart
}

type bandRow struct {
	Range                string
	RefShare, Share      string
	Entities             int64
	RefValue, ShareValue float64
}

type agreeRow struct {
	Tier  string
	Cells []agreeCell
	Total int64
}

type agreeCell struct {
	Count int64
	Share string
	// Heat is a shading class 0..5 by share (inline styles are barred by
	// the console's content security policy).
	Heat  int
	Agree bool
}

type distRow struct {
	Tier     string
	Entities int64
	Share    string
}

// hitPair is one tier label's hit rate under the champion and under the
// challenger.
type hitPair struct {
	Tier        string
	Champ, Chal hitRow
}

type psiMonth struct {
	Month, PSI, Level, LevelKey string
	HasPSI                      bool
}

// levelKey is the message key of a PSI level (monitor.Level).
func levelKey(level string) string {
	switch level {
	case "stable", "watch", "alert":
		return "models.level." + level
	}
	return "models.level.none"
}

// modelsCard is the dashboard's summary of the latest scan.
type modelsCard struct {
	Unavailable   string
	Champion      driftView
	Challenger    string
	AgreementRate string
}

// modelsSummary is the dashboard card: the champion's PSI and, with a
// challenger, the agreement rate.
func (c *Console) modelsSummary(ctx context.Context, v *View) *modelsCard {
	var doc monitor.Doc
	a, err := c.getJSON(ctx, "/v1/stats/challenger", v.token(), &doc)
	if err != nil {
		key := "models.error"
		switch a.Status {
		case http.StatusServiceUnavailable:
			key = "models.pending"
		case http.StatusNotImplemented:
			key = "models.off"
		}
		return &modelsCard{Unavailable: key}
	}
	mc := &modelsCard{Champion: driftOf(v, &doc.Champion)}
	if doc.Challenger != nil {
		mc.Challenger = doc.Challenger.Model
		if r := doc.Agreement.AgreementRate; r != nil {
			mc.AgreementRate = pct(*r)
		}
	}
	return mc
}

// handleModels shows the latest model monitoring scan.
func (c *Console) handleModels(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("models.title")
	d := c.modelsData(r.Context(), v)
	c.render(w, v, http.StatusOK, "models", d)
}

func (c *Console) modelsData(ctx context.Context, v *View) *modelsPage {
	d := &modelsPage{}
	a := c.call(ctx, http.MethodGet, "/v1/stats/challenger", v.token(), nil)
	switch a.Status {
	case http.StatusOK:
	case http.StatusServiceUnavailable:
		d.Unavailable, d.Detail = "models.pending", a.problem()
		return d
	case http.StatusNotImplemented:
		d.Unavailable, d.Detail = "models.off", a.problem()
		return d
	default:
		d.Unavailable, d.Detail = "models.error", a.problem()
		return d
	}
	var doc monitor.Doc
	if err := json.Unmarshal(a.Body, &doc); err != nil {
		d.Unavailable, d.Detail = "models.error", err.Error()
		return d
	}
	d.Doc = &doc
	d.Champion = driftOf(v, &doc.Champion)
	if doc.Challenger != nil {
		cv := driftOf(v, doc.Challenger)
		d.Challenger = &cv
		c.challengerData(ctx, v, d)
	}
	c.monthlyPSI(ctx, v, d)
	return d
}

// driftOf is a model's drift as the page shows it.
func driftOf(v *View, m *monitor.ModelDoc) driftView {
	dv := driftView{Model: m.Model, Scheme: m.TierScheme, Level: m.Drift.Level, LevelKey: levelKey(m.Drift.Level)}
	if m.Drift.Reference == nil {
		dv.Note = v.T("models.noref")
		return dv
	}
	dv.RefAsOf, dv.RefEntities = m.Drift.Reference.AsOf, m.Drift.Reference.Entities
	if m.Drift.PSI != nil {
		dv.HasPSI, dv.PSI = true, strconv.FormatFloat(*m.Drift.PSI, 'f', 4, 64)
	} else {
		dv.Note = v.T("models.nopsi")
	}
	var xs []string
	var ref, now []float64
	for _, b := range m.Drift.Bands {
		rng := bandRange(b)
		dv.Bands = append(dv.Bands, bandRow{Range: rng, RefShare: pct(b.ReferenceShare), Share: pct(b.Share), Entities: b.Entities,
			RefValue: b.ReferenceShare, ShareValue: b.Share})
		xs = append(xs, rng)
		ref = append(ref, 100*b.ReferenceShare)
		now = append(now, 100*b.Share)
	}
	dv.Chart = pairChart(v.T("models.bands")+" · "+m.Model, xs, [2]string{v.T("models.ref"), v.T("models.now")}, ref, now)
	return dv
}

// bandRange names a score band [lo, hi).
func bandRange(b monitor.Band) string {
	switch {
	case b.Lo == nil && b.Hi == nil:
		return "*"
	case b.Lo == nil:
		return fmt.Sprintf("< %d", *b.Hi)
	case b.Hi == nil:
		return fmt.Sprintf("≥ %d", *b.Lo)
	}
	return fmt.Sprintf("%d–%d", *b.Lo, *b.Hi)
}

// challengerData fills the agreement matrix, the challenger's tier
// distribution and the hit rates of both models by tier.
func (c *Console) challengerData(ctx context.Context, v *View, d *modelsPage) {
	doc := d.Doc
	ag := doc.Agreement
	d.ChallTiers = ag.ChallengerTiers
	d.Agreeing = ag.Agreeing
	if ag.AgreementRate != nil {
		d.AgreementRate = pct(*ag.AgreementRate)
	}
	for i, row := range ag.Counts {
		ar := agreeRow{Tier: ag.ChampionTiers[i]}
		for j, n := range row {
			share := 0.0
			if doc.Entities > 0 {
				share = float64(n) / float64(doc.Entities)
			}
			ar.Cells = append(ar.Cells, agreeCell{Count: n, Share: pct(share), Heat: heat(share),
				Agree: ag.ChampionTiers[i] == ag.ChallengerTiers[j]})
			ar.Total += n
		}
		d.Agreement = append(d.Agreement, ar)
	}
	var bars []bar
	challRows := map[string]hitRow{}
	for _, t := range doc.Challenger.Tiers {
		share := 0.0
		if doc.Entities > 0 {
			share = float64(t.Entities) / float64(doc.Entities)
		}
		d.ChallRows = append(d.ChallRows, distRow{Tier: t.Tier, Entities: t.Entities, Share: pct(share)})
		bars = append(bars, bar{Label: t.Tier, Value: float64(t.Entities), Text: fmt.Sprint(t.Entities)})
		row := hitRow{Tier: t.Tier}
		if t.Inspections != nil && t.ProblemsFound != nil {
			row.Inspections, row.Found = int(*t.Inspections), int(*t.ProblemsFound)
		}
		if t.HitRate != nil && t.HitRateLow != nil && t.HitRateHigh != nil {
			row.Rate, row.Low, row.High, row.HasRate = pct(*t.HitRate), pct(*t.HitRateLow), pct(*t.HitRateHigh), true
		}
		challRows[t.Tier] = row
	}
	d.ChallDist = barChart(v.T("models.challdist"), bars)
	// The champion's hit rates: GET /v1/stats/tiers as of the scan, the
	// whole province as the scan is.
	var st tierStats
	champRows := map[string]hitRow{}
	if _, err := c.getJSON(ctx, "/v1/stats/tiers?as_of="+urlQueryEscape(doc.AsOf), v.token(), &st); err == nil {
		for _, t := range st.Tiers {
			champRows[t.Tier] = hitRowOf(t.Tier, t.ProblemsFound, t.Inspections)
		}
	}
	var champList, challList []hitRow
	for _, l := range unionLabels(ag.ChampionTiers, ag.ChallengerTiers) {
		p := hitPair{Tier: l, Champ: champRows[l], Chal: challRows[l]}
		d.HitRows = append(d.HitRows, p)
		champList = append(champList, hitRowOr(l, champRows))
		challList = append(challList, hitRowOr(l, challRows))
	}
	d.HitsChampion = intervalChart(v.T("models.hitschamp")+" · "+doc.Champion.Model, champList)
	d.HitsChall = intervalChart(v.T("models.hitschall")+" · "+doc.Challenger.Model, challList)
}

// hitRowOf is a tier's hit rate k/n with its Wilson interval.
func hitRowOf(tier string, k, n int) hitRow {
	row := hitRow{Tier: tier, Inspections: n, Found: k}
	if n > 0 {
		p, lo, hi := wilson(k, n)
		row.Rate, row.Low, row.High, row.HasRate = pct(p), pct(lo), pct(hi), true
	}
	return row
}

func hitRowOr(tier string, rows map[string]hitRow) hitRow {
	if r, ok := rows[tier]; ok {
		return r
	}
	return hitRow{Tier: tier}
}

// unionLabels is a's labels then b's not in a.
func unionLabels(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, l := range b {
		found := false
		for _, x := range a {
			found = found || x == l
		}
		if !found {
			out = append(out, l)
		}
	}
	return out
}

// heat buckets a share of the population for the matrix's shading.
func heat(share float64) int {
	switch {
	case share <= 0:
		return 0
	case share < 0.02:
		return 1
	case share < 0.05:
		return 2
	case share < 0.15:
		return 3
	case share < 0.30:
		return 4
	}
	return 5
}

// tierHistoryPSI is the part of GET /v1/stats/tiers/history the page
// shows: each month's PSI of the champion.
type tierHistoryPSI struct {
	PSIModel string `json:"psi_model"`
	PSINote  string `json:"psi_note"`
	Series   []struct {
		Months []struct {
			Month string   `json:"month"`
			PSI   *float64 `json:"psi"`
		} `json:"months"`
	} `json:"series"`
}

// monthlyPSI fills the champion's PSI per month from the ClickHouse
// history when creditd has one.
func (c *Console) monthlyPSI(ctx context.Context, v *View, d *modelsPage) {
	var h tierHistoryPSI
	a, err := c.getJSON(ctx, "/v1/stats/tiers/history", v.token(), &h)
	if a.Status == http.StatusNotImplemented {
		d.MonthsKey, d.MonthsNote = "models.nomonths", a.problem()
		return
	}
	d.History = true
	if err != nil {
		d.MonthsKey, d.MonthsNote = "models.error", err.Error()
		return
	}
	if h.PSINote != "" {
		d.MonthsKey, d.MonthsNote = "models.monthsnote", h.PSINote
	}
	// The PSI is the whole population's, the same in every series.
	if len(h.Series) == 0 {
		return
	}
	var bars []bar
	for _, m := range h.Series[0].Months {
		pm := psiMonth{Month: m.Month, LevelKey: levelKey("")}
		if m.PSI != nil {
			pm.HasPSI, pm.PSI, pm.Level = true, strconv.FormatFloat(*m.PSI, 'f', 4, 64), monitor.Level(*m.PSI)
			pm.LevelKey = levelKey(pm.Level)
			bars = append(bars, bar{Label: m.Month, Value: *m.PSI, Text: pm.PSI})
		}
		d.Months = append(d.Months, pm)
	}
	if len(bars) > 0 {
		d.MonthsPSI = barChart(v.T("models.months")+" · "+h.PSIModel, bars, scoring.PSIWatch, scoring.PSIAlert)
	}
}
