// Package api is creditd's HTTP API: the Server and its routes, bearer
// tokens and roles (auth.go), problem+json answers (problem.go), POST
// /v1/events over the local ingester (ingesthttp.go), entities, signed
// reports (reports.go), tier statistics (tierstats.go) and draws
// (draws.go). Kafka mode adds its own routes over a Server (kafkamode).
package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/record"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/models/workday"
	"github.com/creditrisk/creditd/scoring"
)

// Config is what the API takes from creditd's configuration.
type Config struct {
	MaxBody     int64 // largest request body (--max-body)
	MaxIngest   int   // concurrent POST /v1/events requests (--max-ingest)
	DrawMaxWork int64 // sampler.Options.MaxRankHashes (--draw-max-work)
}

// Options are what a Server serves. Local mode gives Engine and Ingester,
// Kafka mode Router (and DrawScheme, DrawComplete).
type Options struct {
	Config     *Config
	Engine     *scoring.Engine  // local mode: the engine holding every entity
	Ingester   *ingest.Ingester // local mode: where POST /v1/events goes
	Router     EntityRouter     // Kafka mode: the engine holding an entity
	Tokens     *Tokens
	Issuer     *issue.Issuer
	JWKS       []byte // the JWKS document of GET /v1/keys
	Metrics    *metrics.Set
	Logger     *slog.Logger
	Exceptions *uscc.Exceptions
	RenderHTML func(w io.Writer, r *report.Report) error // the printable report page
	History    HistoryQuerier                            // nil: no ClickHouse
	Monitor    ModelMonitor                              // model monitoring (drift, challenger)

	DrawDir      string                                                    // draw store and publications
	DrawScheme   *tier.Scheme                                              // Kafka mode; local: the engine's
	DrawComplete func() error                                              // Kafka mode: nil when the engines are the whole province
	OnDraw       func(rec *draw.Record, eligible int64, recordJSON []byte) // history, optional
	// EventSink: Kafka mode's path for the events the objection routes
	// build (produce to the source topic); nil in local mode (Ingester).
	EventSink ObjectionSink
}

// New returns the Server of o, not ready (SetReady) until the state is.
func New(o Options) (*Server, error) {
	s := &Server{cfg: o.Config, eng: o.Engine, ing: o.Ingester, owner: o.Router, tokens: o.Tokens, issuer: o.Issuer,
		jwks: o.JWKS, m: o.Metrics, logger: o.Logger, exc: o.Exceptions, renderHTML: o.RenderHTML, history: o.History, monitor: o.Monitor,
		sink: o.EventSink}
	if o.Issuer != nil {
		s.cal = o.Issuer.Calendar
	}
	if s.cal == nil {
		s.cal = workday.New()
	}
	logger := o.Logger.With("component", "draws")
	var err error
	if o.Router == nil {
		s.draws, err = newDrawService(o.DrawDir, o.Engine, o.Config, o.Metrics, logger)
	} else {
		s.draws, err = newDrawServiceFor(o.DrawDir, o.Router.Engines, o.DrawComplete, o.DrawScheme, o.Config, o.Metrics, logger)
	}
	if err != nil {
		return nil, err
	}
	s.draws.onDraw = o.OnDraw
	return newServer(s), nil
}

// SetReady says whether the state is recovered and the Server answers.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// StopDraws cancels running draws (at shutdown: they are not waited for).
func (s *Server) StopDraws() {
	if s.draws != nil {
		s.draws.Stop()
	}
}

// Shared is what both modes (localmode, kafkamode) take from package main
// beside their own options: the API's configuration, the model, the USCC
// exceptions, tokens, the issuer and its keys, the report page, metrics,
// the logger and where the "ready" line goes.
type Shared struct {
	API   *Config
	Model *scoring.Model
	// Rules are the province's record rules; nil: the model scheme's defaults.
	Rules *record.Config
	// Challenger is scored in shadow (--challenger); nil: none.
	Challenger *scoring.Shadow
	// MonitorInterval is how often the model monitoring scan runs.
	MonitorInterval time.Duration
	Exceptions      *uscc.Exceptions
	Tokens          *Tokens
	Issuer          *issue.Issuer
	JWKS            []byte
	RenderHTML      func(w io.Writer, r *report.Report) error
	Metrics         *metrics.Set
	Logger          *slog.Logger
	Stdout          io.Writer // the "ready" line
}

// Server is creditd's HTTP API.
type Server struct {
	cfg        *Config
	eng        *scoring.Engine
	ing        *ingest.Ingester
	tokens     *Tokens
	issuer     *issue.Issuer
	jwks       []byte
	m          *metrics.Set
	logger     *slog.Logger
	exc        *uscc.Exceptions
	ready      atomic.Bool
	reqSeq     atomic.Uint64
	draws      *drawService
	history    HistoryQuerier
	monitor    ModelMonitor
	owner      EntityRouter
	mux        *http.ServeMux
	renderHTML func(w io.Writer, r *report.Report) error
	// ingestSlots holds one token per running POST /v1/events (--max-ingest).
	ingestSlots chan struct{}
	sink        ObjectionSink     // Kafka mode: where objection events go
	cal         *workday.Calendar // objection deadlines
	tiers       tierCache         // GET /v1/stats/tiers of explicit instants (tiercache.go)
}

// HistoryQuerier answers the ClickHouse analytics endpoints (nil: not
// configured).
type HistoryQuerier interface {
	ServeHistory(w http.ResponseWriter, r *http.Request, which string)
}

// ModelMonitor answers the model-monitoring endpoints (package monitor).
type ModelMonitor interface {
	// ServeChallenger answers GET /v1/stats/challenger from the latest
	// monitoring scan of this instance's engines.
	ServeChallenger(w http.ResponseWriter, r *http.Request)
	// ServeMetrics answers GET /v1/stats/challenger/metrics: the
	// tier-labelled monitoring metrics, for regulators only.
	ServeMetrics(w http.ResponseWriter, r *http.Request)
}

// EntityRouter finds the state that holds an entity when this instance
// serves only part of the province (Kafka scale-out); nil: the single
// engine holds every entity.
type EntityRouter interface {
	// Route returns the engine holding code. When this instance does not
	// serve it, Route answers the request itself (proxy or redirect to the
	// owner, 503 with Retry-After while the partition restores) and
	// returns ok=false.
	Route(w http.ResponseWriter, r *http.Request, code uscc.Code) (eng *scoring.Engine, ok bool)
	// Engines returns the engines this instance serves now.
	Engines() []*scoring.Engine
}

// engineFor returns the engine holding code, or answers and returns false.
func (s *Server) engineFor(w http.ResponseWriter, r *http.Request, code uscc.Code) (*scoring.Engine, bool) {
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
	"GET /v1/entities/{uscc}":                   {RoleRegulator, RolePeer},
	"GET /v1/reports/{uscc}":                    {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/reports/{uscc}/issue":             {RoleRegulator},
	"GET /v1/reports/verify/{report_id}":        {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/keys":                              {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/openapi.json":                      {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/events":                           {RoleSource, RoleRegulator},
	"POST /v1/draws":                            {RoleRegulator},
	"POST /v1/draws/commitments":                {RoleRegulator},
	"POST /v1/draws/preview":                    {RoleRegulator},
	"POST /v1/draws/{draw_id}/publish":          {RoleRegulator},
	"GET /v1/draws/{draw_id}":                   {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/{draw_id}/population":        {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/{draw_id}/amendments":        {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/draws/{draw_id}/recusals":         {RoleRegulator},
	"GET /v1/draws":                             {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/draws/conflicts":                   {RoleRegulator},
	"POST /v1/draws/conflicts":                  {RoleRegulator},
	"GET /v1/stats/tiers":                       {RoleRegulator},
	"GET /v1/stats/tiers/history":               {RoleRegulator},
	"GET /v1/stats/hit-rates":                   {RoleRegulator},
	"GET /v1/stats/tier-changes":                {RoleRegulator},
	"GET /metrics":                              {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /healthz":                              {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /readyz":                               {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /{$}":                                  {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"POST /v1/objections":                       {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/objections/{objection_id}":         {RolePublic, RoleRegulator, RolePeer, RoleSource},
	"GET /v1/objections":                        {RoleRegulator},
	"POST /v1/objections/{objection_id}/answer": {RoleRegulator},
	"GET /v1/measures/changes":                  {RoleRegulator, RolePeer},
	"GET /v1/notices":                           {RoleRegulator},
	"GET /v1/stats/challenger":                  {RoleRegulator},
	"GET /v1/stats/challenger/metrics":          {RoleRegulator},
}

// Patterns lists the patterns of the Server's routes (routeRoles).
func Patterns() []string {
	out := make([]string, 0, len(routeRoles))
	for p := range routeRoles {
		out = append(out, p)
	}
	return out
}

type ctxKey int

const roleKey ctxKey = 0

func roleOf(r *http.Request) Role {
	if v, ok := r.Context().Value(roleKey).(Role); ok {
		return v
	}
	return RolePublic
}

// newServer builds the routes.
func newServer(s *Server) *Server {
	s.mux = http.NewServeMux()
	s.ingestSlots = make(chan struct{}, max(1, s.cfg.MaxIngest))
	h := map[string]http.HandlerFunc{
		"GET /v1/entities/{uscc}":                   s.handleEntity,
		"GET /v1/reports/{uscc}":                    s.handleReport,
		"POST /v1/reports/{uscc}/issue":             s.handleReportIssue,
		"GET /v1/reports/verify/{report_id}":        s.handleVerify,
		"GET /v1/keys":                              s.handleKeys,
		"GET /v1/openapi.json":                      s.handleOpenAPI,
		"POST /v1/events":                           s.IngestGate(s.handleEvents),
		"POST /v1/draws":                            s.handleDrawRun,
		"POST /v1/draws/commitments":                s.handleDrawCommit,
		"POST /v1/draws/preview":                    s.handleDrawPreview,
		"POST /v1/draws/{draw_id}/publish":          s.handleDrawPublish,
		"GET /v1/draws/{draw_id}":                   s.handleDrawGet,
		"GET /v1/draws/{draw_id}/population":        s.handleDrawPopulation,
		"GET /v1/draws/{draw_id}/amendments":        s.handleDrawAmendments,
		"POST /v1/draws/{draw_id}/recusals":         s.handleDrawRecusal,
		"GET /v1/draws":                             s.handleDrawList,
		"GET /v1/draws/conflicts":                   s.handleConflictRegister,
		"POST /v1/draws/conflicts":                  s.handleConflictRegister,
		"GET /v1/stats/tiers":                       s.ServeTierStats,
		"GET /v1/stats/tiers/history":               s.historyHandler("tiers-history"),
		"GET /v1/stats/hit-rates":                   s.historyHandler("hit-rates"),
		"GET /v1/stats/tier-changes":                s.historyHandler("tier-changes"),
		"GET /metrics":                              promhttp.HandlerFor(s.m.Registry, promhttp.HandlerOpts{}).ServeHTTP,
		"GET /healthz":                              s.handleHealth,
		"GET /readyz":                               s.handleReady,
		"GET /{$}":                                  s.handleIndex,
		"POST /v1/objections":                       s.handleObjectionFile,
		"GET /v1/objections/{objection_id}":         s.handleObjectionGet,
		"GET /v1/objections":                        s.handleObjectionQueue,
		"POST /v1/objections/{objection_id}/answer": s.handleObjectionAnswer,
		"GET /v1/measures/changes":                  s.handleMeasureChanges,
		"GET /v1/notices":                           s.handleNotices,
		"GET /v1/stats/challenger":                  s.monitorHandler(ModelMonitor.ServeChallenger),
		"GET /v1/stats/challenger/metrics":          s.monitorHandler(ModelMonitor.ServeMetrics),
	}
	for pattern, fn := range h {
		s.mux.Handle(pattern, s.Route(pattern, fn))
	}
	s.registerObjectionMetrics()
	// Anything else: a problem+json 405 (with Allow) or 404 rather than
	// the mux's text, which this catch-all pattern replaces.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := allowedMethods(r, s.mux); len(allowed) > 0 {
			methodNotAllowed(w, r, allowed)
			return
		}
		refuse(w, r, http.StatusNotFound, "no such resource; see the API in the README")
	})
	return s
}

// Overlay returns a handler that serves extra's routes and, for every
// other path, the Server's; a path of extra's routes requested with a
// method it does not have gets 405 with the methods of both.
func (s *Server) Overlay(extra *http.ServeMux) http.Handler {
	extra.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(allowedMethods(r, extra)) > 0 {
			methodNotAllowed(w, r, allowedMethods(r, extra, s.mux))
			return
		}
		s.ServeHTTP(w, r)
	}))
	return extra
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

// Route adds authentication, authorisation (the roles routeRoles gives
// route), panic recovery and metrics to fn.
func (s *Server) Route(route string, fn http.HandlerFunc) http.Handler {
	return s.RouteRoles(route, routeRoles[route], fn)
}

// RouteRoles is Route with the allowed roles given; nil allows everyone.
func (s *Server) RouteRoles(route string, allowed []Role, fn http.HandlerFunc) http.Handler {
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
		// Authorisation comes before the body is read: a refused caller
		// gets its answer at once, however slowly it sends (refuse).
		role, err := s.tokens.RoleOf(r)
		if err != nil {
			refuse(sw, r, http.StatusUnauthorized, err.Error())
			return
		}
		if allowed != nil && !roleAllowed(role, allowed) {
			if role == RolePublic {
				refuse(sw, r, http.StatusUnauthorized, "this resource needs a bearer token of role "+rolesText(allowed))
			} else {
				refuse(sw, r, http.StatusForbidden, fmt.Sprintf("role %s may not use this resource (allowed: %s)", role, rolesText(allowed)))
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
	if err := s.ing.Err(); err != nil {
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "entities": s.eng.Len()})
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "creditd", "model": s.eng.ModelName(), "tier_scheme": s.eng.Scheme().ID,
		"issuer": s.issuer.Code, "key_id": s.issuer.KeyID,
		"endpoints": []string{"GET /v1/entities/{uscc}", "GET /v1/reports/{uscc}", "GET /v1/reports/verify/{report_id}", "GET /v1/keys", "POST /v1/events",
			"POST /v1/draws", "GET /v1/draws/{draw_id}", "GET /v1/draws/{draw_id}/population", "GET /v1/stats/tiers",
			"GET /v1/openapi.json", "GET /metrics", "GET /healthz", "GET /readyz"},
	})
}

// parseUSCC parses the {uscc} path value or answers 400.
func (s *Server) parseUSCC(w http.ResponseWriter, r *http.Request) (uscc.Code, bool, bool) {
	code, exc, err := s.exc.Parse(r.PathValue("uscc"))
	if err != nil {
		writeProblemReason(w, r, http.StatusBadRequest, event.ReasonInvalidUSCC, err.Error())
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
	t, err := civil.ParseInstant(v)
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

// Entity is the GET /v1/entities/{uscc} answer.
type Entity struct {
	USCC          string         `json:"uscc"`
	USCCException bool           `json:"uscc_exception,omitempty"`
	Name          string         `json:"name"`
	Region        string         `json:"region"`
	EntityType    string         `json:"entity_type"`
	RegisteredOn  string         `json:"registered_on,omitempty"`
	Status        string         `json:"status"`
	Tier          string         `json:"tier"`
	NationalTier  string         `json:"national_tier"`
	TierScheme    string         `json:"tier_scheme"`
	Score         int            `json:"score"`
	Model         string         `json:"model"`
	AsOf          string         `json:"as_of"`
	NextChange    string         `json:"next_change,omitempty"`
	Reasons       []Reason       `json:"reasons"`
	Records       RecordCounts   `json:"records"`
	History       []entityRecord `json:"history,omitempty"`
	// Measures: the joint measures and the commitment bar in force
	// (derived from public records; the same as the regulatory report's).
	Measures *report.Measures `json:"measures"`
}

// Reason is one reason of an entity's score.
type Reason struct {
	Code    string   `json:"code"`
	Text    string   `json:"text"`
	Points  int      `json:"points"`
	Records []string `json:"records"`
}

// RecordCounts counts an entity's records.
type RecordCounts struct {
	Active   int `json:"active"`
	Repaired int `json:"repaired"`
}

// entityRecord is one record of an entity's history (?records=1).
type entityRecord struct {
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
	// Objection is the record's latest objection (regulators and peers).
	Objection *QueuedObjection `json:"objection,omitempty"`
	// A penalty's publication per channel (report.md "Channels").
	SAMR        *report.ChannelStatus `json:"samr,omitempty"`
	CreditChina *report.ChannelStatus `json:"credit_china,omitempty"`
	// TransferredOn: an abnormal listing moved to the serious list that day.
	TransferredOn string `json:"transferred_on,omitempty"`
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
	v, found := eng.Entity(code, at, true) // the records: measures need them
	if !found {
		writeProblem(w, r, http.StatusNotFound, "no entity "+code.String()+" as of "+report.Instant(at)+
			" (no events applied for it, or registered later)")
		return
	}
	out := Entity{USCC: v.USCC.String(), USCCException: v.Exception, Name: v.Name, Region: v.Region,
		EntityType: issue.EntityType(v.USCC), Status: "active", Tier: v.TierLabel,
		NationalTier: tier.National4.Label(eng.Scheme().National(v.Tier)), TierScheme: v.Scheme, Score: v.Score,
		Model: v.Model, AsOf: report.Instant(v.AsOf), Reasons: []Reason{},
		Records: RecordCounts{Active: v.Active, Repaired: v.Repaired}, Measures: issue.Measures(scoring.MeasuresOf(&v))}
	if !withHistory {
		v.Records = nil
	}
	if v.RegisteredOn != civil.NoDate {
		out.RegisteredOn = v.RegisteredOn.String()
	}
	if !v.Registered {
		out.Status = "unregistered"
	}
	if v.Deregistered {
		out.Status = "deregistered"
	}
	if !v.NextChange.IsZero() {
		out.NextChange = report.Instant(v.NextChange)
	}
	for _, rs := range v.Reasons {
		out.Reasons = append(out.Reasons, Reason{Code: rs.Code, Text: rs.Text, Points: rs.Points, Records: rs.Records})
	}
	for _, rec := range v.Records {
		ro := entityRecord{ID: rec.ID, Type: rec.Type.String(), Category: rec.Category.String(), Value: rec.Sub,
			OccurredAt: report.Instant(rec.OccurredAt), Authority: rec.Authority, Status: rec.Status,
			Outcome: rec.Outcome, Public: rec.Public, Points: rec.Points}
		if rec.PublicityUntil != civil.NoDate {
			ro.PublicityUntil = rec.PublicityUntil.String()
		}
		if rec.RepairedOn != civil.NoDate {
			ro.RepairedOn = rec.RepairedOn.String()
		}
		if o := rec.Objection; o != nil {
			ro.Objection = &QueuedObjection{ObjectionStatus: s.objectionStatus(o, at), Authority: o.Authority, Reason: o.Reason, AnsweredBy: o.AnsweredBy}
		}
		if rec.SAMR != nil && rec.CreditChina != nil {
			ro.SAMR, ro.CreditChina = issue.ChannelStatus(rec.SAMR), issue.ChannelStatus(rec.CreditChina)
		}
		if rec.Transferred {
			ro.TransferredOn = rec.TransferredOn.String()
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

// RegionPrefix reads the region_prefix parameter (up to 6 digits of a
// division code, "" for the whole province); on a bad one it answers 400
// and reports false.
func RegionPrefix(w http.ResponseWriter, r *http.Request) (string, bool) {
	prefix := r.URL.Query().Get("region_prefix")
	if len(prefix) > 6 || strings.Trim(prefix, "0123456789") != "" {
		writeProblem(w, r, http.StatusBadRequest, "region_prefix must be up to 6 digits")
		return "", false
	}
	return prefix, true
}

// regionQuery reads what every regional aggregate takes (GET
// /v1/stats/tiers, /v1/notices): readiness, the as_of instant and the
// region prefix. On false an answer has been written.
func (s *Server) regionQuery(w http.ResponseWriter, r *http.Request) (time.Time, string, bool) {
	if s.notReady(w, r) {
		return time.Time{}, "", false
	}
	at, ok := s.asOf(w, r)
	if !ok {
		return time.Time{}, "", false
	}
	prefix, ok := RegionPrefix(w, r)
	return at, prefix, ok
}

func (s *Server) ServeTierStats(w http.ResponseWriter, r *http.Request) {
	at, prefix, ok := s.regionQuery(w, r)
	if !ok {
		return
	}
	var doc *TierStatsDoc
	explicit := r.URL.Query().Get("as_of") != "" // "now" moves every second: not worth keeping
	for _, eng := range s.engines() {
		var st scoring.TierStats
		var err error
		if explicit {
			st, err = s.tiers.stats(r.Context(), eng, at, prefix)
		} else {
			st, err = eng.TierStats(r.Context(), at, prefix)
		}
		if err != nil {
			writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
			return
		}
		if part := newTierStatsDoc(st); doc == nil {
			doc = part
		} else if err := doc.Add(part); err != nil {
			writeProblem(w, r, http.StatusInternalServerError, err.Error())
			return
		}
	}
	if doc == nil { // a Kafka member holding no partition: an empty part
		doc = &TierStatsDoc{AsOf: report.Instant(at), RegionPrefix: prefix, Tiers: []tierStatsLine{}}
	}
	doc.Finish()
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

func (s *Server) monitorHandler(fn func(ModelMonitor, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.notReady(w, r) {
			return
		}
		if s.monitor == nil {
			writeProblem(w, r, http.StatusNotImplemented, "model monitoring is not running")
			return
		}
		fn(s.monitor, w, r)
	}
}

// NewRequestID names a request in dead-letter sources.
func (s *Server) NewRequestID() string {
	return strconv.FormatUint(s.reqSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
