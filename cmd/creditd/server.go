package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/models"
	"github.com/creditrisk/creditd/scoring"
)

// Server is creditd's HTTP API.
type Server struct {
	cfg        *Config
	eng        *scoring.Engine
	ing        *Ingester
	tokens     *Tokens
	issuer     *Issuer
	jwks       []byte
	m          *Metrics
	logger     *slog.Logger
	exc        *models.USCCExceptions
	ready      atomic.Bool
	reqSeq     atomic.Uint64
	draws      *drawService
	history    HistoryQuerier
	owner      EntityRouter
	mux        *http.ServeMux
	renderHTML htmlRenderer
}

// HistoryQuerier answers the ClickHouse analytics endpoints (nil: not
// configured).
type HistoryQuerier interface {
	ServeHistory(w http.ResponseWriter, r *http.Request, which string)
}

// EntityRouter finds the state that holds an entity when this instance
// serves only part of the province (Kafka scale-out); nil: the single
// engine holds every entity.
type EntityRouter interface {
	// Route returns the engine holding code. When this instance does not
	// serve it, Route answers the request itself (proxy or redirect to the
	// owner, 503 with Retry-After while the partition restores) and
	// returns ok=false.
	Route(w http.ResponseWriter, r *http.Request, code models.USCC) (eng *scoring.Engine, ok bool)
	// Engines returns the engines this instance serves now.
	Engines() []*scoring.Engine
}

// engineFor returns the engine holding code, or answers and returns false.
func (s *Server) engineFor(w http.ResponseWriter, r *http.Request, code models.USCC) (*scoring.Engine, bool) {
	if s.owner != nil {
		return s.owner.Route(w, r, code)
	}
	return s.eng, true
}

// engines returns every engine this instance serves.
func (s *Server) engines() []*scoring.Engine {
	if s.owner != nil {
		return s.owner.Engines()
	}
	return []*scoring.Engine{s.eng}
}

// routeRoles says who may call each route. Public routes accept any caller.
var routeRoles = map[string][]Role{
	"GET /v1/entities/{uscc}":            {RoleRegulator, RolePeer},
	"GET /v1/reports/{uscc}":             {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/keys":                       {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/events":                    {RoleSource, RoleRegulator},
	"POST /v1/draws":                     {RoleRegulator},
	"POST /v1/draws/commitments":         {RoleRegulator},
	"POST /v1/draws/{draw_id}/publish":   {RoleRegulator},
	"GET /v1/draws/{draw_id}":            {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/{draw_id}/population": {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/{draw_id}/amendments": {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/draws/{draw_id}/recusals":  {RoleRegulator},
	"GET /v1/draws":                      {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/conflicts":            {RoleRegulator},
	"POST /v1/draws/conflicts":           {RoleRegulator},
	"GET /v1/stats/tiers":                {RoleRegulator},
	"GET /v1/stats/tiers/history":        {RoleRegulator},
	"GET /v1/stats/hit-rates":            {RoleRegulator},
	"GET /v1/stats/tier-changes":         {RoleRegulator},
	"GET /metrics":                       {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /healthz":                       {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /readyz":                        {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /{$}":                           {RolePublic, RoleRegulator, RolePeer, RoleSource},
}

type ctxKey int

const roleKey ctxKey = 0

func roleOf(r *http.Request) Role {
	if v, ok := r.Context().Value(roleKey).(Role); ok {
		return v
	}
	return RolePublic
}

// NewServer builds the routes.
func NewServer(s *Server) *Server {
	s.mux = http.NewServeMux()
	h := map[string]http.HandlerFunc{
		"GET /v1/entities/{uscc}":            s.handleEntity,
		"GET /v1/reports/{uscc}":             s.handleReport,
		"GET /v1/keys":                       s.handleKeys,
		"POST /v1/events":                    s.handleEvents,
		"POST /v1/draws":                     s.handleDrawRun,
		"POST /v1/draws/commitments":         s.handleDrawCommit,
		"POST /v1/draws/{draw_id}/publish":   s.handleDrawPublish,
		"GET /v1/draws/{draw_id}":            s.handleDrawGet,
		"GET /v1/draws/{draw_id}/population": s.handleDrawPopulation,
		"GET /v1/draws/{draw_id}/amendments": s.handleDrawAmendments,
		"POST /v1/draws/{draw_id}/recusals":  s.handleDrawRecusal,
		"GET /v1/draws":                      s.handleDrawList,
		"GET /v1/draws/conflicts":            s.handleConflictRegister,
		"POST /v1/draws/conflicts":           s.handleConflictRegister,
		"GET /v1/stats/tiers":                s.handleTierStats,
		"GET /v1/stats/tiers/history":        s.historyHandler("tiers-history"),
		"GET /v1/stats/hit-rates":            s.historyHandler("hit-rates"),
		"GET /v1/stats/tier-changes":         s.historyHandler("tier-changes"),
		"GET /metrics":                       promhttp.HandlerFor(s.m.Registry, promhttp.HandlerOpts{}).ServeHTTP,
		"GET /healthz":                       s.handleHealth,
		"GET /readyz":                        s.handleReady,
		"GET /{$}":                           s.handleIndex,
	}
	for pattern, fn := range h {
		s.mux.Handle(pattern, s.wrap(pattern, fn))
	}
	// Anything else: a problem+json 404/405 rather than the mux's text.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such resource; see the API in the README")
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds authentication, authorisation (routeRoles), panic recovery
// and metrics.
func (s *Server) wrap(route string, fn http.HandlerFunc) http.Handler {
	return s.wrapRoles(route, routeRoles[route], fn)
}

// wrapRoles is wrap with the allowed roles given; nil allows everyone.
func (s *Server) wrapRoles(route string, allowed []Role, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.logger.Error("handler panic", "route", route, "panic", p)
				if sw.code == 0 {
					writeProblem(sw, r, http.StatusInternalServerError, "internal error")
				}
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			s.m.HTTP.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.m.HTTPSeconds.WithLabelValues(route).Observe(time.Since(t0).Seconds())
		}()
		role, err := s.tokens.RoleOf(r)
		if err != nil {
			writeProblem(sw, r, http.StatusUnauthorized, err.Error())
			return
		}
		if allowed != nil && !roleAllowed(role, allowed) {
			if role == RolePublic {
				writeProblem(sw, r, http.StatusUnauthorized, "this resource needs a bearer token of role "+rolesText(allowed))
			} else {
				writeProblem(sw, r, http.StatusForbidden, fmt.Sprintf("role %s may not use this resource (allowed: %s)", role, rolesText(allowed)))
			}
			return
		}
		fn(sw, r.WithContext(context.WithValue(r.Context(), roleKey, role)))
	})
}

func roleAllowed(role Role, allowed []Role) bool {
	for _, a := range allowed {
		if a == role {
			return true
		}
	}
	return false
}

func rolesText(rs []Role) string {
	var s []string
	for _, r := range rs {
		if r != RolePublic {
			s = append(s, string(r))
		}
	}
	return strings.Join(s, ", ")
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeProblem(w, r, http.StatusServiceUnavailable, "recovering state")
		return
	}
	if p := s.ing.failed.Load(); p != nil {
		writeProblem(w, r, http.StatusServiceUnavailable, (*p).Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "entities": s.eng.Len()})
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "creditd", "model": s.eng.ModelName(), "tier_scheme": s.eng.Scheme().ID,
		"issuer": s.issuer.Code, "key_id": s.issuer.KeyID,
		"endpoints": []string{"GET /v1/entities/{uscc}", "GET /v1/reports/{uscc}", "GET /v1/keys", "POST /v1/events",
			"POST /v1/draws", "GET /v1/draws/{draw_id}", "GET /v1/draws/{draw_id}/population", "GET /v1/stats/tiers",
			"GET /metrics", "GET /healthz", "GET /readyz"},
	})
}

// parseUSCC parses the {uscc} path value or answers 400.
func (s *Server) parseUSCC(w http.ResponseWriter, r *http.Request) (models.USCC, bool, bool) {
	code, exc, err := s.exc.Parse(r.PathValue("uscc"))
	if err != nil {
		writeProblemReason(w, r, http.StatusBadRequest, models.ReasonInvalidUSCC, err.Error())
		return code, false, false
	}
	return code, exc, true
}

// asOf reads ?as_of= (RFC 3339), default now.
func (s *Server) asOf(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	v := r.URL.Query().Get("as_of")
	if v == "" {
		return s.nowFor(), true // s.eng is nil in Kafka mode
	}
	t, err := models.ParseInstant(v)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, "as_of: "+err.Error())
		return t, false
	}
	return t, true
}

func (s *Server) notReady(w http.ResponseWriter, r *http.Request) bool {
	if !s.ready.Load() {
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, "recovering state; retry shortly")
		return true
	}
	return false
}

// entityJSON is the GET /v1/entities/{uscc} answer.
type entityJSON struct {
	USCC          string            `json:"uscc"`
	USCCException bool              `json:"uscc_exception,omitempty"`
	Name          string            `json:"name"`
	Region        string            `json:"region"`
	EntityType    string            `json:"entity_type"`
	RegisteredOn  string            `json:"registered_on,omitempty"`
	Status        string            `json:"status"`
	Tier          string            `json:"tier"`
	NationalTier  string            `json:"national_tier"`
	TierScheme    string            `json:"tier_scheme"`
	Score         int               `json:"score"`
	Model         string            `json:"model"`
	AsOf          string            `json:"as_of"`
	NextChange    string            `json:"next_change,omitempty"`
	Reasons       []reasonJSON      `json:"reasons"`
	Records       recordCounts      `json:"records"`
	History       []entityRecordOut `json:"history,omitempty"`
}

type reasonJSON struct {
	Code    string   `json:"code"`
	Text    string   `json:"text"`
	Points  int      `json:"points"`
	Records []string `json:"records"`
}

type recordCounts struct {
	Active   int `json:"active"`
	Repaired int `json:"repaired"`
}

type entityRecordOut struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Category       string `json:"category"`
	Value          string `json:"value,omitempty"`
	OccurredAt     string `json:"occurred_at"`
	Authority      string `json:"authority"`
	Status         string `json:"status"`
	Outcome        string `json:"outcome,omitempty"`
	PublicityUntil string `json:"publicity_until,omitempty"`
	RepairedOn     string `json:"repaired_on,omitempty"`
	Public         bool   `json:"public"`
	Points         int    `json:"points"`
}

func (s *Server) handleEntity(w http.ResponseWriter, r *http.Request) {
	code, _, ok := s.parseUSCC(w, r)
	if !ok || s.notReady(w, r) {
		return
	}
	eng, ok := s.engineFor(w, r, code)
	if !ok {
		return
	}
	at, ok := s.asOf(w, r)
	if !ok {
		return
	}
	withHistory := r.URL.Query().Get("records") == "1" || r.URL.Query().Get("records") == "true"
	v, found := eng.Entity(code, at, withHistory)
	if !found {
		writeProblem(w, r, http.StatusNotFound, "no entity "+code.String()+" as of "+models.ReportInstant(at)+
			" (no events applied for it, or registered later)")
		return
	}
	out := entityJSON{USCC: v.USCC.String(), USCCException: v.Exception, Name: v.Name, Region: v.Region,
		EntityType: entityType(v.USCC), Status: "active", Tier: v.TierLabel,
		NationalTier: models.National4.Label(eng.Scheme().National(v.Tier)), TierScheme: v.Scheme, Score: v.Score,
		Model: v.Model, AsOf: models.ReportInstant(v.AsOf), Reasons: []reasonJSON{},
		Records: recordCounts{Active: v.Active, Repaired: v.Repaired}}
	if v.RegisteredOn != models.NoDate {
		out.RegisteredOn = v.RegisteredOn.String()
	}
	if !v.Registered {
		out.Status = "unregistered"
	}
	if v.Deregistered {
		out.Status = "deregistered"
	}
	if !v.NextChange.IsZero() {
		out.NextChange = models.ReportInstant(v.NextChange)
	}
	for _, rs := range v.Reasons {
		out.Reasons = append(out.Reasons, reasonJSON{Code: rs.Code, Text: rs.Text, Points: rs.Points, Records: rs.Records})
	}
	for _, rec := range v.Records {
		ro := entityRecordOut{ID: rec.ID, Type: rec.Type.String(), Category: rec.Category.String(), Value: rec.Sub,
			OccurredAt: models.ReportInstant(rec.OccurredAt), Authority: rec.Authority, Status: rec.Status,
			Outcome: rec.Outcome, Public: rec.Public, Points: rec.Points}
		if rec.PublicityUntil != models.NoDate {
			ro.PublicityUntil = rec.PublicityUntil.String()
		}
		if rec.RepairedOn != models.NoDate {
			ro.RepairedOn = rec.RepairedOn.String()
		}
		out.History = append(out.History, ro)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(s.jwks)
}

func (s *Server) handleTierStats(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	at, ok := s.asOf(w, r)
	if !ok {
		return
	}
	prefix := r.URL.Query().Get("region_prefix")
	if len(prefix) > 6 || strings.Trim(prefix, "0123456789") != "" {
		writeProblem(w, r, http.StatusBadRequest, "region_prefix must be up to 6 digits")
		return
	}
	var doc *tierStatsDoc
	for _, eng := range s.engines() {
		st, err := eng.TierStats(r.Context(), at, prefix)
		if err != nil {
			writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
			return
		}
		if part := newTierStatsDoc(st); doc == nil {
			doc = part
		} else if err := doc.add(part); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if doc == nil { // a Kafka member holding no partition: an empty part
		doc = &tierStatsDoc{AsOf: models.ReportInstant(at), RegionPrefix: prefix, Tiers: []tierStatsLine{}}
	}
	doc.finish()
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) historyHandler(which string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.history == nil {
			writeProblem(w, r, http.StatusNotImplemented, "history analytics need ClickHouse: start creditd with --clickhouse-dsn")
			return
		}
		s.history.ServeHistory(w, r, which)
	}
}

// newRequestID names a request in dead-letter sources.
func (s *Server) newRequestID() string {
	return strconv.FormatUint(s.reqSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// readEventLines reads an NDJSON request body of at most --max-body bytes:
// line gets each line (its bytes valid during the call), tooLong each line
// over 1 MiB with its line_too_long rejection. On a read error it answers
// (413 for an oversized body, 400 otherwise, saying nothing was done) and
// returns false.
func (s *Server) readEventLines(w http.ResponseWriter, r *http.Request, done string,
	line func(num int64, b []byte), tooLong func(num int64, rej *models.RejectError)) bool {
	rd := ndjson.NewReader(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), ndjson.Options{MaxLineSize: 1 << 20})
	for {
		l, err := rd.Next()
		if err == io.EOF {
			return true
		}
		var tl *ndjson.TooLongError
		if errors.As(err, &tl) {
			tooLong(tl.Number, &models.RejectError{Reason: models.ReasonLineTooLong,
				Detail: fmt.Sprintf("line of %d bytes exceeds %d", tl.Size, tl.Max)})
			continue
		}
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				writeProblem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes; nothing was %s", s.cfg.MaxBody, done))
				return false
			}
			writeProblem(w, r, http.StatusBadRequest, "reading the body: "+err.Error()+"; nothing was "+done)
			return false
		}
		line(l.Number, l.Bytes)
	}
}

// handleEvents ingests an NDJSON body.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	reqID := s.newRequestID()
	source := "http:" + reqID
	var lines []inLine
	// Each line is copied once into its inLine, which the decoded event borrows.
	d := models.EventDecoder{Exceptions: s.exc, Borrow: true}
	ok := s.readEventLines(w, r, "applied", func(num int64, b []byte) {
		in := inLine{num: num, raw: append([]byte(nil), b...)}
		ev := &models.Event{}
		if err := d.Decode(in.raw, ev); err != nil {
			in.rej = err.(*models.RejectError)
		} else {
			in.ev = ev
		}
		lines = append(lines, in)
	}, func(num int64, rej *models.RejectError) {
		lines = append(lines, inLine{num: num, rej: rej})
	})
	if !ok {
		return
	}
	res, err := s.ing.Submit(r.Context(), source, lines)
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}
