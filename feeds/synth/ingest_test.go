package synth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/uscc"
)

// TestModelsAcceptStream runs the stream through the project's own strict
// decoder (event.Decoder) and publicity/repair rules (record.RuleFor,
// EventType.RefTarget): every good line must be accepted and every repair
// must fall inside the record's repair window; every bad line must be
// rejected for the reason its class names.
func TestModelsAcceptStream(t *testing.T) {
	opts := Options{Entities: 6000, Days: 1461, Seed: 12, End: testEnd, BadRate: 0.02}
	lines, _, _ := run(t, opts)
	opts.EnsureDefaults()
	type rec struct {
		typ   event.Type
		sub   uint8
		on    civil.Date
		uscc  uscc.Code
		ended bool
	}
	records := map[string]*rec{}
	var dec event.Decoder
	var ev event.Event
	badReasons := map[string]string{
		"not_json": event.ReasonNotJSON, "missing_field": event.ReasonMissingField,
		"invalid_uscc": event.ReasonInvalidUSCC, "unknown_type": event.ReasonUnknownType,
		"invalid_attrs": event.ReasonInvalidAttrs, "future": event.ReasonFuture,
	}
	repairs, bad := 0, 0
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
				if rule := record.RuleFor(r.typ, r.sub, r.on); !rule.Repairable || ev.DecidedOn >= rule.RepairFrom {
					t.Fatalf("line %d (%s): the repair on %v is allowed (rule %+v)", n+1, class, ev.DecidedOn, rule)
				}
			default:
				t.Fatalf("line %d: unknown bad class %q", n+1, class)
			}
			continue
		}
		if err != nil {
			t.Fatalf("line %d rejected: %v\n%s", n+1, err, l)
		}
		on := civil.DateOf(ev.OccurredAt)
		if ev.OccurredAt.UTC().Format(time.DateOnly) != on.String() {
			t.Fatalf("line %d: UTC date %s differs from the CST date %s", n+1, ev.OccurredAt.UTC().Format(time.DateOnly), on)
		}
		if record.CategoryOf(ev.Type) != record.CatNone {
			records[ev.ID] = &rec{typ: ev.Type, sub: ev.Sub, on: on, uscc: ev.USCC}
		}
		if ev.Ref == "" {
			continue
		}
		r := records[ev.Ref]
		if r == nil || r.uscc != ev.USCC || r.ended {
			t.Fatalf("line %d: ref %s missing, of another entity or ended", n+1, ev.Ref)
		}
		r.ended = true
		if ev.Type == event.TypeRepair {
			repairs++
			rule := record.RuleFor(r.typ, r.sub, r.on)
			if !rule.Repairable || ev.DecidedOn < rule.RepairFrom || (rule.RepairUntil != civil.NoDate && ev.DecidedOn > rule.RepairUntil) {
				t.Fatalf("line %d: repair on %v of a %v dated %v outside its window (rule %+v)", n+1, ev.DecidedOn, r.typ, r.on, rule)
			}
		} else if want := ev.Type.RefTarget(); r.typ != want {
			t.Fatalf("line %d: %v refers to a %v, want %v", n+1, ev.Type, r.typ, want)
		}
	}
	if repairs == 0 || bad == 0 {
		t.Fatalf("%d repairs and %d bad lines: the test exercised nothing", repairs, bad)
	}
	t.Logf("%d lines, %d repairs, %d bad lines", len(lines), repairs, bad)
}
