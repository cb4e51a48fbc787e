// Command fitbench measures scoring/fit's logistic regression on a large
// synthetic design: n inspections × k count-like features (a share
// density of each feature nonzero, at weights 0.3, 0.6, 1 or 2 like
// decayed record counts) drawn from a known logistic model. It writes the
// design as raw little-endian float64 rows (finding, x1 … xk) to
// DIR/design.f64 with DIR/design.json describing it, fits it unpenalised
// (the maximum-likelihood estimate statsmodels and scikit-learn compute)
// and writes the estimates and the fit time to DIR/go.json, so that
// bench/fitbench/compare.py can time statsmodels and scikit-learn on the
// same bytes in the same run.
//
//	go run ./bench/fitbench -n 1000000 -k 30 -dir /tmp/fitbench
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/creditrisk/creditd/scoring/fit"
)

func main() {
	n := flag.Int("n", 1_000_000, "inspections")
	k := flag.Int("k", 30, "features")
	density := flag.Float64("density", 0.2, "share of nonzero values per feature")
	seed := flag.Uint64("seed", 1, "random seed")
	dir := flag.String("dir", "", "output directory (required)")
	flag.Parse()
	if *dir == "" || *n <= 0 || *k <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*n, *k, *density, *seed, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "fitbench:", err)
		os.Exit(1)
	}
}

func run(n, k int, density float64, seed uint64, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 13))
	truth := make([]float64, k)
	for j := range truth {
		truth[j] = -1 + 2.5*r.Float64() // −1 … 1.5: mostly risk-raising, some lowering
	}
	const b0 = -2.2
	obs := make([]fit.Observation, n)
	f, err := os.Create(filepath.Join(dir, "design.f64"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	row := make([]byte, 8*(k+1))
	findings := 0
	for i := range obs {
		x := make([]float64, k)
		z := b0
		for j := range x {
			if r.Float64() < density {
				x[j] = []float64{0.3, 0.6, 1, 1, 2}[r.IntN(5)]
				z += truth[j] * x[j]
			}
		}
		y := r.Float64() < 1/(1+math.Exp(-z))
		obs[i] = fit.Observation{X: x, Finding: y}
		if y {
			findings++
			binary.LittleEndian.PutUint64(row, math.Float64bits(1))
		} else {
			binary.LittleEndian.PutUint64(row, 0)
		}
		for j, v := range x {
			binary.LittleEndian.PutUint64(row[8*(j+1):], math.Float64bits(v))
		}
		w.Write(row)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]any{"n": n, "k": k, "density": density, "seed": seed, "findings": findings, "truth": truth, "intercept": b0})
	if err := os.WriteFile(filepath.Join(dir, "design.json"), meta, 0o644); err != nil {
		return err
	}
	t0 := time.Now()
	res, err := fit.Logistic(obs, make([]float64, k), 0, fit.Options{Unpenalised: true})
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	out, _ := json.Marshal(map[string]any{"seconds": secs, "iterations": res.Iterations, "intercept": res.Intercept, "beta": res.Beta,
		"se": res.SE, "loglik": res.LogLik})
	fmt.Printf("scoring/fit (Go, Newton on the sparse design): %d × %d, %d findings, %d iterations, %.2f s\n", n, k, findings, res.Iterations, secs)
	return os.WriteFile(filepath.Join(dir, "go.json"), out, 0o644)
}
