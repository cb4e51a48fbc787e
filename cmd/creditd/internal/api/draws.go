package api

import (
	"context"
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
	"github.com/creditrisk/creditd/models"
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
	onDraw   func(rec *models.DrawRecord, eligible int64, recordJSON []byte) // history, optional
	m        *metrics.Set
	logger   *slog.Logger
	// stopping ends at shutdown (Stop): running draws are cancelled then
	// rather than holding the shutdown for their whole run.
	stopping context.Context
	Stop     context.CancelFunc
}

func newDrawService(dir string, eng *scoring.Engine, cfg *Config, m *metrics.Set, logger *slog.Logger) (*drawService, error) {
	return newDrawServiceFor(dir, func() []*scoring.Engine { return []*scoring.Engine{eng} }, nil, eng.Scheme(), cfg, m, logger)
}

// newDrawServiceFor builds a draw service over a set of engines; complete,
// if not nil, says whether the set is the whole province (Kafka mode).
func newDrawServiceFor(dir string, engines func() []*scoring.Engine, complete func() error, scheme *models.TierScheme,
	cfg *Config, m *metrics.Set, logger *slog.Logger) (*drawService, error) {
	store, err := sampler.OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		return nil, fmt.Errorf("draw store: %w", err)
	}
	pub := filepath.Join(dir, "published")
	if err := os.MkdirAll(pub, 0o750); err != nil {
		return nil, err
	}
	s := sampler.New(store, sampler.Options{Scheme: scheme, AllowZeroLowestTier: cfg.AllowExemptA, MaxRankHashes: cfg.DrawMaxWork})
	stopping, stop := context.WithCancel(context.Background())
	return &drawService{s: s, engines: engines, complete: complete, pubDir: pub, m: m, logger: logger, stopping: stopping, Stop: stop}, nil
}

// engineSource presents engines to the sampler: each engine shard is a
// partition, scanned with tiers as of the draw's as_of.
type engineSource struct {
	engs   []*scoring.Engine
	scheme *models.TierScheme
}

func (e engineSource) Partitions() int {
	n := 0
	for _, g := range e.engs {
		n += g.Shards()
	}
	return n
}

func (e engineSource) TierScheme() *models.TierScheme { return e.scheme }

func (e engineSource) Scan(ctx context.Context, part int, asOf time.Time, fn func(*sampler.Unit) error) error {
	for _, g := range e.engs {
		if part >= g.Shards() {
			part -= g.Shards()
			continue
		}
		var u sampler.Unit
		return g.Scan(ctx, part, asOf, scoring.ScanOptions{Inspections: true}, func(a *scoring.EntityAt) error {
			if !a.Registered || a.Tier == models.NoTier {
				return nil // not (yet) a registered entity: not in the population
			}
			u.USCC, u.Region, u.Tier = a.USCC, a.Region, a.Tier
			u.RegisteredAt = a.RegisteredOn.Unix()
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

func (s *Server) handleDrawRun(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	d := s.draws
	if d.complete != nil {
		if err := d.complete(); err != nil {
			writeProblem(w, r, http.StatusConflict, "this instance does not hold the whole province: "+err.Error())
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	req, err := models.ParseDrawRequest(body)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if req.AsOf.After(s.nowFor().Add(time.Minute)) {
		writeProblem(w, r, http.StatusBadRequest, "as_of is in the future: a draw takes the population as it is, not as it will be")
		return
	}
	engs := d.engines()
	t0 := time.Now()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(d.stopping, cancel)()
	rec, st, err := d.s.Run(ctx, req, engineSource{engs: engs, scheme: engs[0].Scheme()})
	if err != nil {
		var de *models.DrawError
		status := http.StatusInternalServerError
		switch {
		case errors.As(err, &de):
			status = http.StatusBadRequest // the request names the bad member
		case errors.Is(err, sampler.ErrTooLarge):
			status = http.StatusUnprocessableEntity // valid, but above --draw-max-work; nothing was drawn
		case errors.Is(err, sampler.ErrCommitment), errors.Is(err, sampler.ErrSeedReused):
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
	b, _ := rec.MarshalJSON()
	if !st.Replayed && d.onDraw != nil {
		d.onDraw(rec, st.Eligible, b)
	}
	w.Header().Set("Location", "/v1/draws/"+rec.DrawID)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	status := http.StatusCreated
	if st.Replayed {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
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
func (s *Server) drawVisible(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("draw_id")
	if !validDrawID(id) || roleOf(r) != RoleRegulator && !s.draws.published(id) {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return "", false
	}
	return id, true
}

func (s *Server) handleDrawGet(w http.ResponseWriter, r *http.Request) {
	id, ok := s.drawVisible(w, r)
	if !ok {
		return
	}
	b, err := s.draws.s.Store().RecordJSON(id)
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, "no such draw")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

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
