package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/creditrisk/creditd/feeds/synth"
)

// genUsage documents `creditctl gen`.
const genUsage = `usage: creditctl gen [flags] > events.ndjson

Writes a synthetic but realistic province as credit-event/v1 NDJSON: the
registrations of the existing population, then DAYS days of events, in the
order they are to be applied. Every entity has a hidden latent risk that
drives its events. The output is a function of the flags alone: the same
flags (including --end) give byte-identical output.

Flags:
`

// genNow is the clock gen uses for the default --end; tests replace it.
var genNow = time.Now

// cmdGen implements `creditctl gen`.
func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, genUsage)
		fs.PrintDefaults()
	}
	var (
		entities = fs.Int("entities", 10_000, "number of entities (existing at the start plus registering during the stream), at most "+strconv.Itoa(synth.MaxEntities))
		days     = fs.Int("days", 365, "length of the live stream in days, at most "+strconv.Itoa(synth.MaxDays))
		seed     = fs.Uint64("seed", 1, "random seed; 0 is a valid seed")
		region   = fs.String("region", "37", "two-digit GB/T 2260 province code (37 Shandong has real divisions; others are synthetic)")
		end      = fs.String("end", "", "first day after the stream, YYYY-MM-DD, exclusive (default: today, UTC): every event occurs before it")
		truth    = fs.String("truth", "", "also write each entity's hidden latent risk and true tiers to this CSV file")
		badRate  = fs.Float64("bad-rate", 0, "probability that a deliberately invalid line (id BAD-<class>-N) follows a good line, 0..1")
		quiet    = fs.Bool("quiet", false, "do not print the summary to stderr")
		consumer = fs.Bool("consumer-complaints", false, "also generate consumer complaints to the 12315 platform (ids 12315-…; the other events do not change)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "creditctl gen: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	opts := synth.Options{Entities: *entities, Days: *days, Seed: *seed, Region: *region, BadRate: *badRate, ConsumerComplaints: *consumer}
	if *end == "" {
		opts.End = genNow().UTC()
	} else {
		t, err := time.Parse(time.DateOnly, *end)
		if err != nil {
			fmt.Fprintf(stderr, "creditctl gen: --end %q: want YYYY-MM-DD\n", *end)
			return 2
		}
		opts.End = t
	}
	if *entities <= 0 || *days <= 0 {
		fmt.Fprintln(stderr, "creditctl gen: --entities and --days must be positive")
		return 2
	}
	var (
		tf *os.File
		tw *bufio.Writer
	)
	if *truth != "" {
		var line []byte
		opts.Truth = func(t *synth.Truth) error {
			line = t.AppendCSV(line[:0])
			line = append(line, '\n')
			_, err := tw.Write(line)
			return err
		}
	}
	g, err := synth.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "creditctl gen: %v\n", err)
		return 2
	}
	if *truth != "" {
		tf, err = os.Create(*truth)
		if err != nil {
			fmt.Fprintf(stderr, "creditctl gen: %v\n", err)
			return 1
		}
		defer tf.Close()
		tw = bufio.NewWriterSize(tf, 1<<16)
		tw.WriteString(synth.TruthCSVHeader + "\n")
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	emit := func(line []byte) error {
		w.Write(line)
		return w.WriteByte('\n')
	}
	start := time.Now()
	runErr := g.Run(ctx, emit)
	if err := w.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	if tw != nil {
		if err := tw.Flush(); err != nil && runErr == nil {
			runErr = err
		}
		if err := tf.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "creditctl gen: %v\n", runErr)
		return 1
	}
	if !*quiet {
		st := g.Stats()
		o := g.Options()
		var bad int64
		for _, n := range st.Bad {
			bad += n
		}
		el := time.Since(start)
		fmt.Fprintf(stderr, "creditctl gen: %d entities, %s..%s, seed %d: %d events (%d bad lines), inspection hit rate %.1f%%, %.1fs (%.0f events/s)\n",
			st.Entities, o.Start.Format(time.DateOnly), o.End.AddDate(0, 0, -1).Format(time.DateOnly), o.Seed,
			st.Events, bad, 100*st.HitRate(), el.Seconds(), float64(st.Events+bad)/el.Seconds())
	}
	return 0
}
