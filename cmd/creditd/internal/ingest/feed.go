package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// LineBatch is how many lines a file or demo loader hands over at once.
const LineBatch = 4096

// File ingests an NDJSON file of events.
func File(ctx context.Context, ing *Ingester, path string, exc *uscc.Exceptions, logger *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("events file: %w", err)
	}
	defer f.Close()
	t0 := time.Now()
	var total Result
	rejected := 0
	src := "file:" + path
	feed := newLineFeeder(ctx, ing, src, exc, func(r Result) {
		total.Applied += r.Applied
		total.Duplicates += r.Duplicates
		rejected += len(r.Rejected)
	})
	rd := ndjson.NewReader(f, ndjson.Options{})
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		var tl *ndjson.TooLongError
		if errors.As(err, &tl) {
			feed.reject(tl.Number, &event.RejectError{Reason: event.ReasonLineTooLong, Detail: tl.Error()})
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if err := feed.add(l.Number, l.Bytes); err != nil {
			return err
		}
	}
	if err := feed.flush(); err != nil {
		return err
	}
	logger.Info("file ingested", "path", path, "applied", total.Applied, "duplicates", total.Duplicates,
		"rejected", rejected, "seconds", time.Since(t0).Seconds())
	return nil
}

// lineFeeder decodes lines and submits them in batches.
type lineFeeder struct {
	ctx    context.Context
	ing    *Ingester
	source string
	dec    event.Decoder
	lines  []Line
	done   func(Result)
}

func newLineFeeder(ctx context.Context, ing *Ingester, source string, exc *uscc.Exceptions, done func(Result)) *lineFeeder {
	return &lineFeeder{ctx: ctx, ing: ing, source: source, dec: event.Decoder{Exceptions: exc, Borrow: true}, done: done}
}

func (f *lineFeeder) add(num int64, b []byte) error {
	f.lines = append(f.lines, DecodeLine(&f.dec, num, b))
	if len(f.lines) >= LineBatch {
		return f.flush()
	}
	return nil
}

func (f *lineFeeder) reject(num int64, rej *event.RejectError) {
	f.lines = append(f.lines, RejectedLine(num, rej))
}

func (f *lineFeeder) flush() error {
	if len(f.lines) == 0 {
		return nil
	}
	res, err := f.ing.Submit(f.ctx, f.source, f.lines)
	if err != nil {
		return err
	}
	f.done(res)
	f.lines = nil
	return nil
}

// DemoOptions size the synthetic demo province (--demo-*, --issuer).
type DemoOptions struct {
	Entities int
	Days     int
	Seed     uint64
	Region   string // 2-digit province; default 37
}

// Demo generates and ingests the synthetic demo province, unless the
// state already holds entities (a restart keeps what was loaded).
func Demo(ctx context.Context, ing *Ingester, o DemoOptions, exc *uscc.Exceptions, logger *slog.Logger) error {
	eng := ing.eng
	if eng.Len() > 0 {
		logger.Info("demo: state is not empty, not loading the demo province again", "entities", eng.Len())
		return nil
	}
	t0 := time.Now()
	end := time.Now().UTC().Truncate(24 * time.Hour)
	opts := synth.Options{Entities: o.Entities, Days: o.Days, Seed: o.Seed,
		Region: strings.TrimSpace(o.Region), End: end}
	if len(opts.Region) != 2 {
		opts.Region = "37"
	}
	var total Result
	rejected := 0
	feed := newLineFeeder(ctx, ing, "demo", exc, func(r Result) {
		total.Applied += r.Applied
		total.Duplicates += r.Duplicates
		rejected += len(r.Rejected)
	})
	var n int64
	err := synth.Generate(ctx, opts, func(line []byte) error {
		n++
		return feed.add(n, line)
	})
	if err == nil {
		err = feed.flush()
	}
	if err != nil {
		return fmt.Errorf("demo province: %w", err)
	}
	logger.Info("demo province loaded", "entities", eng.Len(), "events", n, "applied", total.Applied,
		"rejected", rejected, "seconds", time.Since(t0).Seconds())
	return nil
}

// DecodeLine copies line num once into a Line, which the decoded event
// borrows (dec.Borrow), and decodes it.
func DecodeLine(dec *event.Decoder, num int64, b []byte) Line {
	in := Line{num: num, raw: append([]byte(nil), b...)}
	ev := &event.Event{}
	if err := dec.Decode(in.raw, ev); err != nil {
		in.rej = err.(*event.RejectError)
	} else {
		in.ev = ev
	}
	return in
}

// RejectedLine is line num, rejected before decoding (too long).
func RejectedLine(num int64, rej *event.RejectError) Line { return Line{num: num, rej: rej} }

// Num is the line's 1-based number in its source.
func (l *Line) Num() int64 { return l.num }

// Size is the line's length in bytes.
func (l *Line) Size() int { return len(l.raw) }
