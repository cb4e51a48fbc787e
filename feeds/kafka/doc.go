// Package kafka is creditd's Kafka feed: a member of a consumer group over
// the credit events topic that owns the partitions the group assigns it.
//
// For each owned partition a Manager restores the partition's State (the
// snapshot the partition's offset commit names, from a compacted snapshot
// topic co-partitioned with the source, then the source records up to the
// committed offset, their outputs suppressed), applies the partition's
// messages, writes their dead letters and the State's outputs, snapshots the
// State now and then, and commits the offset below which everything is
// applied and written. A partition's State moves between members alone:
// the package knows nothing of scoring; creditd implements State with a
// scoring.Engine per partition.
//
// Keys go to partitions as the producers put them: Partitioner matches the
// Java producer (Murmur2), librdkafka and kcat (CRC32) and kafka-go's Hash
// (FNV1a). Members find each other through the group: each puts its HTTP
// address in its JoinGroup metadata, and Owner maps a partition to the
// member that holds it.
//
// The package uses github.com/segmentio/kafka-go and runs against Apache
// Kafka, Redpanda or any Kafka-protocol broker; its tests use franz-go's
// kfake in-process. See docs/kafka.md for the delivery guarantee and the
// failure cases.
package kafka
