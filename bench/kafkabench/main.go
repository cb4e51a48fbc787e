// Command kafkabench measures creditd's Kafka feed end to end on one
// machine: events per second from the topic to applied state, next to two
// client-side ceilings measured on the same broker in the same run, and the
// time to restore a moved partition.
//
//	kafkabench -kafkabroker ./kafkabroker -creditd ./creditd -entities 10000000 -days 365
//
// Steps:
//  1. produce a synthetic province (feeds/synth) to a 12-partition topic,
//     keyed by USCC with the CRC32 partitioner (skipped if the topic
//     already holds it);
//  2. ceiling "reader": kafka-go's Reader, one per partition, only counting
//     messages (the ordinary kafka-go consumer API);
//  3. ceiling "fetch": kafka-go's Client.Fetch loop, one per partition,
//     copying keys and values and counting (the fetch path feeds/kafka
//     uses, without applying);
//  4. end to end: a creditd process in Kafka mode with a fresh consumer
//     group, timed from its joining (all partitions restored, at offset 0)
//     to every partition applied to its end and committed;
//  5. restore: a one-partition topic with -restore-entities entities is
//     consumed by creditd A, which stops (gracefully: final snapshot; or
//     SIGKILL: last periodic snapshot plus a tail to replay); creditd B
//     restores the partition; its restore time is reported.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/feeds/synth"
)

type config struct {
	brokers         string
	brokerBin       string
	brokerPort      int
	creditd         string
	topic           string
	partitions      int
	entities        int
	days            int
	seed            uint64
	readers         int
	restoreEntities int
	restoreDays     int
	skipE2E         bool
	produceOnly     bool
	skipRestore     bool
	keep            bool
	work            string
}

func main() {
	var c config
	flag.StringVar(&c.brokers, "brokers", "", "Kafka bootstrap brokers (default: start -kafkabroker)")
	flag.StringVar(&c.brokerBin, "kafkabroker", "", "path of cmd/kafkabroker, started for the run when -brokers is empty")
	flag.IntVar(&c.brokerPort, "broker-port", 39092, "port for the started broker")
	flag.StringVar(&c.creditd, "creditd", "", "path of the creditd binary (required)")
	flag.StringVar(&c.topic, "topic", "bench.events", "source topic")
	flag.IntVar(&c.partitions, "partitions", 12, "partitions of the source topic")
	flag.IntVar(&c.entities, "entities", 10_000_000, "entities in the synthetic province")
	flag.IntVar(&c.days, "days", 365, "days of events")
	flag.Uint64Var(&c.seed, "seed", 1, "synth seed")
	flag.IntVar(&c.readers, "ceiling-runs", 1, "runs of each ceiling (the best is reported)")
	flag.IntVar(&c.restoreEntities, "restore-entities", 1_000_000, "entities of the moved partition (restore test)")
	flag.IntVar(&c.restoreDays, "restore-days", 365, "days of events of the restore test")
	flag.BoolVar(&c.skipE2E, "skip-e2e", false, "skip the throughput part")
	flag.BoolVar(&c.produceOnly, "produce-only", false, "only produce the stream (if the topic is empty), then exit")
	flag.BoolVar(&c.skipRestore, "skip-restore", false, "skip the restore part")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	if c.creditd == "" && !c.produceOnly {
		fmt.Fprintln(os.Stderr, "kafkabench: -creditd is required")
		os.Exit(2)
	}
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "kafkabench:", err)
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func run(c *config) error {
	var err error
	c.work, err = os.MkdirTemp("", "kafkabench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	}
	logf("machine: %d CPUs, %s; work dir %s", runtime.NumCPU(), runtime.Version(), c.work)
	if c.brokers == "" {
		if c.brokerBin == "" {
			return errors.New("give -brokers or -kafkabroker")
		}
		stop, err := startBroker(c)
		if err != nil {
			return err
		}
		defer stop()
	}
	brokers := strings.Split(c.brokers, ",")
	if !c.skipE2E {
		if err := throughput(c, brokers); err != nil {
			return err
		}
	}
	if !c.skipRestore {
		if err := restore(c, brokers); err != nil {
			return err
		}
	}
	return nil
}

func startBroker(c *config) (func(), error) {
	cmd := exec.Command(c.brokerBin, "-ports", strconv.Itoa(c.brokerPort), "-c", "log.cleaner.backoff.ms=30000")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			c.brokers = a
		}
		if sc.Text() == "ready" {
			break
		}
	}
	go io.Copy(io.Discard, out)
	logf("broker: kafkabroker (kfake) pid %d on %s", cmd.Process.Pid, c.brokers)
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}, nil
}

func client(brokers []string) (*kafkago.Client, func()) {
	tr := &kafkago.Transport{}
	return &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr, Timeout: time.Minute}, tr.CloseIdleConnections
}

// ensureTopic creates the topic and returns its end offsets.
func ensureTopic(brokers []string, topic string, partitions int) (map[int]int64, error) {
	cl, done := client(brokers)
	defer done()
	ctx := context.Background()
	res, err := cl.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil && !errors.Is(err, kafkago.TopicAlreadyExists) {
		return nil, err
	}
	// A new topic takes a moment to appear in metadata.
	for i := 0; ; i++ {
		ends, err := endOffsets(brokers, topic, partitions)
		if err == nil || i == 50 || !errors.Is(err, kafkago.UnknownTopicOrPartition) {
			return ends, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func endOffsets(brokers []string, topic string, partitions int) (map[int]int64, error) {
	cl, done := client(brokers)
	defer done()
	req := &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{}}
	for p := range partitions {
		req.Topics[topic] = append(req.Topics[topic], kafkago.LastOffsetOf(p))
	}
	res, err := cl.ListOffsets(context.Background(), req)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

func total(ends map[int]int64) int64 {
	var n int64
	for _, e := range ends {
		n += e
	}
	return n
}

// produce writes the synthetic stream, keyed by USCC (CRC32 partitioner).
func produce(brokers []string, topic string, entities, days int, seed uint64) (int64, error) {
	tr := &kafkago.Transport{} // a metadata cache that knows the (new) topic
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, Balancer: kafkago.CRC32Balancer{Consistent: true},
		BatchSize: 10000, BatchBytes: 1 << 20, BatchTimeout: 20 * time.Millisecond, RequiredAcks: kafkago.RequireAll, Transport: tr}
	defer w.Close()
	t0 := time.Now()
	var n int64
	const chunk = 50_000
	msgs := make([]kafkago.Message, 0, chunk)
	arena := make([]byte, 0, 32<<20)
	flush := func() error {
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			return err
		}
		n += int64(len(msgs))
		msgs, arena = msgs[:0], make([]byte, 0, 32<<20)
		if n%1_000_000 < chunk {
			logf("  produced %d (%.0f/s)", n, float64(n)/time.Since(t0).Seconds())
		}
		return nil
	}
	err := synth.Generate(context.Background(), synth.Options{Entities: entities, Days: days, Seed: seed}, func(line []byte) error {
		start := len(arena)
		arena = append(arena, line...)
		v := arena[start:len(arena):len(arena)]
		i := strings.Index(string(v), `"uscc":"`)
		if i < 0 {
			return fmt.Errorf("no uscc in %s", v)
		}
		msgs = append(msgs, kafkago.Message{Key: v[i+8 : i+26], Value: v})
		if len(msgs) == chunk {
			return flush()
		}
		return nil
	})
	if err == nil && len(msgs) > 0 {
		err = flush()
	}
	if err != nil {
		return n, err
	}
	logf("produced %d events in %.1fs (%.0f/s)", n, time.Since(t0).Seconds(), float64(n)/time.Since(t0).Seconds())
	return n, nil
}

// ceilingReader counts messages with kafka-go Readers, one per partition.
func ceilingReader(brokers []string, topic string, ends map[int]int64) (float64, time.Duration) {
	var wg sync.WaitGroup
	var count atomic.Int64
	t0 := time.Now()
	for p, end := range ends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MinBytes: 1,
				MaxBytes: 4 << 20, MaxWait: 250 * time.Millisecond, QueueCapacity: 1000})
			defer r.Close()
			for {
				m, err := r.ReadMessage(context.Background())
				if err != nil {
					logf("reader %d: %v", p, err)
					return
				}
				count.Add(1)
				if m.Offset+1 >= end {
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	return float64(count.Load()) / d.Seconds(), d
}

// ceilingFetch counts messages with Client.Fetch loops, copying keys and
// values as feeds/kafka does, one goroutine per partition.
func ceilingFetch(brokers []string, topic string, ends map[int]int64) (float64, time.Duration) {
	cl, done := client(brokers)
	defer done()
	var wg sync.WaitGroup
	var count atomic.Int64
	t0 := time.Now()
	for p, end := range ends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 8<<20)
			var n int64
			for off := int64(0); off < end; {
				resp, err := cl.Fetch(context.Background(), &kafkago.FetchRequest{Topic: topic, Partition: p, Offset: off,
					MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 250 * time.Millisecond})
				if err != nil {
					logf("fetch %d: %v", p, err)
					return
				}
				buf = buf[:0]
				for {
					r, err := resp.Records.ReadRecord()
					if err != nil {
						break
					}
					if r.Offset < off {
						continue
					}
					buf = appendBytes(buf, r.Key)
					buf = appendBytes(buf, r.Value)
					off = r.Offset + 1
					n++
				}
			}
			count.Add(n)
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	return float64(count.Load()) / d.Seconds(), d
}

func appendBytes(dst []byte, b kafkago.Bytes) []byte {
	if b == nil {
		return dst
	}
	n := b.Len()
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	_, _ = io.ReadFull(b, dst[start:])
	_ = b.Close()
	return dst
}

// cpuSample is the machine's busy and total CPU time and a process's CPU
// time, in seconds.
type cpuSample struct{ busy, total, proc float64 }

func sampleCPU(pid int) cpuSample {
	var c cpuSample
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		for i, v := range f[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			c.total += x / 100
			if i != 3 && i != 4 { // idle, iowait
				c.busy += x / 100
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		c.proc = (u + k) / 100
	}
	return c
}

// cpuReport describes CPU use between two samples for n events.
func cpuReport(a, b cpuSample, n int64, who string) string {
	cores := float64(runtime.NumCPU())
	wall := (b.total - a.total) / cores
	return fmt.Sprintf("machine %.0f%% busy; %s %.2f CPU-s = %.2f µs/event, everything else %.2f µs/event",
		100*(b.busy-a.busy)/(b.total-a.total), who, b.proc-a.proc, 1e6*(b.proc-a.proc)/float64(n),
		1e6*((b.busy-a.busy)-(b.proc-a.proc))/float64(n)) + fmt.Sprintf(" (%.1fs)", wall)
}

// creditd is a creditd process in Kafka mode.
type creditd struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
	log  *os.File
}

func startCreditd(c *config, name, topic, group string, extra ...string) (*creditd, error) {
	data := filepath.Join(c.work, name)
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(c.work, name+".log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "info", "--kafka-brokers", c.brokers,
		"--kafka-topic", topic, "--kafka-group", group, "--kafka-tiers-topic", topic + ".tiers",
		"--kafka-dlq-topic", topic + ".dlq"}, extra...)
	cmd := exec.Command(c.creditd, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &creditd{cmd: cmd, done: make(chan struct{}), log: logf}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "listening on http://"); i >= 0 {
				addr <- strings.Fields(line[i+len("listening on http://"):])[0]
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		return nil, fmt.Errorf("creditd exited; see %s", logf.Name())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		return nil, errors.New("creditd did not listen")
	}
	return p, nil
}

func (p *creditd) status() (kf.Status, error) {
	var st kf.Status
	resp, err := http.Get(p.base + "/v1/kafka/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (p *creditd) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// peakRSS is the process's peak resident set (VmHWM) in MiB.
func (p *creditd) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// caughtUp reports whether st holds all partitions live at ends, committed.
func caughtUp(st kf.Status, ends map[int]int64, committed bool) bool {
	if !st.Ready || len(st.Held) != len(ends) {
		return false
	}
	for _, p := range st.Held {
		if p.Phase != "live" || p.Position < ends[p.Partition] || (committed && p.Committed < ends[p.Partition]) {
			return false
		}
	}
	return true
}

func throughput(c *config, brokers []string) error {
	ends, err := ensureTopic(brokers, c.topic, c.partitions)
	if err != nil {
		return err
	}
	if total(ends) == 0 {
		logf("producing %d entities x %d days to %s (%d partitions)", c.entities, c.days, c.topic, c.partitions)
		if _, err := produce(brokers, c.topic, c.entities, c.days, c.seed); err != nil {
			return err
		}
		if ends, err = endOffsets(brokers, c.topic, c.partitions); err != nil {
			return err
		}
	}
	n := total(ends)
	logf("topic %s: %d events in %d partitions", c.topic, n, len(ends))
	if c.produceOnly {
		return nil
	}

	var bestReader, bestFetch float64
	self := os.Getpid()
	for i := 0; i < c.readers; i++ {
		c0 := sampleCPU(self)
		r, d := ceilingReader(brokers, c.topic, ends)
		c1 := sampleCPU(self)
		logf("ceiling reader (kafka-go Reader x%d, count only): %.0f events/s (%.1fs); %s", len(ends), r, d.Seconds(),
			cpuReport(c0, c1, n, "reader"))
		bestReader = max(bestReader, r)
		runtime.GC()
		c0 = sampleCPU(self)
		f, d := ceilingFetch(brokers, c.topic, ends)
		c1 = sampleCPU(self)
		logf("ceiling fetch (kafka-go Client.Fetch x%d, copy and count): %.0f events/s (%.1fs); %s", len(ends), f, d.Seconds(),
			cpuReport(c0, c1, n, "fetcher"))
		bestFetch = max(bestFetch, f)
		runtime.GC()
	}

	group := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	t0 := time.Now()
	p, err := startCreditd(c, "e2e", c.topic, group)
	if err != nil {
		return err
	}
	defer p.stop(syscall.SIGKILL)
	var tJoin time.Time
	var last kf.Status
	var cpu0 cpuSample
	for {
		st, err := p.status()
		if err == nil {
			last = st
			if tJoin.IsZero() && st.Ready && len(st.Held) == len(ends) {
				tJoin = time.Now()
				cpu0 = sampleCPU(p.cmd.Process.Pid)
			}
			if caughtUp(st, ends, false) {
				break
			}
		}
		select {
		case <-p.done:
			return errors.New("creditd exited during the run")
		case <-time.After(100 * time.Millisecond):
		}
	}
	tDone := time.Now()
	cpu1 := sampleCPU(p.cmd.Process.Pid)
	var applied, dups, rejected int64
	for _, h := range last.Held {
		applied += h.Applied
		dups += h.Duplicates
		rejected += h.Rejected
	}
	e2e := float64(n) / tDone.Sub(tJoin).Seconds()
	logf("creditd end to end: %d events applied to state in %.1fs from joining (%.1fs from process start): %.0f events/s",
		n, tDone.Sub(tJoin).Seconds(), tDone.Sub(t0).Seconds(), e2e)
	logf("  applied %d, duplicates %d, rejected %d; snapshots %d (%.0f MB); peak RSS %.0f MiB; %s", applied, dups, rejected,
		last.Snapshots, float64(last.SnapshotBytes)/1e6, p.peakRSS(), cpuReport(cpu0, cpu1, n, "creditd"))
	fmt.Printf("\nRESULT e2e_events_per_s=%.0f ceiling_reader=%.0f ceiling_fetch=%.0f ratio_reader=%.2f ratio_fetch=%.2f events=%d\n\n",
		e2e, bestReader, bestFetch, e2e/bestReader, e2e/bestFetch, n)
	p.stop(syscall.SIGKILL)
	return nil
}

func restore(c *config, brokers []string) error {
	topic := c.topic + ".restore"
	ends, err := ensureTopic(brokers, topic, 1)
	if err != nil {
		return err
	}
	if total(ends) == 0 {
		logf("producing %d entities x %d days to %s (1 partition)", c.restoreEntities, c.restoreDays, topic)
		if _, err := produce(brokers, topic, c.restoreEntities, c.restoreDays, c.seed+1); err != nil {
			return err
		}
		if ends, err = endOffsets(brokers, topic, 1); err != nil {
			return err
		}
	}
	logf("topic %s: %d events", topic, total(ends))
	for _, mode := range []string{"graceful", "sigkill"} {
		group := fmt.Sprintf("restore-%s-%d", mode, time.Now().UnixNano())
		a, err := startCreditd(c, "restore-a-"+mode, topic, group)
		if err != nil {
			return err
		}
		var st kf.Status
		for {
			if st, err = a.status(); err == nil && caughtUp(st, ends, true) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if mode == "graceful" {
			a.stop(syscall.SIGTERM) // final snapshot at the end
		} else {
			a.stop(syscall.SIGKILL) // the last periodic snapshot, then replay
		}
		t0 := time.Now()
		b, err := startCreditd(c, "restore-b-"+mode, topic, group)
		if err != nil {
			return err
		}
		for {
			if st, err = b.status(); err == nil && caughtUp(st, ends, false) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		h := st.Held[0]
		logf("restore (%s stop of the previous owner): partition of %d entities, snapshot %.0f MB at offset %d, %d messages replayed: restored in %.2fs (%.2fs from process start)",
			mode, h.Entities, float64(h.RestoreBytesTotal)/1e6, h.SnapshotOffset, h.ReplayTo-h.ReplayFrom, h.RestoreSeconds, time.Since(t0).Seconds())
		fmt.Printf("\nRESULT restore_%s_seconds=%.2f entities=%d snapshot_bytes=%d replayed=%d\n\n", mode, h.RestoreSeconds, h.Entities,
			h.RestoreBytesTotal, h.ReplayTo-h.ReplayFrom)
		b.stop(syscall.SIGKILL)
	}
	return nil
}
