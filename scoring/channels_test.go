package scoring

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// Golden timelines of the record rules of issue 12, through the engine,
// under both tier schemes (national-4 with the national rules, shandong-5
// with Shandong's: Art. 13 exclusion, Art. 38 cap). Every date, instant,
// score and tier is a literal worked out by hand:
//   - dates: models/record/channel_test.go's convention (n months from the
//     decision day D: last day the day before the same calendar day n
//     months later); a day d ends at 24:00 CST = d+1 T00:00+08:00 =
//     d T16:00Z, so "last second shown" is dT15:59:59Z and "first instant
//     not shown" dT16:00:00Z;
//   - scores: MODEL.md base 600; PEN_GENERAL −40 and PEN_SERIOUS −90 at
//     100 % in the first year (decay 1000 ‰ below 365 days); DISHONEST_LIST
//     −150; ABNORMAL_LIST −60; ABNORMAL_3Y −150;
//   - tiers: MODEL.md cut-offs, national-4 A ≥ 620, B 560–619, C 480–559,
//     D < 480; shandong-5 A ≥ 630, B 605–629, C 560–604, D 480–559, E < 480;
//     overrides: serious list → highest tier (D / E), abnormal list → at
//     least C / D (boundaries_test.go TestShippedTierCutoffs, golden
//     timelines).
//
// Events are dated 10:00 CST (02:00Z) of their day.

const (
	chanEnterprise = "914403001922038216" // domain.md §1.6: Huawei, 9-1 enterprise
	chanIndividual = "92340602MA2PBMEM24" // domain.md §1.6: 9-2 individual business
)

func chanLine(code, id, typ, day, attrs string) string {
	return fmt.Sprintf(`{"id":%q,"uscc":%q,"type":%q,"occurred_at":"%sT02:00:00Z","authority":"SAMR-440300","attrs":%s}`, id, code, typ, day, attrs)
}

func chanEngine(t *testing.T, scheme, code string, lines ...string) *Engine {
	t.Helper()
	e := boundaryEngine(t, scheme)
	reg := fmt.Sprintf(`{"id":"REG","uscc":%q,"type":"registered","occurred_at":"2015-01-10T02:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2015-01-10"}}`, code)
	for _, l := range append([]string{reg}, lines...) {
		if err := applyLine(t, e, l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	return e
}

func mustInstant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// chanCheck is the expected state at one instant.
type chanCheck struct {
	at       string
	score    int
	national string // tier under national-4
	shandong string // tier under shandong-5
	reasons  string // reason codes in order, comma-separated
	// the record REC: category and per-channel status ("" = not checked)
	category   string
	samr, cc   string
	samrUntil  string // "" not checked, "—" NoDate
	ccUntil    string
	ccRepaired string
}

func runChecks(t *testing.T, e *Engine, scheme, code string, checks []chanCheck) {
	t.Helper()
	c, _ := uscc.Parse(code)
	for _, ck := range checks {
		v, ok := e.Entity(c, mustInstant(t, ck.at), true)
		if !ok {
			t.Fatalf("%s: entity not found", ck.at)
		}
		wantTier := ck.national
		if scheme == "shandong-5" {
			wantTier = ck.shandong
		}
		var codes []string
		for _, r := range v.Reasons {
			codes = append(codes, r.Code)
		}
		if v.Score != ck.score || v.TierLabel != wantTier || strings.Join(codes, ",") != ck.reasons {
			t.Errorf("%s at %s: score %d tier %s reasons %v; want %d %s %s", scheme, ck.at, v.Score, v.TierLabel, codes, ck.score, wantTier, ck.reasons)
		}
		var rec *RecordView
		for i := range v.Records {
			if v.Records[i].ID == "REC" {
				rec = &v.Records[i]
			}
		}
		if rec == nil {
			t.Fatalf("%s at %s: no record REC", scheme, ck.at)
		}
		if ck.category != "" && rec.Category.String() != ck.category {
			t.Errorf("%s at %s: category %s, want %s", scheme, ck.at, rec.Category, ck.category)
		}
		if ck.samr != "" && (rec.SAMR == nil || rec.SAMR.Status != ck.samr) {
			t.Errorf("%s at %s: SAMR %+v, want status %s", scheme, ck.at, rec.SAMR, ck.samr)
		}
		if ck.cc != "" && (rec.CreditChina == nil || rec.CreditChina.Status != ck.cc) {
			t.Errorf("%s at %s: Credit China %+v, want status %s", scheme, ck.at, rec.CreditChina, ck.cc)
		}
		if ck.samrUntil != "" && rec.SAMR.PublicityUntil != day(t, ck.samrUntil) {
			t.Errorf("%s at %s: SAMR until %s, want %s", scheme, ck.at, rec.SAMR.PublicityUntil, ck.samrUntil)
		}
		if ck.ccUntil != "" && rec.PublicityUntil != day(t, ck.ccUntil) {
			t.Errorf("%s at %s: publicity_until %s, want %s", scheme, ck.at, rec.PublicityUntil, ck.ccUntil)
		}
		if ck.ccRepaired != "" && rec.CreditChina.RepairedOn != day(t, ck.ccRepaired) {
			t.Errorf("%s at %s: Credit China repaired %s, want %s", scheme, ck.at, rec.CreditChina.RepairedOn, ck.ccRepaired)
		}
	}
}

func day(t *testing.T, s string) civil.Date {
	t.Helper()
	if s == "—" {
		return civil.NoDate
	}
	d, err := civil.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestChannelTimelines: one penalty, its two channels over time.
func TestChannelTimelines(t *testing.T) {
	for _, tl := range []struct {
		name   string
		code   string
		lines  []string
		scheme []string // schemes the checks hold for
		checks []chanCheck
	}{
		{
			// General fine ¥50,000 (above the ¥10,000 lower-amount default), ordinary procedure, decided
			// 2026-04-01 (2026 rules). SAMR (Order 45 Art. 13, domain.md §4.1): 3 years → last day
			// 2029-03-31. Credit China 2026 general (§4.1 table): 1 year → last day 2027-03-31. The score
			// follows Credit China (MODEL.md "Channels"): −40 (< 365 days old) → 560: B national, C Shandong;
			// after 2027-03-31 600: B / C. Shandong's 5-year cap (2031-03-31) ends nothing earlier.
			name: "general fine", code: chanEnterprise, scheme: []string{"national-4", "shandong-5"},
			lines: []string{chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
				`{"severity":"general","decision_no":"深市监罚〔2026〕1号","amount_yuan":50000,"penalty_types":["fine"],"procedure":"ordinary","sector":"other"}`)},
			checks: []chanCheck{
				{at: "2026-04-01T02:00:00Z", score: 560, national: "B", shandong: "C", reasons: "PEN_GENERAL", category: "penalty",
					samr: "active", cc: "active", samrUntil: "2029-03-31", ccUntil: "2027-03-31"},
				// last second of Credit China's last day
				{at: "2027-03-31T15:59:59Z", score: 560, national: "B", shandong: "C", reasons: "PEN_GENERAL", samr: "active", cc: "active"},
				// first instant after it: Credit China expired, SAMR still publishes (the regulator's report keeps it)
				{at: "2027-03-31T16:00:00Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "active", cc: "expired"},
				{at: "2029-03-31T15:59:59Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "active", cc: "expired"},
				{at: "2029-03-31T16:00:00Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "expired", cc: "expired"},
			},
		},
		{
			// Lower-amount fine ¥10,000 (= threshold, inclusive), decided 2026-04-01, severity minor.
			// SAMR: 3 months → last day 2026-06-30 (Art. 13). Credit China 2026 minor: not shown (§4.1).
			// Score: PEN_MINOR −15 while Credit China's 3-month period runs (rule.go) → 585: B / C.
			name: "lower fine", code: chanEnterprise, scheme: []string{"national-4", "shandong-5"},
			lines: []string{chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
				`{"severity":"minor","decision_no":"深市监罚〔2026〕2号","amount_yuan":10000,"penalty_types":["fine"]}`)},
			checks: []chanCheck{
				{at: "2026-06-30T15:59:59Z", score: 585, national: "B", shandong: "C", reasons: "PEN_MINOR", samr: "active", cc: "not_published", samrUntil: "2026-06-30"},
				{at: "2026-06-30T16:00:00Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "expired", cc: "not_published"},
			},
		},
		{
			// Simple procedure, nationally: SAMR does not publish it (Art. 2); Credit China shows it
			// (national special report includes it, §6.1) 1 year; scored −40.
			name: "simple procedure national", code: chanEnterprise, scheme: []string{"national-4"},
			lines: []string{chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
				`{"severity":"general","decision_no":"深市监简罚〔2026〕3号","amount_yuan":200,"penalty_types":["fine"],"procedure":"simple"}`)},
			checks: []chanCheck{
				{at: "2026-04-02T02:00:00Z", score: 560, national: "B", reasons: "PEN_GENERAL", samr: "not_published", cc: "active", ccUntil: "2027-03-31"},
			},
		},
		{
			// Simple procedure in Shandong: not credit information (Art. 13, §4.1): neither channel, not scored.
			name: "simple procedure shandong", code: chanEnterprise, scheme: []string{"shandong-5"},
			lines: []string{chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
				`{"severity":"general","decision_no":"鲁市监简罚〔2026〕3号","amount_yuan":200,"penalty_types":["fine"],"procedure":"simple"}`)},
			checks: []chanCheck{
				{at: "2026-04-02T02:00:00Z", score: 600, shandong: "C", reasons: "", samr: "not_published", cc: "not_published"},
			},
		},
		{
			// 吊销营业执照 + fine, serious, decided 2026-04-01. Credit China repair decided 2027-04-01
			// (2026 serious: min 1 year, §4.1) ends the display and the score effect at its occurred_at;
			// SAMR keeps publishing (never stops early, Art. 14) until 2029-03-31.
			// Before: −90 → 510: C national, D Shandong.
			name: "licence revocation", code: chanEnterprise, scheme: []string{"national-4", "shandong-5"},
			lines: []string{
				chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
					`{"severity":"serious","decision_no":"深市监罚〔2026〕4号","amount_yuan":300000,"penalty_types":["fine","business_licence_revocation"]}`),
				chanLine(chanEnterprise, "REP", "repair", "2027-04-01", `{"ref":"REC","decided_on":"2027-04-01","channel":"credit_china"}`)},
			checks: []chanCheck{
				{at: "2027-04-01T01:59:59Z", score: 510, national: "C", shandong: "D", reasons: "PEN_SERIOUS", samr: "active", cc: "active"},
				{at: "2027-04-01T02:00:00Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "active", cc: "repaired", ccRepaired: "2027-04-01", samrUntil: "2029-03-31"},
			},
		},
		{
			// General fine decided 2026-04-01 stopped early on SAMR (repair channel samr, decided
			// 2026-10-01 = 6 months, §5.1): the SAMR view is repaired, Credit China's still active, and
			// the score effect ends (the regulator's repair).
			name: "samr early stop", code: chanEnterprise, scheme: []string{"national-4", "shandong-5"},
			lines: []string{
				chanLine(chanEnterprise, "REC", "penalty", "2026-04-01",
					`{"severity":"general","decision_no":"深市监罚〔2026〕5号","amount_yuan":50000,"penalty_types":["fine"]}`),
				chanLine(chanEnterprise, "REP", "repair", "2026-10-01", `{"ref":"REC","decided_on":"2026-10-01","channel":"samr"}`)},
			checks: []chanCheck{
				{at: "2026-10-01T01:59:59Z", score: 560, national: "B", shandong: "C", reasons: "PEN_GENERAL", samr: "active", cc: "active"},
				{at: "2026-10-01T02:00:00Z", score: 600, national: "B", shandong: "C", reasons: "", samr: "repaired", cc: "active", ccUntil: "2027-03-31"},
			},
		},
		{
			// Serious list entry of 2020-06-01, never removed. National: listed for good (−150, override
			// D). Shandong: the 5-year cap (Art. 38, "list entries included") ends it after 2025-05-31:
			// −150 → 450 and override E until then, 600 C from 2025-06-01 00:00 CST.
			name: "serious list cap", code: chanEnterprise, scheme: []string{"shandong-5"},
			lines: []string{chanLine(chanEnterprise, "REC", "dishonest_listed", "2020-06-01", `{"reason":"Order 44"}`)},
			checks: []chanCheck{
				{at: "2025-05-31T15:59:59Z", score: 450, shandong: "E", reasons: "OVR_DISHONEST,DISHONEST_LIST", category: "dishonest_list", ccUntil: "2025-05-31"},
				{at: "2025-05-31T16:00:00Z", score: 600, shandong: "C", reasons: "", category: "dishonest_list", ccUntil: "2025-05-31"},
			},
		},
		{
			name: "serious list no cap", code: chanEnterprise, scheme: []string{"national-4"},
			lines: []string{chanLine(chanEnterprise, "REC", "dishonest_listed", "2020-06-01", `{"reason":"Order 44"}`)},
			checks: []chanCheck{
				{at: "2025-05-31T16:00:00Z", score: 450, national: "D", reasons: "OVR_DISHONEST,DISHONEST_LIST", category: "dishonest_list", ccUntil: "—"},
			},
		},
		{
			// Enterprise abnormal listing 2022-03-01, unresolved: transferred 2025-03-01 (3 years, §4.2);
			// from 2025-03-01 00:00 CST it is a serious-list record. Before: −60, override C / D → 540 C
			// / D; after: ABNORMAL_3Y −150, override D / E → 450.
			name: "transfer", code: chanEnterprise, scheme: []string{"national-4", "shandong-5"},
			lines: []string{chanLine(chanEnterprise, "REC", "abnormal_listed", "2022-03-01", `{"reason":"unreachable_at_address"}`)},
			checks: []chanCheck{
				{at: "2025-02-28T15:59:59Z", score: 540, national: "C", shandong: "D", reasons: "OVR_ABNORMAL,ABNORMAL_LIST", category: "abnormal_list"},
				{at: "2025-02-28T16:00:00Z", score: 450, national: "D", shandong: "E", reasons: "OVR_ABNORMAL_3Y,ABNORMAL_3Y", category: "dishonest_list"},
			},
		},
		{
			// Individual business, same listing: an abnormal status (§4.2), never transferred.
			name: "individual status", code: chanIndividual, scheme: []string{"national-4", "shandong-5"},
			lines: []string{chanLine(chanIndividual, "REC", "abnormal_listed", "2022-03-01", `{"reason":"unreachable_at_address"}`)},
			checks: []chanCheck{
				{at: "2025-02-28T15:59:59Z", score: 540, national: "C", shandong: "D", reasons: "OVR_ABNORMAL,ABNORMAL_LIST", category: "abnormal_status"},
				{at: "2025-02-28T16:00:00Z", score: 540, national: "C", shandong: "D", reasons: "OVR_ABNORMAL,ABNORMAL_LIST", category: "abnormal_status"},
			},
		},
	} {
		for _, scheme := range tl.scheme {
			t.Run(tl.name+"/"+scheme, func(t *testing.T) {
				e := chanEngine(t, scheme, tl.code, tl.lines...)
				runChecks(t, e, scheme, tl.code, tl.checks)
			})
		}
	}
}

// TestChannelRepairBoundaries: repairs in each channel on the day before
// and at each minimum, and the never-repairable kinds, in both schemes
// (the penalty rules are the same under both; Shandong differs only by
// its exclusion and cap, tested above). Literals from domain.md §4.1,
// §5.1–5.3.
func TestChannelRepairBoundaries(t *testing.T) {
	const (
		general = `{"severity":"general","decision_no":"x","amount_yuan":50000,"penalty_types":["fine"]}`
		food    = `{"severity":"general","decision_no":"x","amount_yuan":50000,"penalty_types":["fine"],"sector":"food"}`
		safety  = `{"severity":"general","decision_no":"x","amount_yuan":50000,"penalty_types":["fine"],"sector":"work_safety"}`
		revoke  = `{"severity":"serious","decision_no":"x","penalty_types":["business_licence_revocation"]}`
		lower   = `{"severity":"minor","decision_no":"x","amount_yuan":3000,"penalty_types":["fine"]}`
		warning = `{"severity":"minor","decision_no":"x","penalty_types":["warning"]}`
	)
	for _, c := range []struct {
		name, day, attrs, channel, decided string
		reason, possibleFrom               string
	}{
		// SAMR: ≥ 6 months published (§5.1): 2026-04-01 → from 2026-10-01.
		{"samr general −1", "2026-04-01", general, "samr", "2026-09-30", event.ReasonRepairEarly, "2026-10-01"},
		{"samr general at min", "2026-04-01", general, "samr", "2026-10-01", "", ""},
		// SAMR food: ≥ 1 year → from 2027-04-01.
		{"samr food −1", "2026-04-01", food, "samr", "2027-03-31", event.ReasonRepairEarly, "2027-04-01"},
		{"samr food at min", "2026-04-01", food, "samr", "2027-04-01", "", ""},
		// SAMR last day of publication 2029-03-31; the day after: ended.
		{"samr general last day", "2026-04-01", general, "samr", "2029-03-31", "", ""},
		{"samr general after end", "2026-04-01", general, "samr", "2029-04-01", event.ReasonAlreadyEnded, ""},
		// Business-licence revocation: never early on SAMR (Art. 14), Credit China by its own rules
		// (2026 serious min 1 year → 2027-04-01).
		{"samr revocation", "2026-04-01", revoke, "samr", "2027-04-01", event.ReasonNotRepairable, ""},
		{"credit china revocation −1", "2026-04-01", revoke, "credit_china", "2027-03-31", event.ReasonRepairEarly, "2027-04-01"},
		{"credit china revocation at min", "2026-04-01", revoke, "", "2027-04-01", "", ""},
		// Lower fine (¥3,000 ≤ ¥10,000): SAMR stops by itself after 3 months, not repaired (§5.1).
		{"samr lower fine", "2026-04-01", lower, "samr", "2026-05-01", event.ReasonNotRepairable, ""},
		// Warning only: SAMR never publishes it (Art. 2): nothing to stop.
		{"samr warning", "2026-04-01", warning, "samr", "2026-05-01", event.ReasonNotRepairable, ""},
		// Credit China, Order 58 (2023 regime): work safety min 1 year (§4.1 table): 2024-03-15 → 2025-03-15;
		// on SAMR work safety is 6 months → 2024-09-15.
		{"credit china work safety −1", "2024-03-15", safety, "credit_china", "2025-03-14", event.ReasonRepairEarly, "2025-03-15"},
		{"credit china work safety at min", "2024-03-15", safety, "credit_china", "2025-03-15", "", ""},
		{"samr work safety at min", "2024-03-15", safety, "samr", "2024-09-15", "", ""},
	} {
		for _, scheme := range []string{"national-4", "shandong-5"} {
			t.Run(c.name+"/"+scheme, func(t *testing.T) {
				e := chanEngine(t, scheme, chanEnterprise, chanLine(chanEnterprise, "REC", "penalty", c.day, c.attrs))
				ch := ""
				if c.channel != "" {
					ch = fmt.Sprintf(`,"channel":%q`, c.channel)
				}
				err := applyLine(t, e, chanLine(chanEnterprise, "REP", "repair", c.decided, fmt.Sprintf(`{"ref":"REC","decided_on":%q%s}`, c.decided, ch)))
				var re *event.RejectError
				switch {
				case c.reason == "" && err != nil:
					t.Fatalf("decided %s: %v, want applied", c.decided, err)
				case c.reason == "":
				case !errors.As(err, &re) || re.Reason != c.reason:
					t.Fatalf("decided %s: %v, want %s", c.decided, err, c.reason)
				case c.possibleFrom != "" && re.PossibleFrom.String() != c.possibleFrom:
					t.Fatalf("decided %s: possible from %s, want %s", c.decided, re.PossibleFrom, c.possibleFrom)
				}
			})
		}
	}
	// A repair in one channel does not end the other: after a Credit China
	// repair, a SAMR one is still judged by SAMR's rules, and a second
	// Credit China one is already_ended.
	e := chanEngine(t, "national-4", chanEnterprise, chanLine(chanEnterprise, "REC", "penalty", "2026-04-01", general),
		chanLine(chanEnterprise, "R1", "repair", "2026-07-01", `{"ref":"REC","decided_on":"2026-07-01"}`))
	var re *event.RejectError
	if err := applyLine(t, e, chanLine(chanEnterprise, "R2", "repair", "2026-07-02", `{"ref":"REC","decided_on":"2026-07-02","channel":"credit_china"}`)); !errors.As(err, &re) || re.Reason != event.ReasonAlreadyEnded {
		t.Errorf("second Credit China repair: %v", err)
	}
	if err := applyLine(t, e, chanLine(chanEnterprise, "R3", "repair", "2026-10-01", `{"ref":"REC","decided_on":"2026-10-01","channel":"samr"}`)); err != nil {
		t.Errorf("SAMR repair after a Credit China one: %v", err)
	}
	// SAMR's condition (4) (Order 45 Art. 14, domain.md §9.19): not on the
	// abnormal or serious list when the early stop is decided. Listed
	// 2026-09-01, removed 2026-10-05 10:00 CST: a SAMR repair decided
	// 2026-10-05 takes effect at 00:00 CST that day (listed then) and is
	// refused; one decided 2026-10-06 is accepted.
	e = chanEngine(t, "national-4", chanEnterprise, chanLine(chanEnterprise, "REC", "penalty", "2026-04-01", general),
		chanLine(chanEnterprise, "ABN", "abnormal_listed", "2026-09-01", `{"reason":"unreachable_at_address"}`),
		chanLine(chanEnterprise, "RM", "abnormal_removed", "2026-10-05", `{"ref":"ABN"}`))
	listedRepair := `{"id":"R4","uscc":"` + chanEnterprise + `","type":"repair","occurred_at":"2026-10-04T16:00:00Z","authority":"a","attrs":{"ref":"REC","decided_on":"2026-10-05","channel":"samr"}}`
	if err := applyLine(t, e, listedRepair); !errors.As(err, &re) || re.Reason != event.ReasonNotRepairable || !strings.Contains(re.Detail, "ABN") {
		t.Errorf("SAMR repair while listed: %v", err)
	}
	if err := applyLine(t, e, chanLine(chanEnterprise, "R5", "repair", "2026-10-06", `{"ref":"REC","decided_on":"2026-10-06","channel":"samr"}`)); err != nil {
		t.Errorf("SAMR repair after the removal: %v", err)
	}
}

// TestTransferNotices: the 60-day announcement before the transfer
// (domain.md §4.2). Listed 2022-03-01 → transfer 2025-03-01 → notice from
// 2025-03-01 − 60 days = 2024-12-31 (March 1 − 1 = Feb 28, − 28 = Jan 31,
// − 31 = Dec 31: 60 days). Due on the CST days 2024-12-31 … 2025-02-28;
// not on 2024-12-30 nor from 2025-03-01 (transferred). Never for an
// individual business, nor for a listing removed in time.
func TestTransferNotices(t *testing.T) {
	for _, scheme := range []string{"national-4", "shandong-5"} {
		e := chanEngine(t, scheme, chanEnterprise, chanLine(chanEnterprise, "REC", "abnormal_listed", "2022-03-01", `{"reason":"annual_report_missing"}`))
		ind := chanEngine(t, scheme, chanIndividual, chanLine(chanIndividual, "REC", "abnormal_listed", "2022-03-01", `{"reason":"annual_report_missing"}`))
		removed := chanEngine(t, scheme, chanEnterprise, chanLine(chanEnterprise, "REC", "abnormal_listed", "2022-03-01", `{"reason":"annual_report_missing"}`),
			chanLine(chanEnterprise, "RM", "abnormal_removed", "2025-01-15", `{"ref":"REC"}`))
		for _, c := range []struct {
			at      string
			n, nRem int
		}{
			{"2024-12-30T15:59:59Z", 0, 0}, // 2024-12-30 CST: not yet
			{"2024-12-30T16:00:00Z", 1, 1}, // 2024-12-31 00:00 CST: first day
			{"2025-01-15T01:59:59Z", 1, 1},
			{"2025-01-15T02:00:00Z", 1, 0}, // removed at 10:00 CST: no transfer, no notice
			{"2025-02-28T15:59:59Z", 1, 0}, // last day 2025-02-28
			{"2025-02-28T16:00:00Z", 0, 0}, // 2025-03-01: transferred, no longer a notice
		} {
			at := mustInstant(t, c.at)
			for _, x := range []struct {
				e    *Engine
				want int
				what string
			}{{e, c.n, "enterprise"}, {ind, 0, "individual"}, {removed, c.nRem, "removed"}} {
				ns, err := x.e.Notices(context.Background(), at, "")
				if err != nil {
					t.Fatal(err)
				}
				if len(ns) != x.want {
					t.Errorf("%s %s at %s: %d notices, want %d", scheme, x.what, c.at, len(ns), x.want)
					continue
				}
				if x.want == 1 {
					n := ns[0]
					if n.RecordID != "REC" || n.ListedOn != day(t, "2022-03-01") || n.NoticeOn != day(t, "2024-12-31") ||
						n.TransferOn != day(t, "2025-03-01") || n.Reason != "annual_report_missing" || n.Region != "440300" {
						t.Errorf("%s at %s: notice %+v", scheme, c.at, n)
					}
				}
			}
		}
		if ns, _ := e.Notices(context.Background(), mustInstant(t, "2025-01-01T00:00:00Z"), "37"); len(ns) != 0 {
			t.Errorf("%s: region prefix 37 matched a 440300 entity", scheme)
		}
	}
}

// TestRulesOption: the lower-amount threshold is provincial configuration
// (Options.Rules). With ¥2,000 a ¥3,000 fine is not lower-amount: SAMR
// publishes it 3 years and a SAMR repair at 6 months is accepted.
func TestRulesOption(t *testing.T) {
	m, _ := DefaultModel("national-4")
	e, err := New(Options{Model: m, Now: func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }, Shards: 2,
		Rules: &record.Config{LowFineYuan: 2000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{
		`{"id":"REG","uscc":"` + chanEnterprise + `","type":"registered","occurred_at":"2015-01-10T02:00:00Z","attrs":{"name":"n","region":"440300","registered_on":"2015-01-10"}}`,
		chanLine(chanEnterprise, "REC", "penalty", "2026-04-01", `{"severity":"minor","decision_no":"x","amount_yuan":3000,"penalty_types":["fine"]}`),
		chanLine(chanEnterprise, "REP", "repair", "2026-10-01", `{"ref":"REC","decided_on":"2026-10-01","channel":"samr"}`),
	} {
		if err := applyLine(t, e, l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	if _, err := New(Options{Model: m, Rules: &record.Config{LowFineYuan: -1}}); err == nil {
		t.Error("a negative threshold was accepted")
	}
}
