package kafkamode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// kafkaMode holds Kafka mode's handlers.
type kafkaMode struct {
	s         *api.Server
	mgr       *kf.Manager
	router    *kafkaRouter
	exc       *uscc.Exceptions
	issuer    *issue.Issuer
	mon       *monitor.Monitor
	modelName string
	schemeID  string
}

// Patterns lists the patterns of Kafka mode's own routes (handler); the
// Server's (api.Patterns) serve the rest.
func Patterns() []string {
	return []string{"POST /v1/events", "GET /readyz", "GET /{$}", "GET /v1/stats/tiers", "GET /v1/stats/challenger",
		"GET /v1/kafka/status", "GET /v1/kafka/partitions/{partition}/events"}
}

// handler routes Kafka mode's own endpoints and hands the rest to the
// Server; a path of these routes with another method gets 405 with the
// methods of both.
func (k *kafkaMode) handler() http.Handler {
	s := k.s
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", s.Route("POST /v1/events", s.IngestGate(k.handleEvents)))
	mux.Handle("GET /readyz", s.Route("GET /readyz", k.handleReady))
	mux.Handle("GET /{$}", s.Route("GET /{$}", k.handleIndex))
	mux.Handle("GET /v1/stats/tiers", s.Route("GET /v1/stats/tiers", k.handleTierStats))
	mux.Handle("GET /v1/stats/challenger", s.Route("GET /v1/stats/challenger", k.handleChallenger))
	mux.Handle("GET /v1/kafka/status", s.RouteRoles("GET /v1/kafka/status", nil, k.handleStatus))
	mux.Handle("GET /v1/kafka/partitions/{partition}/events", s.RouteRoles("GET /v1/kafka/partitions/{partition}/events",
		[]api.Role{api.RoleRegulator}, k.handleExport))
	return s.Overlay(mux)
}

func (k *kafkaMode) handleReady(w http.ResponseWriter, r *http.Request) {
	st := k.mgr.Status()
	restoring := []map[string]any{}
	for _, p := range st.Held {
		if p.Phase == "restoring" {
			restoring = append(restoring, map[string]any{"partition": p.Partition, "progress": p.Progress})
		}
	}
	if !st.Ready {
		detail := "joining the consumer group " + st.Group
		if st.Joined {
			detail = fmt.Sprintf("restoring %d of the %d partitions held", len(restoring), len(st.Held))
		}
		api.Unavailable(w, r, 2, detail)
		return
	}
	entities := 0
	held := make([]int, 0, len(st.Held))
	for _, p := range st.Held {
		entities += p.Entities
		held = append(held, p.Partition)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "entities": entities, "partitions": held,
		"of": st.Partitions, "group": st.Group, "generation": st.Generation})
}

func (k *kafkaMode) handleIndex(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"service": "creditd", "mode": "kafka", "model": k.modelName, "tier_scheme": k.schemeID,
		"issuer": k.issuer.Code, "key_id": k.issuer.KeyID,
		"kafka": map[string]any{"topic": k.mgr.Options().Topic, "group": k.mgr.Options().Group,
			"partitioner": k.mgr.Options().Partitioner.Name(), "partitions": k.router.localPartitions()},
		"endpoints": []string{"GET /v1/entities/{uscc}", "GET /v1/reports/{uscc}", "GET /v1/keys", "POST /v1/events",
			"POST /v1/draws", "GET /v1/draws/{draw_id}", "GET /v1/draws/{draw_id}/population", "GET /v1/stats/tiers",
			"GET /v1/kafka/status", "GET /v1/kafka/partitions/{partition}/events", "GET /metrics", "GET /healthz", "GET /readyz"},
	})
}

func (k *kafkaMode) handleStatus(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, k.mgr.Status())
}

// handleExport writes a held partition's state as credit-event/v1 NDJSON:
// each entity's applied events in an order that rebuilds it exactly, entity
// after entity in USCC order. It is the portable form of the partition
// (re-ingesting it anywhere rebuilds the same state).
func (k *kafkaMode) handleExport(w http.ResponseWriter, r *http.Request) {
	p, err := strconv.Atoi(r.PathValue("partition"))
	if err != nil || p < 0 {
		api.WriteProblem(w, r, http.StatusBadRequest, "partition must be a partition number")
		return
	}
	st, ph := k.mgr.Lookup(p)
	if st == nil {
		if ph == kf.PhaseRestoring {
			api.Unavailable(w, r, 2, fmt.Sprintf("partition %d is being restored", p))
			return
		}
		if owner, ok := k.mgr.Owner(p); ok && !owner.Self && owner.Addr != "" && r.Header.Get(hdrForwarded) == "" {
			k.router.reverseProxy(owner.Addr).ServeHTTP(w, r)
			return
		}
		api.Unavailable(w, r, 1, fmt.Sprintf("partition %d is not held here and its owner is unknown", p))
		return
	}
	eng := st.(*kafkaState).eng
	var codes []uscc.Code
	asOf := time.Now()
	for shard := range eng.Shards() {
		err := eng.Scan(r.Context(), shard, asOf, scoring.ScanOptions{}, func(e *scoring.EntityAt) error {
			codes = append(codes, e.USCC)
			return nil
		})
		if err != nil {
			return
		}
	}
	slices.SortFunc(codes, func(a, b uscc.Code) int { return strings.Compare(string(a[:]), string(b[:])) })
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(HeaderServedBy, k.router.self)
	bw := newBufferedWriter(w)
	for _, c := range codes {
		lines, ok := eng.EntityEvents(c)
		if !ok {
			continue
		}
		for _, l := range lines {
			bw.Write(l)
			bw.Write([]byte{'\n'})
		}
	}
	bw.Flush()
}

// handleTierStats answers GET /v1/stats/tiers for the whole province: each
// member answers for the partitions it holds (hdrLocal), and the parts are
// summed once they cover every partition.
func (k *kafkaMode) handleTierStats(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(hdrLocal) != "" {
		w.Header().Set(hdrPartitions, joinInts(k.router.localPartitions()))
		k.s.ServeTierStats(w, r)
		return
	}
	merged, ok := mergeParts(k, w, r, k.handleTierStats, (*api.TierStatsDoc).Add)
	if !ok {
		return
	}
	merged.Finish()
	api.WriteJSON(w, http.StatusOK, merged)
}

// handleChallenger answers GET /v1/stats/challenger for the whole
// province: each member's latest monitoring scan covers the partitions it
// held then, and the parts are summed once they cover every partition.
func (k *kafkaMode) handleChallenger(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(hdrLocal) != "" {
		d := k.mon.Latest()
		if d == nil {
			api.Unavailable(w, r, 5, "the first model monitoring scan has not finished; retry shortly")
			return
		}
		w.Header().Set(hdrPartitions, joinInts(d.Partitions))
		api.WriteJSON(w, http.StatusOK, d)
		return
	}
	merged, ok := mergeParts(k, w, r, k.handleChallenger, (*monitor.Doc).Add)
	if !ok {
		return
	}
	slices.Sort(merged.Partitions)
	merged.Finish()
	api.WriteJSON(w, http.StatusOK, merged)
}

// mergeParts gathers the members' JSON parts of a T and sums them with
// add (see gather).
func mergeParts[T any](k *kafkaMode, w http.ResponseWriter, r *http.Request, local http.HandlerFunc, add func(into, part *T) error) (*T, bool) {
	var merged *T
	ok := k.gather(w, r, local, func(body []byte) error {
		part := new(T)
		if err := json.Unmarshal(body, part); err != nil {
			return err
		}
		if merged == nil {
			merged = part
			return nil
		}
		return add(merged, part)
	})
	return merged, ok
}

// gather asks every member of the group for its part of a province-wide
// answer (this member through local, the others over HTTP with hdrLocal)
// and hands each part's body to add, skipping members holding no
// partition and parts overlapping another (ownership moving). It returns
// true once the parts cover every partition; otherwise, or when add
// fails, it answers 503 and returns false.
func (k *kafkaMode) gather(w http.ResponseWriter, r *http.Request, local http.HandlerFunc, add func(body []byte) error) bool {
	n := k.mgr.Partitions()
	type part struct {
		body  []byte
		parts []int
		err   error
	}
	var parts []part
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, mb := range k.mgr.Members() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p part
			if mb.Self {
				rec := httptest.NewRecorder()
				lr := r.Clone(r.Context())
				lr.Header.Set(hdrLocal, "1")
				local(rec, lr)
				if rec.Code != http.StatusOK {
					p.err = fmt.Errorf("local part: %d %s", rec.Code, rec.Body.String())
				}
				p.body, p.parts = rec.Body.Bytes(), splitInts(rec.Header().Get(hdrPartitions))
			} else {
				p.body, p.parts, p.err = k.fetchLocal(r, mb.Addr)
			}
			mu.Lock()
			parts = append(parts, p)
			mu.Unlock()
		}()
	}
	wg.Wait()
	covered := map[int]bool{}
	for _, p := range parts {
		if p.err != nil || len(p.parts) == 0 {
			continue // a member holding no partition adds nothing
		}
		dup := false
		for _, q := range p.parts {
			dup = dup || covered[q]
		}
		if dup {
			continue // two members answered for one partition (ownership moving): retry
		}
		if err := add(p.body); err != nil {
			api.Unavailable(w, r, 1, err.Error())
			return false
		}
		for _, q := range p.parts {
			covered[q] = true
		}
	}
	if len(covered) < n || n == 0 {
		missing := []int{}
		for q := range n {
			if !covered[q] {
				missing = append(missing, q)
			}
		}
		api.Unavailable(w, r, 2, fmt.Sprintf("partitions %v are being restored, are changing owner or have not been scanned yet", missing))
		return false
	}
	return true
}

func (k *kafkaMode) fetchLocal(r *http.Request, addr string) ([]byte, []int, error) {
	u := url.URL{Scheme: "http", Host: addr, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set(hdrLocal, "1")
	req.Header.Set(hdrForwarded, k.router.self)
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := k.router.client.Do(req)
	if err != nil {
		k.mgr.RefreshOwners()
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %d", addr, resp.StatusCode)
	}
	return b, splitInts(resp.Header.Get(hdrPartitions)), nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// bufferedWriter batches small writes of a streamed answer.
type bufferedWriter struct {
	w   io.Writer
	buf []byte
}

func newBufferedWriter(w io.Writer) *bufferedWriter {
	return &bufferedWriter{w: w, buf: make([]byte, 0, 64<<10)}
}

func (b *bufferedWriter) Write(p []byte) {
	if len(b.buf)+len(p) > cap(b.buf) {
		b.Flush()
	}
	b.buf = append(b.buf, p...)
}

func (b *bufferedWriter) Flush() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}
