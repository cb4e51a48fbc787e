package fit

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"
)

// Plots as hand-written SVG (no dependencies): the calibration plot
// (expected against observed rate per band, with the bands' intervals and
// the diagonal) and the score distributions of two populations.

const (
	plotW, plotH = 640, 440
	padL, padB   = 70, 60
	padT, padR   = 40, 30
)

// CalibrationPoint is one band of a calibration plot.
type CalibrationPoint struct {
	Expected, Observed, Lower, Upper float64
}

// Series is a named set of scores.
type Series struct {
	Name   string
	Values []int32
}

var seriesColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd"}

func svgHead(b *bytes.Buffer, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotW, plotH, plotW, plotH)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="14">%s</text>`+"\n", padL, html.EscapeString(title))
}

// axes draws the frame, ticks and labels of a plot whose x runs x0..x1
// and y y0..y1, and returns the mapping functions.
func axes(b *bytes.Buffer, x0, x1, y0, y1 float64, xlabel, ylabel string, xfmt, yfmt string) (func(float64) float64, func(float64) float64) {
	iw, ih := float64(plotW-padL-padR), float64(plotH-padT-padB)
	X := func(v float64) float64 { return padL + (v-x0)/(x1-x0)*iw }
	Y := func(v float64) float64 { return padT + ih - (v-y0)/(y1-y0)*ih }
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333"/>`+"\n", padL, padT, iw, ih)
	for i := 0; i <= 5; i++ {
		xv, yv := x0+(x1-x0)*float64(i)/5, y0+(y1-y0)*float64(i)/5
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", X(xv), plotH-padB+16, fmt.Sprintf(xfmt, xv))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, Y(yv)+4, fmt.Sprintf(yfmt, yv))
		fmt.Fprintf(b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, X(x1), Y(yv), Y(yv))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", X((x0+x1)/2), plotH-20, html.EscapeString(xlabel))
	fmt.Fprintf(b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", Y((y0+y1)/2), html.EscapeString(ylabel))
	return X, Y
}

// CalibrationSVG plots observed against expected finding rates.
func CalibrationSVG(title string, pts []CalibrationPoint) []byte {
	var b bytes.Buffer
	svgHead(&b, "Calibration: "+title)
	top := 0.05
	for _, p := range pts {
		top = math.Max(top, math.Max(p.Expected, p.Upper))
	}
	top = math.Ceil(top*20) / 20
	X, Y := axes(&b, 0, top, 0, top, "expected probability of a finding", "observed finding rate", "%.2f", "%.2f")
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="4 4"/>`+"\n", X(0), Y(0), X(top), Y(top))
	for _, p := range pts {
		x := X(p.Expected)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#1f77b4"/>`+"\n", x, x, Y(p.Lower), Y(p.Upper))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#1f77b4"/>`+"\n", x, Y(p.Observed))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// HistogramSVG plots the score distributions of the series as lines of
// shares per 10-point bin.
func HistogramSVG(title string, series []Series) []byte {
	var b bytes.Buffer
	svgHead(&b, "Score distribution: "+title)
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	for _, s := range series {
		if len(s.Values) > 0 {
			lo, hi = min(lo, slices.Min(s.Values)), max(hi, slices.Max(s.Values))
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	lo, hi = lo/10*10, hi/10*10+10
	nb := int((hi - lo) / 10)
	shares := make([][]float64, len(series))
	top := 0.01
	for i, s := range series {
		shares[i] = make([]float64, nb)
		for _, v := range s.Values {
			shares[i][min(int((v-lo)/10), nb-1)] += 1 / float64(len(s.Values))
		}
		top = math.Max(top, slices.Max(shares[i]))
	}
	X, Y := axes(&b, float64(lo), float64(hi), 0, top*1.05, "score (10-point bins)", "share of entities", "%.0f", "%.3f")
	for i, sh := range shares {
		c := seriesColours[i%len(seriesColours)]
		b.WriteString(`<polyline fill="none" stroke-width="1.5" stroke="` + c + `" points="`)
		for k, v := range sh {
			fmt.Fprintf(&b, "%.1f,%.1f ", X(float64(lo)+10*float64(k)+5), Y(v))
		}
		b.WriteString(`"/>` + "\n")
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", plotW-padR-200, padT+16+16*i, c, html.EscapeString(series[i].Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
