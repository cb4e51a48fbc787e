package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	kf "github.com/creditrisk/creditd/feeds/kafka"
)

// Kafka mode feeds the ClickHouse history too: every applied event of the
// topic lands once, with the same event ids.
func TestKafkaModeHistory(t *testing.T) {
	addr := clickhouseAddr(t)
	c := newKafkaCluster(t)
	brokers := c.ListenAddrs()
	data := t.TempDir()
	sharedTokens(t, data)
	lines := genLines(t, 300, 200, 17, 0)
	produceLines(t, brokers, lines)
	db := fmt.Sprintf("creditd_kafka_%d", time.Now().UnixNano())
	s := startService(t, data, append(kafkaArgs(c, data), "--clickhouse-dsn", "clickhouse://"+addr+"/"+db)...)
	ends := endOffsets(t, brokers, kf.DefaultTopic, kafkaTestParts)
	waitUntil(t, "caught up", 60*time.Second, func() bool { return caughtUpTo(ends, s.base) })
	s.stop() // flushes the sink

	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	var n, changes uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+db+".applied_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(lines) {
		t.Errorf("%d distinct applied events in ClickHouse, %d produced", n, len(lines))
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".tier_changes").Scan(&changes); err != nil || changes == 0 {
		t.Errorf("tier changes: %d %v", changes, err)
	}
	_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
}
