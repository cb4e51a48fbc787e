package scoring

import (
	"fmt"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
)

// checkRepair validates a repair and returns its target record. A repair
// acts in one publicity channel (event attr channel; Credit China when
// absent), judged by that channel's rules (record.SAMRRule,
// record.CreditChinaRule; domain.md §4.1, §5.1–§5.3).
func (e *Engine) checkRepair(s *shard, ent *entity, exists bool, ev *event.Event) (uint32, error) {
	ri, r, err := refRecord(s, ent, exists, ev)
	if err != nil {
		return 0, err
	}
	typ := event.Type(r.typ)
	if typ == event.TypeCommitmentBreached {
		// A repair may name the breach; it repairs the breached commitment.
		ri, r, typ = r.target, s.rec(r.target), event.TypeCommitmentMade
	}
	day := civil.DateFromUnix(r.at)
	ch := record.ChannelOf(ev.Channel)
	var rule record.ChannelRule
	ended := r.repairAt != noTime
	transfer := civil.NoDate // an enterprise's abnormal listing: the day it becomes the serious list
	switch typ {
	case event.TypeCommitmentMade:
		if r.endKind != endBreached {
			return 0, &event.RejectError{Reason: event.ReasonNotRepairable, Field: "attrs.ref",
				Detail: "only a breached commitment can be repaired"}
		}
		day = civil.DateFromUnix(r.endAt)
		rule = fromRule(record.BreachRule(day), e.rules.CapUntil(day))
	case event.TypePenalty:
		p := penaltyOf(s, r, true)
		if ch == record.ChannelSAMR {
			rule, ended = record.SAMRRule(p, day, e.rules), r.endKind == endStopped
		} else {
			rule = record.CreditChinaRule(p, day, e.rules)
		}
	case event.TypeAbnormalListed, event.TypeDishonestListed, event.TypeCourtDebtorListed:
		rule = fromRule(record.RuleFor(typ, r.sub, day), e.rules.CapUntil(day))
		ended = ended || r.endKind != endNone
		if typ == event.TypeAbnormalListed {
			if individual(ent.code) {
				// Abnormal status of an individual business: restored as soon as
				// the cause is cured, no 3-year transfer (domain.md §4.2, §5.3).
			} else {
				transfer = transferOn(day)
			}
		}
	default:
		return 0, &event.RejectError{Reason: event.ReasonNotRepairable, Field: "attrs.ref",
			Detail: fmt.Sprintf("%q is a %s record, not a negative record that credit repair applies to", truncate(ev.Ref, 64), typ)}
	}
	if !rule.Repairable {
		return 0, &event.RejectError{Reason: event.ReasonNotRepairable, Field: "attrs.ref", Detail: rule.NotRepairable}
	}
	if ended {
		return 0, &event.RejectError{Reason: event.ReasonAlreadyEnded, Field: "attrs.ref",
			Detail: fmt.Sprintf("record %q was already %s", truncate(ev.Ref, 64), endedWord(r))}
	}
	if ev.DecidedOn < rule.RepairFrom {
		return 0, &event.RejectError{Reason: event.ReasonRepairEarly, Field: "attrs.decided_on", PossibleFrom: rule.RepairFrom,
			Detail: fmt.Sprintf("a %s record dated %s can be repaired from %s (decided_on is %s)",
				describeRecord(typ, r.sub), day, rule.RepairFrom, ev.DecidedOn)}
	}
	if transfer != civil.NoDate && ev.DecidedOn >= transfer {
		// Unresolved for 3 years: it is the serious illegal and dishonest
		// list from the transfer day, and removed early only after 1 year
		// on it (Order 44, domain.md §4.3, §5.3).
		if from := transfer.AddYears(1); ev.DecidedOn < from {
			return 0, &event.RejectError{Reason: event.ReasonRepairEarly, Field: "attrs.decided_on", PossibleFrom: from,
				Detail: fmt.Sprintf("the abnormal listing of %s was unresolved for 3 years and moved to the serious illegal and dishonest list on %s; early removal from it is possible from %s (1 year listed)", day, transfer, from)}
		}
	}
	if typ == event.TypePenalty && ch == record.ChannelSAMR {
		if id := e.listedAt(s, ent, repairInstant(ev)); id != "" {
			return 0, &event.RejectError{Reason: event.ReasonNotRepairable, Field: "attrs.decided_on",
				Detail: fmt.Sprintf("SAMR stops publication early only for an entity on neither the abnormal operations list nor the serious illegal and dishonest list (Order 45 Art. 14(4)); %q lists it then", truncate(id, 64))}
		}
	}
	if rule.Until != civil.NoDate && ev.DecidedOn > rule.Until {
		return 0, &event.RejectError{Reason: event.ReasonAlreadyEnded, Field: "attrs.decided_on",
			Detail: fmt.Sprintf("the record's publicity (%s) already ended on %s", ch, rule.Until)}
	}
	if repairInstant(ev) < r.at {
		return 0, &event.RejectError{Reason: event.ReasonRefOrder, Field: "attrs.decided_on",
			Detail: "the repair is dated before the record it repairs"}
	}
	return ri, nil
}

// listedAt returns the id of an abnormal or serious listing of ent in force
// at T (not removed, repaired or past the province's cap by then), or "".
func (e *Engine) listedAt(s *shard, ent *entity, T int64) string {
	for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
		r := s.rec(ri)
		if (r.typ != uint8(event.TypeAbnormalListed) && r.typ != uint8(event.TypeDishonestListed)) || r.at > T ||
			(r.endAt != noTime && r.endAt <= T) || (r.repairAt != noTime && r.repairAt <= T) {
			continue
		}
		if cu := e.rules.CapUntil(civil.DateFromUnix(r.at)); cu != civil.NoDate && dayAfter(cu) <= T {
			continue
		}
		return e.recID(s, ri)
	}
	return ""
}

// fromRule is the channel rule, in both channels, of a non-penalty record
// whose legacy rule is r, capped at capUntil (NoDate: none).
func fromRule(r record.Rule, capUntil civil.Date) record.ChannelRule {
	c := record.ChannelRule{Shown: r.Public, Until: r.Until, Repairable: r.Repairable, RepairFrom: r.RepairFrom, NotRepairable: r.NotRepairable}
	if capUntil != civil.NoDate && (c.Until == civil.NoDate || capUntil < c.Until) {
		c.Until = capUntil
	}
	return c
}
