package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// buildCreditd builds the real binary once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func buildCreditd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditd-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "creditd")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// proc is creditd running as a separate process.
type proc struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func startProc(t *testing.T, bin, data string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "info"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		addr := ""
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "listening on http://"); i >= 0 {
				addr = strings.Fields(line[i+len("listening on http://"):])[0]
			}
			if strings.HasPrefix(line, "creditd ready") {
				ready <- addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case addr := <-ready:
		p.base = "http://" + addr
	case <-p.done:
		t.Fatalf("creditd exited before ready: %s", stderr.String())
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("creditd not ready: %s", stderr.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("creditd stderr:\n%s", stderr.String())
		}
	})
	return p
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) terminate(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatal("creditd did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("creditd exited with %d after SIGTERM", code)
	}
}

func post(base, token string, body []byte) (ingest.Result, error) {
	req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ingest.Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return ingest.Result{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var r ingest.Result
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

// comparable is the part of an entity answer that must equal a clean
// replay's.
type comparable struct {
	Score   int
	Tier    string
	Reasons []api.Reason
	Records api.RecordCounts
	History []string
}

func fromAnswer(e api.Entity) comparable {
	c := comparable{Score: e.Score, Tier: e.Tier, Reasons: e.Reasons, Records: e.Records}
	for _, h := range e.History {
		c.History = append(c.History, h.ID+"/"+h.Status)
	}
	return c
}

func fromView(v scoring.EntityView) comparable {
	c := comparable{Score: v.Score, Tier: v.TierLabel, Reasons: []api.Reason{}, Records: api.RecordCounts{Active: v.Active, Repaired: v.Repaired}}
	for _, r := range v.Reasons {
		c.Reasons = append(c.Reasons, api.Reason{Code: r.Code, Text: r.Text, Points: r.Points, Records: r.Records})
	}
	for _, r := range v.Records {
		c.History = append(c.History, r.ID+"/"+r.Status)
	}
	return c
}

// TestKillDuringIngest starts the real binary, posts events, kills it with
// SIGKILL in the middle of ingest, restarts it, and checks that every
// acknowledged event is applied exactly once and the state equals a clean
// replay of the stream.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCreditd(t)
	data := t.TempDir()
	lines := genLines(t, 1500, 400, 21, 0)
	const chunk = 50
	var chunks [][]byte
	for i := 0; i < len(lines); i += chunk {
		chunks = append(chunks, joinLines(lines[i:min(i+chunk, len(lines))]))
	}
	// Small snapshot interval in events so the kill can land after a
	// snapshot, with a log tail to replay.
	p := startProc(t, bin, data, "--snapshot-events", "1000")
	tok := readTokens(t, filepath.Join(data, "tokens"))[api.RoleSource]

	var mu sync.Mutex
	acked := map[int]ingest.Result{}
	killAt := len(chunks) / 2
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if res, err := post(p.base, tok, chunks[i]); err == nil {
					mu.Lock()
					acked[i] = res
					mu.Unlock()
				}
			}
		}()
	}
	killed := false
	for i := range chunks {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= killAt && !killed {
			p.kill() // in the middle of ingest: other posts are in flight
			killed = true
		}
		if killed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if !killed {
		p.kill()
	}
	t.Logf("killed after %d of %d chunks acknowledged", len(acked), len(chunks))
	if snaps, _, _ := scoring.SnapshotFiles(filepath.Join(data, "snapshots")); len(snaps) == 0 {
		t.Error("no snapshot before the kill: recovery did not exercise snapshot + log tail")
	}

	// Restart on the same data: recovery from snapshot + log.
	p2 := startProc(t, bin, data)
	// Re-posting an acknowledged chunk applies none of the events it
	// applied before the kill: each was applied exactly once. (Chunks were
	// posted concurrently, so a line could have been rejected for a ref to
	// a record in a chunk not yet applied; such a line may apply now.)
	for i := range chunks {
		res, err := post(p2.base, tok, chunks[i])
		if err != nil {
			t.Fatalf("chunk %d after restart: %v", i, err)
		}
		if first, ok := acked[i]; ok && res.Duplicates < first.Applied+first.Duplicates {
			t.Fatalf("acknowledged chunk %d: %d events applied before the kill, only %d are duplicates after restart: %+v",
				i, first.Applied, res.Duplicates, res)
		}
	}

	// The state equals a clean replay.
	clean, err := scoring.New(scoring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d event.Decoder
	codes := map[uscc.Code]bool{}
	for _, l := range lines {
		var ev event.Event
		if err := d.Decode(l, &ev); err != nil {
			t.Fatal(err)
		}
		codes[ev.USCC] = true
		if _, err := clean.Apply(&ev, nil); err != nil {
			t.Fatalf("clean replay: %v", err)
		}
	}
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	regTok := readTokens(t, filepath.Join(data, "tokens"))[api.RoleRegulator]
	check := func(base string) {
		for code := range codes {
			req, _ := http.NewRequest("GET", base+"/v1/entities/"+code.String()+"?records=1&as_of="+asOf.Format(time.RFC3339), nil)
			req.Header.Set("Authorization", "Bearer "+regTok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e api.Entity
			err = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", code, resp.StatusCode, err)
			}
			v, _ := clean.Entity(code, asOf, true)
			if got, want := fromAnswer(e), fromView(v); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s differs from a clean replay:\n got %+v\nwant %+v", code, got, want)
			}
		}
	}
	check(p2.base)
	// A graceful stop snapshots; the next start restores it and agrees too.
	p2.terminate(t)
	p3 := startProc(t, bin, data)
	check(p3.base)
}
