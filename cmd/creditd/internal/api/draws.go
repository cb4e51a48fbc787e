package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
	"github.com/creditrisk/creditd/scoring"
)

// drawService runs draws on the live state and keeps their records.
//
// Publication: a draw record is created unpublished, visible to
// regulators only; POST /v1/draws/{id}/publish makes the record and its
// population public (一公开). Publishing is a separate act because the list
// of entities to inspect is usually made public when the inspections are
// announced, not when they are drawn.
type drawService struct {
	s        *sampler.Sampler
	engines  func() []*scoring.Engine
	complete func() error // nil when this instance holds the whole province
	pubDir   string
	onDraw   func(rec *draw.Record, eligible int64, recordJSON []byte) // history, optional
	m        *metrics.Set
	logger   *slog.Logger
	// stopping ends at shutdown (Stop): running draws are cancelled then
	// rather than holding the shutdown for their whole run.
	stopping context.Context
	Stop     context.CancelFunc
	// run is the sampler's RunPreparedV2 (a test replaces it).
	run func(ctx context.Context, p *sampler.Prepared, src sampler.Source) (*draw.V2, *sampler.Stats, error)
}

// runDraw runs a draw until it ends, its request's context ends, or the
// service stops (Stop), whichever comes first.
func (d *drawService) runDraw(ctx context.Context, p *sampler.Prepared, src sampler.Source) (*draw.V2, *sampler.Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.stopping, cancel)()
	return d.run(ctx, p, src)
}

func newDrawService(dir string, eng *scoring.Engine, cfg *Config, m *metrics.Set, logger *slog.Logger) (*drawService, error) {
	return newDrawServiceFor(dir, func() []*scoring.Engine { return []*scoring.Engine{eng} }, nil, eng.Scheme(), cfg, m, logger)
}

// newDrawServiceFor builds a draw service over a set of engines; complete,
// if not nil, says whether the set is the whole province (Kafka mode).
func newDrawServiceFor(dir string, engines func() []*scoring.Engine, complete func() error, scheme *tier.Scheme,
	cfg *Config, m *metrics.Set, logger *slog.Logger) (*drawService, error) {
	store, err := sampler.OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		return nil, fmt.Errorf("draw store: %w", err)
	}
	pub := filepath.Join(dir, "published")
	if err := os.MkdirAll(pub, 0o750); err != nil {
		return nil, err
	}
	// Exemption of the lowest tier is a property of the tier scheme and of
	// the plan (exempt_lowest_tier), not of the service.
	s := sampler.New(store, sampler.Options{Scheme: scheme, MaxRankHashes: cfg.DrawMaxWork})
	stopping, stop := context.WithCancel(context.Background())
	return &drawService{s: s, engines: engines, complete: complete, pubDir: pub, m: m, logger: logger, stopping: stopping, Stop: stop, run: s.RunPreparedV2}, nil
}

// engineSource presents engines to the sampler: each engine shard is a
// partition, scanned with tiers as of the draw's as_of.
type engineSource struct {
	engs   []*scoring.Engine
	scheme *tier.Scheme
	// industry fills Unit.Industry (a draw filtering by industry).
	industry bool
}

func (e engineSource) Partitions() int {
	n := 0
	for _, g := range e.engs {
		n += g.Shards()
	}
	return n
}

func (e engineSource) TierScheme() *tier.Scheme { return e.scheme }

func (e engineSource) Scan(ctx context.Context, part int, asOf time.Time, fn func(*sampler.Unit) error) error {
	for _, g := range e.engs {
		if part >= g.Shards() {
			part -= g.Shards()
			continue
		}
		var u sampler.Unit
		return g.Scan(ctx, part, asOf, scoring.ScanOptions{Inspections: true, Industry: e.industry}, func(a *scoring.EntityAt) error {
			if !a.Registered || a.Tier == tier.None {
				return nil // not (yet) a registered entity: not in the population
			}
			u.USCC, u.Region, u.Tier = a.USCC, a.Region, a.Tier
			u.RegisteredAt = a.RegisteredOn.Unix()
			if e.industry {
				u.Industry = string(a.Industry)
			}
			u.DeregisteredAt = a.DeregisteredAt
			u.Inspections = u.Inspections[:0]
			for _, in := range a.Inspections {
				u.Inspections = append(u.Inspections, sampler.Inspection{At: in.At, PlanID: in.PlanID})
			}
			return fn(&u)
		})
	}
	return fmt.Errorf("no partition %d", part)
}

func (d *drawService) published(id string) bool {
	_, err := os.Stat(filepath.Join(d.pubDir, id))
	return err == nil
}

// validDrawID keeps ids usable as file names.
func validDrawID(id string) bool {
	if id == "" || len(id) > 200 || strings.HasPrefix(id, ".") {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// prepareDraw reads and checks the draw request of POST /v1/draws and
// POST /v1/draws/preview, or answers and returns ok=false.
func (s *Server) prepareDraw(w http.ResponseWriter, r *http.Request) (req *draw.Request, p *sampler.Prepared, src engineSource, ok bool) {
	if s.notReady(w, r) {
		return nil, nil, src, false
	}
	d := s.draws
	if d.complete != nil {
		if err := d.complete(); err != nil {
			writeProblem(w, r, http.StatusConflict, "this instance does not hold the whole province: "+err.Error())
			return nil, nil, src, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "request body too large")
		return nil, nil, src, false
	}
	// Decoded here, validated once by the sampler's PrepareV2 (the format's
	// rules, then the scheme's and the service's policy).
	if req, err = draw.DecodeRequest(body); err != nil {
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return nil, nil, src, false
	}
	engs := d.engines()
	src = engineSource{engs: engs, scheme: engs[0].Scheme(), industry: len(req.Population.Industries) > 0}
	if p, err = d.s.PrepareV2(req, src); err != nil {
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return nil, nil, src, false
	}
	return req, p, src, true
}

func (s *Server) handleDrawRun(w http.ResponseWriter, r *http.Request) {
	req, p, src, ok := s.prepareDraw(w, r)
	if !ok {
		return
	}
	d := s.draws
	if req.AsOf.After(s.nowFor().Add(time.Minute)) {
		writeProblem(w, r, http.StatusBadRequest, "as_of is in the future: a draw takes the population as it is, not as it will be")
		return
	}
	t0 := time.Now()
	rec, st, err := d.runDraw(r.Context(), p, src)
	if err != nil {
		var de *draw.Error
		status := http.StatusInternalServerError
		switch {
		case errors.As(err, &de):
			status = http.StatusBadRequest // the request names the bad member
		case errors.Is(err, sampler.ErrTooLarge):
			status = http.StatusUnprocessableEntity // valid, but above --draw-max-work; nothing was drawn
		case errors.Is(err, sampler.ErrCommitment), errors.Is(err, sampler.ErrSeedReused), errors.Is(err, sampler.ErrPlanDrawn):
			status = http.StatusConflict
		case errors.Is(err, sampler.ErrPopulationChanged), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			w.Header().Set("Retry-After", "5")
			status = http.StatusServiceUnavailable
		default:
			d.logger.Error("draw failed", "err", err)
		}
		writeProblem(w, r, status, err.Error())
		return
	}
	if !st.Replayed {
		s.m.Draws.Inc()
		s.m.DrawSelected.Add(float64(st.Selected))
		s.m.DrawSeconds.Observe(time.Since(t0).Seconds())
		d.logger.Info("draw", "id", rec.DrawID, "plan", req.PlanID, "eligible", st.Eligible, "selected", st.Selected,
			"unassigned", st.Unassigned, "seconds", time.Since(t0).Seconds())
	}
	b := draw.EncodeV2(rec) // the regulatory edition: the caller is a regulator
	if !st.Replayed && d.onDraw != nil {
		d.onDraw(historyRecord(rec), st.Eligible, draw.EncodeV2(rec.Public()))
	}
	w.Header().Set("Location", "/v1/draws/"+rec.DrawID)
	status := http.StatusCreated
	if st.Replayed {
		status = http.StatusOK
	}
	writeBytes(w, status, "application/json", append(b, '\n'))
}

// historyRecord is the v1-shaped record the analytics history keeps
// (regulators' hit rates per tier need the selected entities' tiers).
func historyRecord(v *draw.V2) *draw.Record {
	scheme, err := tier.LookupScheme(v.TierScheme)
	if err != nil {
		scheme = tier.National4
	}
	rec := &draw.Record{DrawID: v.DrawID, Request: *v.Request, Scheme: scheme, Selected: make([]draw.Selection, len(v.Selected))}
	if d, err := hex.DecodeString(v.PopulationDigest); err == nil {
		copy(rec.PopulationDigest[:], d)
	}
	for i, s := range v.Selected {
		d := &rec.Selected[i]
		d.USCC = uscc.Code([]byte(s.USCC))
		copy(d.Region[:], s.Region)
		d.Inspectors, d.Unassigned, d.Reason = s.Inspectors, s.Unassigned, s.Reason
		if i < len(v.Tiers) {
			d.Tier, _ = scheme.Parse(v.Tiers[i].Tier)
			if p, err := hex.DecodeString(v.Tiers[i].Priority); err == nil {
				copy(d.Priority[:], p)
			}
		}
	}
	return rec
}

func writeBytes(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) nowFor() time.Time {
	if s.eng != nil {
		return s.eng.Now()
	}
	return time.Now()
}

func (s *Server) handleDrawCommit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PlanID     string `json:"plan_id"`
		Commitment string `json:"seed_commitment"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "want {\"plan_id\": ..., \"seed_commitment\": hex SHA-256 of the seed}: "+err.Error())
		return
	}
	c, err := s.draws.s.Commit(in.PlanID, in.Commitment)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) handleDrawPublish(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("draw_id")
	if !validDrawID(id) {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return
	}
	if _, err := s.draws.s.Store().Record(id); err != nil {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return
	}
	f, err := os.OpenFile(filepath.Join(s.draws.pubDir, id), os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "recording the publication failed")
		return
	}
	_, _ = f.WriteString(time.Now().UTC().Format(time.RFC3339) + "\n")
	_ = f.Sync()
	f.Close()
	writeJSON(w, http.StatusOK, map[string]any{"draw_id": id, "published": true})
}

// drawVisible answers 404 for draws a caller may not see. Until a draw is
// published only regulators see its record and population; every other
// caller (anonymous, which includes enterprises, and the peer and source
// roles) gets the same 404 as for a draw that does not exist, so that the
// answer does not even reveal that an unpublished draw exists.
//
// Records of draw/v1 carry every entity's tier (population lines and
// selected entities), which must never be public (domain.md §2.1, §2.2:
// 不公开): they stay readable, for verification, by regulators and peers
// only, and look missing to everyone else even when published.
func (s *Server) drawVisible(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("draw_id")
	role := roleOf(r)
	ok := validDrawID(id) && (role == RoleRegulator || s.draws.published(id))
	if ok && !s.draws.s.Store().IsV2(id) && role != RoleRegulator && role != RolePeer {
		ok = false
	}
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return "", false
	}
	return id, true
}

// regulatoryEdition reports whether the caller asked for the regulatory
// edition (?edition=regulatory) and may have it (regulators, and peers for
// published draws); other callers asking for it get 403.
func regulatoryEdition(w http.ResponseWriter, r *http.Request) (reg, ok bool) {
	switch e := r.URL.Query().Get("edition"); e {
	case "", report.EditionPublic:
		return false, true
	case report.EditionRegulatory:
		if role := roleOf(r); role != RoleRegulator && role != RolePeer {
			writeProblem(w, r, http.StatusForbidden, "the regulatory edition (tiers and the blinding key) is for regulators, peers and auditors")
			return false, false
		}
		return true, true
	default:
		writeProblem(w, r, http.StatusBadRequest, "edition must be public or regulatory")
		return false, false
	}
}

// handleDrawGet serves a draw record: a v2 draw's public edition by
// default, its regulatory edition with ?edition=regulatory; a v1 record as
// stored (regulators and peers only, see drawVisible).
func (s *Server) handleDrawGet(w http.ResponseWriter, r *http.Request) {
	id, ok := s.drawVisible(w, r)
	if !ok {
		return
	}
	reg, ok := regulatoryEdition(w, r)
	if !ok {
		return
	}
	store := s.draws.s.Store()
	if !store.IsV2(id) {
		b, err := store.RecordJSON(id)
		if err != nil {
			writeProblem(w, r, http.StatusNotFound, "no such draw")
			return
		}
		writeBytes(w, http.StatusOK, "application/json", b)
		return
	}
	rec, data, err := store.RecordV2(id)
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return
	}
	if !reg {
		data = draw.EncodeV2(rec.Public())
	}
	writeBytes(w, http.StatusOK, "application/json", append(bytes.TrimSuffix(data, []byte("\n")), '\n'))
}

// handleDrawPopulation serves the population file. A v2 file carries only
// blinded tiers, the same for both editions (the regulatory edition's key
// decodes them).
func (s *Server) handleDrawPopulation(w http.ResponseWriter, r *http.Request) {
	id, ok := s.drawVisible(w, r)
	if !ok {
		return
	}
	f, err := s.draws.s.Store().Population(id)
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var mod time.Time
	if fi, err := f.Stat(); err == nil {
		mod = fi.ModTime()
	}
	http.ServeContent(w, r, id+".txt", mod, f)
}

// handleDrawAmendments serves a v2 draw's recusal amendments (public once
// the draw is).
func (s *Server) handleDrawAmendments(w http.ResponseWriter, r *http.Request) {
	id, ok := s.drawVisible(w, r)
	if !ok {
		return
	}
	doc, err := s.draws.s.Store().Amendments(id)
	if err != nil || !s.draws.s.Store().IsV2(id) {
		writeProblem(w, r, http.StatusNotFound, "no such draw/v2 draw")
		return
	}
	writeBytes(w, http.StatusOK, "application/json", append(draw.EncodeAmendments(doc), '\n'))
}

// handleDrawRecusal records a recusal after the draw (行政处罚法 Art. 43,
// domain.md §3.4): body {"uscc", "inspector", "reason"}; the answer is the
// amendment with the replacement drawn from the entity's own permutation.
func (s *Server) handleDrawRecusal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("draw_id")
	if !validDrawID(id) || !s.draws.s.Store().IsV2(id) {
		writeProblem(w, r, http.StatusNotFound, "no such draw/v2 draw")
		return
	}
	var in struct {
		USCC      string `json:"uscc"`
		Inspector string `json:"inspector"`
		Reason    string `json:"reason"`
	}
	if !readJSONBody(w, r, recusalBodyMax, &in) {
		return
	}
	if !checkReasonText(w, r, "reason", in.Reason, recusalReasonMax) {
		return
	}
	// the USCC as every other route takes it: lower-case letters are the
	// same code (uscc.ParseFormat); one that is no USCC is not selected
	if c, _, err := s.exc.Parse(in.USCC); err == nil {
		in.USCC = c.String()
	}
	a, err := s.draws.s.Amend(r.Context(), id, in.USCC, in.Inspector, in.Reason, s.nowFor())
	if err != nil {
		var de *draw.Error
		if errors.As(err, &de) {
			writeProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		s.draws.logger.Error("recusal failed", "draw", id, "err", err)
		writeProblem(w, r, http.StatusInternalServerError, "recording the recusal failed")
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// handleDrawList lists a plan's seed commitments (with key commitments and
// times) and its draws: GET /v1/draws?plan_id=. Anyone sees the
// commitments and the published draws, so that a redraw of a plan is
// visible; regulators also see unpublished draws.
func (s *Server) handleDrawList(w http.ResponseWriter, r *http.Request) {
	plan := r.URL.Query().Get("plan_id")
	if plan == "" || len(plan) > draw.MaxPlanIDLen {
		writeProblem(w, r, http.StatusBadRequest, "plan_id is required (1–64 characters)")
		return
	}
	store := s.draws.s.Store()
	type drawInfo struct {
		DrawID    string    `json:"draw_id"`
		AsOf      time.Time `json:"as_of"`
		Published bool      `json:"published"`
	}
	type commitInfo struct {
		sampler.Commitment
		Used bool `json:"used"`
	}
	out := struct {
		PlanID      string       `json:"plan_id"`
		Commitments []commitInfo `json:"commitments"`
		Draws       []drawInfo   `json:"draws"`
	}{PlanID: plan, Commitments: []commitInfo{}, Draws: []drawInfo{}}
	for _, c := range store.Commitments(plan) {
		out.Commitments = append(out.Commitments, commitInfo{c, c.UsedBy != ""})
	}
	for _, d := range store.Records(plan) {
		pub := s.draws.published(d.DrawID)
		if pub || roleOf(r) == RoleRegulator {
			out.Draws = append(out.Draws, drawInfo{d.DrawID, d.AsOf, pub})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// registerBodyMax and recusalBodyMax bound the bodies of POST
// /v1/draws/conflicts and POST /v1/draws/{draw_id}/recusals;
// recusalReasonMax bounds a recusal's reason.
const (
	registerBodyMax  = 8 << 20
	recusalBodyMax   = 1 << 16
	recusalReasonMax = 1000
)

// handleConflictRegister adds entries to the standing conflict register
// (POST, a JSON array of {inspector, uscc, valid_from, valid_until?}) or
// lists it (GET). It applies to every later draw.
func (s *Server) handleConflictRegister(w http.ResponseWriter, r *http.Request) {
	store := s.draws.s.Store()
	if r.Method == http.MethodGet {
		reg, err := store.Register()
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, "reading the conflict register failed")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": reg})
		return
	}
	var in []sampler.RegisterEntry
	if !readJSONBody(w, r, registerBodyMax, &in) {
		return
	}
	reg, err := store.AddRegister(in)
	if err != nil {
		var de *draw.Error
		if errors.As(err, &de) {
			writeProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		writeProblem(w, r, http.StatusInternalServerError, "writing the conflict register failed")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"entries": reg})
}

// handleDrawPreview serves POST /v1/draws/preview: what a draw request
// would draw (per-tier N, n, π, exclusions, warnings) over the live
// population, computed by the sampler's own counting and allocation
// (sampler.PreviewV2) without selecting or storing anything. The seed is
// not used. Regulators only: it counts entities by tier.
func (s *Server) handleDrawPreview(w http.ResponseWriter, r *http.Request) {
	_, p, src, ok := s.prepareDraw(w, r)
	if !ok {
		return
	}
	pv, err := s.draws.s.PreviewV2(r.Context(), p, src)
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, pv)
}
