package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/tier"
)

// Analytics over the history tables, for GET /v1/stats/tiers/history,
// /v1/stats/hit-rates and /v1/stats/tier-changes. Results are plain structs
// with JSON tags. Months are calendar months in UTC, written "2006-01".
//
// Query parameters are checked (prefixes are digits, months in range) and
// string values are embedded as escaped literals (quote): 18.16 has no
// server-side parameters.

// ErrBadQuery wraps every invalid-parameter error of the analytics queries.
var ErrBadQuery = errors.New("bad query")

// maxMonths bounds a monthly series.
const maxMonths = 240

var prefixRE = regexp.MustCompile(`^[0-9]{0,6}$`)

func checkPrefix(p string) error {
	if !prefixRE.MatchString(p) {
		return fmt.Errorf("%w: division-code prefix %q must be 0–6 digits", ErrBadQuery, p)
	}
	return nil
}

// ParseMonth parses "2006-01" as the first instant of that month, UTC.
func ParseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: month %q: want YYYY-MM", ErrBadQuery, s)
	}
	return t, nil
}

// monthIndex numbers months: year×12 + month−1, the same expression the
// queries compute in SQL (toYear(at)*12 + toMonth(at) - 1).
func monthIndex(t time.Time) int {
	t = t.UTC()
	return t.Year()*12 + int(t.Month()) - 1
}

func monthStart(idx int) time.Time {
	return time.Date(idx/12, time.Month(idx%12+1), 1, 0, 0, 0, 0, time.UTC)
}

func monthLabel(idx int) string { return monthStart(idx).Format("2006-01") }

// monthRange resolves From/To (any instant inside the first and last
// month; zero To = the current month, zero From = 11 months before To).
func monthRange(from, to time.Time) (first, last int, err error) {
	if to.IsZero() {
		to = time.Now()
	}
	last = monthIndex(to)
	if from.IsZero() {
		first = last - 11
	} else {
		first = monthIndex(from)
	}
	if first > last {
		return 0, 0, fmt.Errorf("%w: from %s is after to %s", ErrBadQuery, monthLabel(first), monthLabel(last))
	}
	if last-first+1 > maxMonths {
		return 0, 0, fmt.Errorf("%w: %d months requested, at most %d", ErrBadQuery, last-first+1, maxMonths)
	}
	if first < monthIndex(minTime) || monthStart(last+1).After(maxTime) {
		return 0, 0, fmt.Errorf("%w: months must lie in 1970–2105", ErrBadQuery)
	}
	return first, last, nil
}

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// likePrefix is a LIKE pattern matching strings that start with a
// digits-only prefix (checked by checkPrefix, so no LIKE metacharacters).
func likePrefix(p string) string { return quote(p + "%") }

// schemeLabels orders a scheme's tier labels: the built-in scheme's order,
// then any other label seen, sorted.
func schemeLabels(scheme string, seen map[string]bool) []string {
	var out []string
	if s, err := tier.LookupScheme(scheme); err == nil {
		out = append(out, s.Labels...)
	}
	var extra []string
	for l := range seen {
		if !slices.Contains(out, l) {
			extra = append(extra, l)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// --- (a) tier distribution over time --------------------------------------

// TierHistoryQuery selects a tier distribution series.
type TierHistoryQuery struct {
	// Prefix keeps entities whose 6-digit division code starts with it
	// ("" all, "37" Shandong, "3702" Qingdao).
	Prefix string
	// From and To are the first and last month (any instant in them, UTC),
	// inclusive. Zero To: the current month; zero From: 11 months before To.
	From, To time.Time
	// Scheme keeps one tier scheme ("" = every scheme, each its own series).
	Scheme string
	// Drift asks for each month's PSI of a model's score distribution;
	// nil: no PSI column.
	Drift *DriftQuery
}

// DriftQuery names the model whose drift TierHistory reports per month.
type DriftQuery struct {
	// Model is the model's identity as score_bands stores it (role
	// champion).
	Model string
	// Bands is the number of bands of its reference.
	Bands int
	// PSI is the population stability index of counts per band against
	// the model's reference (scoring.PSI).
	PSI func(counts []int64) float64
	// Note is said instead when there is no PSI at all (e.g. the model
	// has no reference); Model and PSI are then unused.
	Note string
}

// TierHistory is the number of entities in each tier at the end of each
// month.
type TierHistory struct {
	Prefix string `json:"prefix"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Method explains how the counts are computed.
	Method string       `json:"method"`
	Series []TierSeries `json:"series"`
	// PSIModel is the model whose drift the months' psi measure; PSINote
	// explains a null psi (see TierMonth.PSI).
	PSIModel string `json:"psi_model,omitempty"`
	PSINote  string `json:"psi_note,omitempty"`
}

// TierSeries is one scheme's monthly distribution.
type TierSeries struct {
	Scheme string `json:"scheme"`
	// Tiers are the labels, lowest risk first.
	Tiers  []string    `json:"tiers"`
	Months []TierMonth `json:"months"`
}

// TierMonth is the distribution at the end of one month.
type TierMonth struct {
	Month string `json:"month"`
	// Counts maps every tier label of the series to its entity count.
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
	// PSI is the population stability index of PSIModel's score
	// distribution at its last monitoring scan in the month (each scanned
	// part's latest scan, summed) against the model's reference: the whole
	// population, whatever the prefix. Null without a scan of that model
	// in the month or without a reference (PSINote).
	PSI *float64 `json:"psi"`
}

// TierHistoryMethod documents TierHistory's computation.
const TierHistoryMethod = "For each month end (the first instant of the next month, UTC), every entity is counted once, " +
	"in the tier of its latest tier change at or before that instant (latest by at and milliseconds; equal instants are " +
	"ordered by label); entities whose latest change has no new tier (deregistered) and entities with no change yet are " +
	"not counted. An entity is placed by the division code and scheme of that latest change. Re-inserted duplicate rows " +
	"do not change the counts."

// TierHistory computes the tier distribution at each month end of the
// range, from tier_changes (see TierHistoryMethod).
//
// How: each entity's changes are sorted by time (one groupArray per
// entity); change k holds from its month until the month of change k+1, so
// it adds +1 to its (scheme, tier) at its own month and −1 at the next
// change's month (a change superseded within its month nets to zero, and
// so does an identical duplicate row). The server sums these deltas per
// month, scheme and tier; the running sum over months, done here, is the
// count at each month end. The cost is one pass over the entity's changes,
// whatever the number of months asked for (the first version fanned each
// change out to every later month and spent 2–13 s on 145,000 changes on
// 18.16, against 0.2–0.4 s now). 18.16 rejects lambdas that capture
// columns from another SELECT level and is slow to aggregate strings with
// argMax, which shaped this query; a groupArray of tuples was the fastest
// of the forms tried.
func (q *Querier) TierHistory(ctx context.Context, tq TierHistoryQuery) (*TierHistory, error) {
	if err := checkPrefix(tq.Prefix); err != nil {
		return nil, err
	}
	first, last, err := monthRange(tq.From, tq.To)
	if err != nil {
		return nil, err
	}
	where := "c.3 != '' AND c.5 LIKE " + likePrefix(tq.Prefix)
	// Only entities with a change in the region (and scheme) can count;
	// with a filter, the per-entity work is limited to them (3× faster for
	// a quarter of the rows). Their other changes stay in, so an entity
	// that moved away is still counted right.
	entities := ""
	if tq.Prefix != "" || tq.Scheme != "" {
		sub := "region LIKE " + likePrefix(tq.Prefix)
		if tq.Scheme != "" {
			sub += " AND scheme = " + quote(tq.Scheme)
		}
		entities = " AND uscc IN (SELECT uscc FROM {db}.tier_changes WHERE " + sub + ")"
	}
	if tq.Scheme != "" {
		where += " AND c.4 = " + quote(tq.Scheme)
	}
	// arr: (ms since epoch, month index, tier, scheme, region), sorted.
	query := q.sql(fmt.Sprintf(`
SELECT ev.1 AS mon, c.4 AS scheme, c.3 AS tier, sum(ev.2) AS delta FROM (
  SELECT c, arrayJoin([(c.2, toInt64(1)), (nxt, toInt64(-1))]) AS ev FROM (
    SELECT arr, arrayPushBack(arrayPopFront(arrayMap(x -> x.2, arr)), toInt32(2147483647)) AS nexts FROM (
      SELECT uscc, arraySort(groupArray((toUInt64(at) * 1000 + at_ms, toInt32(toYear(at) * 12 + toMonth(at) - 1), new_tier, scheme, region))) AS arr
      FROM {db}.tier_changes
      WHERE at < toDateTime(%d)%s
      GROUP BY uscc))
  ARRAY JOIN arr AS c, nexts AS nxt)
WHERE ev.1 <= %d AND %s
GROUP BY mon, scheme, tier
HAVING delta != 0
ORDER BY mon, scheme, tier`, monthStart(last+1).Unix(), entities, last, where))
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	rows, err := q.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("clickhouse tier history: %w", err)
	}
	defer rows.Close()
	type st struct{ scheme, tier string }
	type delta struct {
		mon int
		d   int64
	}
	deltas := map[st][]delta{} // in month order (ORDER BY)
	for rows.Next() {
		var mon int32
		var k st
		var d int64
		if err := rows.Scan(&mon, &k.scheme, &k.tier, &d); err != nil {
			return nil, fmt.Errorf("clickhouse tier history: %w", err)
		}
		deltas[k] = append(deltas[k], delta{int(mon), d})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse tier history: %w", err)
	}
	// Running sums: counts[scheme][tier][m-first].
	counts := map[string]map[string][]int64{}
	for k, ds := range deltas {
		series := make([]int64, last-first+1)
		var run int64
		j := 0
		for m := first; m <= last; m++ {
			for j < len(ds) && ds[j].mon <= m {
				run += ds[j].d
				j++
			}
			series[m-first] = run
		}
		if !slices.ContainsFunc(series, func(n int64) bool { return n != 0 }) {
			continue
		}
		if counts[k.scheme] == nil {
			counts[k.scheme] = map[string][]int64{}
		}
		counts[k.scheme][k.tier] = series
	}
	if tq.Scheme != "" && counts[tq.Scheme] == nil {
		counts[tq.Scheme] = map[string][]int64{}
	}
	out := &TierHistory{Prefix: tq.Prefix, From: monthLabel(first), To: monthLabel(last), Method: TierHistoryMethod, Series: []TierSeries{}}
	for _, scheme := range slices.Sorted(maps.Keys(counts)) {
		seen := map[string]bool{}
		for t := range counts[scheme] {
			seen[t] = true
		}
		ser := TierSeries{Scheme: scheme, Tiers: schemeLabels(scheme, seen)}
		for m := first; m <= last; m++ {
			tm := TierMonth{Month: monthLabel(m), Counts: make(map[string]int64, len(ser.Tiers))}
			for _, l := range ser.Tiers {
				var n int64
				if c := counts[scheme][l]; c != nil {
					n = c[m-first]
				}
				tm.Counts[l] = n
				tm.Total += n
			}
			ser.Months = append(ser.Months, tm)
		}
		out.Series = append(out.Series, ser)
	}
	if tq.Drift != nil {
		if err := q.monthlyPSI(ctx, tq.Drift, first, last, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// monthlyPSI fills the months' PSI from score_bands: per month, each
// part's latest scan of the model, summed over parts.
func (q *Querier) monthlyPSI(ctx context.Context, dq *DriftQuery, first, last int, out *TierHistory) error {
	if dq.PSI == nil {
		out.PSINote = dq.Note
		return nil
	}
	out.PSIModel = dq.Model
	query := q.sql(fmt.Sprintf(`
SELECT mon, band, sum(n) FROM (
  SELECT toInt32(toYear(scanned_at) * 12 + toMonth(scanned_at) - 1) AS mon, part, band,
         argMax(entities, toUInt64(scanned_at) * 1000 + scanned_ms) AS n
  FROM {db}.score_bands FINAL
  WHERE model = %s AND role = 'champion' AND scanned_at >= toDateTime(%d) AND scanned_at < toDateTime(%d)
  GROUP BY mon, part, band)
GROUP BY mon, band
ORDER BY mon, band`, quote(dq.Model), monthStart(first).Unix(), monthStart(last+1).Unix()))
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	rows, err := q.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("clickhouse score drift: %w", err)
	}
	defer rows.Close()
	counts := map[int][]int64{}
	for rows.Next() {
		var mon int32
		var band uint32
		var n uint64
		if err := rows.Scan(&mon, &band, &n); err != nil {
			return fmt.Errorf("clickhouse score drift: %w", err)
		}
		if int(band) >= dq.Bands {
			continue // a band of another reference under the same model name cannot be compared
		}
		if counts[int(mon)] == nil {
			counts[int(mon)] = make([]int64, dq.Bands)
		}
		counts[int(mon)][band] += int64(n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse score drift: %w", err)
	}
	for si := range out.Series {
		for mi := range out.Series[si].Months {
			if c := counts[first+mi]; c != nil && slices.ContainsFunc(c, func(n int64) bool { return n > 0 }) {
				psi := dq.PSI(c)
				out.Series[si].Months[mi].PSI = &psi
			}
		}
	}
	if len(counts) == 0 {
		out.PSINote = "no monitoring scan of " + dq.Model + " in the range"
	}
	return nil
}

// --- (b) inspection hit rates ----------------------------------------------

// HitRateQuery selects inspections for hit rates.
type HitRateQuery struct {
	// Prefix keeps inspections of entities whose division code starts with it.
	Prefix string
	// From and To are the first and last month, inclusive (as TierHistoryQuery).
	From, To time.Time
	// Scheme keeps one tier scheme ("" = all).
	Scheme string
	// PlanID keeps one inspection plan ("" = all).
	PlanID string
	// RandomOnly keeps inspections whose plan has a recorded draw, i.e. the
	// double-random ones: only those estimate a tier's problem rate without
	// the bias of targeted inspections.
	RandomOnly bool
}

// HitRates are inspection outcomes per tier and month.
type HitRates struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Definition explains the rates.
	Definition string `json:"definition"`
	// Rows are per month, scheme and tier at inspection, months ascending.
	Rows []HitRateRow `json:"rows"`
	// Totals are per scheme and tier over the whole range (Month "").
	Totals []HitRateRow `json:"totals"`
}

// HitRateRow counts one cell's inspections by result.
type HitRateRow struct {
	Month  string `json:"month,omitempty"`
	Scheme string `json:"scheme"`
	// Tier is the entity's tier just before the inspection ("" unknown).
	Tier         string `json:"tier"`
	Inspections  int64  `json:"inspections"`
	ProblemFound int64  `json:"problem_found"`
	Corrected    int64  `json:"corrected"`
	NoProblem    int64  `json:"no_problem"`
	Refused      int64  `json:"refused"`
	Unreachable  int64  `json:"unreachable"`
	// Other counts results outside credit-event/v1's five.
	Other int64 `json:"other"`
	// Found = ProblemFound + Corrected: inspections that found a problem.
	Found int64 `json:"found"`
	// HitRate = Found / Inspections, with its Wilson 95% interval.
	HitRate     float64 `json:"hit_rate"`
	HitRateLow  float64 `json:"hit_rate_low"`
	HitRateHigh float64 `json:"hit_rate_high"`
	// AdverseRate = (Found + Refused + Unreachable) / Inspections: the
	// broader reading of domain.md §8, where "unreachable at the registered
	// address" and "serious non-cooperation" also count as findings.
	AdverseRate float64 `json:"adverse_rate"`
}

// HitRateDefinition documents the hit-rate columns.
const HitRateDefinition = "Each inspection is counted once (deduplicated by event id) in the month of its occurred_at (UTC) and " +
	"under the tier its entity had just before the inspection. found = problem_found + corrected (a problem was found, " +
	"whether or not it was corrected on the spot); hit_rate = found / inspections, with a Wilson 95% interval; " +
	"adverse_rate = (found + refused + unreachable) / inspections. no_problem counts as no finding. A sound risk model " +
	"shows hit_rate rising from the lowest-risk tier to the highest (domain.md §8); only double-random inspections " +
	"(random_only) estimate it without selection bias."

// HitRates computes inspection outcomes per tier and month from the
// inspections table (see HitRateDefinition).
func (q *Querier) HitRates(ctx context.Context, hq HitRateQuery) (*HitRates, error) {
	if err := checkPrefix(hq.Prefix); err != nil {
		return nil, err
	}
	first, last, err := monthRange(hq.From, hq.To)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("at >= toDateTime(%d) AND at < toDateTime(%d) AND region LIKE %s",
		monthStart(first).Unix(), monthStart(last+1).Unix(), likePrefix(hq.Prefix))
	if hq.Scheme != "" {
		where += " AND scheme = " + quote(hq.Scheme)
	}
	if hq.PlanID != "" {
		where += " AND plan_id = " + quote(hq.PlanID)
	}
	if hq.RandomOnly {
		where += " AND plan_id IN (SELECT plan_id FROM {db}.draws)"
	}
	query := q.sql(`
SELECT toInt32(toYear(at) * 12 + toMonth(at) - 1) AS mon, scheme, tier_at_inspection,
       count(), countIf(result = 'problem_found'), countIf(result = 'corrected'), countIf(result = 'no_problem'),
       countIf(result = 'refused'), countIf(result = 'unreachable')
FROM {db}.inspections FINAL
WHERE ` + where + `
GROUP BY mon, scheme, tier_at_inspection
ORDER BY mon, scheme, tier_at_inspection`)
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	rows, err := q.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("clickhouse hit rates: %w", err)
	}
	defer rows.Close()
	out := &HitRates{From: monthLabel(first), To: monthLabel(last), Definition: HitRateDefinition, Rows: []HitRateRow{}, Totals: []HitRateRow{}}
	type tk struct{ scheme, tier string }
	totals := map[tk]*HitRateRow{}
	for rows.Next() {
		var mon int32
		var r HitRateRow
		var n, pf, co, np, rf, un uint64
		if err := rows.Scan(&mon, &r.Scheme, &r.Tier, &n, &pf, &co, &np, &rf, &un); err != nil {
			return nil, fmt.Errorf("clickhouse hit rates: %w", err)
		}
		r.Month = monthLabel(int(mon))
		r.Inspections, r.ProblemFound, r.Corrected, r.NoProblem, r.Refused, r.Unreachable =
			int64(n), int64(pf), int64(co), int64(np), int64(rf), int64(un)
		r.finish()
		out.Rows = append(out.Rows, r)
		t := totals[tk{r.Scheme, r.Tier}]
		if t == nil {
			t = &HitRateRow{Scheme: r.Scheme, Tier: r.Tier}
			totals[tk{r.Scheme, r.Tier}] = t
		}
		t.Inspections += r.Inspections
		t.ProblemFound += r.ProblemFound
		t.Corrected += r.Corrected
		t.NoProblem += r.NoProblem
		t.Refused += r.Refused
		t.Unreachable += r.Unreachable
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse hit rates: %w", err)
	}
	for _, t := range totals {
		t.finish()
		out.Totals = append(out.Totals, *t)
	}
	slices.SortFunc(out.Totals, func(a, b HitRateRow) int {
		if c := strings.Compare(a.Scheme, b.Scheme); c != 0 {
			return c
		}
		return tierCompare(a.Scheme, a.Tier, b.Tier)
	})
	slices.SortStableFunc(out.Rows, func(a, b HitRateRow) int {
		if c := strings.Compare(a.Month, b.Month); c != 0 {
			return c
		}
		if c := strings.Compare(a.Scheme, b.Scheme); c != 0 {
			return c
		}
		return tierCompare(a.Scheme, a.Tier, b.Tier)
	})
	return out, nil
}

// tierCompare orders labels by the scheme's risk order when known.
func tierCompare(scheme, a, b string) int {
	if s, err := tier.LookupScheme(scheme); err == nil {
		ia, ib := slices.Index(s.Labels, a), slices.Index(s.Labels, b)
		if ia >= 0 && ib >= 0 {
			return ia - ib
		}
	}
	return strings.Compare(a, b)
}

// finish derives Other, Found and the rates from the counts.
func (r *HitRateRow) finish() {
	r.Other = r.Inspections - r.ProblemFound - r.Corrected - r.NoProblem - r.Refused - r.Unreachable
	r.Found = r.ProblemFound + r.Corrected
	if r.Inspections == 0 {
		return
	}
	n := float64(r.Inspections)
	r.HitRate = float64(r.Found) / n
	r.HitRateLow, r.HitRateHigh = Wilson(r.Found, r.Inspections)
	r.AdverseRate = float64(r.Found+r.Refused+r.Unreachable) / n
}

// Wilson is the Wilson score 95% interval for k successes in n trials.
func Wilson(k, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, center-half), math.Min(1, center+half)
}

// --- (c) tier changes --------------------------------------------------------

// TierChangeQuery selects tier changes.
type TierChangeQuery struct {
	// Prefix keeps changes of entities whose division code starts with it.
	Prefix string
	// From and To bound the change time: From ≤ at < To. Zero From: no
	// lower bound; zero To: no upper bound.
	From, To time.Time
	// USCC keeps one entity ("" = all).
	USCC string
	// Limit caps the rows returned: default 100, at most 10,000.
	Limit int
}

// TierChanges lists tier changes, newest first.
type TierChanges struct {
	Changes []TierChangeRow `json:"changes"`
	// Truncated is true when more changes matched than Limit.
	Truncated bool `json:"truncated"`
}

// TierChangeRow is one change and why it happened.
type TierChangeRow struct {
	USCC    string    `json:"uscc"`
	Region  string    `json:"region"`
	At      time.Time `json:"at"`
	OldTier string    `json:"old_tier"`
	NewTier string    `json:"new_tier"`
	Scheme  string    `json:"scheme"`
	Score   int32     `json:"score"`
	// Direction is "raised" (to a higher-risk tier), "lowered", "entered"
	// (first tier), "left" (no tier after) or "" (labels not comparable).
	Direction string `json:"direction"`
	// Cause is the causing event's id or "time:<rule>".
	Cause string `json:"cause"`
	// CauseType is the causing event's type when it is in applied_events,
	// "time" for a time rule, else "".
	CauseType string `json:"cause_type,omitempty"`
}

// TierChanges lists tier changes in a period, newest first, with their
// causes; the event type of each cause is looked up in applied_events.
func (q *Querier) TierChanges(ctx context.Context, cq TierChangeQuery) (*TierChanges, error) {
	if err := checkPrefix(cq.Prefix); err != nil {
		return nil, err
	}
	if cq.Limit == 0 {
		cq.Limit = 100
	}
	if cq.Limit < 0 || cq.Limit > 10_000 {
		return nil, fmt.Errorf("%w: limit %d: use 1–10000", ErrBadQuery, cq.Limit)
	}
	where := "region LIKE " + likePrefix(cq.Prefix)
	if !cq.From.IsZero() {
		if err := checkTime("from", cq.From); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
		}
		sec, ms := splitTime(cq.From)
		where += fmt.Sprintf(" AND (at > toDateTime(%d) OR (at = toDateTime(%d) AND at_ms >= %d))", sec.Unix(), sec.Unix(), ms)
	}
	if !cq.To.IsZero() {
		if err := checkTime("to", cq.To); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
		}
		sec, ms := splitTime(cq.To)
		where += fmt.Sprintf(" AND (at < toDateTime(%d) OR (at = toDateTime(%d) AND at_ms < %d))", sec.Unix(), sec.Unix(), ms)
	}
	if cq.USCC != "" {
		where += " AND uscc = " + quote(cq.USCC)
	}
	query := q.sql(fmt.Sprintf(`
SELECT uscc, region, at, at_ms, old_tier, new_tier, scheme, score, cause
FROM {db}.tier_changes FINAL
WHERE %s
ORDER BY at DESC, at_ms DESC, uscc, cause
LIMIT %d`, where, cq.Limit+1))
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	rows, err := q.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("clickhouse tier changes: %w", err)
	}
	defer rows.Close()
	out := &TierChanges{Changes: []TierChangeRow{}}
	for rows.Next() {
		var r TierChangeRow
		var ms uint16
		if err := rows.Scan(&r.USCC, &r.Region, &r.At, &ms, &r.OldTier, &r.NewTier, &r.Scheme, &r.Score, &r.Cause); err != nil {
			return nil, fmt.Errorf("clickhouse tier changes: %w", err)
		}
		r.At = r.At.Add(time.Duration(ms) * time.Millisecond).UTC()
		r.Direction = direction(r.Scheme, r.OldTier, r.NewTier)
		out.Changes = append(out.Changes, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse tier changes: %w", err)
	}
	if len(out.Changes) > cq.Limit {
		out.Changes, out.Truncated = out.Changes[:cq.Limit], true
	}
	if err := q.fillCauseTypes(ctx, out.Changes); err != nil {
		return nil, err
	}
	return out, nil
}

func direction(scheme, old, new string) string {
	switch {
	case old == "" && new != "":
		return "entered"
	case new == "" && old != "":
		return "left"
	case old == new:
		return ""
	}
	s, err := tier.LookupScheme(scheme)
	if err != nil {
		return ""
	}
	io, in := slices.Index(s.Labels, old), slices.Index(s.Labels, new)
	switch {
	case io < 0 || in < 0:
		return ""
	case in > io:
		return "raised"
	default:
		return "lowered"
	}
}

// fillCauseTypes looks up the event type of each cause in applied_events
// (by its sorting key, uscc and event_id).
func (q *Querier) fillCauseTypes(ctx context.Context, changes []TierChangeRow) error {
	usccs, ids := map[string]bool{}, map[string]bool{}
	for i := range changes {
		c := &changes[i]
		if strings.HasPrefix(c.Cause, "time:") {
			c.CauseType = "time"
			continue
		}
		if c.Cause != "" {
			usccs[c.USCC], ids[c.Cause] = true, true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	lit := func(set map[string]bool) string {
		parts := make([]string, 0, len(set))
		for s := range set {
			parts = append(parts, quote(s))
		}
		slices.Sort(parts)
		return strings.Join(parts, ", ")
	}
	query := q.sql(fmt.Sprintf(`SELECT uscc, event_id, any(type) FROM {db}.applied_events
WHERE uscc IN (%s) AND event_id IN (%s) GROUP BY uscc, event_id`, lit(usccs), lit(ids)))
	rows, err := q.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("clickhouse tier changes: cause types: %w", err)
	}
	defer rows.Close()
	type key struct{ uscc, id string }
	types := map[key]string{}
	for rows.Next() {
		var u, id, typ string
		if err := rows.Scan(&u, &id, &typ); err != nil {
			return fmt.Errorf("clickhouse tier changes: cause types: %w", err)
		}
		types[key{u, id}] = typ
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse tier changes: cause types: %w", err)
	}
	for i := range changes {
		if t, ok := types[key{changes[i].USCC, changes[i].Cause}]; ok {
			changes[i].CauseType = t
		}
	}
	return nil
}
