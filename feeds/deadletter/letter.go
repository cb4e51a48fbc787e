// Package deadletter is where rejected input goes: every event that fails
// validation (not JSON, a bad USCC, an unknown type, a ref to nothing, …) is
// never applied and never silently dropped, but written here with its
// original bytes, where it came from, and a machine-readable reason.
//
// Sink is the interface the ingest paths write to; FileSink is the file
// implementation (one NDJSON line per letter, fsync'd in batches), Memory an
// in-memory one for tests, Reader reads a file back. The record and its
// encoding are the format of models/deadletter, which the Kafka dead-letter
// topic uses too, so both outputs read the same way.
package deadletter

import (
	"context"
	"errors"

	format "github.com/creditrisk/creditd/models/deadletter"
)

// Letter is one rejected input (the record of models/deadletter).
type Letter = format.Letter

// ErrInvalidLetter is returned (wrapped) for a letter without a Source or
// with a malformed Reason (models/deadletter's error).
var ErrInvalidLetter = format.ErrInvalidLetter

// FileSource, HTTPSource and KafkaSource are models/deadletter's, for the
// sinks' callers.
func FileSource(path string, line int64) string { return format.FileSource(path, line) }

// HTTPSource: see FileSource.
func HTTPSource(requestID string, line int64) string { return format.HTTPSource(requestID, line) }

// KafkaSource: see FileSource.
func KafkaSource(topic string, partition int32, offset int64) string {
	return format.KafkaSource(topic, partition, offset)
}

// Sink receives dead letters. Write may buffer: a letter is durable only
// after Sync returns nil, so an input source must call Sync before it
// acknowledges the rejected input (answers the HTTP request, commits the
// Kafka offset). Implementations are safe for concurrent use.
type Sink interface {
	// Write records l. It fails if ctx is done, if l lacks a Source or
	// Reason, or if the sink failed or was closed.
	Write(ctx context.Context, l Letter) error
	// Sync makes every letter written before the call durable.
	Sync() error
	// Close syncs and releases the sink.
	Close() error
}

// ErrClosed is returned by a closed sink.
var ErrClosed = errors.New("deadletter: sink is closed")
