package report

import "slices"

// Publicity channels (report.md "Channels"): which rules a record's
// status, publicity_until and repaired_on follow.
const (
	// ChannelSAMR is SAMR's publicity system (国家企业信用信息公示系统,
	// Order 45): the regulatory edition's channel.
	ChannelSAMR = "samr"
	// ChannelCreditChina is the Credit China display (信用中国, NDRC
	// rules): the public edition's channel, and the meaning of a report
	// without a channel member.
	ChannelCreditChina = "credit_china"
)

// EditionChannel is the channel whose rules an edition's records follow.
func EditionChannel(edition string) string {
	if edition == EditionRegulatory {
		return ChannelSAMR
	}
	return ChannelCreditChina
}

// ChannelNotPublished is a channel status beyond the record statuses: the
// channel never publishes the record.
const ChannelNotPublished = "not_published"

// ChannelStatus is a penalty's publication in one channel.
type ChannelStatus struct {
	Status         string  `json:"status"`          // RecordActive, RecordRepaired, RecordExpired or ChannelNotPublished
	PublicityUntil *string `json:"publicity_until"` // last day published (date), null when not published
	RepairedOn     *string `json:"repaired_on"`     // date, null if not repaired in this channel
	// RepairableFrom is the first day a repair in this channel may be
	// decided, null when it cannot be repaired early.
	RepairableFrom *string `json:"repairable_from"`
}

var channelStatusShape = []reportMember{
	{"status", rkString, true, nil}, {"publicity_until", rkNullableString, false, nil},
	{"repaired_on", rkNullableString, false, nil}, {"repairable_from", rkNullableString, false, nil}}

func (c *ChannelStatus) validate(p *reportProblems, path string) {
	if !slices.Contains([]string{RecordActive, RecordRepaired, RecordExpired, ChannelNotPublished}, c.Status) {
		p.add(path+".status", "%q is not one of active, repaired, expired, not_published", c.Status)
	}
	for _, d := range []struct {
		name string
		v    *string
	}{{"publicity_until", c.PublicityUntil}, {"repaired_on", c.RepairedOn}, {"repairable_from", c.RepairableFrom}} {
		if d.v != nil {
			checkDate(p, path+"."+d.name, *d.v)
		}
	}
	if c.Status == RecordRepaired && c.RepairedOn == nil {
		p.add(path+".repaired_on", "missing on a repaired channel")
	}
	if c.Status == ChannelNotPublished && c.PublicityUntil != nil {
		p.add(path+".publicity_until", "set on a channel that does not publish the record")
	}
}
