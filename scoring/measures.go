package scoring

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/measure"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// Joint measures and the commitment bar, derived from an entity's records
// (models/measure; domain.md §4.3, §4.6, §4.7). Only public records
// trigger measures, never the tier (see package measure).

// ActiveMeasure is one measure in force on an entity.
type ActiveMeasure struct {
	measure.Measure
	Trigger measure.Trigger
	Record  string     // the record that carries it
	From    civil.Date // its first day
	// Until is its last day when known (an honour's publicity end); NoDate
	// while the record stands (a listing: until removed or repaired).
	Until civil.Date
}

// CommitmentReview is an approval obtained under a commitment that was
// breached: the authority that granted it is to review it (告知承诺制:
// on a false commitment the decision may be revoked, domain.md §4.6).
type CommitmentReview struct {
	Record       string // the commitment_made record
	CommitmentNo string
	Matter       string // the approval the commitment backed
	BreachedOn   civil.Date
}

// Measures is what the measures view of an entity holds.
type Measures struct {
	// CommitmentBarred: the entity may not use the commitment route (告知
	// 承诺) until repaired; BarredBy lists the records that bar it.
	CommitmentBarred bool
	BarredBy         []string
	Review           []CommitmentReview
	Active           []ActiveMeasure
}

// triggerOf returns the trigger a record view carries and from when, or
// "" when it carries none now.
func triggerOf(r *RecordView) (measure.Trigger, civil.Date) {
	if !r.Public {
		return "", civil.NoDate
	}
	switch r.Category {
	case record.CatDishonestList:
		return measure.DishonestList, civil.DateOf(r.OccurredAt)
	case record.CatCourtDebtor:
		return measure.CourtDebtor, civil.DateOf(r.OccurredAt)
	case record.CatAbnormalList:
		return measure.AbnormalList, civil.DateOf(r.OccurredAt)
	case record.CatHonor:
		return measure.Honor, civil.DateOf(r.OccurredAt)
	case record.CatCommitment:
		if r.Outcome == "breached" {
			return measure.CommitmentBreached, civil.DateOf(r.OutcomeAt)
		}
	}
	return "", civil.NoDate
}

// MeasuresOf derives the measures in force from an entity view made with
// its records.
func MeasuresOf(v *EntityView) Measures {
	var out Measures
	for i := range v.Records {
		r := &v.Records[i]
		trig, from := triggerOf(r)
		if trig == "" || r.Status != StatusActive {
			continue
		}
		until := civil.NoDate
		if trig == measure.Honor {
			until = r.PublicityUntil
		}
		for _, m := range measure.For(trig) {
			out.Active = append(out.Active, ActiveMeasure{Measure: m, Trigger: trig, Record: r.ID, From: from, Until: until})
			if m.Code == measure.NoCommitmentRoute.Code {
				out.CommitmentBarred = true
				out.BarredBy = append(out.BarredBy, r.ID)
			}
		}
		if trig == measure.CommitmentBreached {
			var a struct {
				No     string `json:"commitment_no"`
				Matter string `json:"matter"`
			}
			_ = json.Unmarshal(r.Attrs, &a)
			out.Review = append(out.Review, CommitmentReview{Record: r.ID, CommitmentNo: a.No, Matter: a.Matter, BreachedOn: from})
		}
	}
	return out
}

// MeasureChange is a measure starting or ending on an entity: the feed
// other departments read (GET /v1/measures/changes).
type MeasureChange struct {
	USCC    uscc.Code
	At      time.Time // start: 00:00 CST of its first day; end: when the record stopped standing
	Change  string    // "start" or "end"
	Measure measure.Measure
	Trigger measure.Trigger
	Record  string
	Until   civil.Date // for starts: as ActiveMeasure.Until
}

// MeasureChanges lists the measure changes of an entity view (made with
// its records, as of its AsOf) that happened in (since, v.AsOf], by time.
func MeasureChanges(v *EntityView, since time.Time) []MeasureChange {
	var out []MeasureChange
	for i := range v.Records {
		r := &v.Records[i]
		trig, from := triggerOf(r)
		if trig == "" {
			continue
		}
		start := from.Time()
		end, ended := recordEnd(r)
		until := civil.NoDate
		if trig == measure.Honor {
			until = r.PublicityUntil
		}
		for _, m := range measure.For(trig) {
			if start.After(since) && !start.After(v.AsOf) {
				out = append(out, MeasureChange{USCC: v.USCC, At: start.UTC(), Change: "start", Measure: m, Trigger: trig, Record: r.ID, Until: until})
			}
			if ended && end.After(since) && !end.After(v.AsOf) {
				out = append(out, MeasureChange{USCC: v.USCC, At: end.UTC(), Change: "end", Measure: m, Trigger: trig, Record: r.ID})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// recordEnd is when a record stopped standing, if it did by the view.
func recordEnd(r *RecordView) (time.Time, bool) {
	switch r.Status {
	case StatusRemoved, StatusWithdrawn:
		return r.EndedAt, true
	case StatusRepaired:
		return r.RepairedOn.Time(), true
	case StatusExpired:
		return (r.PublicityUntil + 1).Time(), true
	}
	return time.Time{}, false
}

// CodesWithRecords returns the codes of shard part's entities that have
// records (the candidates of a measure feed).
func (e *Engine) CodesWithRecords(part int) []uscc.Code {
	s := e.shards[part]
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []uscc.Code
	for i := uint32(0); i < s.nent; i++ {
		if ent := s.ent(i); ent.nrec > 0 {
			out = append(out, ent.code.Unpack())
		}
	}
	return out
}
