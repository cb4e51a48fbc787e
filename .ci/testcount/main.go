// Command testcount reads `go test -json` events on stdin, prints the
// output `go test` prints without -v (package results, and the output of
// failed tests only), and ends with how many tests
// passed, failed and skipped, naming the skipped ones. .ci/run uses it so
// that a skip is counted, not missed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	counts := map[string]int{}
	held := map[string][]string{} // output of running tests, printed if they fail
	var skipped []string
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			out.Write(in.Bytes()) // not an event (a build error line): as is
			out.WriteByte('\n')
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "output" && e.Test == "":
			if e.Output != "PASS\n" { // only -v prints it
				out.WriteString(e.Output)
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Test == "":
		case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
			counts[e.Action]++
			if e.Action == "skip" {
				skipped = append(skipped, key)
			}
			if e.Action == "fail" {
				for _, line := range held[key] {
					out.WriteString(line)
				}
			}
			delete(held, key)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(out, "testcount:", err)
	}
	sort.Strings(skipped)
	fmt.Fprintf(out, "\ntests: %d passed, %d failed, %d skipped\n", counts["pass"], counts["fail"], counts["skip"])
	for _, s := range skipped {
		fmt.Fprintln(out, "  skipped:", s)
	}
	out.Flush()
}
