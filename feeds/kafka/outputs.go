package kafka

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/creditrisk/creditd/models/deadletter"
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

// maxProduceBytes bounds the records of one produce request (one record
// batch, which the broker checks against max.message.bytes).
const maxProduceBytes = 900_000

// startPipe starts a partition's output goroutine. It writes with
// Client.Produce, one request per output partition (a partition's tier
// changes all land on the same partition of the co-partitioned tiers
// topic), and coalesces the items that queued while a write was in flight
// (group commit): the applier never waits for a round trip per batch.
func (m *Manager) startPipe(ctx context.Context, durable *atomic.Int64) *pipe {
	p := &pipe{ch: make(chan outItem, 64), done: make(chan struct{}), durable: durable}
	go func() {
		defer close(p.done)
		var msgs []kafkago.Message
		for it := range p.ch {
			msgs = append(msgs[:0], it.msgs...)
			end := it.end
		coalesce:
			for len(msgs) < 50_000 {
				select {
				case it2, ok := <-p.ch:
					if !ok {
						break coalesce
					}
					msgs = append(msgs, it2.msgs...)
					end = it2.end
				default:
					break coalesce
				}
			}
			if len(msgs) > 0 && !m.write(ctx, msgs) {
				// Abandoned (the context ended): durable stays where it is,
				// and later items must not move it either.
				for range p.ch {
				}
				return
			}
			p.durable.Store(end)
		}
	}()
	return p
}

// outKey identifies an output partition.
type outKey struct {
	topic string
	part  int
}

// write produces msgs, in order per output partition, retrying failures
// until they succeed or ctx ends.
//
// Every attempt gets records with fresh readers over the messages'
// bytes: a failed Produce (a timeout, a cancelled context) may leave the
// client's connection goroutine still encoding the last attempt's
// readers, so they are never rewound and reused.
func (m *Manager) write(ctx context.Context, msgs []kafkago.Message) bool {
	groups := map[outKey][]int{}
	var order []outKey
	for i := range msgs {
		msg := &msgs[i]
		n, err := m.topicPartitions(ctx, msg.Topic)
		if err != nil {
			if !m.sleep(ctx, err, len(msgs)) {
				return false
			}
			return m.write(ctx, msgs)
		}
		k := outKey{topic: msg.Topic}
		if p, ok := msg.WriterData.(int); ok {
			k.part = p % n
		} else {
			k.part = m.opts.Partitioner.Partition(msg.Key, n)
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		if msg.Time.IsZero() {
			msg.Time = m.opts.Now()
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		for len(idx) > 0 {
			n, size := 0, 0
			for n < len(idx) {
				sz := recordSize(&msgs[idx[n]])
				if n > 0 && size+sz > maxProduceBytes {
					break
				}
				size += sz
				n++
			}
			for {
				res, err := m.cl.Produce(ctx, &kafkago.ProduceRequest{Topic: k.topic, Partition: k.part,
					RequiredAcks: kafkago.RequireAll, Records: kafkago.NewRecordReader(records(msgs, idx[:n])...)})
				if err == nil && res.Error != nil {
					err = res.Error
				}
				if err == nil {
					break
				}
				if !m.sleep(ctx, fmt.Errorf("producing to %s/%d: %w", k.topic, k.part, err), n) {
					return false
				}
			}
			m.outputs.Add(int64(n))
			idx = idx[n:]
		}
	}
	return true
}

// records are the messages msgs[idx] as records with fresh readers.
func records(msgs []kafkago.Message, idx []int) []kafkago.Record {
	out := make([]kafkago.Record, len(idx))
	for j, i := range idx {
		msg := &msgs[i]
		rec := &out[j]
		rec.Time, rec.Value = msg.Time, kafkago.NewBytes(msg.Value)
		if msg.Key != nil {
			rec.Key = kafkago.NewBytes(msg.Key)
		}
		for _, h := range msg.Headers {
			rec.Headers = append(rec.Headers, kafkago.Header(h))
		}
	}
	return out
}

// recordSize estimates a message's size in a produce request.
func recordSize(msg *kafkago.Message) int {
	n := 32 + len(msg.Key) + len(msg.Value)
	for _, h := range msg.Headers {
		n += len(h.Key) + len(h.Value) + 8
	}
	return n
}

// sleep logs a failed write and backs off; false if ctx ended.
func (m *Manager) sleep(ctx context.Context, err error, n int) bool {
	m.outputErrors.Add(1)
	m.log.Warn("writing outputs failed; retrying", "records", n, "err", err)
	select {
	case <-ctx.Done():
		return false
	case <-time.After(500 * time.Millisecond):
		return true
	}
}

// topicPartitions returns (and caches) a topic's partition count.
func (m *Manager) topicPartitions(ctx context.Context, topic string) (int, error) {
	if v, ok := m.topicParts.Load(topic); ok {
		return v.(int), nil
	}
	n, err := partitionCount(ctx, m.cl, topic)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("output topic %s does not exist", topic)
	}
	m.topicParts.Store(topic, n)
	return n, nil
}
