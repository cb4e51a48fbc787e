package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// metricValue returns the value of the first sample line matching re.
func metricValue(t *testing.T, body []byte, re string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + re + ` ([0-9.e+-]+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("metric %s not found", re)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// The metrics the service promises, checked by scraping /metrics; and
// the signing key: generated 0600 on first start, same key id after a
// restart.
func TestMetricsScrapeAndKey(t *testing.T) {
	data := t.TempDir()
	s := startService(t, data, "--snapshot-events", "500")
	lines := genLines(t, 500, 300, 3, 0)
	res, _ := s.postEvents(api.RoleSource, joinLines(lines))
	s.postEvents(api.RoleSource, joinLines(lines[:10])) // duplicates
	s.postEvents(api.RoleSource, []byte("not json\n"))
	_, body := s.do("GET", "/metrics", api.RolePublic, nil)
	if got := metricValue(t, body, `creditd_events_total\{outcome="applied",reason=""\}`); int(got) != res.Applied {
		t.Errorf("applied counter %v, want %d", got, res.Applied)
	}
	if got := metricValue(t, body, `creditd_events_total\{outcome="duplicate",reason=""\}`); got != 10 {
		t.Errorf("duplicate counter %v", got)
	}
	if got := metricValue(t, body, `creditd_events_total\{outcome="rejected",reason="not_json"\}`); got != 1 {
		t.Errorf("rejected counter %v", got)
	}
	if got := metricValue(t, body, `creditd_apply_seconds_count`); int(got) != res.Applied+10 {
		t.Errorf("apply latency count %v", got)
	}
	for _, re := range []string{`creditd_log_sync_seconds_count`, `creditd_snapshot_seconds_count`, `creditd_snapshot_position`,
		`creditd_entities`, `creditd_ready`, `creditd_recovery_seconds`,
		`creditd_http_requests_total\{code="200",route="POST /v1/events"\}`, `creditd_http_request_seconds_count\{route="POST /v1/events"\}`,
		`creditd_log_appended_bytes_total`, `go_goroutines`} {
		metricValue(t, body, re)
	}
	if metricValue(t, body, `creditd_snapshot_seconds_count`) < 1 || metricValue(t, body, `creditd_ready`) != 1 {
		t.Error("no snapshot written or not ready")
	}
	_, keys1 := s.do("GET", "/v1/keys", api.RolePublic, nil)
	fi, err := os.Stat(filepath.Join(data, "keys", "signing.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v %v", err, fi.Mode())
	}
	s.stop()
	s = startService(t, data)
	_, keys2 := s.do("GET", "/v1/keys", api.RolePublic, nil)
	if !bytes.Equal(keys1, keys2) {
		t.Error("key set changed across a restart")
	}
}

// publicMetricLabels are the label names a public /metrics sample may
// carry; none says anything about an entity's tier.
var publicMetricLabels = map[string]bool{"outcome": true, "reason": true, "cause": true, "route": true, "code": true,
	"le": true, "quantile": true, "edition": true, "format": true, "table": true, "kind": true, "version": true}

// publicMetric reports whether a metric name may appear on the public
// /metrics: the service's own (listed one by one) and the Go runtime's and
// process collectors'.
func publicMetric(name string) bool {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		name = strings.TrimSuffix(name, suffix)
	}
	switch name {
	case "creditd_events_total", "creditd_apply_seconds", "creditd_ingest_batch_seconds", "creditd_log_sync_seconds",
		"creditd_log_appended_bytes_total", "creditd_snapshot_seconds", "creditd_snapshot_position", "creditd_snapshot_bytes",
		"creditd_snapshot_timestamp_seconds", "creditd_log_unsnapshotted_records",
		"creditd_recovery_seconds", "creditd_ready", "creditd_entities", "creditd_tier_changes_total",
		"creditd_sweep_reevaluated_total", "creditd_http_requests_total", "creditd_http_request_seconds",
		"creditd_draws_total", "creditd_draw_selected_total", "creditd_draw_seconds", "creditd_reports_total",
		// Province-wide totals without labels: no tier in them.
		"creditd_objections_open", "creditd_objections_overdue":
		return true
	}
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// An anonymous caller's /metrics, /healthz, /readyz, /v1/keys and index
// reveal no tier: every metric and label name is on an allow-list (the
// per-tier entity gauge is gone; per-tier counts are /v1/stats/tiers,
// regulators only), and no tier label of the scheme appears as a label
// value.
func TestPublicEndpointsRevealNoTier(t *testing.T) {
	s := startService(t, t.TempDir())
	if res, _ := s.postEvents(api.RoleSource, joinLines(genLines(t, 300, 200, 5, 0))); res.Applied == 0 {
		t.Fatal("nothing applied")
	}
	s.do("GET", "/v1/stats/tiers", api.RoleRegulator, nil) // so that the route's counters exist
	resp, body := s.do("GET", "/metrics", api.RolePublic, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$`)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("unparsed sample %q", line)
			continue
		}
		n++
		if !publicMetric(m[1]) {
			t.Errorf("metric %s is not on the public allow-list", m[1])
		}
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			if !publicMetricLabels[l[1]] {
				t.Errorf("%s: label %s is not on the public allow-list", m[1], l[1])
			}
			if l[1] != "route" && l[1] != "code" && l[1] != "le" && l[1] != "quantile" && len(l[2]) == 1 && l[2] >= "A" && l[2] <= "E" {
				t.Errorf("%s: label value %q looks like a tier", line, l[2])
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d samples scraped", n)
	}
	for _, path := range []string{"/healthz", "/readyz", "/v1/keys", "/"} {
		resp, body := s.do("GET", path, api.RolePublic, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		allowed := map[string][]string{"/healthz": {"status"}, "/readyz": {"status", "entities"}, "/v1/keys": {"keys"},
			"/": {"service", "model", "tier_scheme", "issuer", "key_id", "endpoints"}}[path]
		for k := range doc {
			if !slices.Contains(allowed, k) {
				t.Errorf("%s: member %q is not on the public allow-list", path, k)
			}
		}
	}
}
