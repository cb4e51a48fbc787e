package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts are hand-drawn SVG (no library, no script): each has a <title>
// per mark for hover and the page shows the numbers in a table beside it.

// chart is an SVG chart ready for a template.
type chart struct {
	Title string
	SVG   template.HTML
}

type bar struct {
	Label string
	Value float64
	Text  string
}

// palette colours the tiers, lowest risk first.
var palette = []string{"#2e7d32", "#1565c0", "#f9a825", "#ef6c00", "#c62828", "#6a1b9a"}

func colour(i int) string { return palette[i%len(palette)] }

const chartW, chartH, padL, padB, padT = 560.0, 240.0, 48.0, 28.0, 12.0

func esc(s string) string { return template.HTMLEscapeString(s) }

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, k := range []float64{1, 2, 5, 10} {
		if k*p >= m {
			return k * p
		}
	}
	return 10 * p
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		int(chartW), int(chartH), esc(title), esc(title))
}

func axis(b *strings.Builder, max float64, format func(float64) string) {
	for i := 0; i <= 4; i++ {
		y := chartH - padB - (chartH-padB-padT)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="grid"/><text x="%s" y="%s" class="tick" text-anchor="end">%s</text>`,
			fnum(padL), fnum(chartW-8), fnum(y), fnum(y), fnum(padL-4), fnum(y+4), esc(format(max*float64(i)/4)))
	}
}

// barChart is a bar per label, with a dashed rule at each of lines
// (thresholds).
func barChart(title string, bars []bar, lines ...float64) chart {
	var b strings.Builder
	svgOpen(&b, title)
	m := 0.0
	for _, x := range bars {
		m = math.Max(m, x.Value)
	}
	for _, l := range lines {
		m = math.Max(m, l)
	}
	m = niceMax(m)
	axis(&b, m, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) })
	for _, l := range lines {
		y := chartH - padB - (chartH-padB-padT)*l/m
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="rule"><title>%s</title></line>`,
			fnum(padL), fnum(chartW-8), fnum(y), fnum(y), strconv.FormatFloat(l, 'f', -1, 64))
	}
	if n := len(bars); n > 0 {
		slot := (chartW - padL - 8) / float64(n)
		for i, x := range bars {
			h := (chartH - padB - padT) * x.Value / m
			bx := padL + slot*float64(i) + slot*0.2
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %s</title></rect>`,
				fnum(bx), fnum(chartH-padB-h), fnum(slot*0.6), fnum(h), colour(i), esc(x.Label), esc(x.Text))
			fmt.Fprintf(&b, `<text x="%s" y="%s" class="tick" text-anchor="middle">%s</text>`, fnum(bx+slot*0.3), fnum(chartH-8), esc(x.Label))
		}
	}
	b.WriteString("</svg>")
	return chart{Title: title, SVG: template.HTML(b.String())}
}

// intervalChart draws each tier's hit rate as a dot with its interval.
func intervalChart(title string, rows []hitRow) chart {
	var b strings.Builder
	svgOpen(&b, title)
	m := 0.0
	for _, r := range rows {
		if r.HasRate {
			hi, _ := strconv.ParseFloat(strings.TrimSuffix(r.High, "%"), 64)
			m = math.Max(m, hi)
		}
	}
	m = niceMax(m)
	axis(&b, m, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "%" })
	if n := len(rows); n > 0 {
		slot := (chartW - padL - 8) / float64(n)
		y := func(p float64) float64 { return chartH - padB - (chartH-padB-padT)*p/m }
		for i, r := range rows {
			cx := padL + slot*float64(i) + slot/2
			fmt.Fprintf(&b, `<text x="%s" y="%s" class="tick" text-anchor="middle">%s</text>`, fnum(cx), fnum(chartH-8), esc(r.Tier))
			if !r.HasRate {
				continue
			}
			p, _ := strconv.ParseFloat(strings.TrimSuffix(r.Rate, "%"), 64)
			lo, _ := strconv.ParseFloat(strings.TrimSuffix(r.Low, "%"), 64)
			hi, _ := strconv.ParseFloat(strings.TrimSuffix(r.High, "%"), 64)
			fmt.Fprintf(&b, `<g><title>%s: %s (95%%: %s–%s), %d/%d</title><line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="3"/>`+
				`<circle cx="%s" cy="%s" r="6" fill="%s"/></g>`, esc(r.Tier), r.Rate, r.Low, r.High, r.Found, r.Inspections,
				fnum(cx), fnum(cx), fnum(y(lo)), fnum(y(hi)), colour(i), fnum(cx), fnum(y(p)), colour(i))
		}
	}
	b.WriteString("</svg>")
	return chart{Title: title, SVG: template.HTML(b.String())}
}

// pairChart draws two series side by side per x (percentages), e.g. a
// reference distribution and the current one.
func pairChart(title string, xs []string, names [2]string, a, c []float64) chart {
	var b strings.Builder
	svgOpen(&b, title)
	m := 0.0
	for i := range xs {
		m = math.Max(m, math.Max(a[i], c[i]))
	}
	m = niceMax(m)
	axis(&b, m, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "%" })
	if n := len(xs); n > 0 {
		slot := (chartW - padL - 8) / float64(n)
		for i, x := range xs {
			for k, v := range []float64{a[i], c[i]} {
				h := (chartH - padB - padT) * v / m
				bx := padL + slot*float64(i) + slot*(0.1+0.4*float64(k))
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: %s%%</title></rect>`,
					fnum(bx), fnum(chartH-padB-h), fnum(slot*0.38), fnum(h), colour(1+2*k), esc(x), esc(names[k]), fnum(v))
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" class="tick" text-anchor="middle">%s</text>`, fnum(padL+slot*float64(i)+slot/2), fnum(chartH-8), esc(x))
		}
	}
	b.WriteString("</svg>")
	return chart{Title: title, SVG: template.HTML(b.String())}
}

// stackedChart stacks each x's counts by tier.
func stackedChart(title string, xs, labels []string, series [][]int) chart {
	var b strings.Builder
	svgOpen(&b, title)
	m := 0.0
	for _, s := range series {
		t := 0
		for _, v := range s {
			t += v
		}
		m = math.Max(m, float64(t))
	}
	m = niceMax(m)
	axis(&b, m, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) })
	if n := len(series); n > 0 {
		slot := (chartW - padL - 8) / float64(n)
		for i, s := range series {
			bx, base := padL+slot*float64(i)+slot*0.2, chartH-padB
			for t, v := range s {
				h := (chartH - padB - padT) * float64(v) / m
				label := ""
				if t < len(labels) {
					label = labels[t]
				}
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: %d</title></rect>`,
					fnum(bx), fnum(base-h), fnum(slot*0.6), fnum(h), colour(t), esc(xs[i]), esc(label), v)
				base -= h
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" class="tick" text-anchor="middle">%s</text>`, fnum(bx+slot*0.3), fnum(chartH-8), esc(xs[i]))
		}
	}
	b.WriteString("</svg>")
	return chart{Title: title, SVG: template.HTML(b.String())}
}

// wilson is the proportion k/n with its 95% Wilson score interval.
func wilson(k, n int) (p, lo, hi float64) {
	if n <= 0 {
		return 0, 0, 0
	}
	const z = 1.959963984540054
	fn := float64(n)
	p = float64(k) / fn
	den := 1 + z*z/fn
	centre := (p + z*z/(2*fn)) / den
	half := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return p, math.Max(0, centre-half), math.Min(1, centre+half)
}

// pct formats a proportion as a percentage with one decimal.
func pct(p float64) string { return strconv.FormatFloat(100*p, 'f', 1, 64) + "%" }
