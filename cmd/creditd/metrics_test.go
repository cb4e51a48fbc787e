package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
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
	res, _ := s.postEvents(RoleSource, joinLines(lines))
	s.postEvents(RoleSource, joinLines(lines[:10])) // duplicates
	s.postEvents(RoleSource, []byte("not json\n"))
	_, body := s.do("GET", "/metrics", RolePublic, nil)
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
		`creditd_entities\{tier="A"\}`, `creditd_entities\{tier="D"\}`, `creditd_ready`, `creditd_recovery_seconds`,
		`creditd_http_requests_total\{code="200",route="POST /v1/events"\}`, `creditd_http_request_seconds_count\{route="POST /v1/events"\}`,
		`creditd_log_appended_bytes_total`, `go_goroutines`} {
		metricValue(t, body, re)
	}
	if metricValue(t, body, `creditd_snapshot_seconds_count`) < 1 || metricValue(t, body, `creditd_ready`) != 1 {
		t.Error("no snapshot written or not ready")
	}
	_, keys1 := s.do("GET", "/v1/keys", RolePublic, nil)
	fi, err := os.Stat(filepath.Join(data, "keys", "signing.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v %v", err, fi.Mode())
	}
	s.stop()
	s = startService(t, data)
	_, keys2 := s.do("GET", "/v1/keys", RolePublic, nil)
	if !bytes.Equal(keys1, keys2) {
		t.Error("key set changed across a restart")
	}
}
