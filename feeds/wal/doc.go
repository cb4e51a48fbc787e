// Package wal is the service's local durable log: an append-only, segmented
// write-ahead log of opaque byte records. The service appends each accepted
// event's original NDJSON bytes, calls Sync, and only then acknowledges the
// event; after a crash it replays the log from the position of its latest
// snapshot.
//
// The design follows Prometheus tsdb's WAL and Pebble's record log: records
// are length-prefixed and checksummed, files ("segments") roll over at a
// configured size, only the tail of the last segment can be torn by a crash,
// and old segments are deleted whole once a snapshot covers them.
//
// # Positions
//
// A Position is a record's sequence number: the first record ever appended
// has Position 0, the next 1, and so on, monotonic across segments and across
// restarts. Read as a point in the log, Position p is the boundary just before
// record p, so "the log at position p" means records 0..p-1, and a snapshot of
// the state after applying those records is named by p. Append returns the
// new record's Position; Next returns the position after the last record.
// Positions are not byte offsets: they survive the deletion of old segments
// (TruncateBefore) and do not depend on the record encoding.
//
// # Files
//
// A log is a directory holding segment files and a LOCK file:
//
//	00000000000000000000.wal   records 0 .. 41216
//	00000000000000041217.wal   records 41217 ..      (the last, "active" segment)
//	LOCK                       flock'd while a Log is open
//
// A segment's name is the Position of its first record as 20 decimal digits,
// so names sort in log order. Other files in the directory are ignored.
//
// # Byte layout
//
// All integers are little-endian. CRC is CRC-32C (Castagnoli polynomial,
// as in iSCSI, ext4 and LevelDB), initial value 0, no final masking.
//
// Segment header, 20 bytes, at offset 0 of every segment:
//
//	offset size field
//	0      4    magic "CWAL" (0x43 0x57 0x41 0x4c)
//	4      1    format version, 1
//	5      3    reserved, zero
//	8      8    Position of the segment's first record (equals the file name)
//	16     4    CRC of bytes 0..15
//
// Records follow the header back to back, with no padding and no blocks:
//
//	offset size field
//	0      4    CRC of bytes 4 .. 8+n (the length and the payload)
//	4      4    n, the payload length in bytes (0 .. MaxRecordSizeLimit)
//	8      n    payload
//
// The checksum covers the length, so a corrupted length is detected rather
// than followed (a length that points past the end of the file is a torn
// record without reading further); a zero-filled region (what a file system may expose after a
// crash) never checks out, because the CRC of four zero bytes is not zero.
// A segment ends where its last record ends: there is no trailer.
//
// # Durability
//
// Append and AppendBatch copy records into an in-memory buffer and write it
// to the segment file when it fills; they make no system call per record.
// Nothing is durable until Sync returns: Sync writes the buffer and calls
// fdatasync(2). The fsync policy is the caller's, and the rule is:
// acknowledge a record (answer the HTTP request, commit the Kafka offset) only
// after a Sync that started after its Append has returned nil. Concurrent
// Syncs coalesce (group commit): while one goroutine waits for fdatasync, the
// others queue, and the next fdatasync covers all of them.
//
// A failed write or fdatasync makes the Log fail permanently: every later call
// returns the error. After a failed fsync the kernel may have dropped the dirty
// pages, so retrying could report success for data that is gone; the only
// safe continuation is to Close, reopen (which recovers from what is really on
// disk), and replay.
//
// Segment creation writes and syncs the header before the directory entry is
// synced; rollover syncs the old segment before creating the next one, so
// only the last segment can have a torn tail. Deletion syncs the directory
// after each removed segment, oldest first, so a crash leaves a contiguous
// run of segments.
//
// # Recovery
//
// Open scans the last segment. A crash can tear only its end (the last
// unsynced write), so a record that does not decode is a torn tail only if
// no valid record follows it anywhere in the segment (tail.go): then Open
// truncates the segment after its last valid record, keeps the cut bytes
// (unless all zero) in a file under dir/damaged/, logs a warning and reports
// it by (*Log).Recovery. Damage followed by a valid record is not a torn
// write: Open returns a *CorruptionError naming the segment and offset and
// changes nothing, unless Options.Salvage moves the damaged remainder to
// dir/damaged/ (then logged as an error). Older segments are not scanned at Open (that
// would read the whole log on every start); they are verified as Replay reads
// them, and a bad record or a gap in an older segment is a *CorruptionError,
// never skipped.
//
// # File systems
//
// All file operations go through the small FS interface. OSFS is the real one;
// MemFS keeps files in memory and can simulate a machine crash, discarding
// every byte and directory entry that was not synced, which is how the tests
// check that acknowledged records survive.
package wal
