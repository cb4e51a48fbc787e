// Command ingestbench measures what hostile and large POST /v1/events
// bodies cost creditd: for each case it starts a fresh creditd (so that
// VmHWM, the process's peak resident set, is that case's), posts the
// bodies on loopback, and reports the peak RSS from /proc/PID/status, the
// answer's status and size, and the dead-letter file's size.
//
//	go build -o /tmp/creditd ./cmd/creditd
//	go run ./bench/ingestbench -creditd /tmp/creditd
//
// Linux only (/proc). Every request targets the creditd it started.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/creditd/models/uscc"
)

// benchCase is one measurement: concurrent posts of body.
type benchCase struct {
	name        string
	body        func(limit int) []byte
	concurrency int
	args        []string
}

func main() {
	bin := flag.String("creditd", "/tmp/creditd", "creditd binary")
	limit := flag.Int("max-body", 64<<20, "body size (creditd's default --max-body)")
	only := flag.String("only", "", "run only the cases whose name contains this")
	flag.Parse()
	valid := sync.OnceValue(func() []byte { return validBody(*limit) })
	cases := []benchCase{
		{name: "{} lines", body: func(n int) []byte { return bytes.Repeat([]byte("{}\n"), n/3) }, concurrency: 1},
		{name: "1-byte lines (\"1\")", body: func(n int) []byte { return bytes.Repeat([]byte("1\n"), n/2) }, concurrency: 1},
		{name: "longest bad lines (1 MiB JSON strings)", body: func(n int) []byte { return repeatLine(`"`+strings.Repeat("x", 1<<20-2)+`"`, n) }, concurrency: 1},
		{name: "over-long lines (1 MiB + 1)", body: func(n int) []byte { return repeatLine(strings.Repeat("x", 1<<20+1), n) }, concurrency: 1},
		{name: "8 concurrent valid bodies, default --max-ingest 4", body: func(int) []byte { return valid() }, concurrency: 8},
		{name: "8 concurrent valid bodies, --max-ingest 8", body: func(int) []byte { return valid() }, concurrency: 8, args: []string{"--max-ingest", "8"}},
	}
	fmt.Printf("| case | body | requests | statuses | seconds | answer bytes | dead-letter bytes | RSS after start | peak RSS (VmHWM) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cases {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		if err := run(*bin, c, c.body(*limit)); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.name, err)
			os.Exit(1)
		}
	}
}

// repeatLine repeats line and a newline while the body stays within n bytes.
func repeatLine(line string, n int) []byte {
	return bytes.Repeat([]byte(line+"\n"), n/(len(line)+1))
}

// validBody is a body of registrations of distinct entities, within n bytes.
func validBody(n int) []byte {
	var b bytes.Buffer
	for i := 0; ; i++ {
		c := code(i)
		line := fmt.Sprintf(`{"id":"IB-R-%d","uscc":"%s","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"鲁基准企业%d有限公司","region":"%s","registered_on":"2019-12-30"}}`+"\n", i, c, i, c.Division())
		if b.Len()+len(line) > n {
			return b.Bytes()
		}
		b.WriteString(line)
	}
}

func code(i int) uscc.Code {
	var b [18]byte
	copy(b[:], "9137")
	copy(b[4:8], fmt.Sprintf("%04d", 100+i%9000))
	copy(b[8:16], fmt.Sprintf("%08d", i/9000))
	b[16] = uscc.OrgCheckCharacter(b[8:16])
	b[17] = uscc.CheckCharacter(b[:17])
	c, err := uscc.Parse(string(b[:]))
	if err != nil {
		panic(err)
	}
	return c
}

// run starts creditd, posts c's bodies and prints a table row.
func run(bin string, c benchCase, body []byte) error {
	data, err := os.MkdirTemp("", "ingestbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := append([]string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "error"}, c.args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	addr, err := waitReady(out)
	if err != nil {
		return err
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	tok, err := token(filepath.Join(data, "tokens"), "source")
	if err != nil {
		return err
	}
	start := vmKB(cmd.Process.Pid, "VmHWM")
	t0 := time.Now()
	var mu sync.Mutex
	statuses := map[int]int{}
	answer := 0
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1/events", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[resp.StatusCode]++
			answer = max(answer, int(n))
		})
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	peak := vmKB(cmd.Process.Pid, "VmHWM")
	var dl int64
	if fi, err := os.Stat(filepath.Join(data, "deadletters", "deadletters.ndjson")); err == nil {
		dl = fi.Size()
	}
	var st []string
	for code, n := range statuses {
		st = append(st, fmt.Sprintf("%d×%d", n, code))
	}
	fmt.Printf("| %s | %.1f MiB | %d | %s | %.1f | %d | %.1f MiB | %d MiB | **%d MiB** |\n", c.name, float64(len(body))/(1<<20),
		c.concurrency, strings.Join(st, " "), secs, answer, float64(dl)/(1<<20), start/1024, peak/1024)
	return nil
}

// waitReady reads creditd's stdout until it is ready and returns its address.
func waitReady(out io.Reader) (string, error) {
	sc := bufio.NewScanner(out)
	addr := ""
	for sc.Scan() {
		l := sc.Text()
		if i := strings.Index(l, "listening on http://"); i >= 0 {
			addr, _, _ = strings.Cut(l[i+len("listening on http://"):], " ")
		}
		if strings.Contains(l, "creditd ready") {
			return addr, nil
		}
	}
	return "", fmt.Errorf("creditd exited before it was ready")
}

func token(path, role string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if fs := strings.Fields(l); len(fs) == 2 && fs[0] == role {
			return fs[1], nil
		}
	}
	return "", fmt.Errorf("no %s token in %s", role, path)
}

// vmKB reads a kB field of /proc/PID/status.
func vmKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}
