package tier

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/uscc"
)

// Change is a record of the tier-changes topic (docs/kafka.md, "Tier
// changes"), keyed by the USCC. Other programs read it: its encoding is a
// wire format.
//
//	{"uscc":"…","region":"370983","old_tier":"B","new_tier":"C","tier_scheme":"national-4",
//	 "score":512,"at":"2026-03-01T08:00:00Z","cause":"<event id>|time:<rule>",
//	 "source":{"topic":"credit.events","partition":3,"offset":1234}}
//
// An entity's first tier is not a change and is not published, so OldTier
// is "" (null) only in records of other producers; NewTier is "" (null)
// when the entity leaves the tiers (deregistered); Source is nil (absent)
// for changes made by a time rule.
type Change struct {
	USCC    uscc.Code
	Region  string // "": absent
	OldTier string // label; "": null
	NewTier string // label; "": null
	Scheme  string // tier scheme id
	Score   int
	At      time.Time // whole seconds, UTC
	Cause   string    // the event id, or "time:<rule>"
	Source  *ChangeSource
}

// ChangeSource is the source-topic message that made a tier change.
type ChangeSource struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// AppendJSON appends c's record, without reflection.
func (c *Change) AppendJSON(b []byte) []byte {
	b = append(b, `{"uscc":"`...)
	b = append(b, c.USCC[:]...)
	b = append(b, '"')
	if c.Region != "" {
		b = append(b, `,"region":`...)
		b = jsontext.AppendString(b, c.Region)
	}
	b = append(b, `,"old_tier":`...)
	b = appendLabel(b, c.OldTier)
	b = append(b, `,"new_tier":`...)
	b = appendLabel(b, c.NewTier)
	b = append(b, `,"tier_scheme":`...)
	b = jsontext.AppendString(b, c.Scheme)
	b = append(b, `,"score":`...)
	b = strconv.AppendInt(b, int64(c.Score), 10)
	b = append(b, `,"at":"`...)
	b = c.At.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","cause":`...)
	b = jsontext.AppendString(b, c.Cause)
	if s := c.Source; s != nil {
		b = append(b, `,"source":{"topic":`...)
		b = jsontext.AppendString(b, s.Topic)
		b = append(b, `,"partition":`...)
		b = strconv.AppendInt(b, int64(s.Partition), 10)
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, s.Offset, 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendLabel appends a tier label, or null for "".
func appendLabel(b []byte, label string) []byte {
	if label == "" {
		return append(b, "null"...)
	}
	return jsontext.AppendString(b, label)
}

// tierChangeJSON is the decoded form of a record.
type tierChangeJSON struct {
	USCC    *string       `json:"uscc"`
	Region  string        `json:"region"`
	OldTier *string       `json:"old_tier"`
	NewTier *string       `json:"new_tier"`
	Scheme  *string       `json:"tier_scheme"`
	Score   *int          `json:"score"`
	At      *string       `json:"at"`
	Cause   *string       `json:"cause"`
	Source  *ChangeSource `json:"source"`
}

// ParseChange decodes a record of the tier-changes topic. uscc,
// tier_scheme, score, at and cause are required; old_tier and new_tier are
// labels or null (absent reads as null), region and source are optional;
// uscc must be a well-formed USCC, at an instant (ParseInstant), and a label or the
// scheme must not be the empty string. Unknown members are ignored, so
// that later versions may add some.
func ParseChange(b []byte) (Change, error) {
	var j tierChangeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Change{}, fmt.Errorf("tier change: %w", err)
	}
	var missing []error
	for _, m := range []struct {
		name    string
		present bool
	}{{"uscc", j.USCC != nil}, {"tier_scheme", j.Scheme != nil}, {"score", j.Score != nil}, {"at", j.At != nil}, {"cause", j.Cause != nil}} {
		if !m.present {
			missing = append(missing, fmt.Errorf("tier change: %s is missing", m.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return Change{}, err
	}
	code, err := uscc.ParseFormat(*j.USCC)
	if err != nil {
		return Change{}, fmt.Errorf("tier change: uscc: %w", err)
	}
	at, err := civil.ParseInstant(*j.At)
	if err != nil {
		return Change{}, fmt.Errorf("tier change: at: %w", err)
	}
	c := Change{USCC: code, Region: j.Region, Scheme: *j.Scheme, Score: *j.Score, At: at, Cause: *j.Cause, Source: j.Source}
	for _, l := range []struct {
		name string
		v    *string
		dst  *string
	}{{"old_tier", j.OldTier, &c.OldTier}, {"new_tier", j.NewTier, &c.NewTier}, {"tier_scheme", j.Scheme, &c.Scheme}} {
		if l.v != nil && *l.v == "" {
			return Change{}, fmt.Errorf("tier change: %s is empty (a label, or null)", l.name)
		}
		if l.v != nil {
			*l.dst = *l.v
		}
	}
	return c, nil
}
