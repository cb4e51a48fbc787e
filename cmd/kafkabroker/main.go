// Command kafkabroker runs franz-go's kfake, a Kafka-protocol broker, as a
// standalone process for end-to-end scripts and benchmarks: creditd,
// kafka-go clients and kcat connect to it over TCP on loopback. It is a test
// fixture, not a product: creditd runs unchanged against Apache Kafka or
// Redpanda.
//
//	kafkabroker -ports 19092 -seed credit.events:12
//	kafkabroker -ports 0 -ready-file /tmp/addr            # a random free port
//	kafkabroker -data-dir /tmp/kfake -c log.cleaner.backoff.ms=1000
//
// It prints one "listening ADDR" line per broker and then "ready", and runs
// until SIGINT or SIGTERM (a second signal exits at once).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "kafkabroker:", err)
		os.Exit(1)
	}
}

// kvFlag collects repeated key=value flags.
type kvFlag map[string]string

func (f kvFlag) String() string { return "" }

func (f kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	f[k] = v
	return nil
}

// run starts the cluster and blocks until ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kafkabroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ports := fs.String("ports", "19092", "comma-separated ports, one broker each, on 127.0.0.1 (0: a free port)")
	dataDir := fs.String("data-dir", "", "persist topics, records, offsets and groups here (default: memory only)")
	syncWrites := fs.Bool("sync", false, "with -data-dir: fsync every write")
	seed := fs.String("seed", "", "topics to create: name:partitions[,name:partitions...]")
	autoCreate := fs.Bool("auto-create-topics", false, "let Metadata requests create topics")
	defParts := fs.Int("default-partitions", 12, "partitions of auto-created topics and of CreateTopics with -1")
	minSession := fs.Duration("group-min-session-timeout", 0, "smallest session timeout accepted (default: kfake's, 6s)")
	logLevel := fs.String("log-level", "none", "none, error, warn, info or debug (to stderr)")
	clusterID := fs.String("cluster-id", "kafkabroker", "cluster id in metadata")
	readyFile := fs.String("ready-file", "", "write the broker addresses here (comma-separated) once listening")
	bcfg := kvFlag{}
	fs.Var(bcfg, "c", "broker config key=value (repeatable), e.g. log.cleaner.backoff.ms=1000")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ps []int
	for _, p := range strings.Split(*ports, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("bad port %q", p)
		}
		ps = append(ps, n)
	}
	lvl, ok := map[string]kfake.LogLevel{"none": kfake.LogLevelNone, "error": kfake.LogLevelError, "warn": kfake.LogLevelWarn,
		"info": kfake.LogLevelInfo, "debug": kfake.LogLevelDebug}[*logLevel]
	if !ok {
		return fmt.Errorf("bad -log-level %q", *logLevel)
	}
	opts := []kfake.Opt{kfake.Ports(ps...), kfake.ClusterID(*clusterID), kfake.DefaultNumPartitions(*defParts),
		kfake.WithLogger(kfake.BasicLogger(stderr, lvl))}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
		if *syncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if *minSession > 0 {
		opts = append(opts, kfake.GroupMinSessionTimeout(*minSession))
	}
	if len(bcfg) > 0 {
		opts = append(opts, kfake.BrokerConfigs(bcfg))
	}
	if *seed != "" {
		for _, s := range strings.Split(*seed, ",") {
			name, np, _ := strings.Cut(strings.TrimSpace(s), ":")
			n, err := strconv.Atoi(np)
			if name == "" || (np != "" && (err != nil || n < 1)) {
				return fmt.Errorf("bad -seed entry %q (want name:partitions)", s)
			}
			if np == "" {
				n = -1
			}
			opts = append(opts, kfake.SeedTopics(int32(n), name))
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	addrs := c.ListenAddrs()
	for _, a := range addrs {
		fmt.Fprintln(stdout, "listening", a)
	}
	if *readyFile != "" {
		tmp := *readyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(strings.Join(addrs, ",")+"\n"), 0o644); err != nil {
			c.Close()
			return err
		}
		if err := os.Rename(tmp, *readyFile); err != nil {
			c.Close()
			return err
		}
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return errors.New("the cluster did not close within 10s")
	}
	return nil
}
