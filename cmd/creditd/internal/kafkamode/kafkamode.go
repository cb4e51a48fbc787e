// Package kafkamode is creditd in Kafka mode: one member of a consumer
// group over the events topic.
package kafkamode

// Kafka mode.
//
// With --kafka-brokers, creditd is one member of a consumer group over the
// events topic. feeds/kafka owns the group protocol, the partitions'
// restore, consumption, outputs, snapshots and commits; this package gives it
// the per-partition state (a scoring.Engine per source partition, so that a
// partition's state can move alone), routes queries to the partition that
// holds an entity (here, or another member over HTTP), and serves the
// Kafka-specific endpoints. See docs/kafka.md.

// kafkaEngineShards is the shard count of each partition's engine. It is
// part of the snapshot format: changing it makes existing snapshots
// unreadable (the partitions are then rebuilt from the source topic).
const kafkaEngineShards = 8

// Headers between members.
const (
	// hdrForwarded marks a request proxied by a member: it is never proxied
	// again (no loops while ownership changes).
	hdrForwarded = "X-Creditd-Forwarded-By"
	// hdrLocal asks a member for its local part of a fan-out query.
	hdrLocal = "X-Creditd-Local"
	// hdrPartitions lists the partitions a local answer covers.
	hdrPartitions = "X-Creditd-Partitions"
	// HeaderServedBy names the member that answered.
	HeaderServedBy = "X-Creditd-Served-By"
)
