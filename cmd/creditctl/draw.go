package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/models/tier"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/sampler"
)

const drawUsage = `usage:
  creditctl draw verify --record draw.json --population population.txt
                        [--amendments amendments.json]
      Verify a draw record against its population file: draw/v2 (either
      edition: the public one allows every check that needs no tier, the
      regulatory one all of them; the output lists the checks made and
      those the edition does not allow) or draw/v1. --amendments (draw/v2)
      also verifies the recusal amendments. Exit status 0 when it
      verifies, 1 with the first difference, 2 on a usage error.

  creditctl draw run --request request.json --units units.csv
                     [--scheme national-4] [--record draw.json]
                     [--population population.txt] [--earlier draw.json]...
                     [--allow-zero-lowest-tier]
      Run a draw offline. units.csv has one entity per line:
        uscc,region,tier[,registered_at[,deregistered_at]]
      region is the 6-digit division code used for the population filter and
      inspector regions; tier is a label of the scheme, or empty for an
      entity without a tier; the times are unix seconds or RFC 3339, empty
      or 0 for none. A first line starting with "uscc" is a header. Records
      of earlier draws (--earlier, repeatable) supply the selections that
      exclude_selected_within_days and max_inspections_per_year count.
      Writes the record to --record (default: standard output) and the
      population lines to --population (default population.txt).
`

// cmdDraw implements `creditctl draw`.
func cmdDraw(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, drawUsage)
		return 2
	}
	switch args[0] {
	case "verify":
		return drawVerify(ctx, args[1:], stdout, stderr)
	case "run":
		return drawRun(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, drawUsage)
		return 0
	}
	fmt.Fprintf(stderr, "creditctl draw: unknown subcommand %q\n%s", args[0], drawUsage)
	return 2
}

func drawVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("draw verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recordPath := fs.String("record", "", "the draw/v1 record (JSON)")
	popPath := fs.String("population", "", "the population file (v2: USCC,XX; v1: USCC,TIER)")
	amendPath := fs.String("amendments", "", "draw/v2: the recusal amendments (JSON)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *recordPath == "" || *popPath == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "creditctl draw verify: --record and --population are required\n")
		return 2
	}
	data, err := os.ReadFile(*recordPath)
	if err != nil {
		fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
		return 1
	}
	if strings.HasPrefix(string(data), `{"format":"draw/v2"`) {
		return drawVerifyV2(ctx, data, *popPath, *amendPath, stdout, stderr)
	}
	rec, err := draw.ParseRecord(data)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL %s: not a valid draw/v1 record: %v\n", *recordPath, err)
		return 1
	}
	f, err := os.Open(*popPath)
	if err != nil {
		fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
		return 1
	}
	defer f.Close()
	sum, err := sampler.Verify(ctx, rec, f)
	if err != nil {
		var ve *sampler.VerifyError
		if !errors.As(err, &ve) {
			fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "FAIL %s: %v\n", rec.DrawID, err)
		return 1
	}
	fmt.Fprintf(stdout, "OK %s: %d eligible entities, %d selected, population digest %x\n",
		sum.DrawID, sum.Eligible, sum.Selected, rec.PopulationDigest)
	return 0
}

// drawVerifyV2 verifies a draw/v2 record of either edition.
func drawVerifyV2(ctx context.Context, data []byte, popPath, amendPath string, stdout, stderr io.Writer) int {
	var amend []byte
	if amendPath != "" {
		var err error
		if amend, err = os.ReadFile(amendPath); err != nil {
			fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
			return 1
		}
	}
	f, err := os.Open(popPath)
	if err != nil {
		fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
		return 1
	}
	defer f.Close()
	sum, err := sampler.VerifyV2(ctx, data, f, amend)
	if err != nil {
		var ve *sampler.VerifyError
		if !errors.As(err, &ve) {
			fmt.Fprintf(stderr, "creditctl draw verify: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "FAIL: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "OK %s (%s edition): %d eligible entities, %d selected, %d amendments\n", sum.DrawID, sum.Edition, sum.Eligible, sum.Selected, sum.Amendments)
	for _, c := range sum.Checks {
		fmt.Fprintf(stdout, "  checked: %s\n", c)
	}
	for _, c := range sum.Skipped {
		fmt.Fprintf(stdout, "  not checkable with this edition: %s\n", c)
	}
	return 0
}

// drawPathList is a repeatable flag.
type drawPathList []string

func (s *drawPathList) String() string     { return strings.Join(*s, ",") }
func (s *drawPathList) Set(v string) error { *s = append(*s, v); return nil }

func drawRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("draw run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reqPath := fs.String("request", "", "the draw/v1 request (JSON)")
	unitsPath := fs.String("units", "", "the population as CSV: uscc,region,tier[,registered_at[,deregistered_at]]")
	schemeID := fs.String("scheme", tier.National4.ID, "tier scheme of the units' tiers (national-4, shandong-5)")
	recordPath := fs.String("record", "", "write the record here (default: standard output)")
	popPath := fs.String("population", "population.txt", "write the population lines here")
	allowZero := fs.Bool("allow-zero-lowest-tier", false, "let the lowest tier have ratio or weight 0 (exempt from inspection)")
	var earlier drawPathList
	fs.Var(&earlier, "earlier", "a record of an earlier draw, for exclusions and caps (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reqPath == "" || *unitsPath == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "creditctl draw run: --request and --units are required\n")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "creditctl draw run: %v\n", err)
		return 1
	}
	scheme, err := tier.LookupScheme(*schemeID)
	if err != nil {
		return fail(err)
	}
	data, err := os.ReadFile(*reqPath)
	if err != nil {
		return fail(err)
	}
	req, err := draw.ParseRequest(data)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *reqPath, err))
	}
	units, err := readUnitsCSV(*unitsPath, scheme)
	if err != nil {
		return fail(err)
	}
	ledger := sampler.NewLedger()
	for _, path := range earlier {
		data, err := os.ReadFile(path)
		if err != nil {
			return fail(err)
		}
		rec, err := draw.ParseRecord(data)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", path, err))
		}
		ledger.AddRecord(rec)
	}
	pf, err := os.Create(*popPath)
	if err != nil {
		return fail(err)
	}
	bw := bufio.NewWriterSize(pf, 1<<20)
	rec, st, err := sampler.Draw(ctx, req, &sampler.MemSource{Units: units, Scheme: scheme}, ledger, bw,
		sampler.Options{AllowZeroLowestTier: *allowZero})
	if err == nil {
		err = bw.Flush()
	}
	if cerr := pf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*popPath)
		return fail(err)
	}
	out := stdout
	if *recordPath != "" {
		f, err := os.Create(*recordPath)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		out = f
	}
	if err := rec.WriteJSON(out); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "draw %s: %d eligible, %d selected, %d without all inspectors, %v\n",
		rec.DrawID, st.Eligible, st.Selected, st.Unassigned, st.Total.Round(time.Millisecond))
	for _, w := range rec.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return 0
}

// readUnitsCSV reads the units of an offline draw.
func readUnitsCSV(path string, scheme *tier.Scheme) ([]sampler.Unit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	var units []sampler.Unit
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return units, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "uscc") {
			continue
		}
		at := func(what string) error {
			pos, _ := r.FieldPos(0)
			return fmt.Errorf("%s:%d: %s", path, pos, what)
		}
		if len(rec) < 3 || len(rec) > 5 {
			return nil, at(fmt.Sprintf("%d fields, want uscc,region,tier[,registered_at[,deregistered_at]]", len(rec)))
		}
		c, err := uscc.ParseFormat(strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, at(err.Error())
		}
		u := sampler.Unit{USCC: c, Tier: tier.None}
		region := strings.TrimSpace(rec[1])
		if len(region) != 6 || strings.Trim(region, "0123456789") != "" {
			return nil, at(fmt.Sprintf("region %q is not a 6-digit division code", region))
		}
		copy(u.Region[:], region)
		if l := strings.TrimSpace(rec[2]); l != "" {
			if u.Tier, err = scheme.Parse(l); err != nil {
				return nil, at(err.Error())
			}
		}
		for i, dst := range []*int64{&u.RegisteredAt, &u.DeregisteredAt} {
			if len(rec) > 3+i {
				if *dst, err = parseUnitTime(strings.TrimSpace(rec[3+i])); err != nil {
					return nil, at(err.Error())
				}
			}
		}
		units = append(units, u)
	}
}

// parseUnitTime reads unix seconds or an RFC 3339 instant; "" is 0.
func parseUnitTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	t, err := civil.ParseInstant(s)
	if err != nil {
		return 0, fmt.Errorf("time: not unix seconds, and %v", err)
	}
	return t.Unix(), nil
}
