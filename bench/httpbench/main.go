// Command httpbench measures creditd over HTTP on loopback: ingest
// (events per second through POST /v1/events, durable before the answer)
// and credit reports (GET /v1/reports/{uscc}: reports per second and
// latency percentiles). It starts nothing: run creditd first, e.g.
//
//	go build -o /tmp/creditd ./cmd/creditd
//	/tmp/creditd --data /tmp/bench-data --listen 127.0.0.1:18090 &
//	go run ./bench/httpbench -addr 127.0.0.1:18090 -tokens /tmp/bench-data/tokens -entities 1000000
//
// Every request loop is bounded in count and time and targets the given
// loopback address only.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditrisk/creditd/models/uscc"
)

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

func token(path, role string) string {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 2 && fs[0] == role {
			return fs[1]
		}
	}
	panic("no " + role + " token in " + path)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "creditd address (loopback)")
	tokens := flag.String("tokens", "", "creditd's tokens file")
	entities := flag.Int("entities", 1_000_000, "entities to ingest (skip with -skip-ingest)")
	skipIngest := flag.Bool("skip-ingest", false, "the entities were ingested already")
	batch := flag.Int("batch", 5000, "events per POST")
	ingestConc := flag.Int("ingest-concurrency", 4, "concurrent POSTs")
	conc := flag.Int("concurrency", 16, "concurrent report requests")
	dur := flag.Duration("duration", 20*time.Second, "report phase duration")
	maxReq := flag.Int("max-requests", 2_000_000, "report phase request cap")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "httpbench: -addr must be a loopback address")
		os.Exit(2)
	}
	base := "http://" + *addr
	src := token(*tokens, "source")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 5 * time.Minute}

	if !*skipIngest {
		// Ingest: registrations and, for one entity in ten, a penalty.
		var next atomic.Int64
		var applied, events atomic.Int64
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < *ingestConc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for {
					start := int(next.Add(int64(*batch))) - *batch
					if start >= *entities {
						return
					}
					buf.Reset()
					n := 0
					for i := start; i < min(start+*batch, *entities); i++ {
						c := code(i)
						fmt.Fprintf(&buf, `{"id":"HB-R-%d","uscc":"%s","type":"registered","occurred_at":"2020-01-01T00:00:00Z","attrs":{"name":"鲁基准企业%d有限公司","region":"%s","registered_on":"2019-12-30"}}`+"\n", i, c, i, c.Division())
						n++
						if i%10 == 0 {
							fmt.Fprintf(&buf, `{"id":"HB-P-%d","uscc":"%s","type":"penalty","occurred_at":"2026-03-01T02:00:00Z","authority":"SAMR-%s","attrs":{"severity":"general","decision_no":"鲁市监罚〔2026〕%d号","amount_yuan":5000}}`+"\n", i, c, c.Division(), i)
							n++
						}
					}
					req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(buf.Bytes()))
					req.Header.Set("Authorization", "Bearer "+src)
					resp, err := client.Do(req)
					if err != nil {
						panic(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						panic(fmt.Sprintf("ingest: %d %s", resp.StatusCode, body))
					}
					events.Add(int64(n))
					var a int
					fmt.Sscanf(string(body), `{"applied":%d`, &a)
					applied.Add(int64(a))
				}
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		fmt.Printf("ingest over HTTP: %d events (%d applied) in %v = %.0f events/s (batches of %d, %d concurrent POSTs, each answered after fsync)\n",
			events.Load(), applied.Load(), d.Round(time.Millisecond), float64(events.Load())/d.Seconds(), *batch, *ingestConc)
	}

	// Reports: random entities, public edition, JSON.
	var count, errs atomic.Int64
	lat := make([][]time.Duration, *conc)
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			x := uint64(w*7919 + 1)
			for time.Now().Before(deadline) && count.Add(1) <= int64(*maxReq) {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				c := code(int(x % uint64(*entities)))
				s := time.Now()
				resp, err := client.Get(base + "/v1/reports/" + c.String())
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				lat[w] = append(lat[w], time.Since(s))
			}
		}(w)
	}
	wg.Wait()
	d := time.Since(t0)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	p := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))] }
	fmt.Printf("reports: %d in %v = %.0f reports/s with %d concurrent clients; latency p50 %v p90 %v p99 %v max %v; %d errors\n",
		len(all), d.Round(time.Millisecond), float64(len(all))/d.Seconds(), *conc,
		p(0.5).Round(time.Microsecond), p(0.9).Round(time.Microsecond), p(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond), errs.Load())
}
