package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/creditd/scoring"
)

// The snapshot age the "snapshot too old" alert reads
// (docs/ops/alerts.yml): creditd_snapshot_timestamp_seconds is the newest
// snapshot file's modification time, also right after a restart, and
// creditd_log_unsnapshotted_records counts the log records a restart would
// replay.
func TestSnapshotAgeMetrics(t *testing.T) {
	data := t.TempDir()
	s := startService(t, data)
	_, body := s.do("GET", "/metrics", RolePublic, nil)
	if got := metricValue(t, body, `creditd_snapshot_timestamp_seconds`); got != 0 {
		t.Errorf("no snapshot yet: timestamp %v, want 0", got)
	}
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); got != 0 {
		t.Errorf("empty log: unsnapshotted %v, want 0", got)
	}
	res, _ := s.postEvents(RoleSource, joinLines(genLines(t, 40, 60, 5, 0)))
	if res.Applied == 0 {
		t.Fatal("nothing applied")
	}
	_, body = s.do("GET", "/metrics", RolePublic, nil)
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); int(got) != res.Applied {
		t.Errorf("unsnapshotted %v, want the %d applied events (no snapshot before shutdown)", got, res.Applied)
	}
	s.stop() // writes the shutdown snapshot

	names, _, err := scoring.SnapshotFiles(filepath.Join(data, "snapshots"))
	if err != nil || len(names) != 1 {
		t.Fatalf("snapshots after shutdown: %v %v", names, err)
	}
	fi, err := os.Stat(names[0])
	if err != nil {
		t.Fatal(err)
	}
	s = startService(t, data)
	_, body = s.do("GET", "/metrics", RolePublic, nil)
	want := float64(fi.ModTime().UnixNano()) / 1e9
	if got := metricValue(t, body, `creditd_snapshot_timestamp_seconds`); math.Abs(got-want) > 1e-3 {
		t.Errorf("after a restart: timestamp %v, want the file's mtime %v", got, want)
	}
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); got != 0 {
		t.Errorf("after a restart from the shutdown snapshot: unsnapshotted %v, want 0", got)
	}
}
