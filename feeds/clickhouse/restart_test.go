package clickhouse

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/testenv"
)

// TestRealServerRestart stops a real clickhouse-server (SIGTERM, as an
// operator or a crash-restart would) in the middle of a stream, starts it
// again on the same data, and checks that every row is there exactly once.
// It runs its own server on free ports with .ci/start-clickhouse.sh, so it
// needs clickhouse-server installed (bash .ci/clickhouse.sh installs it).
func TestRealServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a server: not in -short mode")
	}
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err != nil {
		testenv.MissingTool(t, "clickhouse-server", "not installed (run: bash .ci/clickhouse.sh)", "CLICKHOUSE_REQUIRED")
	}
	scripts, err := filepath.Abs("../../.ci")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tcp, http := freePort(t), freePort(t)
	env := append(os.Environ(), "CH_TCP_PORT="+strconv.Itoa(tcp), "CH_HTTP_PORT="+strconv.Itoa(http), "CH_INSTALL=0")
	run := func(script string, args ...string) {
		t.Helper()
		cmd := exec.Command("bash", append([]string{filepath.Join(scripts, script)}, args...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	run("start-clickhouse.sh", dir)
	t.Cleanup(func() { run("stop-clickhouse.sh", dir) })

	addr := "127.0.0.1:" + strconv.Itoa(tcp)
	o := testOptions(t, addr, "creditd_restart")
	o.BatchRows = 2000
	s := newSink(t, o)

	const n = 30_000
	progress := make(chan int, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(progress)
		for i := range n {
			if err := s.AddAppliedEvent(appliedRow(i)); err != nil {
				t.Error(err)
				return
			}
			progress <- i
			if i%500 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	for i := range progress {
		if i == n/3 {
			break
		}
	}
	run("stop-clickhouse.sh", dir)
	waitFor(t, "the sink to notice the stop", 10*time.Second, func() bool { return !s.Stats().Up })
	time.Sleep(300 * time.Millisecond)
	run("start-clickhouse.sh", dir)
	for range progress {
	}
	wg.Wait()
	flush(t, s)
	q := s.Querier()
	if got := count(t, q, "SELECT count() FROM {db}.applied_events FINAL"); got != n {
		t.Fatalf("%d visible rows after the restart, want %d", got, n)
	}
	if got := count(t, q, "SELECT uniqExact(event_id) FROM {db}.applied_events"); got != n {
		t.Fatalf("%d distinct ids, want %d", got, n)
	}
	t.Logf("raw rows %d; stats %+v", count(t, q, "SELECT count() FROM {db}.applied_events"), s.Stats())
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
