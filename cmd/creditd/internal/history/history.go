// Package history feeds the ClickHouse history store from what the
// ingester (or a Kafka partition's state) applied, rejected and changed,
// and from draws, and answers the analytics endpoints over it.
package history

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	chsink "github.com/creditrisk/creditd/feeds/clickhouse"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// History feeds the ClickHouse history store and answers its analytics.
// The sink never blocks scoring: rows are batched in memory and spooled
// to DATA/clickhouse-spool when ClickHouse is slow or down.
type History struct {
	sink   *chsink.Sink
	eng    func(uscc.Code) *scoring.Engine
	scheme string
	drift  *chsink.DriftQuery // the champion's, for the tier history's psi
	logger *slog.Logger
}

// Options configure a History.
type Options struct {
	DSN     string // --clickhouse-dsn: a clickhouse:// URL or a host:port
	DataDir string // the spool is DATA/clickhouse-spool
	Metrics *metrics.Set
	Logger  *slog.Logger
	// Scheme is the tier scheme's id; Engine returns the engine holding an
	// entity (nil if none here), whose scheme labels its tiers.
	Scheme string
	Engine func(uscc.Code) *scoring.Engine
	// Model is the champion (--model), whose drift the tier history
	// reports per month.
	Model *scoring.Model
}

// Open connects the sink (creating or migrating the schema) and
// registers its metrics.
func Open(ctx context.Context, o Options) (*History, error) {
	logger := o.Logger
	opts := chsink.Options{SpoolDir: filepath.Join(o.DataDir, "clickhouse-spool"), Logger: logger}
	if strings.Contains(o.DSN, "://") {
		opts.DSN = o.DSN
	} else {
		opts.Addr = o.DSN
	}
	m := o.Metrics
	sink, err := chsink.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	if err := sink.Register(m.Registry); err != nil {
		return nil, fmt.Errorf("clickhouse metrics: %w", err)
	}
	return &History{sink: sink, logger: logger, scheme: o.Scheme, eng: o.Engine, drift: driftQuery(o.Model)}, nil
}

// Close flushes what is buffered (spooling what cannot be inserted).
func (h *History) Close(ctx context.Context) {
	if err := h.sink.Close(ctx); err != nil {
		h.logger.Warn("closing the clickhouse sink", "err", err)
	}
}

func regionOf(ev *event.Event) string {
	if ev.Type == event.TypeRegistered && ev.Region != "" {
		return ev.Region
	}
	return ev.USCC.Division()
}

// Applied implements ingest.Observer. The event's strings may borrow an input
// buffer that is reused after the call: whatever the sink keeps is cloned.
// The region and the tier an inspection found come from the apply itself
// (f), not from another query of the engine.
func (h *History) Applied(ev *event.Event, f scoring.Facts, raw []byte, source string, pos uint64) {
	code := ev.USCC.String()
	region := f.Region
	if region == "" {
		region = strings.Clone(regionOf(ev))
	}
	id := strings.Clone(ev.ID)
	h.add(h.sink.AddAppliedEvent(chsink.AppliedEvent{EventID: id, USCC: code, Type: ev.Type.String(),
		OccurredAt: ev.OccurredAt, Authority: strings.Clone(ev.Authority), Region: region, Attrs: string(ev.RawAttrs),
		AppliedAt: time.Now().UTC(), Source: source, Seq: pos}))
	if ev.Type == event.TypeInspection {
		tier := ""
		if eng := h.eng(ev.USCC); eng != nil {
			tier = eng.Scheme().Label(f.InspectedTier)
		}
		h.add(h.sink.AddInspection(chsink.Inspection{EventID: id, USCC: code, Region: region, At: ev.OccurredAt,
			PlanID: strings.Clone(ev.PlanID), Result: event.SubName(ev.Type, ev.Sub), TierAtInspection: tier, Scheme: h.scheme}))
	}
}

// Rejected implements ingest.Observer.
func (h *History) Rejected(l deadletter.Letter) {
	h.add(h.sink.AddRejectedEvent(chsink.RejectedEvent{At: l.At, Source: l.Source, Reason: l.Reason, Detail: l.Detail,
		EventID: strings.Clone(l.EventID), Original: string(l.Original)}))
}

// TierChanged implements ingest.Observer.
func (h *History) TierChanged(c scoring.TierChange) {
	scheme := h.scheme
	lbl := func(t tier.Tier) string {
		if eng := h.eng(c.USCC); eng != nil {
			return eng.Scheme().Label(t)
		}
		return ""
	}
	h.add(h.sink.AddTierChange(chsink.TierChange{USCC: c.USCC.String(), Region: c.Region, At: c.At,
		OldTier: lbl(c.From), NewTier: lbl(c.To), Scheme: scheme, Score: c.Score, Cause: strings.Clone(c.Cause)}))
}

// DrawDone records a draw and its selections.
func (h *History) DrawDone(rec *draw.Record, eligible int64, recordJSON []byte) {
	h.add(h.sink.AddDraw(chsink.Draw{DrawID: rec.DrawID, PlanID: rec.Request.PlanID, AsOf: rec.Request.AsOf,
		Scheme: rec.Scheme.ID, PopulationDigest: hex.EncodeToString(rec.PopulationDigest[:]), Eligible: int(eligible),
		Selected: len(rec.Selected), RecordJSON: string(recordJSON)}))
	for _, sel := range rec.Selected {
		h.add(h.sink.AddDrawSelection(chsink.DrawSelection{DrawID: rec.DrawID, PlanID: rec.Request.PlanID, AsOf: rec.Request.AsOf,
			USCC: sel.USCC.String(), Region: string(sel.Region[:]), Tier: rec.Scheme.Label(sel.Tier),
			Priority: hex.EncodeToString(sel.Priority[:]), Inspectors: sel.Inspectors, Unassigned: sel.Unassigned}))
	}
}

func (h *History) add(err error) {
	if err != nil {
		h.logger.Debug("clickhouse sink refused a row", "err", err)
	}
}

// ServeHistory implements api.HistoryQuerier: the analytics endpoints.
func (h *History) ServeHistory(w http.ResponseWriter, r *http.Request, which string) {
	q := r.URL.Query()
	prefix, ok := api.RegionPrefix(w, r)
	if !ok {
		return
	}
	from, err1 := parseWhen(q.Get("from"))
	to, err2 := parseWhen(q.Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		api.WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	var out any
	var err error
	switch which {
	case "tiers-history":
		out, err = h.sink.Querier().TierHistory(ctx, chsink.TierHistoryQuery{Prefix: prefix, From: from, To: to, Scheme: q.Get("scheme"),
			Drift: h.drift})
	case "hit-rates":
		out, err = h.sink.Querier().HitRates(ctx, chsink.HitRateQuery{Prefix: prefix, From: from, To: to, Scheme: q.Get("scheme"),
			PlanID: q.Get("plan_id"), RandomOnly: q.Get("random_only") == "1" || q.Get("random_only") == "true"})
	case "tier-changes":
		limit, _ := strconv.Atoi(q.Get("limit"))
		out, err = h.sink.Querier().TierChanges(ctx, chsink.TierChangeQuery{Prefix: prefix, From: from, To: to, USCC: q.Get("uscc"), Limit: limit})
	}
	if errors.Is(err, chsink.ErrBadQuery) {
		api.WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		api.WriteProblem(w, r, http.StatusServiceUnavailable, "history query failed: "+err.Error())
		return
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// parseWhen accepts YYYY-MM, YYYY-MM-DD or RFC 3339; "" is the zero time.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := chsink.ParseMonth(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := civil.ParseInstant(s)
	var ie *civil.InstantError
	if errors.As(err, &ie) && ie.Range {
		return time.Time{}, err
	} else if err != nil {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM, YYYY-MM-DD or RFC 3339", s)
	}
	return t, nil
}
