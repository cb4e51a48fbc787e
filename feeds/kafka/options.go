package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Options configure a Manager. EnsureDefaults fills every unset field; the
// comment of each field gives its default.
type Options struct {
	// Brokers are the bootstrap brokers, host:port. Required.
	Brokers []string
	// Topic is the source topic of credit events. Default "credit.events".
	Topic string
	// Group is the consumer group. Default "creditd".
	Group string
	// SnapshotTopic holds the partitions' state snapshots: compacted,
	// co-partitioned with Topic (snapshot partition p holds source
	// partition p). Default Group + ".snapshots". Created when missing.
	SnapshotTopic string
	// DeadLetterTopic receives rejected messages. Default
	// "credit.events.dlq". Created when missing.
	DeadLetterTopic string
	// OutputTopics are the further topics States emit to (the tier
	// changes); they are created when missing, with as many partitions as
	// Topic.
	OutputTopics []string
	// ClientID names this client to the brokers. Default "creditd".
	ClientID string
	// AdvertiseAddr is this member's HTTP address, shared with the group in
	// its JoinGroup metadata so that any member can find the owner of a
	// partition. Default "" (the member cannot be proxied to).
	AdvertiseAddr string
	// Partitioner is the key-to-partition function of the producers.
	// Default CRC32 (librdkafka, kcat).
	Partitioner Partitioner
	// AcceptMisrouted applies messages found on a partition other than
	// Partitioner's; by default they are dead-lettered (reason
	// wrong_partition), since their entity's queries would be routed to
	// another partition.
	AcceptMisrouted bool

	// SessionTimeout is the consumer-group session timeout: a member that
	// stops heartbeating for this long loses its partitions. Default 10s.
	// Apache Kafka's default broker minimum is 6s, as is kfake's.
	SessionTimeout time.Duration
	// HeartbeatInterval is how often the member heartbeats; a rebalance is
	// noticed within one interval. Default SessionTimeout/10, at least
	// 100ms.
	HeartbeatInterval time.Duration
	// RebalanceTimeout bounds how long the coordinator waits for members to
	// rejoin during a rebalance. Default 30s.
	RebalanceTimeout time.Duration
	// JoinBackoff is the wait before rejoining after a failed join.
	// Default 1s.
	JoinBackoff time.Duration

	// FetchMaxBytes bounds one fetch of one partition. Default 4 MiB.
	FetchMaxBytes int
	// FetchMaxWait is how long the broker may hold a fetch waiting for
	// data. Default 250ms.
	FetchMaxWait time.Duration
	// CommitInterval is how often durable positions are committed
	// (asynchronously to consumption). Default 1s.
	CommitInterval time.Duration

	// SnapshotEvents triggers a partition's snapshot once it has applied
	// this many messages since its last one: the most a restore has to
	// replay. Default 1,000,000. Negative: no count trigger.
	SnapshotEvents int64
	// SnapshotInterval also snapshots a partition after this long once it
	// has applied at least SnapshotEvents/100 messages since its last
	// snapshot (a whole-state upload for a handful of events is not worth
	// it). Default 1h. Negative: no interval trigger.
	SnapshotInterval time.Duration
	// SnapshotMaxAge snapshots a partition that applied anything in this
	// long, so that a restore never needs source history older than this:
	// keep the source topic's retention well above it. Default 24h.
	SnapshotMaxAge time.Duration
	// SnapshotChunkBytes is the size of one snapshot record. Default
	// 512 KiB (under the 1 MiB default max.message.bytes once compressed
	// or not).
	SnapshotChunkBytes int
	// SnapshotCompression compresses snapshot records: "none", "lz4"
	// (default), "snappy", "zstd", "gzip".
	SnapshotCompression string
	// SnapshotsInFlight bounds the snapshots being uploaded at once (each
	// holds its serialized state in memory). Default 2.
	SnapshotsInFlight int

	// TickInterval is how often live partitions' States are ticked (time
	// rules). Default 1 minute.
	TickInterval time.Duration
	// ReplicationFactor of the topics this package creates. Default -1:
	// the broker's default.
	ReplicationFactor int

	// Logger receives the feed's log. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultTopic           = "credit.events"
	DefaultGroup           = "creditd"
	DefaultDeadLetterTopic = "credit.events.dlq"
	DefaultTiersTopic      = "credit.tiers"
)

// EnsureDefaults fills unset fields and checks the rest.
func (o *Options) EnsureDefaults() error {
	var bs []string
	for _, b := range o.Brokers {
		for _, s := range strings.Split(b, ",") {
			if s = strings.TrimSpace(s); s != "" {
				bs = append(bs, s)
			}
		}
	}
	o.Brokers = bs
	if len(o.Brokers) == 0 {
		return errors.New("kafka: no brokers")
	}
	if o.Topic == "" {
		o.Topic = DefaultTopic
	}
	if o.Group == "" {
		o.Group = DefaultGroup
	}
	if o.SnapshotTopic == "" {
		o.SnapshotTopic = o.Group + ".snapshots"
	}
	if o.DeadLetterTopic == "" {
		o.DeadLetterTopic = DefaultDeadLetterTopic
	}
	if o.ClientID == "" {
		o.ClientID = "creditd"
	}
	if o.Partitioner == nil {
		o.Partitioner = CRC32{}
	}
	for _, t := range append([]string{o.Topic, o.SnapshotTopic, o.DeadLetterTopic}, o.OutputTopics...) {
		if err := validTopic(t); err != nil {
			return err
		}
	}
	if o.SnapshotTopic == o.Topic || o.DeadLetterTopic == o.Topic {
		return errors.New("kafka: the snapshot and dead-letter topics must differ from the source topic")
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 10 * time.Second
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = max(o.SessionTimeout/10, 100*time.Millisecond)
	}
	if o.RebalanceTimeout == 0 {
		o.RebalanceTimeout = 30 * time.Second
	}
	if o.JoinBackoff == 0 {
		o.JoinBackoff = time.Second
	}
	if o.FetchMaxBytes == 0 {
		o.FetchMaxBytes = 4 << 20
	}
	if o.FetchMaxWait == 0 {
		o.FetchMaxWait = 250 * time.Millisecond
	}
	if o.CommitInterval == 0 {
		o.CommitInterval = time.Second
	}
	if o.SnapshotEvents == 0 {
		o.SnapshotEvents = 1_000_000
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = time.Hour
	}
	if o.SnapshotMaxAge <= 0 {
		o.SnapshotMaxAge = 24 * time.Hour
	}
	if o.SnapshotChunkBytes == 0 {
		o.SnapshotChunkBytes = 512 << 10
	}
	if o.SnapshotCompression == "" {
		o.SnapshotCompression = "lz4"
	}
	if _, err := compressionCodec(o.SnapshotCompression); err != nil {
		return err
	}
	if o.SnapshotsInFlight == 0 {
		o.SnapshotsInFlight = 2
	}
	if o.TickInterval == 0 {
		o.TickInterval = time.Minute
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = -1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.SessionTimeout < 0 || o.HeartbeatInterval <= 0 || o.HeartbeatInterval >= o.SessionTimeout:
		return fmt.Errorf("kafka: want 0 < heartbeat interval (%v) < session timeout (%v)", o.HeartbeatInterval, o.SessionTimeout)
	case o.RebalanceTimeout < 0 || o.JoinBackoff < 0 || o.FetchMaxWait < 0 || o.CommitInterval < 0 || o.TickInterval < 0:
		return errors.New("kafka: negative duration")
	case o.FetchMaxBytes < 1024:
		return errors.New("kafka: fetch max bytes below 1 KiB")
	case o.SnapshotChunkBytes < 1024 || o.SnapshotChunkBytes > 64<<20:
		return errors.New("kafka: snapshot chunk bytes must be in 1 KiB..64 MiB")
	case o.SnapshotsInFlight < 1:
		return errors.New("kafka: snapshots in flight must be at least 1")
	}
	return nil
}

// validTopic applies Kafka's topic name rules.
func validTopic(t string) error {
	if t == "" || t == "." || t == ".." || len(t) > 249 {
		return fmt.Errorf("kafka: invalid topic name %q", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("kafka: invalid topic name %q: only ASCII letters, digits, '.', '_' and '-'", t)
		}
	}
	return nil
}
