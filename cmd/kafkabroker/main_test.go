package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func TestBrokerServesKafkaClients(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "addr")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-ports", "0", "-seed", "credit.events:12,other:3", "-ready-file", ready,
			"-c", "log.cleaner.backoff.ms=1000"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	for sc.Scan() {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "listening "); ok {
			addr = a
		}
		if line == "ready" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" {
		t.Fatal("no listening line")
	}
	if b, err := os.ReadFile(ready); err != nil || strings.TrimSpace(string(b)) != addr {
		t.Fatalf("ready file: %q, %v", b, err)
	}
	cl := &kafkago.Client{Addr: kafkago.TCP(addr), Timeout: 5 * time.Second}
	md, err := cl.Metadata(context.Background(), &kafkago.MetadataRequest{Topics: []string{"credit.events", "other"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, tp := range md.Topics {
		got[tp.Name] = len(tp.Partitions)
	}
	if got["credit.events"] != 12 || got["other"] != 3 {
		t.Fatalf("topics %v", got)
	}
	w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: "other", Balancer: kafkago.CRC32Balancer{}, BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(context.Background(), kafkago.Message{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-ports", "x"}, {"-seed", "t:zero"}, {"-log-level", "loud"}, {"-c", "novalue"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
