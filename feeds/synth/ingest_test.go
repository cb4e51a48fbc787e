package synth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	objrule "github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// TestModelsAcceptStream runs the stream through the project's own strict
// decoder (event.Decoder) and publicity/repair rules (record.SAMRRule and
// record.CreditChinaRule per channel, record.BreachRule, record.RuleFor,
// EventType.RefTarget), under both provinces' configurations
// (record.DefaultConfig of the national and the Shandong scheme): every
// good line must be accepted and every repair must fall inside its
// channel's repair window under both; objection ids must name their entity
// (objrule.IDUSCC) and objection refs an open objection or a record.
// Every bad line must be rejected for the reason its class names.
func TestModelsAcceptStream(t *testing.T) {
	opts := Options{Entities: 6000, Days: 1461, Seed: 12, End: testEnd, BadRate: 0.02}
	lines, _, _ := run(t, opts)
	opts.EnsureDefaults()
	type rec struct {
		typ       event.Type
		sub       uint8
		on        civil.Date
		uscc      uscc.Code
		ended     bool
		pen       record.Penalty
		breach    civil.Date
		channels  [3]bool // repaired per channel code
		objection string  // the open objection's id
		withdrawn bool
		target    string // objection_filed: the record objected to
		referred  bool
	}
	records := map[string]*rec{}
	configs := []record.Config{record.DefaultConfig("national-4"), record.DefaultConfig("shandong-5")}
	var dec event.Decoder
	var ev event.Event
	badReasons := map[string]string{
		"not_json": event.ReasonNotJSON, "missing_field": event.ReasonMissingField,
		"invalid_uscc": event.ReasonInvalidUSCC, "unknown_type": event.ReasonUnknownType,
		"invalid_attrs": event.ReasonInvalidAttrs, "future": event.ReasonFuture,
	}
	counts := map[string]int{}
	bad := 0
	for n, l := range lines {
		err := dec.Decode(l, &ev)
		if err == nil {
			err = event.CheckTime(&ev, opts.End)
		}
		if i := strings.Index(string(l), `"id":"BAD-`); i >= 0 {
			bad++
			class := strings.SplitN(string(l[i+10:]), "-", 2)[0]
			var rej *event.RejectError
			switch want, ok := badReasons[class]; {
			case ok:
				if !errors.As(err, &rej) || rej.Reason != want {
					t.Fatalf("line %d (%s): got %v, want %s", n+1, class, err, want)
				}
			case class == "unknown_ref":
				if err != nil || records[ev.Ref] != nil {
					t.Fatalf("line %d (%s): err %v, ref exists %v", n+1, class, err, records[ev.Ref] != nil)
				}
			case class == "early_repair":
				r := records[ev.Ref]
				if err != nil || r == nil {
					t.Fatalf("line %d (%s): err %v, target %v", n+1, class, err, r)
				}
				for _, c := range configs {
					if rule := record.CreditChinaRule(r.pen, r.on, c); rule.Repairable && ev.DecidedOn >= rule.RepairFrom {
						t.Fatalf("line %d (%s): the repair on %v is allowed (rule %+v)", n+1, class, ev.DecidedOn, rule)
					}
				}
			default:
				t.Fatalf("line %d: unknown bad class %q", n+1, class)
			}
			continue
		}
		if err != nil {
			t.Fatalf("line %d rejected: %v\n%s", n+1, err, l)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("line %d: %s\n%s", n+1, fmt.Sprintf(format, args...), l)
		}
		on := civil.DateOf(ev.OccurredAt)
		if ev.OccurredAt.UTC().Format(time.DateOnly) != on.String() {
			fail("UTC date %s differs from the CST date %s", ev.OccurredAt.UTC().Format(time.DateOnly), on)
		}
		if record.CategoryOf(ev.Type) != record.CatNone || ev.Type == event.TypeObjectionFiled {
			records[ev.ID] = &rec{typ: ev.Type, sub: ev.Sub, on: on, uscc: ev.USCC, target: ev.Ref,
				pen: record.Penalty{Severity: ev.Sub, Types: ev.PenaltyTypes, RestrictionMonths: ev.RestrictionMonths,
					Procedure: ev.Procedure, Sector: ev.Sector, AmountYuan: ev.AmountYuan}}
		}
		if ev.Ref == "" {
			continue
		}
		r := records[ev.Ref]
		if r == nil || r.uscc != ev.USCC {
			fail("ref %s missing or of another entity", ev.Ref)
		}
		switch ev.Type {
		case event.TypeObjectionFiled:
			if u, ok := objrule.IDUSCC(ev.ID); !ok || u != ev.USCC.String() {
				fail("objection id %s does not name %s", ev.ID, ev.USCC)
			}
			if r.typ == event.TypeObjectionFiled || r.objection != "" || r.withdrawn {
				fail("objection to %s (%v): already objected, withdrawn or not a record", ev.Ref, r.typ)
			}
			r.objection = ev.ID
			counts["filed"]++
		case event.TypeObjectionAnswered:
			if r.typ != event.TypeObjectionFiled || r.ended || !strings.HasPrefix(ev.ID, ev.Ref+"-") {
				fail("answer to %s: not an open objection, or an id not extending it", ev.Ref)
			}
			counts[event.SubName(ev.Type, ev.Sub)]++
			switch ev.Sub {
			case event.OutcomeReferred:
				if r.referred {
					fail("referred twice")
				}
				r.referred = true
				continue
			case event.OutcomeUpheld:
				records[r.target].withdrawn = true
			}
			r.ended = true
			records[r.target].objection = ""
		case event.TypeRepair:
			counts["repair"]++
			var rules []record.ChannelRule
			for _, c := range configs {
				switch r.typ {
				case event.TypePenalty:
					if ev.Channel == event.ChannelSAMR {
						rules = append(rules, record.SAMRRule(r.pen, r.on, c))
					} else {
						rules = append(rules, record.CreditChinaRule(r.pen, r.on, c))
					}
				case event.TypeCommitmentMade:
					if r.breach == civil.NoDate || r.breach == 0 {
						fail("repair of a commitment that was not breached")
					}
					b := record.BreachRule(r.breach)
					rules = append(rules, record.ChannelRule{Repairable: b.Repairable, RepairFrom: b.RepairFrom, Until: b.Until})
				default:
					b := record.RuleFor(r.typ, r.sub, r.on)
					rules = append(rules, record.ChannelRule{Repairable: b.Repairable, RepairFrom: b.RepairFrom, Until: b.RepairUntil})
				}
			}
			if r.typ != event.TypePenalty && r.typ != event.TypeCommitmentMade {
				if r.ended {
					fail("ref %s already ended", ev.Ref)
				}
				r.ended = true
			}
			if (r.typ == event.TypePenalty || r.typ == event.TypeCommitmentMade) && (r.channels[ev.Channel] || r.withdrawn) {
				fail("second repair of %s in channel %d, or of a withdrawn record", ev.Ref, ev.Channel)
			}
			r.channels[ev.Channel] = true
			if r.typ == event.TypePenalty {
				counts["repair "+event.ChannelName(ev.Channel)]++
			}
			for _, rule := range rules {
				if !rule.Repairable || ev.DecidedOn < rule.RepairFrom || (rule.Until != civil.NoDate && ev.DecidedOn > rule.Until) {
					fail("repair on %v of a %v dated %v outside its window (rule %+v)", ev.DecidedOn, r.typ, r.on, rule)
				}
			}
		default:
			if want := ev.Type.RefTarget(); r.typ != want || r.ended {
				fail("%v refers to a %v, want %v, or it already ended", ev.Type, r.typ, want)
			}
			r.ended = true
			if ev.Type == event.TypeCommitmentBreached {
				r.breach = on
			}
		}
	}
	for what, least := range map[string]int{"repair": 50, "repair samr": 5, "repair credit_china": 10, "filed": 30,
		"upheld": 2, "rejected": 15, "referred": 2} {
		if counts[what] < least {
			t.Errorf("%d %s, want at least %d: the test exercises too little", counts[what], what, least)
		}
	}
	if bad == 0 {
		t.Fatal("no bad lines: the test exercised nothing")
	}
	t.Logf("%d lines, %d bad lines, %v", len(lines), bad, counts)
}
