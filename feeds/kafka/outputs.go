package kafka

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/creditrisk/creditd/feeds/deadletter"
)

// Outputs design.
//
// Dead letters and the States' outputs of a partition go through that
// partition's output pipe: one item per applied batch, holding the batch's
// records and the source offset the batch ends at. The pipe's goroutine
// writes each item (kafka-go's Writer, acks from all in-sync replicas,
// retried until it succeeds) and only then moves the partition's durable
// position to the item's end. The committer commits durable positions,
// never applied ones: a committed offset is never ahead of the outputs of
// the messages below it. Applying does not wait for the writes; the pipe's
// bounded queue holds it back only when the brokers fall behind.

// maxOutputBytes keeps a record under Kafka's default 1 MiB
// max.message.bytes, with room for the batch overhead.
const maxOutputBytes = 1000_000

// outputBalancer places a record on the partition named by its WriterData
// (an int: dead letters go to their source partition's number), or by the
// configured partitioner of its key.
type outputBalancer struct{ p Partitioner }

// Balance implements kafkago.Balancer.
func (b outputBalancer) Balance(msg kafkago.Message, partitions ...int) int {
	if p, ok := msg.WriterData.(int); ok {
		return partitions[p%len(partitions)]
	}
	return partitions[b.p.Partition(msg.Key, len(partitions))]
}

func newWriter(o *Options, tr *kafkago.Transport) *kafkago.Writer {
	return &kafkago.Writer{
		Addr:         kafkago.TCP(o.Brokers...),
		Balancer:     outputBalancer{p: o.Partitioner},
		MaxAttempts:  5,
		BatchSize:    5000,
		BatchBytes:   1 << 20,
		BatchTimeout: 2 * time.Millisecond,
		RequiredAcks: kafkago.RequireAll,
		Transport:    tr,
	}
}

// letterMessage builds the dead-letter record of a rejected source
// message: the deadletter.Letter JSON (original bytes, source
// "kafka:TOPIC/PARTITION@OFFSET", reason), the original key, and headers
// naming the source and the reason for consumers that do not parse the
// value (as Kafka Connect's DLQ headers do).
func letterMessage(topic string, l deadletter.Letter, key []byte, partition int, offset int64) kafkago.Message {
	val := l.AppendJSON(nil)
	if len(val)+len(key) > maxOutputBytes && l.Original != nil {
		// The source position locates the original.
		l.Original = nil
		l.Detail += " (the original is too large for the dead-letter topic; read it at the source position)"
		val = l.AppendJSON(nil)
	}
	msg := kafkago.Message{Topic: topic, Value: val, Time: l.At, WriterData: partition,
		Headers: []kafkago.Header{
			{Key: "creditd.reason", Value: []byte(l.Reason)},
			{Key: "creditd.source", Value: []byte(l.Source)},
		}}
	if key != nil {
		msg.Key = append([]byte(nil), key...)
	}
	if offset >= 0 {
		msg.Headers = append(msg.Headers,
			kafkago.Header{Key: "creditd.source.partition", Value: strconv.AppendInt(nil, int64(partition), 10)},
			kafkago.Header{Key: "creditd.source.offset", Value: strconv.AppendInt(nil, offset, 10)})
	}
	return msg
}

// outItem is one applied batch's outputs.
type outItem struct {
	msgs []kafkago.Message
	end  int64
}

// pipe writes a partition's outputs in order.
type pipe struct {
	ch      chan outItem
	done    chan struct{}
	durable *atomic.Int64
}

func (m *Manager) startPipe(ctx context.Context, durable *atomic.Int64) *pipe {
	p := &pipe{ch: make(chan outItem, 16), done: make(chan struct{}), durable: durable}
	go func() {
		defer close(p.done)
		for it := range p.ch {
			if len(it.msgs) > 0 && !m.write(ctx, it.msgs) {
				// Abandoned (the context ended): durable stays where it is,
				// and later items must not move it either.
				for range p.ch {
				}
				return
			}
			p.durable.Store(it.end)
		}
	}()
	return p
}

// write writes msgs, retrying failures until they succeed or ctx ends.
func (m *Manager) write(ctx context.Context, msgs []kafkago.Message) bool {
	backoff := 100 * time.Millisecond
	for {
		err := m.writer.WriteMessages(ctx, msgs...)
		if err == nil {
			m.outputs.Add(int64(len(msgs)))
			return true
		}
		var we kafkago.WriteErrors
		if errors.As(err, &we) && len(we) == len(msgs) {
			var retry []kafkago.Message
			for i, e := range we {
				if e != nil {
					retry = append(retry, msgs[i])
				}
			}
			m.outputs.Add(int64(len(msgs) - len(retry)))
			msgs = retry
			if len(msgs) == 0 {
				return true
			}
		}
		m.outputErrors.Add(1)
		m.log.Warn("writing outputs failed; retrying", "records", len(msgs), "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
