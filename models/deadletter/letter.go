// Package deadletter is the dead-letter record format: what creditd writes
// for every input it rejected (to the dead-letter file and to the Kafka
// dead-letter topic), and what other programs read back. It is pure data:
// the record type, its sources, validation and its JSON encoding; the files
// and sinks are in feeds/deadletter.
//
// # Format
//
// One JSON object per line, members in this order:
//
//	{"at":"2026-03-01T08:00:00.123Z",           // when it was rejected, RFC 3339, UTC
//	 "source":"file:/srv/in/2026-03.ndjson:42", // where the input was, see below
//	 "reason":"invalid_uscc",                   // machine-readable code (models.Reason*)
//	 "detail":"check character is 3, want X",   // human-readable text
//	 "event_id":"SAMR-370200-2026-000123",      // the event's id, when it could be read
//	 "original":"{\"id\":\"SAMR-…\"}"}          // the input bytes, as a JSON string
//
// "original" holds the input if it is valid UTF-8; otherwise it is absent and
// "original_b64" holds the bytes in standard base64 (RFC 4648 §4, padded).
// Both are absent when the original bytes were not kept (a line over the
// size limit, which the source position locates). "event_id" is absent when
// unknown. Readers ignore members they do not know.
//
// Sources are "file:PATH:LINE", "http:REQUESTID:LINE" and
// "kafka:TOPIC/PARTITION@OFFSET"; FileSource, HTTPSource and KafkaSource
// build them. PATH may itself contain colons: the line number is after the
// last one.
package deadletter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/jsontext"
)

// Letter is one rejected input.
type Letter struct {
	// At is when the input was rejected. A sink (feeds/deadletter) stamps
	// a zero At with its clock.
	At time.Time
	// Source says where the input was: FileSource, HTTPSource or
	// KafkaSource. Required.
	Source string
	// Reason is the machine-readable rejection code (the models.Reason*
	// constants): lowercase letters, digits and underscores. Required.
	Reason string
	// Detail is human-readable text about the rejection.
	Detail string
	// EventID is the event's id when it could be read, or "".
	EventID string
	// Original is the input exactly as received, or nil if it was not kept.
	Original []byte
}

// ErrInvalidLetter is returned (wrapped) for a letter without a Source or
// with a malformed Reason.
var ErrInvalidLetter = errors.New("deadletter: invalid letter")

// FileSource is the source of line line (1-based) of the file at path.
func FileSource(path string, line int64) string {
	return "file:" + path + ":" + strconv.FormatInt(line, 10)
}

// HTTPSource is the source of line line (1-based) of the body of the HTTP
// request requestID.
func HTTPSource(requestID string, line int64) string {
	return "http:" + requestID + ":" + strconv.FormatInt(line, 10)
}

// KafkaSource is the source of the Kafka message at offset of partition of
// topic.
func KafkaSource(topic string, partition int32, offset int64) string {
	return "kafka:" + topic + "/" + strconv.FormatInt(int64(partition), 10) + "@" + strconv.FormatInt(offset, 10)
}

// Validate reports whether l has what every letter needs.
func (l Letter) Validate() error {
	if l.Source == "" {
		return fmt.Errorf("%w: no source", ErrInvalidLetter)
	}
	if l.Reason == "" {
		return fmt.Errorf("%w: no reason", ErrInvalidLetter)
	}
	for i := range len(l.Reason) {
		if c := l.Reason[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("%w: reason %q is not a code of lowercase letters, digits and underscores", ErrInvalidLetter, l.Reason)
		}
	}
	return nil
}

// AppendJSON appends l's JSON object (without a newline) to dst. Strings
// that are not valid UTF-8 (in Source, Detail, EventID) have the bad bytes
// replaced by U+FFFD; Original is kept exactly, as a string or in base64.
func (l Letter) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"at":"`...)
	dst = l.At.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","source":`...)
	dst = jsontext.AppendString(dst, l.Source)
	dst = append(dst, `,"reason":`...)
	dst = jsontext.AppendString(dst, l.Reason)
	dst = append(dst, `,"detail":`...)
	dst = jsontext.AppendString(dst, l.Detail)
	if l.EventID != "" {
		dst = append(dst, `,"event_id":`...)
		dst = jsontext.AppendString(dst, l.EventID)
	}
	switch {
	case l.Original == nil:
	case utf8.Valid(l.Original):
		dst = append(dst, `,"original":`...)
		dst = jsontext.AppendString(dst, l.Original)
	default:
		dst = append(dst, `,"original_b64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, l.Original)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (l Letter) MarshalJSON() ([]byte, error) { return l.AppendJSON(nil), nil }

// wireLetter is the decoding shape.
type wireLetter struct {
	At          *string `json:"at"`
	Source      string  `json:"source"`
	Reason      string  `json:"reason"`
	Detail      string  `json:"detail"`
	EventID     string  `json:"event_id"`
	Original    *string `json:"original"`
	OriginalB64 []byte  `json:"original_b64"`
}

// UnmarshalJSON implements json.Unmarshaler: it reads what AppendJSON
// writes, requiring "at", "source" and "reason", and at most one of
// "original" and "original_b64".
func (l *Letter) UnmarshalJSON(b []byte) error {
	var w wireLetter
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("deadletter: %w", err)
	}
	if w.At == nil {
		return errors.New(`deadletter: missing "at"`)
	}
	at, err := civil.ParseInstant(*w.At)
	if err != nil {
		return fmt.Errorf(`deadletter: "at": %w`, err)
	}
	if w.Original != nil && w.OriginalB64 != nil {
		return errors.New(`deadletter: both "original" and "original_b64"`)
	}
	out := Letter{At: at, Source: w.Source, Reason: w.Reason, Detail: w.Detail, EventID: w.EventID, Original: w.OriginalB64}
	if w.Original != nil {
		out.Original = []byte(*w.Original)
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*l = out
	return nil
}
