package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/creditrisk/creditd/models/uscc"
)

// cmdUSCC implements "creditctl uscc check CODE...": one line per code,
// "CODE valid" or "CODE invalid: REASON"; exit status 1 if any is invalid.
// Known pilot-era exceptions are valid and flagged as such.
func cmdUSCC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: creditctl uscc check [--strict] CODE...")
		return 2
	}
	fs := flag.NewFlagSet("uscc check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "do not accept the known pilot-era exceptions")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: creditctl uscc check [--strict] CODE...")
		return 2
	}
	exc, _ := uscc.NewExceptions(uscc.PilotExceptions...)
	if *strict {
		exc = nil
	}
	status := 0
	for _, s := range fs.Args() {
		c, isExc, err := exc.Parse(s)
		switch {
		case err != nil:
			var ue *uscc.Error
			reason := err.Error()
			if errors.As(err, &ue) {
				reason = ue.Error()
			}
			fmt.Fprintf(stdout, "%s invalid: %s\n", s, reason)
			status = 1
		case isExc:
			_, cerr := uscc.Parse(c.String())
			fmt.Fprintf(stdout, "%s valid (known exception: %v)\n", s, cerr)
		default:
			fmt.Fprintf(stdout, "%s valid\n", s)
		}
	}
	return status
}
