package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/testenv"
)

// Integration tests run against a real ClickHouse at CLICKHOUSE_ADDR
// (default 127.0.0.1:9000). Start one with `bash .ci/clickhouse.sh`. When it
// is not reachable the tests skip, unless CI=true or CLICKHOUSE_REQUIRED=1,
// where they fail.

var probe struct {
	once sync.Once
	addr string
	err  error
}

func chAddr(t testing.TB) string {
	t.Helper()
	probe.once.Do(func() {
		probe.addr = os.Getenv("CLICKHOUSE_ADDR")
		if probe.addr == "" {
			probe.addr = "127.0.0.1:9000"
		}
		q, err := OpenQuerier(Options{Addr: probe.addr, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, Logger: discard})
		if err != nil {
			probe.err = err
			return
		}
		defer q.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		probe.err = q.Ping(ctx)
	})
	if probe.err != nil {
		msg := fmt.Sprintf("ClickHouse not reachable at %s (%v); start one with `bash .ci/clickhouse.sh` or set CLICKHOUSE_ADDR", probe.addr, probe.err)
		testenv.MissingTool(t, "ClickHouse", msg, "CLICKHOUSE_REQUIRED")
	}
	return probe.addr
}

// testDB returns a fresh database name for this test and drops the database
// when the test ends.
func testDB(t testing.TB) string {
	t.Helper()
	addr := chAddr(t)
	var b [4]byte
	rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, t.Name())
	if len(name) > 30 {
		name = name[:30]
	}
	db := "creditd_test_" + name + "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if os.Getenv("CH_KEEP_TEST_DB") == "1" {
			t.Logf("keeping database %s", db)
			return
		}
		q, err := OpenQuerier(Options{Addr: addr, Database: db, Logger: discard})
		if err != nil {
			return
		}
		defer q.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := q.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Logf("drop %s: %v (the database is left on the server)", db, err)
		}
	})
	return db
}

// testOptions are fast-cycling options for tests.
func testOptions(t testing.TB, addr, db string) Options {
	return Options{
		Addr:          addr,
		Database:      db,
		SpoolDir:      t.TempDir(),
		BatchRows:     1000,
		FlushInterval: 50 * time.Millisecond,
		SpoolAfter:    500 * time.Millisecond,
		RetryMin:      20 * time.Millisecond,
		RetryMax:      200 * time.Millisecond,
		DialTimeout:   time.Second,
		ReadTimeout:   3 * time.Second,
		InsertTimeout: 5 * time.Second,
		Logger:        discard,
	}
}

func newSink(t testing.TB, o Options) *Sink {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

func flush(t testing.TB, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("flush: %v (stats %+v)", err, s.Stats())
	}
}

// count runs a single-number query.
func count(t testing.TB, q *Querier, query string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n uint64
	if err := q.conn.QueryRow(ctx, q.sql(query)).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proxy is a TCP proxy in front of ClickHouse that a test can cut (every
// connection reset, new ones closed at once) or hang (bytes stop flowing),
// to play an outage or a stalled server.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]bool
	wake  chan struct{} // closed when mode changes
}

type proxyMode int

const (
	proxyUp proxyMode = iota
	proxyDown
	proxyHang
)

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}, wake: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.set(proxyDown)
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	close(p.wake)
	p.wake = make(chan struct{})
	if m == proxyDown {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode == proxyDown {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.mode == proxyDown {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, stalling while the proxy hangs.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 {
			p.mu.Lock()
			mode, wake := p.mode, p.wake
			p.mu.Unlock()
			if mode == proxyDown {
				return
			}
			if mode == proxyHang {
				<-wake
				continue
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			break
		}
		if err != nil {
			return
		}
	}
}
