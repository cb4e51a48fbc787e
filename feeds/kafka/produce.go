package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/creditrisk/creditd/models/deadletter"
)

// Record is one record to produce to the source topic: Key is the event's
// USCC, Value the event.
type Record struct {
	Key, Value []byte
}

// ProduceEvents appends records to the source topic, each on its key's
// partition under the configured partitioner, and returns once every one
// is acknowledged by all in-sync replicas. On error some records may have
// been written: producing them again is harmless, since duplicate event
// ids are no-ops.
func (m *Manager) ProduceEvents(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	msgs := make([]kafkago.Message, len(recs))
	now := m.opts.Now()
	for i, r := range recs {
		if len(r.Key) == 0 {
			return errors.New("kafka: a record without a key")
		}
		msgs[i] = kafkago.Message{Topic: m.opts.Topic, Key: r.Key, Value: r.Value, Time: now}
	}
	if err := m.writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("producing to %s: %w", m.opts.Topic, err)
	}
	m.produced.Add(int64(len(msgs)))
	return nil
}

// WriteDeadLetters writes letters rejected before they reached the source
// topic (an HTTP body's bad lines) to the dead-letter topic, keyed by key
// (may be nil), and waits for their acknowledgement.
func (m *Manager) WriteDeadLetters(ctx context.Context, letters []deadletter.Letter, keys [][]byte) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]kafkago.Message, len(letters))
	for i, l := range letters {
		if l.At.IsZero() {
			l.At = m.opts.Now()
		}
		var key []byte
		if i < len(keys) {
			key = keys[i]
		}
		msgs[i] = letterMessage(m.opts.DeadLetterTopic, l, key, 0, -1)
		if key != nil {
			msgs[i].WriterData = nil // by key
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.writer.WriteMessages(wctx, msgs...); err != nil {
		return fmt.Errorf("writing dead letters to %s: %w", m.opts.DeadLetterTopic, err)
	}
	m.outputs.Add(int64(len(msgs)))
	return nil
}
