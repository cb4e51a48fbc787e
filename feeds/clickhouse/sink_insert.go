package clickhouse

// The sink's background loops: the flusher seals batches by age and moves
// overflow to the spool; the inserter sends batches (memory first, then the
// spool) with retries, backoff and error classes.

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// --- flusher -----------------------------------------------------------------

func (s *Sink) flushLoop() {
	defer close(s.flushDone)
	tick := time.NewTicker(max(s.opts.FlushInterval/4, 5*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-s.stopFlush:
			return
		case <-tick.C:
		case <-s.wakeFlush:
		}
		s.sealExpired()
		s.spoolOverflow()
	}
}

func (s *Sink) sealExpired() {
	sealed := false
	s.mu.Lock()
	now := time.Now()
	for t := range numTables {
		if b := s.open[t]; b != nil && b.len() > 0 && now.Sub(b.opened) >= s.opts.FlushInterval {
			s.sealLocked(t)
			sealed = true
		}
	}
	s.mu.Unlock()
	if sealed {
		signal(s.wakeInsert)
	}
}

// spoolOverflow moves sealed batches from memory to the spool, oldest first,
// while a reason to do so holds (see the design comment).
func (s *Sink) spoolOverflow() {
	if s.spool == nil {
		return
	}
	defer func() {
		if err := s.spool.sync(); err != nil {
			s.log.Error("clickhouse sink: cannot sync the spool", "dir", s.opts.SpoolDir, "err", err)
		}
	}()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		b := s.queue[0]
		if !(s.opts.SpoolAlways || s.down.Load() || s.memRows > s.opts.MaxMemRows || time.Since(b.sealed) >= s.opts.SpoolAfter) {
			s.mu.Unlock()
			return
		}
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.memRows -= b.len()
		s.spoolingFirst = b.firstAdded
		s.mu.Unlock()

		err := s.spool.append(b)

		s.mu.Lock()
		s.spoolingFirst = 0
		if err != nil {
			s.queue = append([]*batch{b}, s.queue...)
			s.memRows += b.len()
			s.mu.Unlock()
			s.log.Error("clickhouse sink: cannot write the spool; keeping rows in memory", "dir", s.opts.SpoolDir, "err", err)
			return
		}
		s.mu.Unlock()
		s.m.spooled.WithLabelValues(b.tbl.String()).Add(float64(b.len()))
		s.recycle(b)
		signal(s.wakeInsert)
	}
}

// --- inserter ----------------------------------------------------------------

func (s *Sink) insertLoop(ctx context.Context) {
	defer close(s.insertDone)
	attempt := 0       // consecutive failures, for back-off
	sameFailures := 0  // consecutive schema or server errors of the same batch
	var lastSeq uint64 // seq of the batch that last failed
	for ctx.Err() == nil {
		if !s.migrated.Load() {
			if _, err := s.q.Migrate(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.setDown("migrate", err)
				signal(s.wakeFlush)
				s.backoff(ctx, &attempt)
				continue
			}
			s.connected()
		}
		b, rec, fromSpool, err := s.next()
		if err != nil {
			if errors.Is(err, errCorruptRecord) {
				s.quarantined.Add(uint64(rec.rows))
				s.m.quarantined.WithLabelValues(rec.tbl.String()).Add(float64(rec.rows))
				s.done(rec.seq)
				continue
			}
			s.log.Error("clickhouse sink: cannot read the spool", "dir", s.opts.SpoolDir, "err", err)
			s.backoff(ctx, &attempt)
			continue
		}
		if b == nil {
			select {
			case <-ctx.Done():
			case <-s.wakeInsert:
			case <-time.After(s.opts.FlushInterval):
			}
			continue
		}

		start := time.Now()
		err = s.insertBatch(ctx, b)
		s.m.insertDur.WithLabelValues(b.tbl.String()).Observe(time.Since(start).Seconds())
		class := classify(err)
		if err != nil && ctx.Err() != nil {
			class = classTransient // aborted by Close: keep the batch
		}
		if class == classSchema || class == classServer {
			// A server error that is not known to pass, repeated on the
			// same batch, means the batch is what the server refuses:
			// quarantine it rather than block the stream for ever.
			if b.seq == lastSeq {
				sameFailures++
			} else {
				sameFailures = 1
			}
			if (class == classSchema && sameFailures > 3) || (class == classServer && sameFailures >= serverRetries) {
				class = classPermanent
			}
		}
		lastSeq = b.seq
		switch {
		case err == nil:
			// Counters first: finish wakes Flush, whose caller may read them.
			s.inserted[b.tbl].Add(uint64(b.len()))
			s.m.inserted.WithLabelValues(b.tbl.String()).Add(float64(b.len()))
			s.setUp()
			s.finish(b, rec, fromSpool)
			attempt, sameFailures = 0, 0

		case class == classPermanent:
			s.m.insertErrs.WithLabelValues(b.tbl.String(), "permanent").Inc()
			path, qerr := "", error(nil)
			if s.spool != nil {
				path, qerr = s.spool.quarantineBatch(b)
			} else {
				qerr = errors.New("spool disabled")
			}
			s.log.Error("clickhouse sink: ClickHouse refused a batch; moved to quarantine", "table", b.tbl.String(),
				"rows", b.len(), "err", err, "quarantine", path, "quarantine_err", qerr)
			s.quarantined.Add(uint64(b.len()))
			s.m.quarantined.WithLabelValues(b.tbl.String()).Add(float64(b.len()))
			s.finish(b, rec, fromSpool)
			sameFailures = 0

		default: // transient, schema or server: keep the batch and retry
			kind := "transient"
			switch class {
			case classSchema:
				kind = "schema"
				s.migrated.Store(false)
			case classServer:
				kind = "server"
			}
			s.m.insertErrs.WithLabelValues(b.tbl.String(), kind).Inc()
			if !fromSpool {
				s.mu.Lock()
				s.inflight = nil
				s.queue = append([]*batch{b}, s.queue...)
				s.mu.Unlock()
			}
			s.mu.Lock()
			s.busyFirst = 0
			s.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			s.setDown("insert", err)
			signal(s.wakeFlush)
			s.backoff(ctx, &attempt)
		}
	}
}

// next returns the oldest batch to insert: the spool's first record, else
// the first sealed batch in memory (unless SpoolAlways routes every batch
// through the spool). b is nil when there is nothing to do.
func (s *Sink) next() (b *batch, rec spoolRec, fromSpool bool, err error) {
	if s.spool != nil {
		r, sb, ok, err := s.spool.peek()
		if err != nil {
			return nil, r, true, err
		}
		if ok {
			s.mu.Lock()
			s.busyFirst = sb.firstAdded
			s.mu.Unlock()
			return sb, r, true, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 || (s.spool != nil && s.opts.SpoolAlways) {
		return nil, spoolRec{}, false, nil
	}
	b = s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	s.inflight = b
	s.busyFirst = b.firstAdded
	return b, spoolRec{}, false, nil
}

// finish retires a batch that was inserted or quarantined.
func (s *Sink) finish(b *batch, rec spoolRec, fromSpool bool) {
	if fromSpool {
		if err := s.spool.commit(rec); err != nil {
			// The rows are in ClickHouse; a later replay re-inserts them
			// and the tables deduplicate.
			s.log.Error("clickhouse sink: cannot advance the spool cursor", "err", err)
		}
	}
	s.mu.Lock()
	s.busyFirst = 0
	if !fromSpool {
		s.inflight = nil
		s.memRows -= b.len()
	}
	s.mu.Unlock()
	s.done(b.seq)
	if !fromSpool {
		s.recycle(b)
	}
}

// backoffDelay is the wait after the attempt-th consecutive failure:
// RetryMin doubling up to RetryMax, jittered into [d/2, d].
func backoffDelay(o Options, attempt int) time.Duration {
	d := o.RetryMin << min(attempt, 16)
	if d > o.RetryMax || d <= 0 {
		d = o.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}

func (s *Sink) backoff(ctx context.Context, attempt *int) {
	d := backoffDelay(s.opts, *attempt)
	*attempt++
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type errClass int

const (
	classTransient errClass = iota // network, timeout, server busy: retry for ever
	classSchema                    // table or column missing: migrate, retry (3 times per batch)
	classServer                    // another server exception: retry (serverRetries times per batch)
	classPermanent                 // the data is refused: quarantine
)

// serverRetries is how often a batch may fail with a server exception
// that is neither known transient nor known data error before it is
// quarantined.
const serverRetries = 5

// permanentError marks client-side errors that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func classify(err error) errClass {
	if err == nil {
		return classTransient
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return classPermanent
	}
	var ex *ch.Exception
	if !errors.As(err, &ex) {
		return classTransient // network, timeouts, driver I/O
	}
	switch ex.Code {
	case 10, 16, 47, 60, 81:
		// NOT_FOUND_COLUMN_IN_BLOCK, NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_IDENTIFIER,
		// UNKNOWN_TABLE, UNKNOWN_DATABASE
		return classSchema
	case 6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 131:
		// CANNOT_PARSE_TEXT, CANNOT_PARSE_QUOTED_STRING, CANNOT_PARSE_INPUT_ASSERTION_FAILED,
		// CANNOT_PARSE_DATE, CANNOT_PARSE_DATETIME, TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND,
		// CANNOT_CONVERT_TYPE, CANNOT_PARSE_NUMBER, INCORRECT_DATA, TOO_LARGE_STRING_SIZE
		return classPermanent
	case 3, 159, 164, 202, 203, 209, 210, 236, 241, 242, 252, 319, 394, 425, 999:
		// UNEXPECTED_END_OF_FILE, TIMEOUT_EXCEEDED, READONLY, TOO_MANY_SIMULTANEOUS_QUERIES,
		// NO_FREE_CONNECTION, SOCKET_TIMEOUT, NETWORK_ERROR, ABORTED, MEMORY_LIMIT_EXCEEDED,
		// TABLE_IS_READ_ONLY, TOO_MANY_PARTS, UNKNOWN_STATUS_OF_INSERT, QUERY_WAS_CANCELLED,
		// SYSTEM_ERROR, KEEPER_EXCEPTION
		return classTransient
	}
	return classServer
}
