package scoring

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// TransferNotice is the announcement due before an enterprise's abnormal
// listing, unresolved for 3 years, moves to the serious illegal and
// dishonest list: the authority announces it within the 60 days before
// the 3-year mark (domain.md §4.2). It is due from NoticeOn (TransferOn −
// 60 days) to the day before TransferOn, while the listing is unresolved.
type TransferNotice struct {
	USCC       uscc.Code
	Region     string
	RecordID   string // the abnormal_listed event
	Authority  string
	Reason     string // the listing reason (wire value)
	ListedOn   civil.Date
	NoticeOn   civil.Date
	TransferOn civil.Date
}

// Notices lists the transfer notices due on the day of asOf (CST) for
// entities whose division code starts with regionPrefix, ordered by
// transfer day then USCC: every enterprise abnormal listing applied by
// asOf, not removed or repaired by then, whose notice window contains
// that day. Individual businesses have an abnormal status and no transfer
// (§4.2); deregistered entities leave the list (automatic removal, §4.2).
func (e *Engine) Notices(ctx context.Context, asOf time.Time, regionPrefix string) ([]TransferNotice, error) {
	T := asOf.Unix()
	today := civil.DateOf(asOf)
	parts := make([][]TransferNotice, len(e.shards))
	errs := make([]error, len(e.shards))
	e.parallelShards(func(i int, s *shard) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for j := uint32(0); j < s.nent; j++ {
			if j&4095 == 0 && ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			ent := s.ent(j)
			if ent.firstRec == 0 || (ent.flags&entDeregistered != 0 && int64(ent.deregAt) <= T) {
				continue
			}
			if regionPrefix != "" && !strings.HasPrefix(regionString(ent.region), regionPrefix) {
				continue
			}
			if individual(ent.code) {
				continue
			}
			for ri := ent.firstRec; ri != 0; ri = s.rec(ri).next {
				r := s.rec(ri)
				if r.typ != uint8(event.TypeAbnormalListed) || r.at > T || (r.endAt != noTime && r.endAt <= T) || (r.repairAt != noTime && r.repairAt <= T) {
					continue
				}
				listed := civil.DateFromUnix(r.at)
				if today < noticeOn(listed) || today >= transferOn(listed) {
					continue
				}
				b := s.bytes(r.strOff, r.strLen)
				parts[i] = append(parts[i], TransferNotice{USCC: ent.code.Unpack(), Region: regionString(ent.region),
					RecordID: string(blobField(b, 0)), Authority: string(blobField(b, 1)),
					Reason: event.SubName(event.TypeAbnormalListed, r.sub), ListedOn: listed,
					NoticeOn: noticeOn(listed), TransferOn: transferOn(listed)})
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var out []TransferNotice
	for _, p := range parts {
		out = append(out, p...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TransferOn != out[j].TransferOn {
			return out[i].TransferOn < out[j].TransferOn
		}
		if out[i].USCC != out[j].USCC {
			return out[i].USCC.String() < out[j].USCC.String()
		}
		return out[i].RecordID < out[j].RecordID
	})
	return out, nil
}
