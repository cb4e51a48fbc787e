package console

import (
	"regexp"
	"strings"
)

// Draw warnings: the sampler writes them in English into the draw record
// (and the preview), and the record is signed, so their text stays as it
// is. The console recognises each known form by a pattern, gives it a
// code and renders the code's message in the visitor's language with the
// values of the original; a warning of an unknown form is shown as
// written. The forms are those of sampler/alloc.go (strataWarnings),
// sampler/draw_v2.go (SampleSizesV2's 不免抽 round-up, domain.md §5) and
// the untiered count of sampler/draw.go and draw_v2.go;
// TestWarningsKnown feeds the sampler's own warnings through them.

// warnForm is one known warning: its code, the pattern of its English
// text and the message key whose {1}, {2}… take the pattern's groups.
type warnForm struct {
	Code string
	re   *regexp.Regexp
}

var warnForms = []warnForm{
	{"empty", regexp.MustCompile(`^the eligible population is empty: nothing was drawn$`)},
	{"floor", regexp.MustCompile(`^the sample is ([0-9.]+)% of the eligible population \((\d+) of (\d+)\), below the (\d+)% floor for publicity-information spot checks \(企业公示信息抽查办法 Art\. 4\)$`)},
	{"order", regexp.MustCompile(`^after rounding, tier (\S+)'s inclusion probability (\S+) is below tier (\S+)'s (\S+)$`)},
	{"roundup", regexp.MustCompile(`^stratum (\S+): (ratio|weight) (\S+) of (\d+) rounds to 0; 1 drawn \(no tier is silently exempt, 不免抽\)$`)},
	{"untiered", regexp.MustCompile(`^(\d+) registered entities matching the filter had no tier as of as_of and are not in the population$`)},
}

// warning is a draw warning as a page shows it.
type warning struct {
	// Code names the known form ("" unknown); Text is in the view's
	// language; Original is the record's text.
	Code, Text, Original string
}

// warnCode is the code of a warning's form and its values ("" if the
// form is unknown).
func warnCode(w string) (string, []string) {
	for _, f := range warnForms {
		if m := f.re.FindStringSubmatch(w); m != nil {
			return f.Code, m[1:]
		}
	}
	return "", nil
}

// Warnings renders draw warnings in the view's language.
func (v *View) Warnings(ws []string) []warning {
	out := make([]warning, 0, len(ws))
	for _, w := range ws {
		code, args := warnCode(w)
		if code == "" {
			out = append(out, warning{Text: w, Original: w})
			continue
		}
		text := v.T("warn." + code)
		for i, a := range args {
			if code == "roundup" && i == 1 {
				a = v.T("warn.kind." + a)
			}
			text = strings.ReplaceAll(text, "{"+string(rune('1'+i))+"}", a)
		}
		out = append(out, warning{Code: code, Text: text, Original: w})
	}
	return out
}
