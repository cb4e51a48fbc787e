package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	kafkago "github.com/segmentio/kafka-go"
)

// partitionCount returns the number of partitions of topic (0 if it does
// not exist).
func partitionCount(ctx context.Context, cl *kafkago.Client, topic string) (int, error) {
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			if errors.Is(t.Error, kafkago.UnknownTopicOrPartition) {
				return 0, nil
			}
			return 0, fmt.Errorf("metadata of %s: %w", topic, t.Error)
		}
		return len(t.Partitions), nil
	}
	return 0, nil
}

// ensureTopics checks the source topic and creates the snapshot, dead-letter
// and output topics when missing. It returns the source's partition count.
func (m *Manager) ensureTopics(ctx context.Context) (int, error) {
	o := &m.opts
	n, err := partitionCount(ctx, m.cl, o.Topic)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("the source topic %s does not exist: create it first, with as many partitions as instances may share it", o.Topic)
	}
	maxMsg := max(1<<20, o.SnapshotChunkBytes+64<<10)
	want := []kafkago.TopicConfig{{
		Topic: o.SnapshotTopic, NumPartitions: n, ReplicationFactor: o.ReplicationFactor,
		ConfigEntries: []kafkago.ConfigEntry{
			{ConfigName: "cleanup.policy", ConfigValue: "compact"},
			{ConfigName: "min.cleanable.dirty.ratio", ConfigValue: "0.1"},
			{ConfigName: "segment.bytes", ConfigValue: strconv.Itoa(64 << 20)},
			{ConfigName: "delete.retention.ms", ConfigValue: strconv.Itoa(3600_000)},
			{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(maxMsg)},
		},
	}, {Topic: o.DeadLetterTopic, NumPartitions: n, ReplicationFactor: o.ReplicationFactor}}
	for _, t := range o.OutputTopics {
		want = append(want, kafkago.TopicConfig{Topic: t, NumPartitions: n, ReplicationFactor: o.ReplicationFactor})
	}
	for _, tc := range want {
		have, err := partitionCount(ctx, m.cl, tc.Topic)
		if err != nil {
			return 0, err
		}
		if have == 0 {
			res, err := m.cl.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{tc}})
			if err == nil {
				err = res.Errors[tc.Topic]
			}
			if err != nil && !errors.Is(err, kafkago.TopicAlreadyExists) {
				return 0, fmt.Errorf("creating topic %s: %w", tc.Topic, err)
			}
			m.log.Info("created topic", "topic", tc.Topic, "partitions", tc.NumPartitions)
			m.topicParts.Store(tc.Topic, tc.NumPartitions)
			continue
		}
		m.topicParts.Store(tc.Topic, have)
		if tc.Topic == o.SnapshotTopic && have < n {
			return 0, fmt.Errorf("the snapshot topic %s has %d partitions, the source %s has %d: they must be co-partitioned (add partitions to %s)",
				tc.Topic, have, o.Topic, n, tc.Topic)
		}
	}
	return n, nil
}
