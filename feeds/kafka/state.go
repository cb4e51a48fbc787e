package kafka

import (
	"io"
	"time"
)

// Message is one source message handed to State.Apply.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	// Time is the record's timestamp (producer CreateTime or broker
	// LogAppendTime). A State that needs "now" for validation should use
	// the earlier of Time and its clock, so that a replay decides exactly
	// as the first application did. Zero when the record has no timestamp.
	Time time.Time
	// Fetched is when the record's batch was fetched: a clock reading the
	// State can use instead of reading the clock per message.
	Fetched time.Time
	// Key and Value are valid only during the call.
	Key, Value []byte
	// Replay is set while a restore re-applies messages whose outputs were
	// already produced (and committed) by an earlier owner: the State must
	// apply them exactly as before, and whatever it emits is discarded.
	Replay bool
}

// Outcome is what a State did with a message.
type Outcome uint8

// Outcomes.
const (
	Applied Outcome = iota
	Duplicate
	Rejected
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Result is a State's answer for one message. A Rejected message is
// dead-lettered with Reason (a machine-readable code: lowercase letters,
// digits and '_'), Detail and EventID.
type Result struct {
	Outcome Outcome
	Reason  string
	Detail  string
	EventID string
}

// Output is a record a State emits (a tier change). The package keeps the
// slices until the record is acknowledged: do not reuse them.
type Output struct {
	Topic string
	Key   []byte
	Value []byte
	// Headers are extra record headers (may be nil).
	Headers []Header
}

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Emit receives a State's outputs.
type Emit func(Output)

// State is the state of one source partition: applied by one goroutine,
// moved between instances as snapshots. The package calls Apply, Tick,
// WriteSnapshot and ReadSnapshot from the partition's goroutine only;
// other goroutines (queries) may read the State concurrently, so it must
// be safe for that.
type State interface {
	// Apply applies one message. It must be deterministic given the state
	// and the message (including Message.Time), so that a restore that
	// replays messages rebuilds exactly the state the previous owner had.
	Apply(m *Message, emit Emit) Result
	// Tick applies time rules at now and may emit outputs.
	Tick(now time.Time, emit Emit)
	// WriteSnapshot writes the whole state to w; offset is the next source
	// offset the state reflects, to be returned by ReadSnapshot.
	WriteSnapshot(w io.Writer, offset int64) error
	// ReadSnapshot replaces the state with a snapshot and returns the
	// offset it was written with.
	ReadSnapshot(r io.Reader) (offset int64, err error)
	// Entities is the number of entities, for status and metrics.
	Entities() int
}

// BatchEnder is implemented by States that want to know when a fetched
// batch has been applied (to flush per-batch counters, say).
type BatchEnder interface {
	EndBatch()
}

// NewState returns an empty State for a partition.
type NewState func(partition int) (State, error)

// Reason codes of rejections made by this package (and the key check of
// creditd), dead-lettered like the decoder's.
const (
	// ReasonMissingKey: the message has no key (the USCC).
	ReasonMissingKey = "missing_key"
	// ReasonWrongPartition: the key belongs to another partition under the
	// configured partitioner.
	ReasonWrongPartition = "wrong_partition"
	// ReasonKeyMismatch: the key is not the event's USCC in canonical
	// (upper-case) form.
	ReasonKeyMismatch = "key_mismatch"
)
