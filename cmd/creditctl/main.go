// Command creditctl is the command-line tool of the credit-risk system:
// USCC checks, report and draw verification, and the synthetic province
// generator.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is a subcommand: it returns the process exit status.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

var commands = map[string]struct {
	run  command
	help string
}{
	"uscc":   {cmdUSCC, "uscc check CODE...                  validate unified social credit codes"},
	"gen":    {cmdGen, "gen --entities N --days D --seed S  generate a synthetic province as NDJSON events"},
	"report": {cmdReport, "report verify --report F --keys F   verify a signed credit-report/v1"},
	"draw":   {cmdDraw, "draw verify --record F --population F  verify a published draw/v1"},
	"model":  {cmdModel, "model fit|eval|compare --events F  fit the risk model out of time; judge it on a held-out period; gate a challenger"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "creditctl: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: creditctl COMMAND [flags]\n\nCommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(w, "  creditctl", commands[n].help)
	}
}
